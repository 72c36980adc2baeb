package mmapfile

import (
	"syscall"
	"unsafe"
)

func unsafePointer(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

func madviseDontNeed(b []byte) { _ = syscall.Madvise(b, syscall.MADV_DONTNEED) }
