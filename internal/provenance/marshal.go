package provenance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// npmKeyOrder is the order of keys in npm's object literals (libnpmpublish lib/provenance.js and
// the subject in lib/publish.js). Every object in the statement lists its keys in this order, so one
// global ranking reproduces JSON.stringify's output byte for byte. Unknown keys sort after, by name.
var npmKeyOrder = []string{
	"_type", "subject", "name", "uri", "digest", "sha512", "gitCommit", "predicateType", "predicate",
	"buildDefinition", "buildType", "externalParameters", "workflow", "ref", "repository", "path",
	"internalParameters", "github", "event_name", "repository_id", "repository_owner_id",
	"resolvedDependencies", "runDetails", "builder", "id", "metadata", "invocationId",
}

// Marshal encodes st as compact JSON laid out as npm's JSON.stringify lays it out: no whitespace,
// keys in npm's order, no HTML escaping. protojson's output is decoded and re-encoded because
// protojson deliberately varies its whitespace between runs.
func Marshal(st *intoto.Statement) ([]byte, error) {
	raw, err := protojson.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encoding statement: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decoding protojson output: %w", err)
	}
	var buf bytes.Buffer
	if err := encode(&buf, v); err != nil {
		return nil, fmt.Errorf("encoding statement: %w", err)
	}
	return buf.Bytes(), nil
}

func encode(buf *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, compareKeys)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := encodeString(buf, k); err != nil {
				return err
			}
			buf.WriteByte(':')
			if err := encode(buf, v[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := encode(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case string:
		return encodeString(buf, v)
	case json.Number:
		buf.WriteString(v.String())
	case bool, nil:
		b, _ := json.Marshal(v)
		buf.Write(b)
	default:
		return fmt.Errorf("unexpected JSON value of type %T", v)
	}
	return nil
}

// encodeString writes s as JSON.stringify would for ordinary text: without escaping <, > and &.
func encodeString(buf *bytes.Buffer, s string) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encode appends a newline
	return nil
}

func compareKeys(a, b string) int {
	ra, rb := rank(a), rank(b)
	if ra != rb {
		return ra - rb
	}
	return strings.Compare(a, b)
}

func rank(k string) int {
	if i := slices.Index(npmKeyOrder, k); i >= 0 {
		return i
	}
	return len(npmKeyOrder)
}
