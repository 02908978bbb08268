// Package faultproxy is an HTTP proxy that sits in front of one real service and misbehaves on request: it
// answers errors (5xx, 429 with Retry-After, HTML error pages), resets or hangs connections, answers slowly, cuts
// answers short or garbles them after the service has done the work (a lost answer), and stages outages of a
// given length. End-to-end tests point waxseal at it instead of the service.
package faultproxy

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kind is what a fault does to a request.
type Kind int

// The faults.
const (
	// Answer answers Status, Header and Body without asking the service.
	Answer Kind = iota
	// Reset drops the connection without an answer, before asking the service.
	Reset
	// Hang never answers: the connection stays open until the client gives up.
	Hang
	// Slow waits Delay, then forwards.
	Slow
	// Cut forwards, then sends the service's status and headers and half its body, and drops the connection: the
	// service did the work, the client never learns its answer.
	Cut
	// Garbage forwards, then answers the service's status with Body instead of the service's body.
	Garbage
	// Lost forwards, then drops the connection without an answer.
	Lost
)

var kindNames = map[Kind]string{Answer: "answer", Reset: "reset", Hang: "hang", Slow: "slow", Cut: "cut", Garbage: "garbage", Lost: "lost"}

func (k Kind) String() string { return kindNames[k] }

// Fault is one misbehaviour.
type Fault struct {
	Kind   Kind
	Status int         // Answer
	Header http.Header // Answer
	Body   string      // Answer, Garbage
	Delay  time.Duration
}

// Rule applies a fault to matching requests.
type Rule struct {
	// Method and Path (a prefix) select requests; empty matches any.
	Method, Path string
	// Times is how many matching requests get the fault; 0 means every one.
	Times int
	// For, when positive, makes the rule an outage: every matching request gets the fault from the first match
	// until For has passed. Times is then ignored.
	For   time.Duration
	Fault Fault

	hits  int
	start time.Time
}

// Entry is what happened to one request.
type Entry struct {
	Method, Path string
	// Fault is the fault applied, or "" when the request was forwarded untouched.
	Fault string
	At    time.Time
}

// Proxy forwards to one upstream and applies its rules, first matching rule first.
type Proxy struct {
	upstream *url.URL
	srv      *httptest.Server
	client   *http.Client

	mu    sync.Mutex
	rules []*Rule
	log   []Entry
}

// Start starts a proxy for upstream (a base URL) on 127.0.0.1.
func Start(upstream string) (*Proxy, error) {
	u, err := url.Parse(upstream)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: upstream %q is not a URL", upstream)
	}
	p := &Proxy{upstream: u, client: &http.Client{
		Transport:     &http.Transport{Proxy: nil, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	return p, nil
}

// URL is the proxy's base URL, standing in for the upstream's.
func (p *Proxy) URL() string { return p.srv.URL + strings.TrimSuffix(p.upstream.Path, "/") }

// Close stops the proxy.
func (p *Proxy) Close() {
	p.srv.CloseClientConnections()
	p.srv.Close()
}

// Add appends rules.
func (p *Proxy) Add(rules ...Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range rules {
		r := rules[i]
		p.rules = append(p.rules, &r)
	}
}

// Clear drops every rule and the log.
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules, p.log = nil, nil
}

// Log returns what happened to each request so far.
func (p *Proxy) Log() []Entry {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Entry(nil), p.log...)
}

// Faults counts the requests that got a fault.
func (p *Proxy) Faults() int {
	n := 0
	for _, e := range p.Log() {
		if e.Fault != "" {
			n++
		}
	}
	return n
}

// pick returns the fault for r, if any, and logs the request.
func (p *Proxy) pick(r *http.Request) *Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	e := Entry{Method: r.Method, Path: r.URL.Path, At: now}
	var f *Fault
	for _, rule := range p.rules {
		if (rule.Method != "" && rule.Method != r.Method) || !strings.HasPrefix(r.URL.Path, rule.Path) {
			continue
		}
		if rule.For > 0 {
			if rule.start.IsZero() {
				rule.start = now
			}
			if now.Sub(rule.start) >= rule.For {
				continue
			}
		} else if rule.Times > 0 {
			if rule.hits >= rule.Times {
				continue
			}
			rule.hits++
		}
		f = &rule.Fault
		e.Fault = f.Kind.String()
		break
	}
	p.log = append(p.log, e)
	return f
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "faultproxy: reading the request: "+err.Error(), http.StatusBadGateway)
		return
	}
	f := p.pick(r)
	if f == nil {
		p.forwardAndAnswer(w, r, body)
		return
	}
	switch f.Kind {
	case Answer:
		for k, vs := range f.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, f.Body)
	case Reset:
		drop(w)
	case Hang:
		<-r.Context().Done()
	case Slow:
		select {
		case <-time.After(f.Delay):
			p.forwardAndAnswer(w, r, body)
		case <-r.Context().Done():
		}
	case Cut, Garbage, Lost:
		resp, data, err := p.forward(r, body)
		if err != nil {
			http.Error(w, "faultproxy: "+err.Error(), http.StatusBadGateway)
			return
		}
		switch f.Kind {
		case Lost:
			drop(w)
		case Garbage:
			copyHeader(w.Header(), resp.Header)
			w.Header().Del("Content-Length")
			w.WriteHeader(resp.StatusCode)
			_, _ = io.WriteString(w, f.Body)
		case Cut:
			cut(w, resp, data)
		}
	}
}

func (p *Proxy) forward(r *http.Request, body []byte) (*http.Response, []byte, error) {
	u := *p.upstream
	u.Path, u.RawPath, u.RawQuery = r.URL.Path, r.URL.RawPath, r.URL.RawQuery
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	copyHeader(out.Header, r.Header)
	out.Host = p.upstream.Host
	resp, err := p.client.Do(out)
	if err != nil {
		return nil, nil, fmt.Errorf("forwarding to %s: %w", p.upstream.Host, err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	return resp, data, err
}

func (p *Proxy) forwardAndAnswer(w http.ResponseWriter, r *http.Request, body []byte) {
	resp, data, err := p.forward(r, body)
	if err != nil {
		http.Error(w, "faultproxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	copyHeader(w.Header(), resp.Header)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(data)
}

func copyHeader(dst, src http.Header) {
	for k, vs := range src {
		dst[k] = append([]string(nil), vs...)
	}
}

// drop closes the connection with a TCP reset, without a byte of answer.
func drop(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// cut sends the status line, the headers with the full Content-Length and half the body, then drops the
// connection.
func cut(w http.ResponseWriter, resp *http.Response, data []byte) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	defer func() { _ = conn.Close() }()
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", resp.StatusCode, http.StatusText(resp.StatusCode))
	h := resp.Header.Clone()
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Del("Transfer-Encoding")
	_ = h.Write(buf)
	_, _ = buf.WriteString("\r\n")
	_, _ = buf.Write(data[:len(data)/2])
	_ = buf.Flush()
}
