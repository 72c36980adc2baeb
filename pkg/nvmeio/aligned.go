package nvmeio

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// AlignedBuffer returns n bytes whose first byte is aligned to align (a power of two), for O_DIRECT.
// The memory is an anonymous mapping outside the Go heap, zeroed, page aligned at least: the garbage
// collector never frees it, so release it with FreeAlignedBuffer.
func AlignedBuffer(n, align int) ([]byte, error) {
	if n <= 0 {
		return nil, fmt.Errorf("nvmeio: aligned buffer of %d bytes", n)
	}
	if align <= 0 || align&(align-1) != 0 {
		return nil, fmt.Errorf("nvmeio: alignment %d is not a power of two", align)
	}
	page := os.Getpagesize()
	size := roundUp(n, page)
	extra := 0
	if align > page {
		extra = align - page // mmap is page aligned; over-allocate to find a boundary inside
	}
	base, err := unix.MmapPtr(-1, 0, nil, uintptr(size+extra), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("nvmeio: mmap %d bytes: %w", size+extra, err)
	}
	skip := 0
	if a := int(uintptr(base) & uintptr(align-1)); a != 0 {
		skip = align - a
	}
	// Give back the unused head and tail so the mapping is exactly [start, start+size).
	if skip > 0 {
		if err := unix.MunmapPtr(base, uintptr(skip)); err != nil {
			return nil, fmt.Errorf("nvmeio: trimming aligned buffer: %w", err)
		}
	}
	if tail := extra - skip; tail > 0 {
		if err := unix.MunmapPtr(unsafe.Add(base, skip+size), uintptr(tail)); err != nil {
			return nil, fmt.Errorf("nvmeio: trimming aligned buffer: %w", err)
		}
	}
	return unsafe.Slice((*byte)(unsafe.Add(base, skip)), n), nil
}

// FreeAlignedBuffer unmaps a whole buffer returned by AlignedBuffer (not a reslice of it). The buffer
// must not be used afterwards.
func FreeAlignedBuffer(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if err := unix.MunmapPtr(unsafe.Pointer(&b[0]), uintptr(roundUp(cap(b), os.Getpagesize()))); err != nil {
		return fmt.Errorf("nvmeio: freeing aligned buffer: %w", err)
	}
	return nil
}

func roundUp(n, align int) int { return (n + align - 1) / align * align }
