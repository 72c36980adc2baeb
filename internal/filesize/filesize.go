// Package filesize tells how many bytes an open file holds, block devices
// included: stat reports 0 for a block device (a raw NVMe namespace holding a
// model), so its size is found by seeking to its end.
package filesize

import (
	"fmt"
	"io"
	"os"
)

// Of returns the size of f: stat's size for a regular file, the device size
// for a block device. It leaves f's offset at 0.
func Of(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if IsBlockDevice(st.Mode()) {
		return seekEnd(f)
	}
	return st.Size(), nil
}

// IsBlockDevice reports whether mode is that of a block device.
func IsBlockDevice(mode os.FileMode) bool {
	return mode&os.ModeDevice != 0 && mode&os.ModeCharDevice == 0
}

// seekEnd finds the size as the offset of the end, then rewinds. Linux
// answers SEEK_END on a block device with its size in bytes (the same number
// as the BLKGETSIZE64 ioctl) without needing an ioctl per platform.
func seekEnd(f *os.File) (int64, error) {
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, fmt.Errorf("size of %s: %w", f.Name(), err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("rewind %s: %w", f.Name(), err)
	}
	return end, nil
}
