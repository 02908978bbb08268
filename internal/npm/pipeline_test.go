package npm

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"io"
	"testing"
)

// pieces hands out its data in small, uneven reads, counting every byte delivered.
type pieces struct {
	data      []byte
	delivered int
	failAt    int // if > 0, fail once this many bytes were delivered
}

var errDisk = errors.New("disk on fire")

func (p *pieces) Read(b []byte) (int, error) {
	if p.failAt > 0 && p.delivered >= p.failAt {
		return 0, errDisk
	}
	if p.delivered == len(p.data) {
		return 0, io.EOF
	}
	n := min(len(b), 7919, len(p.data)-p.delivered)
	copy(b, p.data[p.delivered:p.delivered+n])
	p.delivered += n
	return n, nil
}

// TestStreamParserSeesHashedBytes proves the one-pass property: the file is read once, and the
// parser sees exactly the bytes that were hashed, in order.
func TestStreamParserSeesHashedBytes(t *testing.T) {
	t.Parallel()
	data := make([]byte, 5*chunkSize+12345)
	for i := range data {
		data[i] = byte(i * 31 >> 3)
	}
	src := &pieces{data: data}
	var seen bytes.Buffer
	d, err := stream(t.Context(), src, func(r *chunkReader) error {
		// Mix ReadByte and Read, as compress/flate does.
		for range 1000 {
			b, err := r.ReadByte()
			if err != nil {
				return err
			}
			seen.WriteByte(b)
		}
		_, err := io.Copy(&seen, r)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if src.delivered != len(data) {
		t.Errorf("read %d bytes from the source, want exactly %d", src.delivered, len(data))
	}
	if !bytes.Equal(seen.Bytes(), data) {
		t.Error("the parser saw different bytes from those hashed")
	}
	if d.sha512 != sha512.Sum512(data) || d.sha256 != sha256.Sum256(data) || d.size != int64(len(data)) {
		t.Error("digests are not those of the bytes read")
	}
}

// TestStreamErrors checks a parser that gives up early still lets the digests finish (drain)
// and that its error is returned; and that a read error wins over the parser's resulting EOF error.
func TestStreamErrors(t *testing.T) {
	t.Parallel()
	data := bytes.Repeat([]byte("x"), 3*chunkSize)
	errParse := errors.New("parse failed")
	tests := []struct {
		name    string
		src     *pieces
		parse   func(*chunkReader) error
		wantErr error
	}{
		{name: "parser refuses at once", src: &pieces{data: data},
			parse: func(*chunkReader) error { return errParse }, wantErr: errParse},
		{name: "parser done early", src: &pieces{data: data},
			parse: func(r *chunkReader) error { _, err := r.ReadByte(); return err }},
		{name: "read error", src: &pieces{data: data, failAt: chunkSize + 10},
			parse: func(r *chunkReader) error {
				if _, err := io.Copy(io.Discard, r); err != nil {
					return err
				}
				return io.ErrUnexpectedEOF // what gzip says of a cut-off stream
			}, wantErr: errDisk},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := stream(t.Context(), tt.src, tt.parse)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("stream error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && d.sha512 != sha512.Sum512(data) {
				t.Error("digest of a stream whose parser finished early is not the whole file's")
			}
		})
	}
}
