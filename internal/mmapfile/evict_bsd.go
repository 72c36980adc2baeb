//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package mmapfile

import "unsafe"

func unsafePointer(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

// madviseDontNeed does nothing here: eviction is an RSS nicety that only
// the Linux firmware target needs.
func madviseDontNeed([]byte) {}
