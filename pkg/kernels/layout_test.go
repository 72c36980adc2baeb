package kernels

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/llmboot/llmboot/pkg/tensor"
)

func TestRepackQuads(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, typ := range []tensor.Type{tensor.Q4_0, tensor.Q8_0} {
		m := randMatrix(t, r, typ, 8, 96)
		bs, rb := typ.BlockBytes(), m.RowBytes()
		q, err := RepackQuads(make([]byte, len(m.Data)), m)
		if err != nil {
			t.Fatal(err)
		}
		if q.Layout != LayoutQuads || q.Rows != 8 || q.Cols != 96 || q.Validate() != nil {
			t.Fatalf("%s: repacked %+v", typ, q.Layout)
		}
		// Block k of row 4*quad+i: its scale is the i-th of the quad's k-th
		// group of 4 blocks' bytes, its levels the i-th after the scales.
		for row := 0; row < 8; row++ {
			for k := 0; k < 3; k++ {
				group := q.Data[row/4*4*rb+4*k*bs:]
				i, block := row%4, m.Data[row*rb+k*bs:row*rb+(k+1)*bs]
				if !bytes.Equal(group[2*i:2*i+2], block[:2]) || !bytes.Equal(group[8+i*(bs-2):8+(i+1)*(bs-2)], block[2:]) {
					t.Fatalf("%s: row %d block %d misplaced", typ, row, k)
				}
			}
			if got := q.gatherRow(make([]byte, rb), row); !bytes.Equal(got, m.Row(row)) {
				t.Fatalf("%s: gatherRow(%d) differs from the row", typ, row)
			}
		}
		if q.Row(0) != nil {
			t.Error("Row on an interleaved matrix returned bytes")
		}
		inPlace := append([]byte(nil), m.Data...)
		m2 := m
		m2.Data = inPlace
		if _, err := RepackQuads(inPlace, m2); err != nil || !bytes.Equal(inPlace, q.Data) {
			t.Errorf("%s: in-place repack differs (%v)", typ, err)
		}
		if CanRepackQuads(q) {
			t.Error("a repacked matrix can be repacked again")
		}
	}
	for _, c := range []struct {
		m    Matrix
		dst  int
		want string
	}{
		{randMatrix(t, r, tensor.Q4_K, 4, 256), 4 * 144, "cannot be interleaved"},
		{randMatrix(t, r, tensor.Q8_0, 6, 32), 6 * 34, "cannot be interleaved"},
		{randMatrix(t, r, tensor.Q8_0, 4, 32), 10, "destination has 10 bytes"},
		{Matrix{Type: tensor.Q8_0, Rows: 4, Cols: 32}, 200, "data is 0 bytes"},
	} {
		if _, err := RepackQuads(make([]byte, c.dst), c.m); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("RepackQuads(%s %dx%d) = %v, want %q", c.m.Type, c.m.Rows, c.m.Cols, err, c.want)
		}
	}
}

// TestRepackLaneMajor: LayoutLaneMajor moves only the bytes inside each
// block's level chunks, by lmChunkPerm, which is what the kernels' vpermd
// and vpshufb do; gatherRow and an in-place repack give the same bytes.
func TestRepackLaneMajor(t *testing.T) {
	// lmChunkPerm from the shuffle's definition: byte 4l+t of each
	// 16-byte half holds element l+8t of the chunk's 32 (its own half's
	// elements being those with l < 4 in the low half, l >= 4 in the high
	// half: element e at ggml byte e).
	var seen [32]bool // a permutation: every byte taken once
	for i, p := range lmChunkPerm {
		h, j := i/16, i%16
		l, tt := 4*h+j/4, j%4
		if want := l + 8*tt; int(p) != want {
			t.Fatalf("lmChunkPerm[%d] = %d, want %d", i, p, want)
		}
		if seen[p] {
			t.Fatalf("lmChunkPerm takes byte %d twice", p)
		}
		seen[p] = true
	}
	r := rand.New(rand.NewPCG(13, 14))
	for _, typ := range laneMajorTypes {
		m := randMatrix(t, r, typ, 5, 512)
		bs, rb := typ.BlockBytes(), m.RowBytes()
		q, err := RepackLaneMajor(make([]byte, len(m.Data)), m)
		if err != nil {
			t.Fatal(err)
		}
		if q.Layout != LayoutLaneMajor || q.Rows != 5 || q.Cols != 512 || q.Validate() != nil {
			t.Fatalf("%s: repacked %+v", typ, q.Layout)
		}
		chunk := map[int]bool{}
		for _, c := range laneMajorChunks[typ] {
			for i := 0; i < 32; i++ {
				chunk[c+i] = true
			}
		}
		for at := 0; at < len(m.Data); at += bs {
			for i := 0; i < bs; i++ {
				if !chunk[i] && q.Data[at+i] != m.Data[at+i] {
					t.Fatalf("%s: byte %d of block at %d moved", typ, i, at)
				}
			}
			for _, c := range laneMajorChunks[typ] {
				for i, p := range lmChunkPerm {
					if q.Data[at+c+i] != m.Data[at+c+int(p)] {
						t.Fatalf("%s: chunk %d of block at %d: byte %d is not byte %d", typ, c, at, i, p)
					}
				}
			}
		}
		for row := 0; row < 5; row++ {
			if got := q.gatherRow(make([]byte, rb), row); !bytes.Equal(got, m.Row(row)) {
				t.Fatalf("%s: gatherRow(%d) differs from the row", typ, row)
			}
		}
		if q.Row(0) != nil {
			t.Error("Row on a lane-major matrix returned bytes")
		}
		inPlace := append([]byte(nil), m.Data...)
		m2 := m
		m2.Data = inPlace
		if _, err := RepackLaneMajor(inPlace, m2); err != nil || !bytes.Equal(inPlace, q.Data) {
			t.Errorf("%s: in-place repack differs (%v)", typ, err)
		}
		if PreferredLayout(q) != LayoutRows || canLaneMajor(q) {
			t.Error("a repacked matrix can be repacked again")
		}
		for _, path := range testedPaths() {
			onPath(path, func() {
				want := LayoutRows
				if hasLaneMajorKernels(typ) {
					want = LayoutLaneMajor
				}
				if got := PreferredLayout(m); got != want {
					t.Errorf("%s %s: PreferredLayout %s, want %s", path, typ, got, want)
				}
			})
		}
	}
	if _, err := RepackLaneMajor(make([]byte, 4*34), randMatrix(t, r, tensor.Q8_0, 4, 32)); err == nil || !strings.Contains(err.Error(), "no lane-major layout") {
		t.Errorf("RepackLaneMajor(Q8_0) = %v", err)
	}
	if err := (Matrix{Type: tensor.Q8_0, Rows: 1, Cols: 32, Data: make([]byte, 34), Layout: LayoutLaneMajor}).Validate(); err == nil {
		t.Error("Validate accepted a lane-major Q8_0 matrix")
	}
}
