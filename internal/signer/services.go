package signer

import (
	"context"
	"encoding/asn1"
	"errors"
	"fmt"
	"net/http"

	"github.com/sigstore/rekor-tiles/v2/pkg/client"
	"github.com/sigstore/rekor-tiles/v2/pkg/client/write"
	rekorclient "github.com/sigstore/rekor/pkg/client"
	"github.com/sigstore/rekor/pkg/generated/client/entries"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/waxseal/waxseal/internal/retry"
)

// The Sigstore services as the retry policy sees them. Their answers are a certificate chain, a log entry with its
// proof (Rekor v1 keeps an in-toto entry's envelope, which it caps far below its limit here) and a DER timestamp:
// kilobytes, so each limit leaves ample room.
var (
	fulcioService = retry.Service{Name: "Fulcio", Valid: retry.JSON, MaxBody: 1 << 20}
	// rekorV1Service hands 409 to sigstore-go, which then fetches the entry an earlier try of the same
	// submission created (its answer was lost), so a retried submission is idempotent.
	rekorV1Service = retry.Service{Name: "Rekor", Valid: retry.JSON, MaxBody: 4 << 20,
		Pass: func(status int) bool { return status == http.StatusConflict }}
	// rekorV2Service's 409 comes back as an *retry.Error: the signer signs afresh (see Signer.bundle).
	rekorV2Service = retry.Service{Name: "Rekor v2", Valid: retry.JSON, MaxBody: 4 << 20}
	tsaService     = retry.Service{Name: "the timestamp authority", Valid: timestampReply, MaxBody: 1 << 20}
)

// timestampReply accepts a body that is one DER value, as an RFC 3161 TimeStampResp is; an HTML error page or a
// cut answer is not, and is retried.
func timestampReply(a retry.Answer) error {
	var v asn1.RawValue
	rest, err := asn1.Unmarshal(a.Body, &v)
	if err != nil || len(rest) > 0 || v.Tag != asn1.TagSequence {
		return errors.New("the answer is not an RFC 3161 timestamp response")
	}
	return nil
}

// services builds the clients of one run's Sigstore services over one retry policy.
type services struct {
	policy retry.Policy
	base   http.RoundTripper
	hint   string
}

func (s services) transport(svc retry.Service) http.RoundTripper {
	svc.Hint = s.hint
	return s.policy.Transport(s.base, svc)
}

// transparencyLogs builds one client per selected log, fully configured up front so that sigstore-go never
// initialises them lazily (which would race when bundles are signed concurrently).
func (s services) transparencyLogs(logs []root.Service) ([]sign.Transparency, error) {
	var out []sign.Transparency
	for _, svc := range logs {
		opts := &sign.RekorOptions{BaseURL: svc.URL, Version: svc.MajorAPIVersion, UserAgent: userAgent}
		switch svc.MajorAPIVersion {
		case 1:
			c, err := rekorclient.GetRekorClient(svc.URL, rekorclient.WithUserAgent(userAgent), rekorclient.WithRetryCount(0))
			if err != nil {
				return nil, fmt.Errorf("creating the Rekor client for %s: %w (check rekorTlogUrls in the signing config)", svc.URL, err)
			}
			opts.Client = &rekorV1{ClientService: c.Entries, hc: &http.Client{Transport: s.transport(rekorV1Service)}}
			// sigstore-go gives go-openapi this as the request's deadline: it must outlast the policy's retries.
			opts.Timeout = s.policy.Overall()
		case 2:
			w, err := write.NewWriter(svc.URL, client.WithUserAgent(userAgent), client.WithTransport(s.transport(rekorV2Service)),
				client.WithTimeout(-1))
			if err != nil {
				return nil, fmt.Errorf("creating the Rekor v2 client for %s: %w (check rekorTlogUrls in the signing config)", svc.URL, err)
			}
			opts.ClientV2 = w
		default:
			return nil, fmt.Errorf("the signing config names Rekor %s with API version %d: waxseal speaks versions 1 and 2", svc.URL, svc.MajorAPIVersion)
		}
		out = append(out, sign.NewRekor(opts))
	}
	return out, nil
}

// rekorV1 sends sigstore-go's Rekor v1 calls through the retry policy's client. sigstore-go only does this itself
// for clients it creates lazily, on first use, which races when bundles are signed concurrently.
type rekorV1 struct {
	entries.ClientService
	hc *http.Client
}

var _ sign.RekorClient = (*rekorV1)(nil)

func (r *rekorV1) CreateLogEntryContext(ctx context.Context, p *entries.CreateLogEntryParams, opts ...entries.ClientOption) (*entries.CreateLogEntryCreated, error) {
	p.SetHTTPClient(r.hc)
	return r.ClientService.CreateLogEntryContext(ctx, p, opts...)
}

func (r *rekorV1) GetLogEntryByUUIDContext(ctx context.Context, p *entries.GetLogEntryByUUIDParams, opts ...entries.ClientOption) (*entries.GetLogEntryByUUIDOK, error) {
	p.SetHTTPClient(r.hc)
	return r.ClientService.GetLogEntryByUUIDContext(ctx, p, opts...)
}
