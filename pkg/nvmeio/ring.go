// Package nvmeio reads files and block devices (NVMe namespaces) fast: our own io_uring on raw system
// calls (no cgo, no io_uring library), O_DIRECT into aligned buffers with several reads in flight, a
// pread fallback where io_uring is missing or forbidden, and NVMe device discovery from sysfs.
package nvmeio

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Kernel ABI of io_uring (include/uapi/linux/io_uring.h). The numbers are the same on every architecture.
const (
	opReadFixed = 4  // IORING_OP_READ_FIXED, 5.1+
	opRead      = 22 // IORING_OP_READ, 5.6+

	featSingleMmap = 1 << 0 // IORING_FEAT_SINGLE_MMAP: SQ and CQ rings share one mapping (5.4+)
	featNoDrop     = 1 << 1 // IORING_FEAT_NODROP: completions beyond the CQ size are kept, not dropped (5.5+)

	offSQRing = 0          // IORING_OFF_SQ_RING
	offCQRing = 0x8000000  // IORING_OFF_CQ_RING
	offSQEs   = 0x10000000 // IORING_OFF_SQES

	enterGetEvents = 1 << 0 // IORING_ENTER_GETEVENTS

	sqCQOverflow = 1 << 1 // IORING_SQ_CQ_OVERFLOW in the SQ ring's flags

	registerBuffers   = 0 // IORING_REGISTER_BUFFERS
	unregisterBuffers = 1 // IORING_UNREGISTER_BUFFERS
	registerProbe     = 8 // IORING_REGISTER_PROBE, 5.6+

	opSupported = 1 << 0 // IO_URING_OP_SUPPORTED in a probe entry

	maxEntries = 32768   // IORING_MAX_ENTRIES
	maxSQELen  = 1 << 30 // bytes per SQE; the kernel caps one read at MAX_RW_COUNT (2 GiB - 4 KiB) anyway
	sqeSize    = 64
	cqeSize    = 16
)

type sqringOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type cqringOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type uringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
	resv                                                                   [3]uint32
	sqOff                                                                  sqringOffsets
	cqOff                                                                  cqringOffsets
}

// sqe is struct io_uring_sqe (64 bytes), with the union members we use.
type sqe struct {
	opcode      uint8
	flags       uint8
	ioprio      uint16
	fd          int32
	off         uint64
	addr        uint64
	len         uint32
	rwFlags     uint32
	userData    uint64
	bufIndex    uint16
	personality uint16
	spliceFDIn  int32
	addr3       uint64
	pad2        uint64
}

// cqe is struct io_uring_cqe (16 bytes; we never ask for CQE32).
type cqe struct {
	userData uint64
	res      int32
	flags    uint32
}

type probeOp struct {
	op    uint8
	resv  uint8
	flags uint16
	resv2 uint32
}

type probe struct {
	lastOp uint8
	opsLen uint8
	resv   uint16
	resv2  [3]uint32
	ops    [256]probeOp
}

// Compile-time checks that the Go layouts match the kernel's.
var (
	_ [sqeSize - unsafe.Sizeof(sqe{})]struct{}
	_ [unsafe.Sizeof(sqe{}) - sqeSize]struct{}
	_ [cqeSize - unsafe.Sizeof(cqe{})]struct{}
	_ [unsafe.Sizeof(cqe{}) - cqeSize]struct{}
	_ [120 - unsafe.Sizeof(uringParams{})]struct{}
	_ [unsafe.Sizeof(uringParams{}) - 120]struct{}
)

// ErrUnsupported means io_uring is missing (ENOSYS, or a kernel before 5.6 without IORING_OP_READ) or
// forbidden (EPERM, EACCES: kernel.io_uring_disabled, seccomp, an LSM). The errno stays in the chain.
var ErrUnsupported = errors.New("io_uring unsupported")

// ErrClosed is returned by a Ring or Reader used after Close.
var ErrClosed = errors.New("nvmeio: use after Close")

// RingOptions configures NewRing.
type RingOptions struct {
	// Entries is the submission queue size, a power of two up to 32768; 0 means 64. The completion queue
	// is twice as large, so the reads in flight (at most Entries) can never overflow it.
	Entries uint32
}

// Ring is an io_uring instance for reads. Its methods are safe for concurrent use: batches run one at a
// time, each holding the ring until all of its reads have completed.
type Ring struct {
	mu sync.Mutex
	fd int

	entries  uint32
	features uint32
	ops      [256]bool // opcodes the kernel supports, from IORING_REGISTER_PROBE

	sqMem, cqMem, sqeMem []byte // mappings; cqMem aliases sqMem with IORING_FEAT_SINGLE_MMAP

	sqHead, sqTail, sqFlags *uint32 // shared with the kernel
	sqMask                  uint32
	sqes                    unsafe.Pointer
	sqeTail                 uint32 // our next SQ tail; published to *sqTail after the SQEs are written

	cqHead, cqTail, cqOverflow *uint32
	cqMask                     uint32
	cqes                       unsafe.Pointer
	overflowSeen               uint32

	bufs   [][]byte // registered buffers, kept reachable while the kernel holds them
	broken error    // a failure after which reads may still be in flight; the ring refuses more work
}

// NewRing sets up an io_uring instance and maps its rings.
func NewRing(opts RingOptions) (*Ring, error) {
	entries := opts.Entries
	if entries == 0 {
		entries = 64
	}
	if entries > maxEntries || entries&(entries-1) != 0 {
		return nil, fmt.Errorf("nvmeio: ring entries %d: want a power of two up to %d", entries, maxEntries)
	}
	var p uringParams
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if errno != 0 {
		return nil, setupError(errno)
	}
	r := &Ring{fd: int(fd), entries: p.sqEntries, features: p.features}
	if err := r.mapRings(&p); err != nil {
		r.teardown()
		return nil, err
	}
	if err := r.probeOps(); err != nil {
		r.teardown()
		return nil, err
	}
	return r, nil
}

// setupError classifies an io_uring_setup failure: errnos meaning "not here" wrap ErrUnsupported.
func setupError(errno unix.Errno) error {
	switch errno {
	case unix.ENOSYS, unix.EPERM, unix.EACCES:
		return fmt.Errorf("nvmeio: io_uring_setup: %w: %w", ErrUnsupported, errno)
	}
	return fmt.Errorf("nvmeio: io_uring_setup: %w", errno)
}

func (r *Ring) mapRings(p *uringParams) error {
	sqSize := int(p.sqOff.array + p.sqEntries*4)
	cqSize := int(p.cqOff.cqes + p.cqEntries*cqeSize)
	single := p.features&featSingleMmap != 0
	if single {
		sqSize = max(sqSize, cqSize)
	}
	var err error
	r.sqMem, err = mmapRing(r.fd, offSQRing, sqSize)
	if err != nil {
		return fmt.Errorf("nvmeio: mmap SQ ring: %w", err)
	}
	if single {
		r.cqMem = r.sqMem
	} else if r.cqMem, err = mmapRing(r.fd, offCQRing, cqSize); err != nil {
		return fmt.Errorf("nvmeio: mmap CQ ring: %w", err)
	}
	if r.sqeMem, err = mmapRing(r.fd, offSQEs, int(p.sqEntries)*sqeSize); err != nil {
		return fmt.Errorf("nvmeio: mmap SQE array: %w", err)
	}

	sq := unsafe.Pointer(&r.sqMem[0])
	r.sqHead = (*uint32)(unsafe.Add(sq, p.sqOff.head))
	r.sqTail = (*uint32)(unsafe.Add(sq, p.sqOff.tail))
	r.sqFlags = (*uint32)(unsafe.Add(sq, p.sqOff.flags))
	r.sqMask = *(*uint32)(unsafe.Add(sq, p.sqOff.ringMask))
	r.sqes = unsafe.Pointer(&r.sqeMem[0])
	r.sqeTail = atomic.LoadUint32(r.sqTail)
	// The SQ array maps ring slots to SQE indexes. We always fill SQE i for slot i, so the identity map
	// is written once here, as liburing does.
	array := unsafe.Slice((*uint32)(unsafe.Add(sq, p.sqOff.array)), p.sqEntries)
	for i := range array {
		array[i] = uint32(i)
	}

	cq := unsafe.Pointer(&r.cqMem[0])
	r.cqHead = (*uint32)(unsafe.Add(cq, p.cqOff.head))
	r.cqTail = (*uint32)(unsafe.Add(cq, p.cqOff.tail))
	r.cqOverflow = (*uint32)(unsafe.Add(cq, p.cqOff.overflow))
	r.cqMask = *(*uint32)(unsafe.Add(cq, p.cqOff.ringMask))
	r.cqes = unsafe.Add(cq, p.cqOff.cqes)
	r.overflowSeen = atomic.LoadUint32(r.cqOverflow)
	return nil
}

func mmapRing(fd int, off int64, size int) ([]byte, error) {
	return unix.Mmap(fd, off, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
}

func (r *Ring) probeOps() error {
	var pr probe
	if err := r.register(registerProbe, unsafe.Pointer(&pr), uint32(len(pr.ops))); err != nil {
		// IORING_REGISTER_PROBE arrived in 5.6 with IORING_OP_READ: without it there is no READ either.
		return fmt.Errorf("nvmeio: probing io_uring opcodes: %w: %w", ErrUnsupported, err)
	}
	for i := 0; i < int(pr.opsLen) && i < len(pr.ops); i++ {
		r.ops[pr.ops[i].op] = pr.ops[i].flags&opSupported != 0
	}
	if !r.ops[opRead] {
		return fmt.Errorf("nvmeio: kernel lacks IORING_OP_READ: %w", ErrUnsupported)
	}
	return nil
}

// Entries is the submission queue size, the most reads one ring has in flight.
func (r *Ring) Entries() int { return int(r.entries) }

// Close unregisters nothing explicitly (closing the ring does that), unmaps the rings and closes the fd.
// A second Close returns nil.
func (r *Ring) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fd < 0 {
		return nil
	}
	return r.teardown()
}

func (r *Ring) teardown() error {
	var errs []error
	if r.sqeMem != nil {
		errs = append(errs, unix.Munmap(r.sqeMem))
	}
	if r.cqMem != nil && (len(r.sqMem) == 0 || &r.cqMem[0] != &r.sqMem[0]) {
		errs = append(errs, unix.Munmap(r.cqMem))
	}
	if r.sqMem != nil {
		errs = append(errs, unix.Munmap(r.sqMem))
	}
	errs = append(errs, unix.Close(r.fd))
	r.sqeMem, r.cqMem, r.sqMem = nil, nil, nil
	r.sqHead, r.sqTail, r.sqFlags, r.cqHead, r.cqTail, r.cqOverflow = nil, nil, nil, nil, nil, nil
	r.sqes, r.cqes = nil, nil
	r.fd = -1
	r.bufs = nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("nvmeio: closing ring: %w", err)
	}
	return nil
}

func (r *Ring) register(opcode uint32, arg unsafe.Pointer, nr uint32) error {
	for {
		_, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), uintptr(opcode), uintptr(arg), uintptr(nr), 0, 0)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return errno
		}
		return nil
	}
}

// RegisterBuffers registers fixed buffers (IORING_REGISTER_BUFFERS) for reads with Read.BufIndex >= 0
// (IORING_OP_READ_FIXED): the kernel pins their pages once instead of once per read. It replaces any
// earlier set; nil or empty unregisters. Buffers are anonymous memory (Go heap or AlignedBuffer), at most
// 1 GiB each; their pages count against RLIMIT_MEMLOCK for unprivileged users.
func (r *Ring) RegisterBuffers(bufs [][]byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fd < 0 {
		return ErrClosed
	}
	if r.bufs != nil {
		if err := r.register(unregisterBuffers, nil, 0); err != nil {
			return fmt.Errorf("nvmeio: unregistering buffers: %w", err)
		}
		r.bufs = nil
	}
	if len(bufs) == 0 {
		return nil
	}
	iov := make([]unix.Iovec, len(bufs))
	for i, b := range bufs {
		if len(b) == 0 {
			return fmt.Errorf("nvmeio: registering buffers: buffer %d is empty", i)
		}
		iov[i].Base = &b[0]
		iov[i].SetLen(len(b))
	}
	if err := r.register(registerBuffers, unsafe.Pointer(&iov[0]), uint32(len(iov))); err != nil {
		return fmt.Errorf("nvmeio: registering %d buffers: %w", len(bufs), err)
	}
	runtime.KeepAlive(iov)
	r.bufs = append([][]byte(nil), bufs...)
	return nil
}

// Read is one read of a batch: len(Buf) bytes of FD at Off. ReadBatch fills N and Err.
type Read struct {
	FD  int
	Off int64
	Buf []byte
	// BufIndex is the registered buffer (RegisterBuffers) that Buf lies in, read with READ_FIXED; -1 for
	// any other buffer. The zero value 0 means registered buffer 0, so set -1 explicitly.
	BufIndex int
	N        int   // bytes read
	Err      error // nil when N == len(Buf); io.EOF when the file ended first; else the failure
}

// ReadBatch submits all reads, up to Entries in flight, and waits for all of them. Each read gets its N
// and Err; a short read is resubmitted for the rest until the file ends (Err io.EOF). It returns the
// first read's error in slice order (io.EOF included), or an error of the ring itself.
func (r *Ring) ReadBatch(reads []Read) error {
	reqs := make([]ioReq, len(reads))
	for i := range reads {
		reads[i].N, reads[i].Err = 0, nil
		reqs[i] = ioReq{fd: reads[i].FD, off: reads[i].Off, buf: reads[i].Buf, bufIndex: reads[i].BufIndex}
	}
	var pin runtime.Pinner
	defer pin.Unpin()
	next := 0
	ringErr := r.run(int(r.entries), -1, &pin, func() *ioReq {
		if next == len(reqs) {
			return nil
		}
		next++
		return &reqs[next-1]
	}, func(*ioReq) {})
	for i := range reads {
		reads[i].N, reads[i].Err = reqs[i].done, reqs[i].err
		if reqs[i].err == nil && reqs[i].done < len(reqs[i].buf) {
			reads[i].Err = ringErr // never submitted: the ring failed first
		}
	}
	if ringErr != nil {
		return ringErr
	}
	for i := range reads {
		if reads[i].Err != nil {
			return reads[i].Err
		}
	}
	return nil
}

// ioReq is one read as the submission loop tracks it.
type ioReq struct {
	fd       int
	off      int64 // file offset of buf[0]
	buf      []byte
	bufIndex int // registered buffer, or -1
	done     int // bytes read so far
	err      error
	retries  int
	tag      int // the caller's index for the request
}

// run keeps up to limit reads in flight: it takes requests from next (nil: none now) and hands each to
// complete once it is finished (all bytes, EOF, or an error). Requests are pinned with pin while the
// kernel may write into them. eofAt >= 0 is the file size, where a short read ends instead of being
// resubmitted (an O_DIRECT read at an unaligned offset past the end could fail with EINVAL). run returns
// when next has nothing left and nothing is in flight, or with an error of the ring itself.
func (r *Ring) run(limit int, eofAt int64, pin *runtime.Pinner, next func() *ioReq, complete func(*ioReq)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fd < 0 {
		return ErrClosed
	}
	if r.broken != nil {
		return r.broken
	}
	// Completions are posted by task work of the submitting thread; submitting and waiting on one thread
	// means the waiting thread is the one the kernel wakes to post them.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	limit = max(1, min(limit, int(r.entries)))
	slots := make([]*ioReq, limit) // user_data is the slot index
	free := make([]int, limit)
	for i := range free {
		free[i] = limit - 1 - i
	}
	var retry []*ioReq // requests to resubmit (short reads, EINTR/EAGAIN results)
	inflight, busy := 0, 0

	for {
		// Fill SQEs: resubmissions first, then new requests.
		for inflight < limit && r.sqSpace() > 0 {
			var q *ioReq
			if len(retry) > 0 {
				q, retry = retry[len(retry)-1], retry[:len(retry)-1]
			} else {
				if q = next(); q == nil {
					break
				}
				if !r.validate(q) {
					complete(q)
					continue
				}
				pin.Pin(&q.buf[0])
			}
			slot := free[len(free)-1]
			free = free[:len(free)-1]
			slots[slot] = q
			r.prepRead(q, uint64(slot))
			inflight++
		}
		// Every SQE in the ring and every retry belongs to a request in flight, so nothing in flight
		// after filling means next had nothing more while all resources were free: done.
		if inflight == 0 {
			return nil
		}
		// Publish the SQEs: the tail store must follow the SQE writes (store-release).
		atomic.StoreUint32(r.sqTail, r.sqeTail)
		toSubmit := r.sqeTail - atomic.LoadUint32(r.sqHead)

		wait := uint32(0)
		if r.cqReady() == 0 {
			wait = 1
		}
		if toSubmit > 0 || wait > 0 || atomic.LoadUint32(r.sqFlags)&sqCQOverflow != 0 {
			_, err := r.enter(toSubmit, wait, enterGetEvents)
			switch err {
			case nil:
				busy = 0
			case unix.EINTR:
				// A signal (Go's preemption uses SIGURG) interrupted the wait; nothing was lost.
			case unix.EAGAIN, unix.EBUSY:
				// Short of kernel resources, or completions wait in the overflow list: reap, back off, retry.
				busy++
				if busy > 1000 {
					return r.fail(fmt.Errorf("nvmeio: io_uring_enter: %w (1000 retries)", err), inflight, slots)
				}
				if r.cqReady() == 0 {
					time.Sleep(time.Duration(busy) * 10 * time.Microsecond)
				}
			default:
				return r.fail(fmt.Errorf("nvmeio: io_uring_enter: %w", err), inflight, slots)
			}
		}

		// Reap: the tail load must precede the CQE reads (load-acquire), the head store must follow them
		// (store-release) so the kernel does not overwrite entries we are still reading.
		head := atomic.LoadUint32(r.cqHead)
		tail := atomic.LoadUint32(r.cqTail)
		for ; head != tail; head++ {
			c := *(*cqe)(unsafe.Add(r.cqes, uintptr(head&r.cqMask)*cqeSize))
			slot := int(c.userData)
			if slot < 0 || slot >= limit || slots[slot] == nil {
				atomic.StoreUint32(r.cqHead, head+1)
				return r.fail(fmt.Errorf("nvmeio: completion for unknown slot %d", slot), inflight, slots)
			}
			q := slots[slot]
			slots[slot] = nil
			free = append(free, slot)
			inflight--
			if r.finish(q, c.res, eofAt) {
				complete(q)
			} else {
				retry = append(retry, q)
			}
		}
		atomic.StoreUint32(r.cqHead, head)
		if ov := atomic.LoadUint32(r.cqOverflow); ov != r.overflowSeen {
			// With IORING_FEAT_NODROP the counter only moves when a completion could not be kept at all;
			// without it, every overflow is lost. Either way a read's outcome is unknown.
			r.overflowSeen = ov
			return r.fail(fmt.Errorf("nvmeio: completion queue overflowed, completions lost (%d)", ov), inflight, slots)
		}
	}
}

// validate checks a request before submission; an invalid one is completed at once with its error.
func (r *Ring) validate(q *ioReq) bool {
	switch {
	case q.off < 0:
		q.err = fmt.Errorf("nvmeio: read fd %d: negative offset %d", q.fd, q.off)
	case len(q.buf) == 0:
		// nothing to read
	case q.bufIndex >= len(r.bufs):
		q.err = fmt.Errorf("nvmeio: read fd %d: registered buffer %d does not exist (%d registered; -1 for an unregistered buffer)", q.fd, q.bufIndex, len(r.bufs))
	case q.bufIndex >= 0 && !within(q.buf, r.bufs[q.bufIndex]):
		q.err = fmt.Errorf("nvmeio: read fd %d: buffer is not inside registered buffer %d (-1 for an unregistered buffer)", q.fd, q.bufIndex)
	default:
		return true
	}
	return false
}

func within(b, outer []byte) bool {
	lo := uintptr(unsafe.Pointer(&outer[0]))
	p := uintptr(unsafe.Pointer(&b[0]))
	return p >= lo && p+uintptr(len(b)) <= lo+uintptr(len(outer))
}

// finish applies a completion to its request and reports whether the request is done.
func (r *Ring) finish(q *ioReq, res int32, eofAt int64) bool {
	switch {
	case res < 0:
		errno := unix.Errno(-res)
		if (errno == unix.EINTR || errno == unix.EAGAIN) && q.retries < 16 {
			q.retries++
			return false
		}
		q.err = fmt.Errorf("nvmeio: read fd %d at %d: %w", q.fd, q.off+int64(q.done), errno)
		return true
	case res == 0:
		q.err = io.EOF
		return true
	}
	q.done += int(res)
	if q.done >= len(q.buf) {
		return true
	}
	if eofAt >= 0 && q.off+int64(q.done) >= eofAt {
		q.err = io.EOF
		return true
	}
	return false // short read: the rest goes in again
}

// fail stops the ring after an error of its own. Reads may still be in flight, writing into their
// buffers: we poll (never block: a lost completion would never come) for up to 5 s so the caller's
// buffers are free again, and refuse further work if they do not all finish.
func (r *Ring) fail(err error, inflight int, slots []*ioReq) error {
	for tries := 0; inflight > 0 && tries < 5000; tries++ {
		pending := r.sqeTail - atomic.LoadUint32(r.sqHead) // SQEs the kernel has not taken yet
		if _, e := r.enter(pending, 0, enterGetEvents); e != nil && e != unix.EINTR && e != unix.EAGAIN && e != unix.EBUSY {
			break
		}
		head := atomic.LoadUint32(r.cqHead)
		tail := atomic.LoadUint32(r.cqTail)
		for ; head != tail; head++ {
			c := (*cqe)(unsafe.Add(r.cqes, uintptr(head&r.cqMask)*cqeSize))
			if s := int(c.userData); s >= 0 && s < len(slots) && slots[s] != nil {
				slots[s] = nil
				inflight--
			}
		}
		atomic.StoreUint32(r.cqHead, head)
		if inflight > 0 {
			time.Sleep(time.Millisecond)
		}
	}
	if inflight > 0 {
		r.broken = fmt.Errorf("nvmeio: ring unusable, %d reads never completed after: %w", inflight, err)
		return r.broken
	}
	return err
}

func (r *Ring) sqSpace() uint32 {
	return r.entries - (r.sqeTail - atomic.LoadUint32(r.sqHead))
}

func (r *Ring) cqReady() uint32 {
	return atomic.LoadUint32(r.cqTail) - atomic.LoadUint32(r.cqHead)
}

func (r *Ring) prepRead(q *ioReq, userData uint64) {
	s := (*sqe)(unsafe.Add(r.sqes, uintptr(r.sqeTail&r.sqMask)*sqeSize))
	buf := q.buf[q.done:]
	if len(buf) > maxSQELen {
		buf = buf[:maxSQELen]
	}
	*s = sqe{
		opcode:   opRead,
		fd:       int32(q.fd),
		off:      uint64(q.off + int64(q.done)),
		addr:     uint64(uintptr(unsafe.Pointer(&buf[0]))),
		len:      uint32(len(buf)),
		userData: userData,
	}
	if q.bufIndex >= 0 {
		s.opcode = opReadFixed
		s.bufIndex = uint16(q.bufIndex)
	}
	r.sqeTail++
}

func (r *Ring) enter(toSubmit, minComplete, flags uint32) (int, error) {
	n, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(toSubmit), uintptr(minComplete), uintptr(flags), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
