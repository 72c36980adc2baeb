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
	// LayoutLaneMajor is ggml's order, row after row and block after
	// block, for Q3_K, Q4_K, Q5_K and Q6_K, except that every 32-byte
	// chunk of levels (Q3_K: the three at 0 (hmask), 32, 64 (qs) of each
	// 110-byte block; Q4_K: the four at bytes 16, 48, 80, 112 of each
	// 144-byte block; Q5_K: the five at 16 (qh), 48, ..., 144 of each
	// 176-byte block; Q6_K: the six at 0, 32, ..., 160 of each 210-byte
	// block, ql then qh) holds its bytes in the lane-major order of the activations
	// (quantkx.go): byte i of the stored chunk is byte lmChunkPerm[i] of
	// ggml's. The lane-major kernels otherwise put every chunk in that
	// order as they load it (a vpermd and a vpshufb, the vpermd being
	// these kernels' bottleneck on Zen 3); stored so, the shuffles are
	// gone. Scales, mins and d stay where ggml has them, and the
	// arithmetic is unchanged: results are bit for bit the same.
	LayoutLaneMajor
)

func (l Layout) String() string {
	switch l {
	case LayoutRows:
		return "rows"
	case LayoutQuads:
		return "quads"
	case LayoutLaneMajor:
		return "lane-major"
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
	if err := checkRepack(dst, m, CanRepackQuads(m), "cannot be interleaved by row quads"); err != nil {
		return Matrix{}, err
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

// checkRepack is the repackers' common check: m is valid, can take the
// layout (can; otherwise the error says why not), and dst is big enough.
func checkRepack(dst []byte, m Matrix, can bool, why string) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if !can {
		return fmt.Errorf("kernels: matrix %s %dx%d (%s) %s", m.Type, m.Rows, m.Cols, m.Layout, why)
	}
	if len(dst) < len(m.Data) {
		return fmt.Errorf("kernels: repack %s %dx%d: destination has %d bytes, want %d", m.Type, m.Rows, m.Cols, len(dst), len(m.Data))
	}
	return nil
}

// PreferredLayout is the layout Repack gives m on the active path:
// LayoutQuads for the types with quad kernels (on every path: the generic
// path reads quads too), LayoutLaneMajor for Q3_K, Q4_K, Q5_K and Q6_K
// where the active path has kernels for it, LayoutRows (keep m as it is)
// otherwise or when m is already repacked.
func PreferredLayout(m Matrix) Layout {
	switch {
	case CanRepackQuads(m):
		return LayoutQuads
	case canLaneMajor(m) && hasLaneMajorKernels(m.Type):
		return LayoutLaneMajor
	}
	return LayoutRows
}

// Repack writes m into dst in PreferredLayout(m), which must not be
// LayoutRows, and returns the matrix over dst. dst must hold len(m.Data)
// bytes and may be m.Data itself.
func Repack(dst []byte, m Matrix) (Matrix, error) {
	switch PreferredLayout(m) {
	case LayoutQuads:
		return RepackQuads(dst, m)
	case LayoutLaneMajor:
		return RepackLaneMajor(dst, m)
	}
	return Matrix{}, fmt.Errorf("kernels: matrix %s %dx%d (%s): no layout to repack it into on the %s path", m.Type, m.Rows, m.Cols, m.Layout, ActivePath())
}

// laneMajorChunks is, per weight type, where the 32-byte chunks of levels
// lie in a block (LayoutLaneMajor).
var laneMajorChunks = map[tensor.Type][]int{
	tensor.Q3_K: {0, 32, 64},
	tensor.Q4_K: {16, 48, 80, 112},
	tensor.Q5_K: {16, 48, 80, 112, 144},
	tensor.Q6_K: {0, 32, 64, 96, 128, 160},
}

// canLaneMajor reports whether m's type and layout allow LayoutLaneMajor.
func canLaneMajor(m Matrix) bool {
	return laneMajorChunks[m.Type] != nil && m.Layout == LayoutRows && m.Rows > 0
}

// hasLaneMajorKernels reports whether the active path has MatMul kernels
// for LayoutLaneMajor matrices of type t.
func hasLaneMajorKernels(t tensor.Type) bool {
	kq := kquantMatmul[t]
	return kq != nil && kq.packed != nil
}

// lmChunkPerm is the byte order of a LayoutLaneMajor chunk: byte i is
// byte lmChunkPerm[i] of ggml's, what vpermd by lmPerm (dwords 0, 2, 4, 6,
// 1, 3, 5, 7) then vpshufb by lmTrans (in each half, byte 4l+t from byte
// 4t+l) make of it.
var lmChunkPerm = func() (perm [32]byte) {
	dwords := [8]int{0, 2, 4, 6, 1, 3, 5, 7}
	trans := [16]int{0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15}
	for i := range perm {
		j := i&^15 + trans[i&15] // byte of the vpermd's result
		perm[i] = byte(4*dwords[j/4] + j%4)
	}
	return perm
}()

// RepackLaneMajor writes m (Q3_K, Q4_K, Q5_K or Q6_K, LayoutRows) into dst in
// LayoutLaneMajor and returns the matrix over dst. dst must hold
// len(m.Data) bytes and may be m.Data itself (each block is copied aside
// before it is rewritten). Every path reads the result (where a path has
// no kernels for the layout, MatMul puts each row back in ggml's order),
// but only PreferredLayout says whether it pays.
func RepackLaneMajor(dst []byte, m Matrix) (Matrix, error) {
	if err := checkRepack(dst, m, canLaneMajor(m), "has no lane-major layout"); err != nil {
		return Matrix{}, err
	}
	bs, chunks := m.Type.BlockBytes(), laneMajorChunks[m.Type]
	block := make([]byte, bs)
	for at := 0; at < len(m.Data); at += bs {
		copy(block, m.Data[at:at+bs])
		out := dst[at : at+bs]
		copy(out, block)
		for _, c := range chunks {
			for i, p := range lmChunkPerm {
				out[c+i] = block[c+int(p)]
			}
		}
	}
	return Matrix{Type: m.Type, Rows: m.Rows, Cols: m.Cols, Data: dst[:len(m.Data):len(m.Data)], Layout: LayoutLaneMajor}, nil
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

// ggmlRow returns row r in ggml's block format, for kernels that read a
// row: a view of Data in LayoutRows, else the row gathered into *buf
// (allocated on first use, then reused).
func (m Matrix) ggmlRow(buf *[]byte, r int) []byte {
	rb := m.RowBytes()
	if m.Layout == LayoutRows {
		return m.Data[r*rb : (r+1)*rb]
	}
	if len(*buf) < rb {
		*buf = make([]byte, rb)
	}
	return m.gatherRow(*buf, r)
}

// gatherRow copies row r's blocks of a repacked (LayoutQuads or
// LayoutLaneMajor) matrix into dst (one row's bytes) in ggml's block
// format, for kernels that read a row.
func (m Matrix) gatherRow(dst []byte, r int) []byte {
	bs, rb := m.Type.BlockBytes(), m.RowBytes()
	dst = dst[:rb]
	if m.Layout == LayoutLaneMajor {
		row := m.Data[r*rb : (r+1)*rb]
		copy(dst, row)
		for at := 0; at < rb; at += bs {
			for _, c := range laneMajorChunks[m.Type] {
				for i, p := range lmChunkPerm {
					dst[at+c+int(p)] = row[at+c+i]
				}
			}
		}
		return dst
	}
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
