package remedy

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExplain(t *testing.T) {
	t.Parallel()
	base := errors.New("no Rekor v1 log: sign without provenance")
	tagged := With(base, Set(Provenance, "false"))
	tests := []struct {
		name      string
		err       error
		words     Words
		want      string
		wantHints []Hint
	}{
		{name: "flag", err: fmt.Errorf("signing: %w", tagged), words: Flag,
			want: "signing: no Rekor v1 log: sign without provenance (--provenance=false)", wantHints: []Hint{Set(Provenance, "false")}},
		{name: "input", err: tagged, words: Input,
			want: "no Rekor v1 log: sign without provenance (input `provenance: false`)", wantHints: []Hint{Set(Provenance, "false")}},
		{name: "joined, repeats once", err: errors.Join(tagged, With(errors.New("slow"), Give(RetryFor)), tagged), words: Flag,
			want:      "no Rekor v1 log: sign without provenance\nslow\nno Rekor v1 log: sign without provenance (--provenance=false; --retry-for)",
			wantHints: []Hint{Set(Provenance, "false"), Give(RetryFor)}},
		{name: "a true value is the bare flag", err: With(base, Set(AllowPrivateRepository, "true")), words: Flag,
			want: "no Rekor v1 log: sign without provenance (--allow-private-repository)", wantHints: []Hint{Set(AllowPrivateRepository, "true")}},
		{name: "no hints", err: base, words: Flag, want: base.Error()},
		{name: "dropped hints stay out, others stay", err: fmt.Errorf("fetching: %w", Drop(errors.Join(With(base, Give(TrustedRoot)), With(errors.New("slow"), Give(RetryFor))), TrustedRoot)),
			words: Flag, want: "fetching: no Rekor v1 log: sign without provenance\nslow (--retry-for)", wantHints: []Hint{Give(RetryFor)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Explain(tc.err, tc.words)
			if got.Error() != tc.want {
				t.Errorf("Explain = %q, want %q", got, tc.want)
			}
			if !errors.Is(got, base) {
				t.Error("errors.Is cannot see through the explanation")
			}
			if diff := cmp.Diff(tc.wantHints, Hints(tc.err)); diff != "" {
				t.Errorf("Hints (-want +got):\n%s", diff)
			}
		})
	}
	if With(nil, Give(RetryFor)) != nil || Text(nil, Flag) != "" {
		t.Error("a nil error must stay nil")
	}
}
