package nvmeio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ReaderOptions configures OpenReader.
type ReaderOptions struct {
	// Direct opens with O_DIRECT: reads bypass the page cache, so a model larger than RAM streams without
	// evicting everything else. Falls back to buffered reads (with a log line) where the file system
	// refuses O_DIRECT.
	Direct bool
	// QueueDepth is the number of reads in flight; 0 means 8.
	QueueDepth int
	// BlockSize is the size of one read (one SQE); 0 means 1 MiB. With Direct it is rounded up to the
	// alignment.
	BlockSize int
	// Log receives one line when the Reader falls back (no io_uring, no O_DIRECT); nil discards it.
	Log func(string)
	// ForcePread skips io_uring and reads with pread (QueueDepth goroutines).
	ForcePread bool
}

const (
	defaultQueueDepth = 8
	defaultBlockSize  = 1 << 20
	fallbackAlign     = 4096 // when neither BLKSSZGET nor statx(STATX_DIOALIGN) answers
)

// Reader reads ranges of one file or block device, splitting each ReadAt into BlockSize reads with
// QueueDepth in flight. It is safe for concurrent use; concurrent ReadAt calls run one at a time (the
// parallelism is inside each call). The size is fixed when it opens.
//
// With O_DIRECT, reads go straight into the caller's buffer when it is "congruent": the address of the
// byte for file offset off is aligned as off is, i.e. (address of p[0]) % Alignment() == off %
// Alignment(); a buffer from AlignedBuffer read at buf[off%Alignment():] is. Then only the partial
// blocks at the two ends pass through small bounce buffers. Other buffers are read through a pool of
// QueueDepth bounce buffers of BlockSize and copied out.
type Reader struct {
	mu        sync.Mutex
	path      string
	fd        int
	size      int64
	direct    bool
	align     int // O_DIRECT alignment of offsets, lengths and memory; 1 when buffered
	blockSize int
	qd        int
	ring      *Ring // nil: pread
	log       func(string)

	edge     [2][]byte // bounce buffers of align bytes for the partial blocks at the ends of a range
	edgeMem  []byte
	pool     [][]byte // bounce buffers of blockSize for ranges into unaligned memory
	poolMem  []byte
	fixedIdx map[*byte]int // bounce buffer -> registered buffer index, when registration worked
}

// OpenReader opens a file or block device (/dev/nvme0n1) for reading.
func OpenReader(path string, opts ReaderOptions) (*Reader, error) {
	r := &Reader{path: path, fd: -1, log: opts.Log, align: 1}
	r.qd = opts.QueueDepth
	if r.qd <= 0 {
		r.qd = defaultQueueDepth
	}
	r.qd = min(r.qd, maxEntries)
	r.blockSize = opts.BlockSize
	if r.blockSize <= 0 {
		r.blockSize = defaultBlockSize
	}
	r.blockSize = min(r.blockSize, maxSQELen)

	if opts.Direct {
		fd, err := openFile(path, unix.O_DIRECT)
		switch {
		case err == nil:
			r.fd, r.direct = fd, true
		case errors.Is(err, unix.EINVAL):
			r.logf("nvmeio: %s refuses O_DIRECT (%v); using buffered reads", path, err)
		default:
			return nil, err
		}
	}
	if r.fd < 0 {
		fd, err := openFile(path, 0)
		if err != nil {
			return nil, err
		}
		r.fd = fd
	}
	// Stat gives 0 for a block device; seeking to the end gives its size.
	size, err := unix.Seek(r.fd, 0, io.SeekEnd)
	if err != nil {
		unix.Close(r.fd)
		return nil, &os.PathError{Op: "seek", Path: path, Err: err}
	}
	r.size = size

	if r.direct {
		align, why := dioAlignment(r.fd)
		if align == 0 {
			if err := r.reopenBuffered(why); err != nil {
				return nil, err
			}
		} else {
			r.align = align
			r.blockSize = roundUp(r.blockSize, align)
		}
	}

	if !opts.ForcePread {
		ring, err := NewRing(RingOptions{Entries: uint32(nextPow2(r.qd))})
		if err != nil {
			r.logf("nvmeio: io_uring unavailable (%v); reading %s with pread", err, path)
		} else {
			r.ring = ring
		}
	}

	// Some file systems accept O_DIRECT at open and refuse the read; find out now, not mid-model.
	if r.direct && r.size > 0 {
		if err := r.probeDirect(); errors.Is(err, unix.EINVAL) {
			if err := r.reopenBuffered(err.Error()); err != nil {
				r.Close()
				return nil, err
			}
		} else if err != nil {
			r.Close()
			return nil, fmt.Errorf("nvmeio: first read of %s: %w", path, err)
		}
	}
	return r, nil
}

// probeDirect reads the first block with O_DIRECT through the path ReadAt uses.
func (r *Reader) probeDirect() error {
	if err := r.allocEdge(); err != nil {
		return err
	}
	c := []chunk{{req: ioReq{off: 0}, length: r.align, dst: make([]byte, 1), kind: chunkEdge, pool: -1}}
	var err error
	if r.ring != nil {
		err = r.readRing(c, c[0].dst)
	} else {
		r.readPread(c)
	}
	if err == nil {
		err = c[0].err
	}
	return err
}

func openFile(path string, flags int) (int, error) {
	for {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|flags, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return fd, nil
	}
}

func (r *Reader) reopenBuffered(why string) error {
	r.logf("nvmeio: O_DIRECT reads of %s fail (%s); using buffered reads", r.path, why)
	fd, err := openFile(r.path, 0)
	if err != nil {
		return err
	}
	unix.Close(r.fd)
	r.fd, r.direct, r.align = fd, false, 1
	return nil
}

// dioAlignment is the alignment O_DIRECT needs for offsets, lengths and memory, or 0 and why when the
// file cannot do direct I/O.
func dioAlignment(fd int) (int, string) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err == nil && st.Mode&unix.S_IFMT == unix.S_IFBLK {
		if lbs, err := unix.IoctlGetInt(fd, unix.BLKSSZGET); err == nil && lbs > 0 {
			return max(lbs, 512), ""
		}
		return fallbackAlign, ""
	}
	var sx unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_DIOALIGN, &sx); err == nil && sx.Mask&unix.STATX_DIOALIGN != 0 {
		if sx.Dio_offset_align == 0 {
			return 0, "statx reports no direct I/O support"
		}
		return max(int(sx.Dio_offset_align), int(sx.Dio_mem_align), 512), ""
	}
	return fallbackAlign, "" // kernel before 6.1 or a file system that does not say
}

func (r *Reader) logf(format string, args ...any) {
	if r.log != nil {
		r.log(fmt.Sprintf(format, args...))
	}
}

// Size is the size of the file or device in bytes, as it was at open.
func (r *Reader) Size() int64 { return r.size }

// Alignment is the O_DIRECT alignment of offsets, lengths and memory (the logical block size of a
// device), or 1 when reads are buffered.
func (r *Reader) Alignment() int { return r.align }

// Window returns the n bytes of buf into which a read at off goes without a copy under O_DIRECT: the
// slice starts within the first Alignment() bytes of buf, where its address is congruent to off. buf
// needs n+Alignment()-1 bytes; Window returns nil when it is shorter. Buffered readers get buf[:n].
func (r *Reader) Window(buf []byte, off int64, n int) []byte {
	a := r.align
	if a <= 1 || len(buf) == 0 {
		if n > len(buf) {
			return nil
		}
		return buf[:n]
	}
	k := int((off - int64(uintptr(unsafe.Pointer(&buf[0])))) & int64(a-1))
	if k+n > len(buf) {
		return nil
	}
	return buf[k : k+n]
}

// QueueDepth is the number of reads in flight.
func (r *Reader) QueueDepth() int { return r.qd }

// BlockSize is the size of one read.
func (r *Reader) BlockSize() int { return r.blockSize }

// Mode says how the Reader reads: "io_uring+O_DIRECT", "io_uring", "pread+O_DIRECT" or "pread".
func (r *Reader) Mode() string {
	m := "pread"
	if r.ring != nil {
		m = "io_uring"
	}
	if r.direct {
		m += "+O_DIRECT"
	}
	return m
}

// Close releases the ring, the bounce buffers and the file.
func (r *Reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fd < 0 {
		return nil
	}
	var errs []error
	if r.ring != nil {
		errs = append(errs, r.ring.Close())
		r.ring = nil
	}
	if r.edgeMem != nil {
		errs = append(errs, FreeAlignedBuffer(r.edgeMem))
	}
	if r.poolMem != nil {
		errs = append(errs, FreeAlignedBuffer(r.poolMem))
	}
	r.edgeMem, r.poolMem, r.pool, r.edge = nil, nil, nil, [2][]byte{}
	if err := unix.Close(r.fd); err != nil {
		errs = append(errs, &os.PathError{Op: "close", Path: r.path, Err: err})
	}
	r.fd = -1
	return errors.Join(errs...)
}

// chunk is one read of a ReadAt: straight into the caller's bytes, or into a bounce buffer and copied.
type chunk struct {
	req    ioReq  // off and length of the read; buf is set when it is issued
	length int    // bytes to read
	dst    []byte // the caller's bytes this chunk provides
	skip   int    // bounce: offset in the data read where dst begins
	kind   int    // direct, edge (edge buffer index in edgeIdx) or pool
	edgeIx int
	pool   int // pool buffer in use, -1 none
	got    int // bytes provided to dst
	err    error
}

const (
	chunkDirect = iota
	chunkEdge
	chunkPool
)

// ReadAt reads len(p) bytes at off, as io.ReaderAt: n < len(p) only with an error, io.EOF when the
// file ends first.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, &os.PathError{Op: "readat", Path: r.path, Err: errors.New("negative offset")}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fd < 0 {
		return 0, ErrClosed
	}
	if len(p) == 0 {
		return 0, nil
	}
	if off >= r.size {
		return 0, io.EOF
	}
	want := p[:min(int64(len(p)), r.size-off)]
	chunks, err := r.plan(want, off)
	if err != nil {
		return 0, err
	}
	if r.ring != nil {
		err = r.readRing(chunks, want)
	} else {
		r.readPread(chunks)
	}
	if err != nil {
		return 0, err
	}
	// Bytes count while they are contiguous from off.
	n := 0
	for i := range chunks {
		c := &chunks[i]
		n += c.got
		if c.err != nil && c.err != io.EOF {
			return n, fmt.Errorf("nvmeio: reading %s: %w", r.path, c.err)
		}
		if c.got < len(c.dst) {
			break
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// plan splits [off, off+len(p)) into reads, in file order.
func (r *Reader) plan(p []byte, off int64) ([]chunk, error) {
	end := off + int64(len(p))
	bs := int64(r.blockSize)
	var chunks []chunk
	direct := func(s, e int64) {
		for ; s < e; s += bs {
			l := min(bs, e-s)
			chunks = append(chunks, chunk{req: ioReq{off: s}, length: int(l), dst: p[s-off : s-off+l], kind: chunkDirect, pool: -1})
		}
	}
	if !r.direct {
		direct(off, end)
		return chunks, nil
	}
	a := int64(r.align)
	if uintptr(unsafe.Pointer(&p[0]))%uintptr(a) == uintptr(off%a) {
		ms, me := roundUp64(off, a), end/a*a
		if off%a != 0 {
			s := off / a * a
			chunks = append(chunks, chunk{req: ioReq{off: s}, length: int(a), dst: p[:min(ms, end)-off], skip: int(off - s), kind: chunkEdge, edgeIx: 0, pool: -1})
		}
		direct(ms, me)
		if end%a != 0 && me >= ms {
			chunks = append(chunks, chunk{req: ioReq{off: me}, length: int(a), dst: p[me-off:], kind: chunkEdge, edgeIx: 1, pool: -1})
		}
		if chunks[0].kind == chunkEdge || chunks[len(chunks)-1].kind == chunkEdge {
			if err := r.allocEdge(); err != nil {
				return nil, err
			}
		}
		return chunks, nil
	}
	for s := off / a * a; s < end; s += bs {
		e := min(s+bs, roundUp64(end, a))
		lo, hi := max(s, off), min(s+bs, end)
		chunks = append(chunks, chunk{req: ioReq{off: s}, length: int(e - s), dst: p[lo-off : hi-off], skip: int(lo - s), kind: chunkPool, pool: -1})
	}
	if err := r.allocPool(); err != nil {
		return nil, err
	}
	return chunks, nil
}

func (r *Reader) allocEdge() error {
	if r.edgeMem != nil {
		return nil
	}
	mem, err := AlignedBuffer(2*r.align, r.align)
	if err != nil {
		return err
	}
	r.edgeMem = mem
	r.edge = [2][]byte{mem[:r.align:r.align], mem[r.align:]}
	r.registerBounce()
	return nil
}

func (r *Reader) allocPool() error {
	if r.poolMem != nil {
		return nil
	}
	mem, err := AlignedBuffer(r.qd*r.blockSize, r.align)
	if err != nil {
		return err
	}
	r.poolMem = mem
	r.pool = make([][]byte, r.qd)
	for i := range r.pool {
		r.pool[i] = mem[i*r.blockSize : (i+1)*r.blockSize : (i+1)*r.blockSize]
	}
	r.registerBounce()
	return nil
}

// registerBounce registers the bounce buffers for READ_FIXED. Failing (RLIMIT_MEMLOCK for instance)
// only costs the per-read page pinning, so plain reads go on.
func (r *Reader) registerBounce() {
	if r.ring == nil {
		return
	}
	var bufs [][]byte
	idx := map[*byte]int{}
	for _, b := range append(r.pool, r.edge[:]...) {
		if b != nil {
			idx[&b[0]] = len(bufs)
			bufs = append(bufs, b)
		}
	}
	if err := r.ring.RegisterBuffers(bufs); err != nil {
		r.fixedIdx = nil
		return
	}
	r.fixedIdx = idx
}

func (r *Reader) bufIndex(b []byte) int {
	if i, ok := r.fixedIdx[&b[0]]; ok {
		return i
	}
	return -1
}

// finish copies a bounce read out and settles the chunk's result: a read that ended at EOF after
// providing all of dst is complete.
func (c *chunk) finish(data []byte) {
	c.got = len(c.dst)
	if c.kind == chunkDirect {
		c.got = min(c.req.done, len(c.dst))
	} else {
		c.got = max(0, min(c.req.done-c.skip, len(c.dst)))
		copy(c.dst[:c.got], data[c.skip:])
	}
	c.err = c.req.err
	if c.err == io.EOF && c.got == len(c.dst) {
		c.err = nil
	}
}

func (r *Reader) readRing(chunks []chunk, p []byte) error {
	var pin runtime.Pinner
	defer pin.Unpin()
	pin.Pin(&p[0])
	free := make([]int, 0, len(r.pool))
	for i := len(r.pool) - 1; i >= 0; i-- {
		free = append(free, i)
	}
	next := 0
	return r.ring.run(r.qd, r.size, &pin, func() *ioReq {
		if next == len(chunks) {
			return nil
		}
		c := &chunks[next]
		var buf []byte
		switch c.kind {
		case chunkDirect:
			buf = c.dst
		case chunkEdge:
			buf = r.edge[c.edgeIx]
		case chunkPool:
			if len(free) == 0 {
				return nil // wait for a pool buffer to come back
			}
			c.pool, free = free[len(free)-1], free[:len(free)-1]
			buf = r.pool[c.pool]
		}
		c.req = ioReq{fd: r.fd, off: c.req.off, buf: buf[:c.length], bufIndex: -1, tag: next}
		if c.kind != chunkDirect {
			c.req.bufIndex = r.bufIndex(buf)
		}
		next++
		return &c.req
	}, func(q *ioReq) {
		c := &chunks[q.tag]
		c.finish(q.buf)
		if c.pool >= 0 {
			free = append(free, c.pool)
			c.pool = -1
		}
	})
}

// readPread runs the chunks with pread on up to QueueDepth goroutines; goroutine w uses pool buffer w.
func (r *Reader) readPread(chunks []chunk) {
	do := func(c *chunk, w int) {
		var buf []byte
		switch c.kind {
		case chunkDirect:
			buf = c.dst
		case chunkEdge:
			buf = r.edge[c.edgeIx]
		case chunkPool:
			buf = r.pool[w]
		}
		c.req.buf = buf[:c.length]
		c.req.done, c.req.err = preadFull(r.fd, c.req.buf, c.req.off, r.size)
		c.finish(c.req.buf)
	}
	workers := min(r.qd, len(chunks))
	if workers == 1 {
		for i := range chunks {
			do(&chunks[i], 0)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(chunks) {
					return
				}
				do(&chunks[i], w)
			}
		})
	}
	wg.Wait()
}

// preadFull reads buf at off until it is full, the file ends (io.EOF) or at eofAt (io.EOF if short).
func preadFull(fd int, buf []byte, off, eofAt int64) (int, error) {
	done := 0
	for done < len(buf) {
		if off+int64(done) >= eofAt {
			return done, io.EOF
		}
		n, err := unix.Pread(fd, buf[done:], off+int64(done))
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return done, fmt.Errorf("pread at %d: %w", off+int64(done), err)
		}
		if n == 0 {
			return done, io.EOF
		}
		done += n
	}
	return done, nil
}

func roundUp64(n, align int64) int64 { return (n + align - 1) / align * align }

func nextPow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}
