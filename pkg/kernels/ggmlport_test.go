package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/llmboot/llmboot/pkg/tensor"
)

// Line-by-line ports of ggml's ggml_vec_dot_q{3,4,5,6}_K_q8_K_generic
// (ggml-cpu/quants.c), with their aux8/aux16/aux32 arrays and the kmask
// scale unpacking, as oracles: the package's versions decode differently
// (and faster paths will again), but must give the same float32 bits,
// since the float operations and their order are what ggml's are.

func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

func q8KParts(y []byte) (d float32, q8 []int8, bsums [16]int16) {
	d = math.Float32frombits(le32(y))
	q8 = make([]int8, 256)
	for i := range q8 {
		q8[i] = int8(y[4+i])
	}
	for j := range bsums {
		bsums[j] = int16(binary.LittleEndian.Uint16(y[260+2*j:]))
	}
	return
}

// kScaleUnpack is the utmp/kmask dance of the Q4_K and Q5_K generic dots.
func kScaleUnpack(s []byte) (scales, mins [8]uint8) {
	const kmask1, kmask2, kmask3 = 0x3f3f3f3f, 0x0f0f0f0f, 0x03030303
	var utmp [4]uint32
	utmp[0], utmp[1], utmp[2] = le32(s[0:]), le32(s[4:]), le32(s[8:])
	utmp[3] = ((utmp[2] >> 4) & kmask2) | (((utmp[1] >> 6) & kmask3) << 4)
	uaux := utmp[1] & kmask1
	utmp[1] = (utmp[2] & kmask2) | (((utmp[0] >> 6) & kmask3) << 4)
	utmp[2] = uaux
	utmp[0] &= kmask1
	for i := 0; i < 4; i++ {
		scales[i] = uint8(utmp[0] >> (8 * i))
		scales[4+i] = uint8(utmp[1] >> (8 * i))
		mins[i] = uint8(utmp[2] >> (8 * i))
		mins[4+i] = uint8(utmp[3] >> (8 * i))
	}
	return
}

// ggmlSums8 is the common tail: 8-wide aux16/aux32 accumulation over
// sub-blocks of size sub with the given scales.
func ggmlSums8(q8, a []int8, scale func(j int) int32, sub int) (aux32 [8]int32) {
	var aux16 [8]int16
	for j := 0; j < 256/sub; j++ {
		s := scale(j)
		for k := 0; k < sub/8; k++ {
			for l := 0; l < 8; l++ {
				aux16[l] = int16(q8[l]) * int16(a[l])
			}
			for l := 0; l < 8; l++ {
				aux32[l] += s * int32(aux16[l])
			}
			q8, a = q8[8:], a[8:]
		}
	}
	return
}

func ggmlDotQ4_K(n int, vx, vy []byte) float32 {
	var sums [8]float32
	var sumf float32
	for i := 0; i < n/256; i++ {
		x, y := vx[i*144:], vy[i*292:]
		yd, q8, bsums := q8KParts(y)
		var aux8 [256]int8
		q4, a := x[16:144], aux8[:]
		for j := 0; j < 4; j++ {
			for l := 0; l < 32; l++ {
				a[l] = int8(q4[l] & 0xF)
			}
			a = a[32:]
			for l := 0; l < 32; l++ {
				a[l] = int8(q4[l] >> 4)
			}
			a, q4 = a[32:], q4[32:]
		}
		scales, mins := kScaleUnpack(x[4:16])
		var sumi int32
		for j := 0; j < 16; j++ {
			sumi += int32(bsums[j]) * int32(mins[j/2])
		}
		aux32 := ggmlSums8(q8, aux8[:], func(j int) int32 { return int32(scales[j]) }, 32)
		d := float32(FP16ToFP32(binary.LittleEndian.Uint16(x)) * yd)
		for l := 0; l < 8; l++ {
			sums[l] += float32(d * float32(aux32[l]))
		}
		dmin := float32(FP16ToFP32(binary.LittleEndian.Uint16(x[2:])) * yd)
		sumf -= float32(dmin * float32(sumi))
	}
	for l := 0; l < 8; l++ {
		sumf += sums[l]
	}
	return sumf
}

func ggmlDotQ5_K(n int, vx, vy []byte) float32 {
	var sums [8]float32
	var sumf float32
	for i := 0; i < n/256; i++ {
		x, y := vx[i*176:], vy[i*292:]
		yd, q8, bsums := q8KParts(y)
		var aux8 [256]int8
		q4, hm, a := x[48:176], x[16:48], aux8[:]
		m := uint8(1)
		for j := 0; j < 4; j++ {
			for l := 0; l < 32; l++ {
				a[l] = int8(q4[l] & 0xF)
			}
			for l := 0; l < 32; l++ {
				if hm[l]&m != 0 {
					a[l] += 16
				}
			}
			a, m = a[32:], m<<1
			for l := 0; l < 32; l++ {
				a[l] = int8(q4[l] >> 4)
			}
			for l := 0; l < 32; l++ {
				if hm[l]&m != 0 {
					a[l] += 16
				}
			}
			a, m = a[32:], m<<1
			q4 = q4[32:]
		}
		scales, mins := kScaleUnpack(x[4:16])
		var sumi int32
		for j := 0; j < 16; j++ {
			sumi += int32(bsums[j]) * int32(mins[j/2])
		}
		aux32 := ggmlSums8(q8, aux8[:], func(j int) int32 { return int32(scales[j]) }, 32)
		d := float32(FP16ToFP32(binary.LittleEndian.Uint16(x)) * yd)
		for l := 0; l < 8; l++ {
			sums[l] += float32(d * float32(aux32[l]))
		}
		dmin := float32(FP16ToFP32(binary.LittleEndian.Uint16(x[2:])) * yd)
		sumf -= float32(dmin * float32(sumi))
	}
	for l := 0; l < 8; l++ {
		sumf += sums[l]
	}
	return sumf
}

func ggmlDotQ6_K(n int, vx, vy []byte) float32 {
	var sums [8]float32
	for i := 0; i < n/256; i++ {
		x, y := vx[i*210:], vy[i*292:]
		yd, q8, _ := q8KParts(y)
		var aux8 [256]int8
		q4, qh, a := x[0:128], x[128:192], aux8[:]
		for j := 0; j < 256; j += 128 {
			for l := 0; l < 32; l++ {
				a[l+0] = int8(q4[l+0]&0xF|((qh[l]>>0)&3)<<4) - 32
				a[l+32] = int8(q4[l+32]&0xF|((qh[l]>>2)&3)<<4) - 32
				a[l+64] = int8(q4[l+0]>>4|((qh[l]>>4)&3)<<4) - 32
				a[l+96] = int8(q4[l+32]>>4|((qh[l]>>6)&3)<<4) - 32
			}
			a, q4, qh = a[128:], q4[64:], qh[32:]
		}
		aux32 := ggmlSums8(q8, aux8[:], func(j int) int32 { return int32(int8(x[192+j])) }, 16)
		d := float32(FP16ToFP32(binary.LittleEndian.Uint16(x[208:])) * yd)
		for l := 0; l < 8; l++ {
			sums[l] += float32(d * float32(aux32[l]))
		}
	}
	var sumf float32
	for l := 0; l < 8; l++ {
		sumf += sums[l]
	}
	return sumf
}

func ggmlDotQ3_K(n int, vx, vy []byte) float32 {
	const kmask1, kmask2 = 0x03030303, 0x0f0f0f0f
	var sums [8]float32
	for i := 0; i < n/256; i++ {
		x, y := vx[i*110:], vy[i*292:]
		yd, q8, _ := q8KParts(y)
		var aux8 [256]int8
		q3, hm, a := x[32:96], x[0:32], aux8[:]
		m := uint8(1)
		for j := 0; j < 256; j += 128 {
			for shift := 0; shift < 8; shift += 2 {
				for l := 0; l < 32; l++ {
					a[l] = int8(q3[l] >> shift & 3)
				}
				for l := 0; l < 32; l++ {
					if hm[l]&m == 0 {
						a[l] -= 4
					}
				}
				a, m = a[32:], m<<1
			}
			q3 = q3[32:]
		}
		var auxs [4]uint32
		auxs[0], auxs[1], auxs[2] = le32(x[96:]), le32(x[100:]), le32(x[104:])
		tmp := auxs[2]
		auxs[2] = ((auxs[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4)
		auxs[3] = ((auxs[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4)
		auxs[0] = (auxs[0] & kmask2) | (((tmp >> 0) & kmask1) << 4)
		auxs[1] = (auxs[1] & kmask2) | (((tmp >> 2) & kmask1) << 4)
		scale := func(j int) int32 { return int32(int8(auxs[j/4]>>(8*(j%4)))) - 32 }
		aux32 := ggmlSums8(q8, aux8[:], scale, 16)
		d := float32(FP16ToFP32(binary.LittleEndian.Uint16(x[108:])) * yd)
		for l := 0; l < 8; l++ {
			sums[l] += float32(d * float32(aux32[l]))
		}
	}
	var sumf float32
	for l := 0; l < 8; l++ {
		sumf += sums[l]
	}
	return sumf
}

func TestKQuantDotsMatchGGMLPorts(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	const n = 1024
	for _, c := range []struct {
		typ    tensor.Type
		oracle func(int, []byte, []byte) float32
	}{
		{tensor.Q3_K, ggmlDotQ3_K}, {tensor.Q4_K, ggmlDotQ4_K}, {tensor.Q5_K, ggmlDotQ5_K}, {tensor.Q6_K, ggmlDotQ6_K},
	} {
		for kind := 0; kind < 6; kind++ {
			// Random bytes as weights too: every bit pattern of levels and
			// scales, not only what the encoder produces (f16 scales kept
			// finite).
			wb := encode(t, c.typ, randRow(r, n, kind))
			raw := make([]byte, len(wb))
			for i := range raw {
				raw[i] = byte(r.Uint32())
			}
			fixF16Scales(c.typ, raw)
			act := encode(t, tensor.Q8_K, randRow(r, n, kind+1))
			for _, w := range [][]byte{wb, raw} {
				got, want := VecDot(c.typ, n, w, act), c.oracle(n, w, act)
				if math.Float32bits(got) != math.Float32bits(want) {
					t.Errorf("%s kind %d: VecDot = %g, ggml's generic gives %g", c.typ, kind, got, want)
				}
			}
		}
	}
}

// fixF16Scales overwrites the f16 scales of random k-quant blocks with
// finite values.
func fixF16Scales(typ tensor.Type, b []byte) {
	offs := map[tensor.Type][]int{tensor.Q3_K: {108}, tensor.Q4_K: {0, 2}, tensor.Q5_K: {0, 2}, tensor.Q6_K: {208}}[typ]
	for blk := 0; blk+typ.BlockBytes() <= len(b); blk += typ.BlockBytes() {
		for _, o := range offs {
			binary.LittleEndian.PutUint16(b[blk+o:], FP32ToFP16(float32(b[blk+o])/1024))
		}
	}
}
