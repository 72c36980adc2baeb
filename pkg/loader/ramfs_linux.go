package loader

import "syscall"

// File system magic numbers (linux/magic.h) of the file systems that keep
// files in RAM: their pages are the file, so a repacked copy cannot let
// them go.
const (
	tmpfsMagic = 0x01021994
	ramfsMagic = 0x858458f6
)

// ramBacked reports whether path lies on a RAM-backed file system (tmpfs,
// ramfs: the initramfs, /tmp on many systems).
func ramBacked(path string) bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return false
	}
	return uint32(st.Type) == tmpfsMagic || uint32(st.Type) == ramfsMagic
}
