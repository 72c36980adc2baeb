//go:build amd64 && !purego

package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/llmboot/llmboot/pkg/tensor"
)

// tileOperands builds the operands of a quantized tile test: rows weight
// rows of nb blocks of typ as a Matrix in ggml's row order or interleaved
// by row quads (LayoutQuads), the rows themselves for the reference, and
// T activation rows of nb Q8_0 blocks aStride bytes apart with their
// float32 scales.
type tileOperands struct {
	m       Matrix
	w       []byte   // m.Data
	rows    [][]byte // the rows in ggml's layout
	a       []byte
	aStride int
	sc      []float32
}

func makeTileOperands(t testing.TB, r *rand.Rand, typ tensor.Type, rows, nb, T int, interleaved bool) tileOperands {
	t.Helper()
	n := nb * qk32
	var o tileOperands
	o.m = Matrix{Type: typ, Rows: rows, Cols: n}
	for i := 0; i < rows; i++ {
		row := encode(t, typ, randRow(r, n, i))
		o.rows = append(o.rows, row)
		o.m.Data = append(o.m.Data, row...)
	}
	if interleaved {
		q, err := RepackQuads(make([]byte, len(o.m.Data)), o.m)
		if err != nil {
			t.Fatal(err)
		}
		o.m = q
	}
	o.w = o.m.Data
	ab := nb * q8_0Bytes
	o.aStride = ab + 34*(T%2) // odd token counts get padded rows
	o.a = make([]byte, T*o.aStride)
	for i := 0; i < T; i++ {
		if err := QuantizeActivations(tensor.Q8_0, o.a[i*o.aStride:i*o.aStride+ab], randRow(r, n, i+2)); err != nil {
			t.Fatal(err)
		}
	}
	// The scales as MatMul's prep lays them out: block k's of the T tokens side by side.
	j := &matmulJob{xa: o.a, ab: o.aStride, batch: T, fb: nb, xf: make([]float32, T*nb)}
	for i := 0; i < T; i++ {
		prepQ8_0Scales(j, i)
	}
	o.sc = j.xf
	return o
}

// tileQRef is the scalar twin of the quantized tile kernels: weight rows
// lo..lo+R-1 times T Q8_0 activation rows (row t at a[t*aStride:]), result
// (r, t) to out[t*outStride+r], each the generic dot product of typ (Q4_0
// or Q8_0).
func tileQRef(o tileOperands, lo, R, T int, out []float32, outStride int) {
	dot := genericKernels[o.m.Type].dot
	for r := 0; r < R; r++ {
		for t := 0; t < T; t++ {
			out[t*outStride+r] = dot(o.m.Cols, o.rows[lo+r], o.a[t*o.aStride:])
		}
	}
}

// TestTileSplitMatchesScalar holds tileQSplit2x4AVX2, and its VNNI twin
// where the CPU has AVX512_VNNI, to the scalar twin bit for bit, on Q8_0
// rows as they are and Q4_0 rows expanded by expandQ4_0AVX2, both layouts.
func TestTileSplitMatchesScalar(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2")
	}
	tiles := map[string]func(nb int, wq *byte, qRow, qBlock int, wd *byte, dRow, dBlock int, a *byte, aStride int, sc *float32, scBlock int, out *float32, outStride int){"avx2": tileQSplit2x4AVX2}
	if hasVNNI {
		tiles["vnni"] = tileQSplit2x4VNNI
	} else {
		t.Log("no AVX512_VNNI here: the VNNI tile is not run")
	}
	for name, tile := range tiles {
		t.Run(name, func(t *testing.T) { testTileSplit(t, tile) })
	}
}

func testTileSplit(t *testing.T, tile func(nb int, wq *byte, qRow, qBlock int, wd *byte, dRow, dBlock int, a *byte, aStride int, sc *float32, scBlock int, out *float32, outStride int)) {
	r := rand.New(rand.NewPCG(21, 22))
	const R, T, rows = 2, 4, 8
	for _, typ := range []tensor.Type{tensor.Q8_0, tensor.Q4_0} {
		for _, nb := range []int{1, 2, 5, 67} {
			for _, inter := range []bool{false, true} {
				o := makeTileOperands(t, r, typ, rows, nb, T, inter)
				for lo := 0; lo+R <= rows; lo++ {
					if inter && lo%4+R > 4 {
						continue
					}
					at := o.m.blockAddr(lo)
					wq, qRow, qBlock := &o.w[at.levels], at.levelsRow, at.block
					if typ == tensor.Q4_0 {
						buf := make([]byte, R*nb*qk32)
						for i := 0; i < R; i++ {
							ai := o.m.blockAddr(lo + i)
							expandQ4_0AVX2(nb, &buf[i*nb*qk32], &o.w[ai.levels], ai.block)
							checkExpandQ4_0(t, buf[i*nb*qk32:(i+1)*nb*qk32], o.rows[lo+i])
						}
						wq, qRow, qBlock = &buf[0], nb*qk32, qk32
					}
					const outStride = 5
					got := make([]float32, T*outStride)
					want := make([]float32, T*outStride)
					tile(nb, wq, qRow, qBlock, &o.w[at.scale], at.scaleRow, at.block, &o.a[0], o.aStride, &o.sc[0], 4*T, &got[0], 4*outStride)
					tileQRef(o, lo, R, T, want, outStride)
					for i := range want {
						if !sameFloat(got[i], want[i]) {
							t.Fatalf("%s nb=%d interleaved=%v rows %d..: out[%d] = %g, scalar %g", typ, nb, inter, lo, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// checkExpandQ4_0 compares expandQ4_0AVX2's bytes with the levels of the
// Q4_0 row (ggml's layout).
func checkExpandQ4_0(t *testing.T, got, row []byte) {
	t.Helper()
	for k := 0; k < len(got)/qk32; k++ {
		qs := row[k*18+2 : k*18+18]
		for i := 0; i < 16; i++ {
			lo, hi := int8(qs[i]&15)-8, int8(qs[i]>>4)-8
			if int8(got[k*qk32+i]) != lo || int8(got[k*qk32+16+i]) != hi {
				t.Fatalf("block %d byte %d: expanded %d, %d; want %d, %d", k, i, int8(got[k*qk32+i]), int8(got[k*qk32+16+i]), lo, hi)
			}
		}
	}
}

// TestTileBF16 holds tileBF16x3x2AVX2 to dotBF16AVX2 bit for bit for
// every row and token: rows of every multiple of 8 up to 136 elements
// (each rest of a group of 32: none, 8, 16, 24, with no chunk or one),
// rows of one chunk (BF16CHUNK groups) and a rest, several chunks and a
// partial one, and TinyLlama's lengths; row and token strides longer than
// the rows.
func TestTileBF16(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(25, 26))
	const R, T, chunk = 3, 2, 32 * 32
	ns := []int{chunk, chunk + 24, 3*chunk + 32*5 + 16, 2048, 5632}
	for n := 8; n <= 136; n += 8 {
		ns = append(ns, n)
	}
	for _, n := range ns {
		rb, ab := 2*n+16, 2*n+48
		w := make([]byte, R*rb)
		for i := 0; i < R; i++ {
			copy(w[i*rb:], encode(t, tensor.BF16, randRow(r, n, i+n)))
		}
		a := make([]byte, T*ab)
		for i := 0; i < T; i++ {
			copy(a[i*ab:], encode(t, tensor.BF16, randRow(r, n, i+n+3)))
		}
		const outStride, unset = 5, -1234.5
		out := make([]float32, T*outStride)
		for i := range out {
			out[i] = unset
		}
		tileBF16x3x2AVX2(n, &w[0], rb, &a[0], ab, &out[0], 4*outStride)
		for i, v := range out {
			j, row := i/outStride, i%outStride
			if row >= R {
				if v != unset {
					t.Errorf("n=%d: out[%d], outside the tile, written (%g)", n, i, v)
				}
				continue
			}
			if want := dotBF16AVX2(n, w[row*rb:row*rb+2*n], a[j*ab:j*ab+2*n]); !sameFloat(v, want) {
				t.Errorf("n=%d row %d token %d: %g (%#08x), dotBF16AVX2 %g (%#08x)", n, row, j,
					v, math.Float32bits(v), want, math.Float32bits(want))
			}
		}
	}
}

// TestQuantizeF16Vec checks the vectorised F16 conversion against
// FP32ToFP16 on random, tiny, huge and special values.
func TestQuantizeF16Vec(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(15, 16))
	src := randRow(r, 1003, 2)
	specials := []float32{0, float32(math.Copysign(0, -1)), 65504, 65520, 1e9, -1e9, 5.96e-8, 2.98e-8, 2.99e-8, 1e-10,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), math.Float32frombits(0xff812345), 6.1e-5, 3.0e-5}
	copy(src[100:], specials)
	for i := 200; i < 1003; i++ {
		src[i] = math.Float32frombits(r.Uint32())
	}
	got := make([]byte, 2*len(src))
	want := make([]byte, 2*len(src))
	quantizeF16Vec(got, src)
	quantizeF16(want, src)
	for i := 0; i < len(src); i++ {
		if got[2*i] != want[2*i] || got[2*i+1] != want[2*i+1] {
			t.Fatalf("src[%d] = %g (%#x): %#x, FP32ToFP16 %#x", i, src[i], math.Float32bits(src[i]), uint16(got[2*i])|uint16(got[2*i+1])<<8, uint16(want[2*i])|uint16(want[2*i+1])<<8)
		}
	}
}

// TestQuantizeBF16Vec checks the vectorised BF16 conversion against
// FP32ToBF16 on random, tied, huge and special values (NaNs with payloads,
// infinities, subnormals, the largest finite floats).
func TestQuantizeBF16Vec(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(27, 28))
	src := randRow(r, 1003, 0)
	specials := []uint32{0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xff812345, 0x7fbfffff,
		0x7f7fffff, 0xff7fffff, 0x7f7f8000, 0x7f7f7fff, 0x00000001, 0x807fffff, 0x00008000, 0x00018000,
		0x3f808000, 0x3f818000, 0x3f807fff, 0x3f808001, 0xbf808000, 0xbf818000}
	for i, u := range specials {
		src[100+i] = math.Float32frombits(u)
	}
	for i := 200; i < 1003; i++ {
		src[i] = math.Float32frombits(r.Uint32())
	}
	for _, n := range []int{0, 7, 8, 9, 1003} {
		got := make([]byte, 2*n)
		want := make([]byte, 2*n)
		quantizeBF16Vec(got, src[:n])
		quantizeBF16(want, src[:n])
		for i := 0; i < n; i++ {
			if got[2*i] != want[2*i] || got[2*i+1] != want[2*i+1] {
				t.Fatalf("n=%d src[%d] = %g (%#x): %#x, FP32ToBF16 %#x", n, i, src[i], math.Float32bits(src[i]),
					uint16(got[2*i])|uint16(got[2*i+1])<<8, uint16(want[2*i])|uint16(want[2*i+1])<<8)
			}
		}
	}
}

// TestMatMulBatchKernels runs MatMul with the batch kernels on odd row
// counts, odd batch sizes and rows the tiles do not take (F16 rows of 40
// elements, BF16 rows of 44), BF16 rows with each rest of a group of 32
// (8, 16, 24), F16 rows of one short column chunk (272) and of whole
// chunks and a short last one (f16Chunk+16, 2*f16Chunk+272: the exact
// two passes' every other eight) and rows that are no multiple of
// 16 (2056: the row kernel), and Q4_0 rows longer than the expansion's
// stack buffer,
// bit for bit against VecDot (and, where a blockwise kernel runs, against
// the blockwise twins), on pools set blockwise and not.
func TestMatMulBatchKernels(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(17, 18))
	onPath(PathAVX2, func() {
		pools := []*Pool{NewPool(1), NewPool(3)}
		defer func() {
			for _, p := range pools {
				p.Close()
			}
		}()
		for _, typ := range []tensor.Type{tensor.Q8_0, tensor.Q4_0, tensor.F16, tensor.BF16} {
			for _, shape := range [][2]int{{1, 64}, {3, 96}, {6, 64}, {13, 160}, {37, 512}, {9, 40}, {5, 32 * (maxExpandBlocks + 1)},
				{4, 8}, {7, 24}, {8, 48}, {10, 56}, {5, 44}, {11, 2056}, {26, 272}, {26, f16Chunk + 16}, {3, 2*f16Chunk + 272}} {
				rows, cols := shape[0], shape[1]
				if typ != tensor.F16 && typ != tensor.BF16 && cols%32 != 0 {
					continue
				}
				m := randMatrix(t, r, typ, rows, cols)
				const maxBatch = 13
				x := randRow(r, maxBatch*cols, 0)
				want := matmulWant(t, m, x, maxBatch)
				for _, p := range pools {
					for k, blockwise := range []bool{false, true} {
						p.SetBlockwise(blockwise)
						w := want[k]
						for batch := 2; batch <= maxBatch; batch++ {
							out := make([]float32, batch*rows)
							if err := p.MatMul(out, m, x[:batch*cols], batch); err != nil {
								t.Fatal(err)
							}
							for i, v := range out {
								if !sameFloat(v, w[i]) {
									t.Fatalf("%s %dx%d threads %d batch %d blockwise %v: out[%d] = %g, want %g", typ, rows, cols, p.Threads(), batch, blockwise, i, v, w[i])
								}
							}
						}
					}
				}
			}
		}
	})
}

// FuzzMatMulBatch runs MatMul's batch kernels, vec_dot-order and
// blockwise, on random shapes (rows 1-40, batches 2-9, Q4_0/Q8_0 rows of
// 1-12 blocks, F16/BF16 rows of 1-300 elements), row-major and repacked by
// quads, on 1-3 threads, with level bytes the fuzzer overwrites, against
// batchDot bit for bit.
func FuzzMatMulBatch(f *testing.F) {
	if !hasAVX2 {
		f.Skip("no AVX2")
	}
	f.Add(uint8(0), uint8(37), uint8(5), uint16(4), uint64(1), []byte{0x80, 0x7f, 0xff})
	f.Add(uint8(1), uint8(1), uint8(2), uint16(1), uint64(2), []byte{})
	f.Add(uint8(2), uint8(7), uint8(9), uint16(257), uint64(3), []byte{0x01})
	f.Add(uint8(3), uint8(16), uint8(3), uint16(44), uint64(4), []byte{0x80})
	pools := []*Pool{NewPool(1), NewPool(2), NewPool(3)}
	f.Cleanup(func() {
		for _, p := range pools {
			p.Close()
		}
	})
	types := []tensor.Type{tensor.Q4_0, tensor.Q8_0, tensor.F16, tensor.BF16}
	f.Fuzz(func(t *testing.T, ti, rowsB, batchB uint8, colsB uint16, seed uint64, pattern []byte) {
		typ := types[int(ti)%len(types)]
		rows, batch := 1+int(rowsB)%40, 2+int(batchB)%8
		cols := 1 + int(colsB)%300
		if typ == tensor.Q4_0 || typ == tensor.Q8_0 {
			cols = qk32 * (1 + int(colsB)%12)
		}
		r := rand.New(rand.NewPCG(seed, uint64(colsB)))
		m := randMatrix(t, r, typ, rows, cols)
		if len(pattern) > 0 && (typ == tensor.Q4_0 || typ == tensor.Q8_0) {
			for i := range m.Data {
				if pb := pattern[i%len(pattern)]; pb&1 == 1 && i%typ.BlockBytes() >= 2 {
					m.Data[i] = pb
				}
			}
		}
		x := randRow(r, batch*cols, int(seed%5))
		want := matmulWant(t, m, x, batch) // [blockwise]
		ms := []Matrix{m}
		if sub := (Matrix{Type: typ, Rows: rows &^ 3, Cols: cols, Data: m.Data[:(rows&^3)*m.RowBytes()]}); sub.Rows > 0 && CanRepackQuads(sub) {
			q, err := RepackQuads(make([]byte, len(sub.Data)), sub)
			if err != nil {
				t.Fatal(err)
			}
			ms = append(ms, q)
		}
		p := pools[int(seed%3)]
		for _, mm := range ms {
			for k, blockwise := range []bool{false, true} {
				p.SetBlockwise(blockwise)
				out := make([]float32, batch*mm.Rows)
				if err := p.MatMul(out, mm, x, batch); err != nil {
					t.Fatal(err)
				}
				for i, v := range out {
					b, r := i/mm.Rows, i%mm.Rows
					if w := want[k][b*rows+r]; !sameFloat(v, w) {
						t.Fatalf("%s %s %dx%d batch %d threads %d blockwise %v: out[%d] = %g, want %g", typ, mm.Layout, mm.Rows, cols, batch, p.Threads(), blockwise, i, v, w)
					}
				}
			}
		}
	})
}
