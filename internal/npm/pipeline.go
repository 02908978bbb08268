package npm

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"io"
	"sync"
	"sync/atomic"
)

// The file is read once into a small ring of pooled chunks. Each chunk goes to three concurrent
// stages (sha512, sha256, and gunzip+tar), and returns to the ring when all three are done with it,
// so memory stays at chunkCount*chunkSize whatever the tarball's size, and throughput tracks the
// slowest stage (sha512) rather than the sum of the three.
const (
	chunkSize  = 1 << 20
	chunkCount = 8
	stages     = 3
)

type chunk struct {
	buf  []byte
	n    int
	refs atomic.Int32
}

var chunkPool = sync.Pool{New: func() any { return &chunk{buf: make([]byte, chunkSize)} }}

// ring hands out at most chunkCount chunks and takes them back when every stage released them.
type ring struct {
	free  chan *chunk
	owned []*chunk
}

func newRing() *ring { return &ring{free: make(chan *chunk, chunkCount)} }

// get returns a free chunk, allocating lazily so a small tarball costs one chunk.
func (r *ring) get(ctx context.Context) (*chunk, error) {
	if len(r.owned) < chunkCount {
		select {
		case c := <-r.free:
			return c, nil
		default:
		}
		c := chunkPool.Get().(*chunk)
		r.owned = append(r.owned, c)
		return c, nil
	}
	select {
	case c := <-r.free:
		return c, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// release drops one stage's hold on c; the last one returns it to the ring. Never blocks: the ring's
// channel has room for every chunk it owns.
func (r *ring) release(c *chunk) {
	if c.refs.Add(-1) == 0 {
		r.free <- c
	}
}

// close returns every chunk to the shared pool; call it only once all stages have stopped.
func (r *ring) close() {
	for _, c := range r.owned {
		chunkPool.Put(c)
	}
	r.owned = nil
}

// digests is what the read stage and the two hash stages produce.
type digests struct {
	size   int64
	sha512 [sha512.Size]byte
	sha256 [sha256.Size]byte
}

// stream reads f once, feeding every byte to sha512, sha256 and parse (which sees the bytes as an
// chunkReader). parse's error stops the read. It returns the digests of exactly the bytes read.
func stream(ctx context.Context, f io.Reader, parse func(*chunkReader) error) (digests, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	r := newRing()
	defer r.close()
	to512 := make(chan *chunk, chunkCount)
	to256 := make(chan *chunk, chunkCount)
	toParse := make(chan *chunk, chunkCount)

	var d digests
	var wg sync.WaitGroup
	wg.Go(func() { hashStage(r, to512, sha512.New(), d.sha512[:]) })
	wg.Go(func() { hashStage(r, to256, sha256.New(), d.sha256[:]) })
	var parseErr error
	wg.Go(func() {
		cr := &chunkReader{in: toParse, ring: r}
		parseErr = parse(cr)
		if parseErr != nil {
			cancel(parseErr)
		}
		cr.drain()
	})

	size, readErr := readStage(ctx, f, r, to512, to256, toParse)
	wg.Wait()
	d.size = size
	// A cancelled context or an I/O error explains a parse failure (the parser saw a cut-off stream),
	// so they win; otherwise the parser's verdict stands.
	switch {
	case readErr != nil && !errors.Is(readErr, parseErr):
		return d, readErr
	case parseErr != nil:
		return d, parseErr
	}
	return d, nil
}

// readStage fills chunks from f and sends each to every stage, then closes the stage channels.
func readStage(ctx context.Context, f io.Reader, r *ring, outs ...chan *chunk) (int64, error) {
	defer func() {
		for _, o := range outs {
			close(o)
		}
	}()
	var size int64
	for {
		if err := context.Cause(ctx); err != nil {
			return size, err
		}
		c, err := r.get(ctx)
		if err != nil {
			return size, err
		}
		n, err := io.ReadFull(f, c.buf)
		if n > 0 {
			c.n = n
			c.refs.Store(stages)
			size += int64(n)
			for _, o := range outs {
				o <- c // never blocks: each channel can hold every chunk in the ring
			}
		} else {
			r.free <- c
		}
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return size, nil
		case err != nil:
			return size, err
		}
	}
}

// hashStage hashes every chunk it receives, in order, into sum.
func hashStage(r *ring, in <-chan *chunk, h interface {
	io.Writer
	Sum([]byte) []byte
}, sum []byte) {
	for c := range in {
		_, _ = h.Write(c.buf[:c.n]) // hash.Hash.Write never fails
		r.release(c)
	}
	copy(sum, h.Sum(nil))
}

// chunkReader presents a stage's chunks as an io.Reader and io.ByteReader (so compress/flate reads
// it directly, without another buffer), counting the bytes it hands out.
type chunkReader struct {
	in   <-chan *chunk
	ring *ring
	cur  *chunk
	off  int
	n    int64
}

func (cr *chunkReader) fill() bool {
	for cr.cur == nil || cr.off == cr.cur.n {
		if cr.cur != nil {
			cr.ring.release(cr.cur)
			cr.cur = nil
		}
		c, ok := <-cr.in
		if !ok {
			return false
		}
		cr.cur, cr.off = c, 0
	}
	return true
}

func (cr *chunkReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if !cr.fill() {
		return 0, io.EOF
	}
	n := copy(p, cr.cur.buf[cr.off:cr.cur.n])
	cr.off += n
	cr.n += int64(n)
	return n, nil
}

func (cr *chunkReader) ReadByte() (byte, error) {
	if !cr.fill() {
		return 0, io.EOF
	}
	b := cr.cur.buf[cr.off]
	cr.off++
	cr.n++
	return b, nil
}

// consumed reports how many bytes have been read.
func (cr *chunkReader) consumed() int64 { return cr.n }

// drain releases the current and every remaining chunk without reading them, so the hash stages
// still see the whole file after the parser is done.
func (cr *chunkReader) drain() {
	if cr.cur != nil {
		cr.ring.release(cr.cur)
		cr.cur = nil
	}
	for c := range cr.in {
		cr.ring.release(c)
	}
}
