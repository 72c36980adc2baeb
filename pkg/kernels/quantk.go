package kernels

import (
	"encoding/binary"
	"math"
)

// The k-quants: super-blocks of 256 elements, ported from ggml-quants.c
// (quantize_row_*_ref, dequantize_row_*) and ggml-cpu/quants.c
// (ggml_vec_dot_*_q8_K_generic). Layouts, little-endian:
//
//	Q2_K {u8 scales[16]; u8 qs[64]; f16 d, dmin}
//	Q3_K {u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d}
//	Q4_K {f16 d, dmin; u8 scales[12]; u8 qs[128]}
//	Q5_K {f16 d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]}
//	Q6_K {u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d}
//	Q8_K {f32 d; i8 qs[256]; i16 bsums[16]}
//
// The generic dot products accumulate integer products in 8 lanes (element
// index mod 8) and scale each lane into its own float sum; the lanes are
// kept here because they fix the order of the float additions.

const qkK = 256

const (
	q2_KBytes = 16 + 64 + 2 + 2
	q3_KBytes = 32 + 64 + 12 + 2
	q4_KBytes = 2 + 2 + 12 + 128
	q5_KBytes = 2 + 2 + 12 + 32 + 128
	q6_KBytes = 128 + 64 + 16 + 2
	q8_KBytes = 4 + 256 + 2*16
)

// q8K is a decoded view of one Q8_K block.
type q8K struct {
	d  float32
	qs []byte // int8 values
	bs []byte // 16 little-endian int16 sums of 16 values
}

func q8KBlock(a []byte, b int) q8K {
	y := a[b*q8_KBytes : (b+1)*q8_KBytes]
	return q8K{
		d:  math.Float32frombits(binary.LittleEndian.Uint32(y)),
		qs: y[4:260],
		bs: y[260:292],
	}
}

// addLanes adds scale times the products of the int8 values q and levels
// v (a multiple of 8 long) to the 8 lane sums, element i going to lane
// i mod 8 as in ggml's aux32. Integer sums are exact, so the order within
// a lane is free.
func addLanes(acc *[8]int32, scale int32, q []byte, v []int8) {
	var p [8]int32
	for i := 0; i+8 <= len(q) && i+8 <= len(v); i += 8 {
		qq, vv := q[i:i+8:i+8], v[i:i+8:i+8]
		p[0] += int32(int8(qq[0])) * int32(vv[0])
		p[1] += int32(int8(qq[1])) * int32(vv[1])
		p[2] += int32(int8(qq[2])) * int32(vv[2])
		p[3] += int32(int8(qq[3])) * int32(vv[3])
		p[4] += int32(int8(qq[4])) * int32(vv[4])
		p[5] += int32(int8(qq[5])) * int32(vv[5])
		p[6] += int32(int8(qq[6])) * int32(vv[6])
		p[7] += int32(int8(qq[7])) * int32(vv[7])
	}
	for l := range acc {
		acc[l] += scale * p[l]
	}
}

func (y q8K) bsum(j int) int32 { return int32(int16(binary.LittleEndian.Uint16(y.bs[2*j:]))) }

// ---- Q8_K

func quantizeQ8_K(dst []byte, src []float32) {
	for b := 0; b < len(src)/qkK; b++ {
		x := src[b*qkK : (b+1)*qkK]
		y := dst[b*q8_KBytes : (b+1)*q8_KBytes]
		max, amax := absMax(x)
		if amax == 0 {
			clear(y) // ggml leaves bsums unwritten here; zero is their true value
			continue
		}
		iscale := -127 / max
		for j, v := range x {
			y[4+j] = uint8(int8(min(127, nearestInt(iscale*v))))
		}
		for j := 0; j < 16; j++ {
			var sum int
			for _, q := range y[4+16*j : 4+16*(j+1)] {
				sum += int(int8(q))
			}
			binary.LittleEndian.PutUint16(y[260+2*j:], uint16(int16(sum)))
		}
		binary.LittleEndian.PutUint32(y, math.Float32bits(1/iscale))
	}
}

func dequantQ8_K(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qkK; b++ {
		y := q8KBlock(src, b)
		out := dst[b*qkK : (b+1)*qkK]
		for j := range out {
			out[j] = y.d * float32(int8(y.qs[j]))
		}
	}
}

// ---- Q2_K: 16 sub-blocks of 16, 2-bit levels, 4-bit scale and min each.

func quantizeQ2_K(dst []byte, src []float32) {
	var (
		L       [qkK]uint8
		laux    [16]uint8
		weights [16]float32
		mins    [16]float32
		scales  [16]float32
	)
	const q4scale = 15
	for b := 0; b < len(src)/qkK; b++ {
		x := src[b*qkK : (b+1)*qkK]
		y := dst[b*q2_KBytes : (b+1)*q2_KBytes]
		sc, qs := y[0:16], y[16:80]
		var maxScale, maxMin float32
		for j := 0; j < 16; j++ {
			xs := x[16*j : 16*(j+1)]
			for l, v := range xs {
				weights[l] = abs32(v)
			}
			scales[j], mins[j] = makeQKX2Quants(3, xs, weights[:], L[16*j:16*(j+1)], laux[:], -0.5, 0.1, 15, true)
			maxScale = cmax(scales[j], maxScale)
			maxMin = cmax(mins[j], maxMin)
		}
		if maxScale > 0 {
			iscale := q4scale / maxScale
			for j := 0; j < 16; j++ {
				sc[j] = uint8(nearestInt(iscale * scales[j]))
			}
			putF16(y, 80, maxScale/q4scale)
		} else {
			clear(sc)
			putF16(y, 80, 0)
		}
		if maxMin > 0 {
			iscale := q4scale / maxMin
			for j := 0; j < 16; j++ {
				sc[j] |= uint8(nearestInt(iscale*mins[j])) << 4
			}
			putF16(y, 82, maxMin/q4scale)
		} else {
			putF16(y, 82, 0)
		}
		dAll, dMin := f16At(y, 80), f16At(y, 82)
		for j := 0; j < 16; j++ {
			d := dAll * float32(sc[j]&0xf)
			if d == 0 {
				continue
			}
			dm := float32(dMin * float32(sc[j]>>4))
			for ii := 0; ii < 16; ii++ {
				L[16*j+ii] = uint8(clampInt(nearestInt((x[16*j+ii]+dm)/d), 0, 3))
			}
		}
		for j := 0; j < qkK; j += 128 {
			for l := 0; l < 32; l++ {
				qs[j/4+l] = L[j+l] | L[j+l+32]<<2 | L[j+l+64]<<4 | L[j+l+96]<<6
			}
		}
	}
}

func dequantQ2_K(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qkK; b++ {
		x := src[b*q2_KBytes : (b+1)*q2_KBytes]
		y := dst[b*qkK : (b+1)*qkK]
		d, dmin := f16At(x, 80), f16At(x, 82)
		sc := x[0:16]
		is, o := 0, 0
		for n := 0; n < qkK; n += 128 {
			q := x[16+n/4 : 16+n/4+32]
			for shift := 0; shift < 8; shift += 2 {
				for half := 0; half < 2; half++ {
					s := sc[is]
					is++
					dl, ml := d*float32(s&0xf), float32(dmin*float32(s>>4))
					for l := 16 * half; l < 16*half+16; l++ {
						y[o] = float32(dl*float32(q[l]>>shift&3)) - ml
						o++
					}
				}
			}
		}
	}
}

func dotQ2_K(n int, w, a []byte) float32 {
	var sumf float32
	for b := 0; b < n/qkK; b++ {
		x := w[b*q2_KBytes : (b+1)*q2_KBytes]
		y := q8KBlock(a, b)
		sc := x[0:16]
		var summs int32
		for j := 0; j < 16; j++ {
			summs += y.bsum(j) * int32(sc[j]>>4)
		}
		dall := y.d * f16At(x, 80)
		dmin := y.d * f16At(x, 82)
		var isum int32
		is := 0
		q8 := y.qs
		for k := 0; k < qkK/128; k++ {
			q2 := x[16+32*k : 16+32*k+32]
			for shift := 0; shift < 8; shift += 2 {
				for half := 0; half < 2; half++ {
					d := int32(sc[is] & 0xf)
					is++
					var isuml int32
					for l := 16 * half; l < 16*half+16; l++ {
						isuml += int32(int8(q8[l])) * int32(q2[l]>>shift&3)
					}
					isum += d * isuml
				}
				q8 = q8[32:]
			}
		}
		sumf += float32(dall*float32(isum)) - float32(dmin*float32(summs))
	}
	return sumf
}

// ---- Q3_K: 16 sub-blocks of 16, 3-bit signed levels, 6-bit signed scales.

func quantizeQ3_K(dst []byte, src []float32) {
	var (
		L      [qkK]int8
		scales [16]float32
	)
	for b := 0; b < len(src)/qkK; b++ {
		x := src[b*qkK : (b+1)*qkK]
		y := dst[b*q3_KBytes : (b+1)*q3_KBytes]
		hmask, qs, sc := y[0:32], y[32:96], y[96:108]
		var maxScale, amax float32
		for j := 0; j < 16; j++ {
			scales[j] = makeQ3Quants(4, x[16*j:16*(j+1)], L[16*j:16*(j+1)])
			if s := abs32(scales[j]); s > amax {
				amax, maxScale = s, scales[j]
			}
		}
		clear(sc)
		if maxScale != 0 {
			iscale := -32 / maxScale
			for j := 0; j < 16; j++ {
				l := int(int8(nearestInt(iscale * scales[j]))) // C stores into an int8_t first
				l = clampInt(l, -32, 31) + 32
				if j < 8 {
					sc[j] = uint8(l & 0xf)
				} else {
					sc[j-8] |= uint8(l&0xf) << 4
				}
				sc[j%4+8] |= uint8(l>>4) << (2 * (j / 4))
			}
			putF16(y, 108, 1/iscale)
		} else {
			putF16(y, 108, 0)
		}
		dAll := f16At(y, 108)
		for j := 0; j < 16; j++ {
			d := dAll * float32(int8(q3Scale(j, sc)))
			if d == 0 {
				continue
			}
			for ii := 0; ii < 16; ii++ {
				L[16*j+ii] = int8(clampInt(nearestInt(x[16*j+ii]/d), -4, 3) + 4)
			}
		}
		clear(hmask)
		m, hm := 0, uint8(1)
		for j := 0; j < qkK; j++ {
			if L[j] > 3 {
				hmask[m] |= hm
				L[j] -= 4
			}
			if m++; m == qkK/8 {
				m, hm = 0, hm<<1
			}
		}
		for j := 0; j < qkK; j += 128 {
			for l := 0; l < 32; l++ {
				qs[j/4+l] = uint8(L[j+l] | L[j+l+32]<<2 | L[j+l+64]<<4 | L[j+l+96]<<6)
			}
		}
	}
}

// q3Levels decodes the 256 signed 3-bit levels of a Q3_K block in element
// order.
func q3Levels(x []byte, a *[qkK]int8) {
	hm, q := x[0:32], x[32:96]
	m := uint8(1)
	o := 0
	for c := 0; c < 2; c++ {
		q3 := q[32*c : 32*c+32]
		for shift := 0; shift < 8; shift += 2 {
			for l := 0; l < 32; l++ {
				v := int8(q3[l] >> shift & 3)
				if hm[l]&m == 0 {
					v -= 4
				}
				a[o] = v
				o++
			}
			m <<= 1
		}
	}
}

func dequantQ3_K(dst []float32, src []byte) {
	var a [qkK]int8
	for b := 0; b < len(dst)/qkK; b++ {
		x := src[b*q3_KBytes : (b+1)*q3_KBytes]
		y := dst[b*qkK : (b+1)*qkK]
		dAll := f16At(x, 108)
		q3Levels(x, &a)
		for j := 0; j < 16; j++ {
			dl := dAll * float32(q3Scale(j, x[96:108]))
			for l := 16 * j; l < 16*j+16; l++ {
				y[l] = dl * float32(a[l])
			}
		}
	}
}

func dotQ3_K(n int, w, a []byte) float32 {
	var sums [8]float32
	var lv [qkK]int8
	for b := 0; b < n/qkK; b++ {
		x := w[b*q3_KBytes : (b+1)*q3_KBytes]
		y := q8KBlock(a, b)
		q3Levels(x, &lv)
		var aux32 [8]int32
		for j := 0; j < 16; j++ {
			addLanes(&aux32, int32(q3Scale(j, x[96:108])), y.qs[16*j:16*j+16], lv[16*j:16*j+16])
		}
		d := f16At(x, 108) * y.d
		for l := range sums {
			sums[l] += float32(d * float32(aux32[l]))
		}
	}
	var sumf float32
	for _, s := range sums {
		sumf += s
	}
	return sumf
}

// ---- Q4_K: 8 sub-blocks of 32, 4-bit levels, 6-bit scale and min each.

// quantizeScaleMinK is the part of quantize_row_q4_K_ref / q5_K_ref before
// the levels are packed: per sub-block fits, the 6-bit scales and mins in
// y[4:16], d and dmin in y[0:4], and the final levels in L.
func quantizeScaleMinK(nmax int, rmin float32, nstep int, x []float32, y []byte, L *[qkK]uint8) {
	var (
		laux    [32]uint8
		weights [32]float32
		mins    [8]float32
		scales  [8]float32
		ls, lm  [8]uint8
	)
	var maxScale, maxMin float32
	for j := 0; j < 8; j++ {
		xs := x[32*j : 32*(j+1)]
		var sumX2 float32
		for _, v := range xs {
			sumX2 += float32(v * v)
		}
		avX := float32(math.Sqrt(float64(sumX2 / 32)))
		for l, v := range xs {
			weights[l] = avX + abs32(v)
		}
		scales[j], mins[j] = makeQKX2Quants(nmax, xs, weights[:], L[32*j:32*(j+1)], laux[:], rmin, 0.1, nstep, false)
		maxScale = cmax(scales[j], maxScale)
		maxMin = cmax(mins[j], maxMin)
	}
	var invScale, invMin float32
	if maxScale > 0 {
		invScale = 63 / maxScale
	}
	if maxMin > 0 {
		invMin = 63 / maxMin
	}
	for j := 0; j < 8; j++ {
		ls[j] = min(63, uint8(nearestInt(invScale*scales[j])))
		lm[j] = min(63, uint8(nearestInt(invMin*mins[j])))
	}
	packScaleMinK4(y[4:16], &ls, &lm)
	putF16(y, 0, maxScale/63)
	putF16(y, 2, maxMin/63)
	d0, m0 := f16At(y, 0), f16At(y, 2)
	for j := 0; j < 8; j++ {
		sc, m := scaleMinK4(j, y[4:16])
		d := d0 * float32(sc)
		if d == 0 {
			continue
		}
		dm := float32(m0 * float32(m))
		for ii := 0; ii < 32; ii++ {
			L[32*j+ii] = uint8(clampInt(nearestInt((x[32*j+ii]+dm)/d), 0, nmax))
		}
	}
}

func quantizeQ4_K(dst []byte, src []float32) {
	var L [qkK]uint8
	for b := 0; b < len(src)/qkK; b++ {
		x := src[b*qkK : (b+1)*qkK]
		y := dst[b*q4_KBytes : (b+1)*q4_KBytes]
		quantizeScaleMinK(15, -1, 20, x, y, &L)
		q := y[16:144]
		for j := 0; j < qkK; j += 64 {
			for l := 0; l < 32; l++ {
				q[j/2+l] = L[j+l] | L[j+l+32]<<4
			}
		}
	}
}

func dequantQ4_K(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qkK; b++ {
		x := src[b*q4_KBytes : (b+1)*q4_KBytes]
		y := dst[b*qkK : (b+1)*qkK]
		d, dmin := f16At(x, 0), f16At(x, 2)
		for c := 0; c < 4; c++ {
			q := x[16+32*c : 16+32*c+32]
			sc, m := scaleMinK4(2*c, x[4:16])
			d1, m1 := d*float32(sc), float32(dmin*float32(m))
			sc, m = scaleMinK4(2*c+1, x[4:16])
			d2, m2 := d*float32(sc), float32(dmin*float32(m))
			out := y[64*c : 64*c+64]
			for l := 0; l < 32; l++ {
				out[l] = float32(d1*float32(q[l]&0xf)) - m1
				out[l+32] = float32(d2*float32(q[l]>>4)) - m2
			}
		}
	}
}

// dotScaleMinK finishes a Q4_K or Q5_K block: lane sums of the levels in
// lv times the Q8_K values, scaled per sub-block, then the min correction
// from the Q8_K block sums.
func dotScaleMinK(x []byte, y q8K, lv *[qkK]int8, sums *[8]float32, sumf float32) float32 {
	var aux32 [8]int32
	for j := 0; j < 8; j++ {
		sc, _ := scaleMinK4(j, x[4:16])
		addLanes(&aux32, int32(sc), y.qs[32*j:32*j+32], lv[32*j:32*j+32])
	}
	var sumi int32
	for j := 0; j < 16; j++ {
		_, m := scaleMinK4(j/2, x[4:16])
		sumi += y.bsum(j) * int32(m)
	}
	d := f16At(x, 0) * y.d
	for l := range sums {
		sums[l] += float32(d * float32(aux32[l]))
	}
	dmin := f16At(x, 2) * y.d
	return sumf - float32(dmin*float32(sumi))
}

func dotQ4_K(n int, w, a []byte) float32 {
	var sums [8]float32
	var sumf float32
	var lv [qkK]int8
	for b := 0; b < n/qkK; b++ {
		x := w[b*q4_KBytes : (b+1)*q4_KBytes]
		q := x[16:144]
		for c := 0; c < 4; c++ {
			for l := 0; l < 32; l++ {
				lv[64*c+l] = int8(q[32*c+l] & 0xf)
				lv[64*c+32+l] = int8(q[32*c+l] >> 4)
			}
		}
		sumf = dotScaleMinK(x, q8KBlock(a, b), &lv, &sums, sumf)
	}
	for _, s := range sums {
		sumf += s
	}
	return sumf
}

// ---- Q5_K: as Q4_K with a fifth bit per level in qh.

func quantizeQ5_K(dst []byte, src []float32) {
	var L [qkK]uint8
	for b := 0; b < len(src)/qkK; b++ {
		x := src[b*qkK : (b+1)*qkK]
		y := dst[b*q5_KBytes : (b+1)*q5_KBytes]
		quantizeScaleMinK(31, -0.5, 15, x, y, &L)
		qh, ql := y[16:48], y[48:176]
		clear(qh)
		m1, m2 := uint8(1), uint8(2)
		for n := 0; n < qkK; n += 64 {
			for j := 0; j < 32; j++ {
				l1, l2 := L[n+j], L[n+j+32]
				if l1 > 15 {
					l1 -= 16
					qh[j] |= m1
				}
				if l2 > 15 {
					l2 -= 16
					qh[j] |= m2
				}
				ql[n/2+j] = l1 | l2<<4
			}
			m1 <<= 2
			m2 <<= 2
		}
	}
}

// q5Levels decodes the 256 5-bit levels of a Q5_K block in element order.
func q5Levels(x []byte, lv *[qkK]int8) {
	qh, ql := x[16:48], x[48:176]
	for c := 0; c < 4; c++ {
		u1, u2 := uint8(1)<<(2*c), uint8(2)<<(2*c)
		for l := 0; l < 32; l++ {
			lo, hi := int8(ql[32*c+l]&0xf), int8(ql[32*c+l]>>4)
			if qh[l]&u1 != 0 {
				lo += 16
			}
			if qh[l]&u2 != 0 {
				hi += 16
			}
			lv[64*c+l], lv[64*c+32+l] = lo, hi
		}
	}
}

func dequantQ5_K(dst []float32, src []byte) {
	var lv [qkK]int8
	for b := 0; b < len(dst)/qkK; b++ {
		x := src[b*q5_KBytes : (b+1)*q5_KBytes]
		y := dst[b*qkK : (b+1)*qkK]
		d, dmin := f16At(x, 0), f16At(x, 2)
		q5Levels(x, &lv)
		for j := 0; j < 8; j++ {
			sc, m := scaleMinK4(j, x[4:16])
			dj, mj := d*float32(sc), float32(dmin*float32(m))
			for l := 32 * j; l < 32*j+32; l++ {
				y[l] = float32(dj*float32(lv[l])) - mj
			}
		}
	}
}

func dotQ5_K(n int, w, a []byte) float32 {
	var sums [8]float32
	var sumf float32
	var lv [qkK]int8
	for b := 0; b < n/qkK; b++ {
		x := w[b*q5_KBytes : (b+1)*q5_KBytes]
		q5Levels(x, &lv)
		sumf = dotScaleMinK(x, q8KBlock(a, b), &lv, &sums, sumf)
	}
	for _, s := range sums {
		sumf += s
	}
	return sumf
}

// ---- Q6_K: 16 sub-blocks of 16, 6-bit signed levels, 8-bit signed scales.

func quantizeQ6_K(dst []byte, src []float32) {
	var (
		L      [qkK]int8
		scales [16]float32
	)
	for b := 0; b < len(src)/qkK; b++ {
		x := src[b*qkK : (b+1)*qkK]
		y := dst[b*q6_KBytes : (b+1)*q6_KBytes]
		ql, qh, sc := y[0:128], y[128:192], y[192:208]
		var maxScale, maxAbsScale float32
		for ib := 0; ib < 16; ib++ {
			scales[ib] = makeQXQuants(32, x[16*ib:16*(ib+1)], L[16*ib:16*(ib+1)])
			if as := abs32(scales[ib]); as > maxAbsScale {
				maxAbsScale, maxScale = as, scales[ib]
			}
		}
		if maxAbsScale < groupMaxEps {
			clear(y)
			continue
		}
		iscale := -128 / maxScale
		putF16(y, 208, 1/iscale)
		for ib := 0; ib < 16; ib++ {
			sc[ib] = uint8(int8(min(127, nearestInt(iscale*scales[ib]))))
		}
		d0 := f16At(y, 208)
		for j := 0; j < 16; j++ {
			d := d0 * float32(int8(sc[j]))
			if d == 0 {
				continue
			}
			for ii := 0; ii < 16; ii++ {
				L[16*j+ii] = int8(clampInt(nearestInt(x[16*j+ii]/d), -32, 31) + 32)
			}
		}
		for j := 0; j < qkK; j += 128 {
			qlj, qhj := ql[j/2:j/2+64], qh[j/4:j/4+32]
			for l := 0; l < 32; l++ {
				q1, q2 := uint8(L[j+l])&0xf, uint8(L[j+l+32])&0xf
				q3, q4 := uint8(L[j+l+64])&0xf, uint8(L[j+l+96])&0xf
				qlj[l] = q1 | q3<<4
				qlj[l+32] = q2 | q4<<4
				qhj[l] = uint8(L[j+l])>>4 | uint8(L[j+l+32])>>4<<2 | uint8(L[j+l+64])>>4<<4 | uint8(L[j+l+96])>>4<<6
			}
		}
	}
}

// q6Levels decodes the 256 signed 6-bit levels of a Q6_K block in element
// order.
func q6Levels(x []byte, lv *[qkK]int8) {
	for c := 0; c < 2; c++ {
		ql, qh := x[64*c:64*c+64], x[128+32*c:128+32*c+32]
		a := lv[128*c : 128*c+128]
		for l := 0; l < 32; l++ {
			a[l] = int8(ql[l]&0xf|(qh[l]>>0&3)<<4) - 32
			a[l+32] = int8(ql[l+32]&0xf|(qh[l]>>2&3)<<4) - 32
			a[l+64] = int8(ql[l]>>4|(qh[l]>>4&3)<<4) - 32
			a[l+96] = int8(ql[l+32]>>4|(qh[l]>>6&3)<<4) - 32
		}
	}
}

func dequantQ6_K(dst []float32, src []byte) {
	var lv [qkK]int8
	for b := 0; b < len(dst)/qkK; b++ {
		x := src[b*q6_KBytes : (b+1)*q6_KBytes]
		y := dst[b*qkK : (b+1)*qkK]
		d := f16At(x, 208)
		q6Levels(x, &lv)
		for l := range y {
			y[l] = d * float32(int8(x[192+l/16])) * float32(lv[l])
		}
	}
}

func dotQ6_K(n int, w, a []byte) float32 {
	var sums [8]float32
	var lv [qkK]int8
	for b := 0; b < n/qkK; b++ {
		x := w[b*q6_KBytes : (b+1)*q6_KBytes]
		y := q8KBlock(a, b)
		q6Levels(x, &lv)
		var aux32 [8]int32
		for j := 0; j < 16; j++ {
			addLanes(&aux32, int32(int8(x[192+j])), y.qs[16*j:16*j+16], lv[16*j:16*j+16])
		}
		d := f16At(x, 208) * y.d
		for l := range sums {
			sums[l] += float32(d * float32(aux32[l]))
		}
	}
	var sumf float32
	for _, s := range sums {
		sumf += s
	}
	return sumf
}
