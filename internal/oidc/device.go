package oidc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/oauth2"

	"github.com/waxseal/waxseal/internal/retry"
)

// deviceFlow runs the device authorization grant (RFC 8628): the person enters a code on any device while
// waxseal polls the token endpoint. PKCE rides along, as in oauthflow's device flow and oauth2.sigstore.dev.
func (s *InteractiveSource) deviceFlow(ctx context.Context, cfg oauth2.Config, prompt io.Writer) (string, error) {
	if cfg.Endpoint.DeviceAuthURL == "" {
		return "", errors.New("the provider offers no device sign-in (its discovery document names no device_authorization_endpoint): " +
			"leave out --oidc-device to sign in through a browser")
	}
	verifier := oauth2.GenerateVerifier()
	da, err := cfg.DeviceAuth(ctx, oauth2.S256ChallengeOption(verifier))
	if err != nil {
		if code, desc := oauthCode(err); code != "" {
			return "", fmt.Errorf("the provider refused to start a device sign-in (%s)", describe(code, desc))
		}
		return "", fmt.Errorf("asking for a device code: %w", retry.Cause(err))
	}
	fmt.Fprintf(prompt, "To sign in, open %s on any device and enter the code %s%s.\n", da.VerificationURI, da.UserCode, validFor(da.Expiry))
	if da.VerificationURIComplete != "" {
		fmt.Fprintf(prompt, "    (or open %s)\n", da.VerificationURIComplete)
	}
	fmt.Fprintln(prompt, "Waiting for the sign-in to be approved...")
	// x/oauth2 polls at the given interval (5 s when none is given), adds 5 s at each slow_down, and stops at
	// access_denied, expired_token, any other error, or the code's expiry (RFC 8628 3.5).
	tok, err := cfg.DeviceAccessToken(ctx, da, oauth2.VerifierOption(verifier))
	if err != nil {
		return "", explainDevice(ctx, err, da.UserCode)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return "", errors.New("the provider's token answer holds no id_token (it must grant the openid scope)")
	}
	return raw, nil
}

func validFor(expiry time.Time) string {
	if expiry.IsZero() {
		return ""
	}
	return fmt.Sprintf(" within %s", time.Until(expiry).Round(time.Second))
}

// explainDevice turns the end of a device sign-in without a token into what happened and what to do.
func explainDevice(ctx context.Context, err error, userCode string) error {
	code, desc := oauthCode(err)
	switch {
	case code == "access_denied":
		return fmt.Errorf("%w: the provider answered %s; run waxseal again and approve the request, or pass --identity-token",
			ErrSignInDeclined, describe(code, desc))
	// x/oauth2 stops at the code's own expiry with the deadline it set; the sign-in's context is still live then.
	case code == "expired_token", code == "" && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return fmt.Errorf("%w: the code %s expired before anyone approved it: run waxseal again and enter the new code", ErrSignInTimedOut, userCode)
	case code != "":
		return fmt.Errorf("the provider refused the device sign-in (%s)", describe(code, desc))
	}
	return fmt.Errorf("waiting for the device sign-in: %w", retry.Cause(err))
}
