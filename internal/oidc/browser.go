package oidc

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/pkg/browser"
	soauth "github.com/sigstore/sigstore/pkg/oauth"
	"golang.org/x/oauth2"

	"github.com/waxseal/waxseal/internal/retry"
)

// callbackPath is where the provider sends the browser back, as oauthflow's redirect listener has it.
const callbackPath = "/auth/callback"

// answer is what the browser brought back: an authorization code, or why there is none.
type answer struct {
	code string
	err  error
}

// browserFlow runs the authorization code flow with PKCE (RFC 7636) through a browser and a loopback redirect
// listener (RFC 8252 7.3), and returns the ID token and the nonce it must carry.
func (s *InteractiveSource) browserFlow(ctx context.Context, cfg oauth2.Config, prompt io.Writer) (raw, nonce string, err error) {
	lns, port, err := listenLoopback()
	if err != nil {
		return "", "", fmt.Errorf("listening on localhost for the browser's answer: %w", err)
	}
	cfg.RedirectURL = fmt.Sprintf("http://localhost:%d%s", port, callbackPath)
	state, verifier := rand.Text(), oauth2.GenerateVerifier()
	nonce = rand.Text()
	answers := make(chan answer, 1)
	var strays atomic.Int64
	srv := &http.Server{Handler: callbackHandler(state, answers, &strays), ReadHeaderTimeout: 10 * time.Second}
	for _, ln := range lns {
		go func() { _ = srv.Serve(ln) }() // returns ErrServerClosed at the shutdown below
	}
	defer shutdown(srv)

	authURL := cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), gooidc.Nonce(nonce))
	fmt.Fprintf(prompt, "Signing in at %s: your browser opens now. If it does not, visit:\n    %s\n", s.Issuer, authURL)
	open := s.OpenBrowser
	if open == nil {
		open = SystemBrowser
	}
	opened := make(chan error, 1)
	go func() { opened <- open(authURL) }() // a browser may run in the foreground until it is closed
	var code string
	for code == "" {
		select {
		case err := <-opened:
			opened = nil
			if err != nil {
				fmt.Fprintf(prompt, "Could not open a browser (%v): visit the URL above yourself, or run again with --oidc-device.\n", err)
			}
		case a := <-answers:
			if a.err != nil {
				return "", "", a.err
			}
			code = a.code
		case <-ctx.Done():
			if n := strays.Load(); n > 0 {
				return "", "", &strayAnswers{n: n, cause: context.Cause(ctx)}
			}
			return "", "", context.Cause(ctx)
		}
	}
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return "", "", explainExchange(err)
	}
	raw, _ = tok.Extra("id_token").(string)
	if raw == "" {
		return "", "", errors.New("the provider's token answer holds no id_token (it must grant the openid scope)")
	}
	return raw, nonce, nil
}

// explainExchange turns a failed code exchange into what happened and what to do.
func explainExchange(err error) error {
	switch code, desc := oauthCode(err); code {
	case "":
		return fmt.Errorf("trading the authorization code for a token: %w", retry.Cause(err))
	case "invalid_grant":
		// RFC 7636 4.6: the provider refuses a code_verifier that does not match the code's code_challenge.
		return fmt.Errorf("%w: the provider refused to trade its code for a token (%s): the code was issued for another "+
			"PKCE verifier than this run's, or it expired or was used already; run waxseal again", ErrSignInMismatch, describe(code, desc))
	default:
		return fmt.Errorf("the provider refused to trade its code for a token (%s)", describe(code, desc))
	}
}

// listenLoopback listens on one port at every address the redirect's host, localhost, can be: 127.0.0.1 and ::1.
// The redirect names localhost, not a loopback IP literal as RFC 8252 8.3 recommends, because that is what
// oauth2.sigstore.dev is known to accept from a public client (sigstore's oauthflow sends it; Dex before its
// loopback-IP support accepts nothing else). A browser may try either address for localhost, so holding both is
// what keeps another user of the machine from listening on the other one and being sent the code. A machine
// without IPv6 loopback has no ::1 for anyone, browser included.
func listenLoopback() ([]net.Listener, int, error) {
	var err error
	for range 10 {
		var v4, v6 net.Listener
		if v4, err = net.Listen("tcp4", "127.0.0.1:0"); err != nil {
			return nil, 0, err
		}
		port := v4.Addr().(*net.TCPAddr).Port
		if v6, err = net.Listen("tcp6", net.JoinHostPort("::1", strconv.Itoa(port))); err == nil {
			return []net.Listener{v4, v6}, port, nil
		}
		if !hasLoopback6() {
			return []net.Listener{v4}, port, nil
		}
		_ = v4.Close() // the port is someone else's on ::1: try another
	}
	return nil, 0, fmt.Errorf("no port was free on both 127.0.0.1 and ::1 (%w)", err)
}

// hasLoopback6 reports whether this machine can listen on ::1 at all (told apart from a port taken there by
// asking the system for any free one, the same way on every system).
func hasLoopback6() bool {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// callbackHandler is the redirect listener. The first request to callbackPath that carries this sign-in's state is
// the answer; later ones are told the sign-in has ended. Any other request (another state or none: a stale tab, a
// forged redirect; another path: a browser asks for /favicon.ico) is answered and ignored, counted in strays, so it
// can neither end the sign-in nor take the real answer's place.
func callbackHandler(state string, answers chan<- answer, strays *atomic.Int64) http.Handler {
	var once sync.Once
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+callbackPath, func(w http.ResponseWriter, r *http.Request) {
		// RFC 6749 10.12: the state binds the answer to this run's request; any other answer may be forged (CSRF).
		if subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("state")), []byte(state)) != 1 {
			strays.Add(1)
			page(w, http.StatusBadRequest, "This is not the answer to the sign-in waxseal is waiting for: finish signing in in the tab it opened.")
			return
		}
		a := readAnswer(r)
		first := false
		once.Do(func() { first = true; answers <- a })
		switch {
		case !first:
			page(w, http.StatusConflict, "This sign-in has already ended: return to your terminal.")
		case a.err != nil:
			page(w, http.StatusBadRequest, "The sign-in failed: "+a.err.Error()+". Return to your terminal.")
		default:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, successPage()) // the terminal goes on whether or not the page arrives
		}
	})
	return mux
}

// readAnswer reads the provider's answer, which carries this sign-in's state.
func readAnswer(r *http.Request) answer {
	q := r.URL.Query()
	switch e := q.Get("error"); {
	// RFC 6749 4.1.2.1: access_denied, "the resource owner or authorization server denied the request".
	case e == "access_denied":
		return answer{err: fmt.Errorf("%w: the provider answered %s; run waxseal again and approve the request, or pass --identity-token",
			ErrSignInDeclined, describe(e, q.Get("error_description")))}
	case e != "":
		return answer{err: fmt.Errorf("the provider refused the sign-in (%s)", describe(e, q.Get("error_description")))}
	case q.Get("code") == "":
		return answer{err: errors.New("the provider's answer holds no authorization code")}
	}
	return answer{code: q.Get("code")}
}

// strayAnswers is how a browser sign-in ended, its context done, after n requests with another state than waxseal
// sent, which it ignored. InteractiveSource.interrupted words it.
type strayAnswers struct {
	n     int64
	cause error
}

func (e *strayAnswers) Error() string { return e.cause.Error() }

func (e *strayAnswers) Unwrap() error { return e.cause }

var successPage = sync.OnceValue(func() string {
	if p, err := soauth.GetInteractiveSuccessHTML(false, 10); err == nil {
		return p
	}
	return "<!DOCTYPE html><title>Signed in</title><p>Signed in: return to your terminal.</p>\n"
})

func page(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!DOCTYPE html><title>waxseal sign-in</title><p>%s</p>\n", html.EscapeString(msg))
}

// shutdown stops the redirect listener, letting a page being written finish for a moment.
func shutdown(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx) // a browser still connected after that is cut off; nothing depends on it
}

// SystemBrowser opens url in the desktop's browser (xdg-open, x-www-browser or www-browser on Linux, open on
// macOS), with github.com/pkg/browser as oauthflow does.
func SystemBrowser(url string) error { return browser.OpenURL(url) }

// BrowserCommand returns an opener following the BROWSER environment variable's convention (xdg-open, Python's
// webbrowser, gh): commands separated by the path-list separator, each a program and its arguments separated by
// spaces (no quoting), where "%s" stands for the URL, which is otherwise the last argument. The first command that
// starts is run, without a shell, its output going to out; the opener returns when it exits.
func BrowserCommand(spec string, out io.Writer) func(url string) error {
	return func(url string) error {
		var err error
		for _, entry := range filepath.SplitList(spec) {
			args := strings.Fields(entry)
			if len(args) == 0 {
				continue
			}
			if !strings.Contains(entry, "%s") {
				args = append(args, url)
			}
			for i := range args {
				args[i] = strings.ReplaceAll(args[i], "%s", url)
			}
			cmd := exec.Command(args[0], args[1:]...)
			cmd.Stdout, cmd.Stderr = out, out
			if err = cmd.Start(); err != nil {
				continue
			}
			if err = cmd.Wait(); err != nil {
				return fmt.Errorf("BROWSER command %s: %w", args[0], err)
			}
			return nil
		}
		if err == nil {
			err = errors.New("BROWSER names no command")
		}
		return fmt.Errorf("starting the BROWSER command: %w", err)
	}
}
