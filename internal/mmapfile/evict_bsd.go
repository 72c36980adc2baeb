//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package mmapfile

import "unsafe"

func unsafePointer(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

// madviseDontNeed does nothing here: eviction is an RSS nicety that only
// the Linux firmware target needs.
func madviseDontNeed([]byte) {}

// madviseHuge does nothing here: the BSDs and macOS have no madvise for
// huge pages.
func madviseHuge([]byte) {}
