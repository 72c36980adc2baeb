package nvmeio

import (
	"testing"
	"unsafe"
)

func TestAlignedBuffer(t *testing.T) {
	for _, align := range []int{512, 4096, 64 << 10, 2 << 20} {
		for _, n := range []int{1, 4097, 3<<20 + 5} {
			b, err := AlignedBuffer(n, align)
			if err != nil {
				t.Fatalf("AlignedBuffer(%d, %d): %v", n, align, err)
			}
			if len(b) != n {
				t.Errorf("AlignedBuffer(%d, %d): len %d", n, align, len(b))
			}
			if a := uintptr(unsafe.Pointer(&b[0])) % uintptr(align); a != 0 {
				t.Errorf("AlignedBuffer(%d, %d): address %% align = %d", n, align, a)
			}
			for i := range b {
				if b[i] != 0 {
					t.Fatalf("AlignedBuffer(%d, %d): byte %d not zero", n, align, i)
				}
				b[i] = byte(i)
			}
			if err := FreeAlignedBuffer(b); err != nil {
				t.Errorf("FreeAlignedBuffer: %v", err)
			}
		}
	}
	for _, bad := range [][2]int{{0, 4096}, {-1, 4096}, {10, 3}, {10, 0}} {
		if _, err := AlignedBuffer(bad[0], bad[1]); err == nil {
			t.Errorf("AlignedBuffer(%d, %d) succeeded", bad[0], bad[1])
		}
	}
}
