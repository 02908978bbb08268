package npm

import (
	"errors"
	"strings"
	"testing"
)

func TestParseJSObject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		doc     string
		wantStr map[string]string // string members expected
		wantMsg string            // "" if valid
	}{
		{name: "plain", doc: `{"name":"a","version":"1.0.0"}`, wantStr: map[string]string{"name": "a", "version": "1.0.0"}},
		{name: "whitespace", doc: " \t\r\n{ \"name\" : \"a\" }\n", wantStr: map[string]string{"name": "a"}},
		{name: "escapes", doc: `{"name":"\u0061\/\"\\\b\f\n\r\t"}`, wantStr: map[string]string{"name": "a/\"\\\b\f\n\r\t"}},
		{name: "escaped key", doc: `{"n\u0061me":"a"}`, wantStr: map[string]string{"name": "a"}},
		{name: "surrogate pair", doc: `{"name":"\ud83d\ude00"}`, wantStr: map[string]string{"name": "😀"}},
		{name: "keys differing in case", doc: `{"name":"a","Name":"b","NAME":"c"}`, wantStr: map[string]string{"name": "a", "Name": "b"}},
		{name: "numbers", doc: `{"a":[0,-0,1.5,-1e10,2E+3,3e-2]}`},
		{name: "literals", doc: `{"a":[true,false,null,{},[]]}`},
		{name: "empty", doc: `{}`},
		{name: "not an object", doc: `[1]`, wantMsg: "not a JSON object"},
		{name: "string document", doc: `"x"`, wantMsg: "not a JSON object"},
		{name: "invalid document", doc: `nope`, wantMsg: "not valid JSON"},
		{name: "empty input", doc: ``, wantMsg: "not valid JSON"},
		{name: "trailing text", doc: `{} x`, wantMsg: "after the document"},
		{name: "trailing comma", doc: `{"a":1,}`, wantMsg: "string key"},
		{name: "single quotes", doc: `{'a':1}`, wantMsg: "string key"},
		{name: "leading zero", doc: `{"a":01}`, wantMsg: "expected ','"},
		{name: "bare dot", doc: `{"a":1.}`, wantMsg: "malformed number"},
		{name: "bare exponent", doc: `{"a":1e}`, wantMsg: "malformed number"},
		{name: "plus sign", doc: `{"a":+1}`, wantMsg: "unexpected"},
		{name: "raw control character", doc: "{\"a\":\"\x01\"}", wantMsg: "control character"},
		{name: "bad escape", doc: `{"a":"\x"}`, wantMsg: "invalid escape"},
		{name: "short unicode escape", doc: `{"a":"\u12"}`, wantMsg: "\\u escape"},
		{name: "unterminated", doc: `{"a":"b`, wantMsg: "unterminated"},
		{name: "duplicate key", doc: `{"name":"a","name":"b"}`, wantMsg: `key "name" twice at the top level`},
		{name: "duplicate escaped key", doc: `{"name":"a","n\u0061me":"b"}`, wantMsg: `key "name" twice`},
		{name: "duplicate nested key", doc: `{"a":[{"b":{"c":1,"c":2}}]}`, wantMsg: `twice in "a".0."b"`},
		{name: "proto key", doc: `{"__proto__":{}}`, wantMsg: "__proto__"},
		{name: "nested proto key", doc: `{"a":{"__pr\u006fto__":1}}`, wantMsg: "__proto__"},
		{name: "lone high surrogate", doc: `{"a":"\ud800"}`, wantMsg: `lone UTF-16 surrogate \ud800 in a string in "a"`},
		{name: "lone low surrogate", doc: `{"a":"\udc00"}`, wantMsg: "lone"},
		{name: "high then non-low", doc: `{"a":"\ud800\u0041"}`, wantMsg: `\ud800`},
		{name: "lone surrogate in a key", doc: `{"\ud800":1}`, wantMsg: "lone"},
		{name: "invalid UTF-8", doc: "{\"a\":\"\xc3\x28\"}", wantMsg: "not valid UTF-8 (at byte 6"},
		{name: "encoded surrogate", doc: "{\"a\":\"\xed\xa0\x80\"}", wantMsg: "not valid UTF-8"},
		{name: "deep", doc: `{"a":` + strings.Repeat("[", 513) + strings.Repeat("]", 513) + `}`, wantMsg: "512 deep"},
		{name: "deep enough", doc: `{"a":` + strings.Repeat("[", 511) + strings.Repeat("]", 511) + `}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseJSObject([]byte(tt.doc), 0)
			if tt.wantMsg != "" {
				if !errors.Is(err, ErrManifest) || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("parseJSObject(%q) = %v; want ErrManifest containing %q", tt.doc, err, tt.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseJSObject(%q): %v", tt.doc, err)
			}
			for k, want := range tt.wantStr {
				if v := got[k]; v.kind != '"' || v.str != want {
					t.Errorf("member %q = %+v, want the string %q", k, v, want)
				}
			}
		})
	}
}

func TestTruthy(t *testing.T) {
	t.Parallel()
	for doc, want := range map[string]bool{
		`""`: false, `"0"`: true, `"false"`: true, `0`: false, `-0`: false, `0.0e5`: false, `1e-400`: false,
		`5e-324`: true, `1e400`: true, `-1`: true, `true`: true, `false`: false, `null`: false, `[]`: true, `{}`: true,
	} {
		got, err := parseJSObject([]byte(`{"p":`+doc+`}`), 0)
		if err != nil {
			t.Fatal(err)
		}
		if got["p"].truthy() != want {
			t.Errorf("truthy(%s) = %v, want %v", doc, !want, want)
		}
	}
	if (jsValue{}).truthy() {
		t.Error("an absent member is truthy")
	}
}
