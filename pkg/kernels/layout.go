package kernels

import (
	"fmt"
	"math"

	"github.com/llmboot/llmboot/pkg/tensor"
)

// Layout is how a Matrix's blocks are ordered in Data.
type Layout uint8

const (
	// LayoutRows is ggml's order, the one in model files: row after row.
	LayoutRows Layout = iota
	// LayoutQuads interleaves rows by quads, for the types whose block is
	// an f16 scale then bs-2 bytes of levels (Q4_0, Q8_0): for each block
	// k of rows 4q..4q+3, the four scales (8 bytes), then the four rows'
	// levels, as llama.cpp's block_q4_0x4. Rows is a multiple of 4, and
	// quad q still occupies the bytes rows 4q..4q+3 occupy in LayoutRows.
	//
	// Why: the four-row kernels read four rows at once. Row after row, that
	// is four memory streams a row apart, which the hardware prefetcher
	// follows poorly: a Q4_0 matrix-vector product streamed ~5 GB/s from
	// DRAM on one core of the development machine against ~10 GB/s for the
	// same kernel over interleaved quads, one sequential stream
	// (docs/benchmarks.md). The four scales side by side convert with one
	// instruction, and two rows of Q4_0 levels fill one 32-byte register.
	// The arithmetic per output is unchanged, so results are bit for bit
	// the same.
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
	quad := make([]byte, 4*rb)
	for q := 0; q < m.Rows; q += 4 {
		copy(quad, m.Data[q*rb:(q+4)*rb])
		out := dst[q*rb : (q+4)*rb]
		for k := 0; k < rb/bs; k++ {
			group := out[4*k*bs : 4*(k+1)*bs]
			for i := 0; i < 4; i++ {
				block := quad[i*rb+k*bs : i*rb+(k+1)*bs]
				copy(group[2*i:2*i+2], block[:2])
				copy(group[8+i*(bs-2):8+(i+1)*(bs-2)], block[2:])
			}
		}
	}
	return Matrix{Type: m.Type, Rows: m.Rows, Cols: m.Cols, Data: dst[:len(m.Data):len(m.Data)], Layout: LayoutQuads}, nil
}

// blockAddr says where the blocks of row r of a matrix of 2-byte-scale
// blocks (Q4_0, Q8_0) lie in Data, for kernels that address scales and
// levels apart: row r's block 0 has its scale at scale and its levels at
// levels; the same block of row r+1 (in the same quad, for LayoutQuads) is
// scaleRow and levelsRow bytes on; a row's next block is block bytes on.
type blockAddr struct {
	scale, scaleRow, levels, levelsRow, block int
}

func (m Matrix) blockAddr(r int) blockAddr {
	bs, rb := m.Type.BlockBytes(), m.RowBytes()
	if m.Layout == LayoutQuads {
		quad, i := r/4*4*rb, r%4
		return blockAddr{scale: quad + 2*i, scaleRow: 2, levels: quad + 8 + i*(bs-2), levelsRow: bs - 2, block: 4 * bs}
	}
	return blockAddr{scale: r * rb, scaleRow: rb, levels: r*rb + 2, levelsRow: rb, block: bs}
}

// gatherRow copies row r's blocks of a LayoutQuads matrix into dst (one
// row's bytes) in ggml's block format, for kernels that read a row.
func (m Matrix) gatherRow(dst []byte, r int) []byte {
	bs, rb := m.Type.BlockBytes(), m.RowBytes()
	dst = dst[:rb]
	quad, i := m.Data[r/4*4*rb:], r%4
	for k := 0; k < rb/bs; k++ {
		group := quad[4*k*bs : 4*(k+1)*bs]
		copy(dst[k*bs:k*bs+2], group[2*i:2*i+2])
		copy(dst[k*bs+2:(k+1)*bs], group[8+i*(bs-2):8+(i+1)*(bs-2)])
	}
	return dst
}

// quadPrepQ4_0Bytes is the size of quadPrepQ4_0's output for n elements.
func quadPrepQ4_0Bytes(n int) int { return n / 32 * (64 + 4) }

// quadPrepQ4_0 writes what the Q4_0 quad kernel needs besides the Q8_0
// activation row a (n elements): per block the sixteen int16 sums
// 8*(a[2j]+a[2j+1]), elements 0-15 then 16-31, each run of eight twice
// (the kernel subtracts them from the unsigned levels' pair products: u*a
// - 8*a = (u-8)*a, exactly), then every block's scale as float32.
func quadPrepQ4_0(dst, a []byte, n int) {
	blocks := n / 32
	scales := dst[64*blocks:]
	for k := 0; k < blocks; k++ {
		blk := a[34*k : 34*(k+1)]
		out := dst[64*k : 64*(k+1)]
		for half := 0; half < 2; half++ {
			for j := 0; j < 8; j++ {
				s := uint16(int16(8 * (int(int8(blk[2+16*half+2*j])) + int(int8(blk[2+16*half+2*j+1])))))
				for rep := 0; rep < 2; rep++ {
					at := 32*half + 16*rep + 2*j
					out[at], out[at+1] = byte(s), byte(s>>8)
				}
			}
		}
		f := math.Float32bits(FP16ToFP32(uint16(blk[0]) | uint16(blk[1])<<8))
		scales[4*k], scales[4*k+1], scales[4*k+2], scales[4*k+3] = byte(f), byte(f>>8), byte(f>>16), byte(f>>24)
	}
}
