package mmapfile

import (
	"syscall"
	"unsafe"
)

func unsafePointer(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

func madviseDontNeed(b []byte) { _ = syscall.Madvise(b, syscall.MADV_DONTNEED) }

// madviseHuge asks for transparent huge pages; a kernel without THP
// refuses (EINVAL) and the memory keeps small pages, so errors are
// ignored.
func madviseHuge(b []byte) { _ = syscall.Madvise(b, syscall.MADV_HUGEPAGE) }
