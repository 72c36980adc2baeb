package kernels

import "math"

// The float32 vector operations of a LLaMA layer, computed as ggml's CPU
// ops compute them: float32 arithmetic, with the sums that ggml keeps in
// double (ggml_float) kept in float64 here too.

// RMSNorm sets dst = x / sqrt(mean(x²) + eps) * weight, as ggml's rms_norm
// (sum of squares in float64, the scale in float32) followed by its
// element-wise mul by the norm weight. A nil weight skips the multiply.
// dst may alias x.
func RMSNorm(dst, x, weight []float32, eps float32) {
	if len(x) == 0 {
		return
	}
	dst = dst[:len(x)]
	var sum float64
	for _, v := range x {
		sum += float64(v * v)
	}
	mean := float32(sum / float64(len(x)))
	scale := 1 / float32(math.Sqrt(float64(mean+eps)))
	if weight == nil {
		for i, v := range x {
			dst[i] = v * scale
		}
		return
	}
	weight = weight[:len(x)]
	for i, v := range x {
		dst[i] = v * scale * weight[i]
	}
}

// Softmax replaces x by exp(x - max(x)) / sum, as ggml's soft_max does
// (the sum in float64, the normalising factor rounded to float32).
func Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	max := float32(math.Inf(-1))
	for _, v := range x {
		if v > max {
			max = v
		}
	}
	var sum float64
	for i, v := range x {
		e := expf(v - max)
		x[i] = e
		sum += float64(e)
	}
	inv := float32(1 / sum)
	for i := range x {
		x[i] *= inv
	}
}

func expf(x float32) float32 { return float32(math.Exp(float64(x))) }

// SiLU is x * sigmoid(x), written x / (1 + exp(-x)) as ggml_silu_f32 does.
func SiLU(x float32) float32 { return x / (1 + expf(-x)) }

// SwiGLU sets dst[i] = SiLU(gate[i]) * up[i] over len(dst) elements; dst
// may alias gate or up. As ggml_vec_swiglu_f32 built for AVX-512 (the
// reference machine): whole groups of 16 use the vectorised exp (expVec),
// the tail the C library's. The exp's last bit decides rounding of the Q8
// activations that follow, so it is matched, not approximated.
func SwiGLU(dst, gate, up []float32) {
	gate, up = gate[:len(dst)], up[:len(dst)]
	n16 := len(dst) &^ 15
	swiGLUVec(dst[:n16], gate[:n16], up[:n16])
	for i := n16; i < len(dst); i++ {
		dst[i] = SiLU(gate[i]) * up[i]
	}
}

// swiGLUVec is SwiGLU's vectorised part on the active path.
var swiGLUVec = swiGLUVecGeneric

func swiGLUVecGeneric(dst, gate, up []float32) {
	for i := range dst {
		g := gate[i]
		dst[i] = float32(g/(1+expVec(-g))) * up[i]
	}
}

// RoPE rotates each adjacent pair (x[2i], x[2i+1]) of every head of headDim
// elements in x by the angle pos * base^(-2i/headDim), as ggml's rope in
// mode 0 (LLAMA_ROPE_TYPE_NORM) does with no frequency scaling: the angles
// come from repeated multiplication by powf(base, -2/headDim), in float32,
// as in ggml_rope_cache_init. Trailing elements that do not fill a head
// are left alone; an odd headDim's last element is not rotated.
func RoPE(x []float32, pos, headDim int, base float32) {
	if headDim < 2 {
		return
	}
	half := headDim / 2
	var cs [256]float32 // cos, sin pairs; heads up to 256 wide avoid allocating
	var table []float32
	if 2*half <= len(cs) {
		table = cs[:2*half]
	} else {
		table = make([]float32, 2*half)
	}
	thetaScale := float32(math.Pow(float64(base), float64(float32(-2)/float32(headDim))))
	theta := float32(pos)
	for i := 0; i < half; i++ {
		table[2*i] = float32(math.Cos(float64(theta)))
		table[2*i+1] = float32(math.Sin(float64(theta)))
		theta *= thetaScale
	}
	for h := 0; h+headDim <= len(x); h += headDim {
		head := x[h : h+headDim]
		for i := 0; i < half; i++ {
			c, s := table[2*i], table[2*i+1]
			x0, x1 := head[2*i], head[2*i+1]
			head[2*i] = float32(x0*c) - float32(x1*s)
			head[2*i+1] = float32(x0*s) + float32(x1*c)
		}
	}
}

// Dot is the float32 dot product over len(a) elements, as VecDot on F32
// rows computes it on the active path: on the generic path each product
// rounded to float32 and summed in float64, as ggml's scalar
// ggml_vec_dot_f32 does; on the SIMD paths in the 32 lanes of the F32
// row kernel (dotF32AVX2; llama.cpp's x86 build uses tinyBLAS's 16 for
// attention's K·q).
func Dot(a, b []float32) float32 {
	b = b[:len(a)]
	return dotFloats(a, b)
}

// WeightedSum sets dst[j] = Σ_t w[t]·rows[t*stride+j] for j < len(dst),
// t < len(w): attention's probabilities times the cached V rows. Each
// product is rounded to float32 and added in increasing t, starting from
// zero, on every path (the SIMD one takes eight or more columns at a
// time, with the same operations per column).
func WeightedSum(dst, w, rows []float32, stride int) {
	if len(w) > 0 {
		_ = rows[(len(w)-1)*stride+len(dst)-1] // one bounds check for all rows
	}
	weightedSum(dst, w, rows, stride)
}

// weightedSum is WeightedSum's kernel on the active path.
var weightedSum = weightedSumGeneric

func weightedSumGeneric(dst, w, rows []float32, stride int) {
	clear(dst)
	for t, a := range w {
		row := rows[t*stride : t*stride+len(dst)]
		for j, x := range row {
			dst[j] += a * x
		}
	}
}

// DotRows sets out[t] = Dot(x, rows[t*stride:t*stride+len(x)]) for each t <
// len(out), with Dot's bits: attention's scores against the cached keys,
// in one call.
func DotRows(out, x, rows []float32, stride int) {
	if len(out) == 0 || len(x) == 0 {
		clear(out)
		return
	}
	_ = rows[(len(out)-1)*stride+len(x)-1] // one bounds check for all rows
	dotRows(out, x, rows, stride)
}

// dotRows is DotRows' kernel on the active path.
var dotRows = dotRowsGeneric

func dotRowsGeneric(out, x, rows []float32, stride int) {
	for t := range out {
		out[t] = dotFloats(x, rows[t*stride:t*stride+len(x)])
	}
}

// dotFloats is Dot's kernel on the active path.
var dotFloats = dotFloatsGeneric

func dotFloatsGeneric(a, b []float32) float32 {
	var sum float64
	for i, v := range a {
		sum += float64(v * b[i])
	}
	return float32(sum)
}
