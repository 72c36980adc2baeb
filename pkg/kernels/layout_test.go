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
