package kernels

import (
	"fmt"

	"github.com/llmboot/llmboot/pkg/tensor"
)

// Layout is how a Matrix's blocks are ordered in Data.
type Layout uint8

const (
	// LayoutRows is ggml's order, the one in model files: row after row.
	LayoutRows Layout = iota
	// LayoutQuads interleaves rows by quads: block k of rows 4q, 4q+1,
	// 4q+2, 4q+3 lie next to each other, then block k+1 of the same four
	// rows. Rows is a multiple of 4, and quad q still occupies the bytes
	// rows 4q..4q+3 occupy in LayoutRows.
	//
	// Why: the four-row kernels read four rows at once. Row after row, that
	// is four memory streams a row apart, which the hardware prefetcher
	// follows poorly: a Q4_0 matrix-vector product streamed ~5 GB/s from
	// DRAM on one core of the development machine against ~10 GB/s for the
	// same kernel over quads, one sequential stream (docs/benchmarks.md).
	// The arithmetic per output is unchanged, so results are bit for bit
	// the same. llama.cpp repacks Q4_0 at load for the same reason.
	LayoutQuads
)

func (l Layout) String() string {
	switch l {
	case LayoutRows:
		return "rows"
	case LayoutQuads:
		return "quads"
	}
	return fmt.Sprintf("layout(%d)", uint8(l))
}

// quadTypes are the weight types with four-row kernels on some path, whose
// matrices RepackQuads interleaves. The generic path reads quads too (it
// gathers a row's blocks), so a repacked matrix works on every path.
var quadTypes = map[tensor.Type]bool{tensor.Q4_0: true, tensor.Q8_0: true}

// CanRepackQuads reports whether RepackQuads would interleave m: its type
// has four-row kernels, it is in LayoutRows and Rows is a multiple of 4.
func CanRepackQuads(m Matrix) bool {
	return quadTypes[m.Type] && m.Layout == LayoutRows && m.Rows%4 == 0 && m.Rows > 0
}

// RepackQuads writes m's blocks into dst in LayoutQuads and returns the
// matrix over dst. dst must hold len(m.Data) bytes and may be m.Data itself
// (each quad is copied aside before it is rewritten); m must pass
// CanRepackQuads and Validate.
func RepackQuads(dst []byte, m Matrix) (Matrix, error) {
	if err := m.Validate(); err != nil {
		return Matrix{}, err
	}
	if !CanRepackQuads(m) {
		return Matrix{}, fmt.Errorf("kernels: matrix %s %dx%d (%s) cannot be interleaved by row quads", m.Type, m.Rows, m.Cols, m.Layout)
	}
	if len(dst) < len(m.Data) {
		return Matrix{}, fmt.Errorf("kernels: repack %s %dx%d: destination has %d bytes, want %d", m.Type, m.Rows, m.Cols, len(dst), len(m.Data))
	}
	bs, rb := m.Type.BlockBytes(), m.RowBytes()
	blocks := rb / bs
	quad := make([]byte, 4*rb)
	for q := 0; q < m.Rows; q += 4 {
		copy(quad, m.Data[q*rb:(q+4)*rb])
		out := dst[q*rb : (q+4)*rb]
		for i := 0; i < 4; i++ {
			row := quad[i*rb : (i+1)*rb]
			for k := 0; k < blocks; k++ {
				copy(out[(4*k+i)*bs:(4*k+i+1)*bs], row[k*bs:(k+1)*bs])
			}
		}
	}
	return Matrix{Type: m.Type, Rows: m.Rows, Cols: m.Cols, Data: dst[:len(m.Data):len(m.Data)], Layout: LayoutQuads}, nil
}

// strides returns, for m's layout, the bytes from a block of row r to the
// same block of row r+1 within a quad, and from one block of a row to the
// row's next block.
func (m Matrix) strides() (rowStride, blockStride int) {
	bs := m.Type.BlockBytes()
	if m.Layout == LayoutQuads {
		return bs, 4 * bs
	}
	return m.RowBytes(), bs
}

// gatherRow copies row r's blocks of a LayoutQuads matrix into dst (one
// row's bytes) in row order, for kernels that read a row contiguously.
func (m Matrix) gatherRow(dst []byte, r int) []byte {
	bs, rb := m.Type.BlockBytes(), m.RowBytes()
	dst = dst[:rb]
	quad := m.Data[r/4*4*rb:]
	for k, i := 0, r%4; k < rb/bs; k++ {
		copy(dst[k*bs:(k+1)*bs], quad[(4*k+i)*bs:(4*k+i+1)*bs])
	}
	return dst
}
