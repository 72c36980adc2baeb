package tensor

import "testing"

func TestLayouts(t *testing.T) {
	// Block sizes in bytes as ggml's type_traits give them.
	for _, c := range []struct {
		t          Type
		block, siz int
	}{
		{F32, 1, 4}, {F16, 1, 2}, {BF16, 1, 2},
		{Q4_0, 32, 18}, {Q4_1, 32, 20}, {Q5_0, 32, 22}, {Q5_1, 32, 24}, {Q8_0, 32, 34}, {Q8_1, 32, 36},
		{Q2_K, 256, 84}, {Q3_K, 256, 110}, {Q4_K, 256, 144}, {Q5_K, 256, 176}, {Q6_K, 256, 210}, {Q8_K, 256, 292},
	} {
		if c.t.BlockSize() != c.block || c.t.BlockBytes() != c.siz {
			t.Errorf("%s: block %d/%d bytes, want %d/%d", c.t, c.t.BlockSize(), c.t.BlockBytes(), c.block, c.siz)
		}
		p, err := ParseType(c.t.String())
		if err != nil || p != c.t {
			t.Errorf("ParseType(%q) = %v, %v", c.t.String(), p, err)
		}
	}
}

func TestRowBytes(t *testing.T) {
	if n, err := Q4_K.RowBytes(512); err != nil || n != 288 {
		t.Errorf("Q4_K.RowBytes(512) = %d, %v", n, err)
	}
	if _, err := Q8_0.RowBytes(172); err == nil {
		t.Error("Q8_0.RowBytes(172) accepted a partial block")
	}
	if _, err := Type(99).RowBytes(32); err == nil {
		t.Error("unknown type accepted")
	}
	if Type(16).String() != "IQ2_XXS" || Type(16).Known() {
		t.Errorf("IQ2_XXS: name %q, known %v", Type(16).String(), Type(16).Known())
	}
	if Type(99).String() != "type(99)" {
		t.Errorf("unknown type name %q", Type(99).String())
	}
}
