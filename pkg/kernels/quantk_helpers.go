package kernels

import "math"

// Helpers shared by the k-quant encoders, ported from ggml-quants.c.

// groupMaxEps is ggml's GROUP_MAX_EPS: a group whose largest magnitude is
// below it is encoded as all zeros.
const groupMaxEps = 1e-15

// nearestInt rounds f to the nearest integer, ties to even, by ggml's trick
// of adding 1.5*2^23 and reading the mantissa (valid for |f| ≤ 4194303;
// outside that range it returns the same garbage ggml's does).
func nearestInt(f float32) int {
	// float32(f) is an explicit rounding: it stops the compiler fusing a
	// caller's product into this addition.
	v := float32(f) + 12582912
	i := int32(math.Float32bits(v))
	return int(i&0x007fffff - 0x00400000)
}

func clampInt(v, lo, hi int) int { return max(lo, min(hi, v)) }

// makeQXQuants is make_qx_quants(n, nmax, x, L, rmse_type=1, qw=NULL): a
// symmetric scale for x chosen among 19 candidates to minimise the
// x²-weighted squared error. L receives levels in [0, 2*nmax).
func makeQXQuants(nmax int, x []float32, L []int8) float32 {
	n := len(x)
	var max, amax float32
	for i := 0; i < n; i++ {
		if ax := abs32(x[i]); ax > amax {
			amax, max = ax, x[i]
		}
	}
	if amax < groupMaxEps {
		for i := range L[:n] {
			L[i] = 0
		}
		return 0
	}
	iscale := float32(-nmax) / max
	var sumlx, suml2 float32
	for i := 0; i < n; i++ {
		l := clampInt(nearestInt(iscale*x[i]), -nmax, nmax-1)
		L[i] = int8(l + nmax)
		w := x[i] * x[i]
		fl := float32(l)
		sumlx += float32(w * x[i] * fl)
		suml2 += float32(w * fl * fl)
	}
	var scale float32
	if suml2 != 0 {
		scale = sumlx / suml2
	}
	best := scale * sumlx
	for is := -9; is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale = -(float32(nmax) + float32(0.1*float32(is))) / max
		sumlx, suml2 = 0, 0
		for i := 0; i < n; i++ {
			l := clampInt(nearestInt(iscale*x[i]), -nmax, nmax-1)
			w := x[i] * x[i]
			fl := float32(l)
			sumlx += float32(w * x[i] * fl)
			suml2 += float32(w * fl * fl)
		}
		if suml2 > 0 && sumlx*sumlx > best*suml2 {
			for i := 0; i < n; i++ {
				L[i] = int8(nmax + clampInt(nearestInt(iscale*x[i]), -nmax, nmax-1))
			}
			scale = sumlx / suml2
			best = scale * sumlx
		}
	}
	return scale
}

// makeQ3Quants is make_q3_quants(n, nmax, x, L, do_rmse=true): a symmetric
// scale refined by moving single levels while the x²-weighted fit
// improves. L receives levels in [0, 2*nmax).
func makeQ3Quants(nmax int, x []float32, L []int8) float32 {
	n := len(x)
	var max, amax float32
	for i := 0; i < n; i++ {
		if ax := abs32(x[i]); ax > amax {
			amax, max = ax, x[i]
		}
	}
	if amax < groupMaxEps {
		for i := range L[:n] {
			L[i] = 0
		}
		return 0
	}
	iscale := float32(-nmax) / max
	var sumlx, suml2 float32
	for i := 0; i < n; i++ {
		l := clampInt(nearestInt(iscale*x[i]), -nmax, nmax-1)
		L[i] = int8(l)
		w := x[i] * x[i]
		fl := float32(l)
		sumlx += float32(w * x[i] * fl)
		suml2 += float32(w * fl * fl)
	}
	for itry := 0; itry < 5; itry++ {
		changed := 0
		for i := 0; i < n; i++ {
			w := x[i] * x[i]
			li := float32(L[i])
			slx := sumlx - float32(w*x[i]*li)
			if slx > 0 {
				sl2 := suml2 - float32(w*li*li)
				newL := clampInt(nearestInt(x[i]*sl2/slx), -nmax, nmax-1)
				if newL != int(L[i]) {
					fl := float32(newL)
					slx += float32(w * x[i] * fl)
					sl2 += float32(w * fl * fl)
					if sl2 > 0 && slx*slx*suml2 > sumlx*sumlx*sl2 {
						L[i] = int8(newL)
						sumlx, suml2 = slx, sl2
						changed++
					}
				}
			}
		}
		if changed == 0 {
			break
		}
	}
	for i := 0; i < n; i++ {
		L[i] += int8(nmax)
	}
	if suml2 > 0 {
		return sumlx / suml2
	}
	return 0
}

// makeQKX2Quants is make_qkx2_quants: an asymmetric fit x ≈ scale*L - min
// with L in [0, nmax], searching nstep+1 candidate scales for the smallest
// weighted error (absolute when useMad, squared otherwise). It returns the
// scale and the (non-negative) min; laux is scratch of len(x).
func makeQKX2Quants(nmax int, x, weights []float32, L, laux []uint8,
	rmin, rdelta float32, nstep int, useMad bool) (scale, theMin float32) {
	n := len(x)
	min, max := x[0], x[0]
	sumW := weights[0]
	sumX := float32(sumW * x[0])
	for i := 1; i < n; i++ {
		if x[i] < min {
			min = x[i]
		}
		if x[i] > max {
			max = x[i]
		}
		w := weights[i]
		sumW += w
		sumX += float32(w * x[i])
	}
	if min > 0 {
		min = 0
	}
	if max == min {
		for i := range L[:n] {
			L[i] = 0
		}
		return 0, -min
	}
	iscale := float32(nmax) / (max - min)
	scale = 1 / iscale
	errOf := func(diff float32) float32 {
		if useMad {
			return abs32(diff)
		}
		return diff * diff
	}
	var bestError float32
	for i := 0; i < n; i++ {
		l := clampInt(nearestInt(iscale*(x[i]-min)), 0, nmax)
		L[i] = uint8(l)
		diff := float32(scale*float32(l)) + min - x[i]
		bestError += float32(weights[i] * errOf(diff))
	}
	if nstep < 1 {
		return scale, -min
	}
	for is := 0; is <= nstep; is++ {
		iscale = (rmin + float32(rdelta*float32(is)) + float32(nmax)) / (max - min)
		var sumL, sumL2, sumXL float32
		for i := 0; i < n; i++ {
			l := clampInt(nearestInt(iscale*(x[i]-min)), 0, nmax)
			laux[i] = uint8(l)
			w := weights[i]
			fl := float32(l)
			sumL += float32(w * fl)
			sumL2 += float32(w * fl * fl)
			sumXL += float32(w * fl * x[i])
		}
		D := float32(sumW*sumL2) - float32(sumL*sumL)
		if D > 0 {
			thisScale := (float32(sumW*sumXL) - float32(sumX*sumL)) / D
			thisMin := (float32(sumL2*sumX) - float32(sumL*sumXL)) / D
			if thisMin > 0 {
				thisMin = 0
				thisScale = sumXL / sumL2
			}
			var curError float32
			for i := 0; i < n; i++ {
				diff := float32(thisScale*float32(laux[i])) + thisMin - x[i]
				curError += float32(weights[i] * errOf(diff))
			}
			if curError < bestError {
				copy(L[:n], laux[:n])
				bestError = curError
				scale, min = thisScale, thisMin
			}
		}
	}
	return scale, -min
}

// scaleMinK4 is get_scale_min_k4: the 6-bit scale and min of sub-block j
// (0..7) from the 12 packed bytes of a Q4_K/Q5_K block.
func scaleMinK4(j int, q []byte) (sc, m uint8) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	return q[j+4]&0xf | (q[j-4]>>6)<<4, q[j+4]>>4 | (q[j]>>6)<<4
}

// packScaleMinK4 stores the 6-bit scales and mins of the 8 sub-blocks in
// 12 bytes, the inverse of scaleMinK4 (as quantize_row_q4_K_ref packs them).
func packScaleMinK4(q []byte, ls, lm *[8]uint8) {
	for j := range q[:12] {
		q[j] = 0
	}
	for j := 0; j < 8; j++ {
		if j < 4 {
			q[j] = ls[j]
			q[j+4] = lm[j]
		} else {
			q[j+4] = ls[j]&0xf | (lm[j]&0xf)<<4
			q[j-4] |= (ls[j] >> 4) << 6
			q[j] |= (lm[j] >> 4) << 6
		}
	}
}

// q3Scale decodes the 6-bit signed scale of sub-block j (0..15) from the 12
// packed bytes of a Q3_K block.
func q3Scale(j int, s []byte) int {
	var lo uint8
	if j < 8 {
		lo = s[j] & 0xf
	} else {
		lo = s[j-8] >> 4
	}
	return int(lo|(s[8+j%4]>>(2*(j/4))&3)<<4) - 32
}
