//go:build amd64 && !purego

#include "textflag.h"
#include "avx2_amd64.h"

// Tiled matrix-matrix kernels for MatMul's batches: R weight rows against
// T activation rows (tokens) at once, R*T accumulators in registers, each
// weight block loaded and decoded once per tile and used for T tokens.
//
// Q4_0 and Q8_0 weights against Q8_0 activations share one kernel,
// tileQSplit2x4AVX2: the weights as signed bytes w (Q8_0's own; Q4_0's
// nibble - 8, expanded once per batch by expandQ4_0AVX2), and as in
// dotQ8_0AVX2 the pairs |w| * (a * sign(w)) are summed by vpmaddubsw and
// vpmaddwd into eight int32 lanes (lane l: elements 4l..4l+3), converted
// to float32 and added with one fused multiply-add, acc = fma(d, sum,
// acc), d = f16(w.d) * f16(a.d) rounded to float32 (the product of two
// halves is exact in float32, so the order of its factors is free). Integer
// sums are exact however they are formed, so every output gets the
// single-row kernels' (and the generic code's) bits; the lanes are added
// at the end in hsum_float_8's order. As for dotQ8_0AVX2, activation
// bytes must lie in [-127, 127] (vpsignb of -128); any weight byte is
// exact.
//
// Weight addressing: block k of row r at base + r*rowStride +
// k*blockStride. Row-major rows have rowStride = row bytes, blockStride =
// block bytes; rows stored interleaved by quads (block k of rows 4q..4q+3
// side by side) have rowStride = block bytes, blockStride = 4 * block
// bytes. Result (r, t) goes to out + t*outStride + 4*r.

// vpsrlvd counts: the low 128 bits by 0, the high ones by 4.
DATA tileShift<>+0(SB)/8, $0
DATA tileShift<>+8(SB)/8, $0
DATA tileShift<>+16(SB)/8, $0x0000000400000004
DATA tileShift<>+24(SB)/8, $0x0000000400000004
GLOBL tileShift<>(SB), RODATA|NOPTR, $32

// HSUMR(acc, xacc, dst) adds acc's lanes in hsum_float_8's order, as
// HSUM8, and stores the float at dst. Clobbers X10.
#define HSUMR(acc, xacc, dst) \
	VEXTRACTF128 $1, acc, X10; \
	VADDPS       X10, xacc, xacc; \
	VMOVHLPS     xacc, xacc, X10; \
	VADDPS       X10, xacc, xacc; \
	VMOVSHDUP    xacc, X10; \
	VADDSS       X10, xacc, xacc; \
	VMOVSS       xacc, dst

// tileQSplit2x4AVX2: 2 rows x 4 tokens. The weights' signed bytes and
// their f16 scales are addressed apart (so Q4_0 rows can be expanded to
// bytes once per batch while the scales stay in place): byte block k of
// row r at wq + r*qRow + k*qBlock, its scale at wd + r*dRow + k*dBlock.
// Token t's Q8_0 block k at a + t*aStride + 34k (bytes at +2), its scale
// as float32 at sc + 4t + k*scBlock: a block's four token scales are
// adjacent, so each row's four d = f16(w.d) * f16(a.d) come from one
// multiply, kept on the stack for the token steps to broadcast.
//
// Registers: Y15 int16 ones, Y14 the weight block w, Y13 |w|, Y10/Y11
// scratch, Y0-Y3 row 0's accumulators (tokens 0-3), Y4-Y7 row 1's. SI the
// weight bytes, R11 qRow, R13 qBlock; R10 the weight scales, R12 dRow, AX
// dBlock; DI token 0's block, BX aStride, DX 3*aStride; R8 the token
// scales, R9 scBlock; CX blocks left.

// QDOTS(qs, d, acc): the token block with bytes at qs and scale d (on the
// stack) against the weight block in Y14/Y13, into acc.
#define QDOTS(qs, d, acc) \
	VMOVDQU      qs, Y10; \
	VPSIGNB      Y14, Y10, Y10; \
	VPMADDUBSW   Y10, Y13, Y10; \
	VPMADDWD     Y15, Y10, Y10; \
	VCVTDQ2PS    Y10, Y10; \
	VBROADCASTSS d, Y11; \
	VFMADD231PS  Y10, Y11, acc

// TILEQ2X4(qdots) is the body of the 2x4 tiles: qdots(qs, d, acc) takes
// one token block against the weight block in Y14 (|w| in Y13).
#define TILEQ2X4(qdots) \
	MOVQ nb+0(FP), CX; \
	MOVQ wq+8(FP), SI; \
	MOVQ qRow+16(FP), R11; \
	MOVQ qBlock+24(FP), R13; \
	MOVQ wd+32(FP), R10; \
	MOVQ dRow+40(FP), R12; \
	MOVQ dBlock+48(FP), AX; \
	MOVQ a+56(FP), DI; \
	MOVQ aStride+64(FP), BX; \
	MOVQ sc+72(FP), R8; \
	MOVQ scBlock+80(FP), R9; \
	LEAQ (BX)(BX*2), DX; \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3; \
	VXORPS Y4, Y4, Y4; \
	VXORPS Y5, Y5, Y5; \
	VXORPS Y6, Y6, Y6; \
	VXORPS Y7, Y7, Y7; \
	TESTQ CX, CX; \
	JZ    qs24done; \
qs24loop: \
	VPBROADCASTW (R10), X8; \
	VPBROADCASTW (R10)(R12*1), X9; \
	VCVTPH2PS    X8, X8; \
	VCVTPH2PS    X9, X9; \
	VMULPS       (R8), X8, X8; \
	VMULPS       (R8), X9, X9; \
	VMOVUPS      X8, 0(SP); \
	VMOVUPS      X9, 16(SP); \
	VMOVDQU      (SI), Y14; \
	VPABSB       Y14, Y13; \
	qdots(2(DI), 0(SP), Y0); \
	qdots(2(DI)(BX*1), 4(SP), Y1); \
	qdots(2(DI)(BX*2), 8(SP), Y2); \
	qdots(2(DI)(DX*1), 12(SP), Y3); \
	VMOVDQU      (SI)(R11*1), Y14; \
	VPABSB       Y14, Y13; \
	qdots(2(DI), 16(SP), Y4); \
	qdots(2(DI)(BX*1), 20(SP), Y5); \
	qdots(2(DI)(BX*2), 24(SP), Y6); \
	qdots(2(DI)(DX*1), 28(SP), Y7); \
	ADDQ R13, SI; \
	ADDQ AX, R10; \
	ADDQ $34, DI; \
	ADDQ R9, R8; \
	DECQ CX; \
	JNZ  qs24loop; \
qs24done: \
	MOVQ out+88(FP), AX; \
	MOVQ outStride+96(FP), BX; \
	LEAQ (BX)(BX*2), DX; \
	HSUMR(Y0, X0, 0(AX)); \
	HSUMR(Y1, X1, 0(AX)(BX*1)); \
	HSUMR(Y2, X2, 0(AX)(BX*2)); \
	HSUMR(Y3, X3, 0(AX)(DX*1)); \
	HSUMR(Y4, X4, 4(AX)); \
	HSUMR(Y5, X5, 4(AX)(BX*1)); \
	HSUMR(Y6, X6, 4(AX)(BX*2)); \
	HSUMR(Y7, X7, 4(AX)(DX*1)); \
	VZEROUPPER; \
	RET

// func tileQSplit2x4AVX2(nb int, wq *byte, qRow, qBlock int, wd *byte, dRow, dBlock int, a *byte, aStride int, sc *float32, scBlock int, out *float32, outStride int)
TEXT ·tileQSplit2x4AVX2(SB), NOSPLIT, $32-104
	VMOVDQU words1<>(SB), Y15
	TILEQ2X4(QDOTS)

// func expandQ4_0AVX2(nb int, dst *byte, src *byte, blockStride int)
//
// Writes the levels of nb Q4_0 blocks (block k's 16 bytes of levels at src
// + k*blockStride) as
// signed bytes, nibble - 8, 32 per block to dst (elements 0-15 from the
// low nibbles, 16-31 from the high ones, as dequantQ4_0 orders them).
TEXT ·expandQ4_0AVX2(SB), NOSPLIT, $0-32
	MOVQ nb+0(FP), CX
	MOVQ dst+8(FP), DI
	MOVQ src+16(FP), SI
	MOVQ blockStride+24(FP), BX
	VMOVDQU tileShift<>(SB), Y13
	VMOVDQU bytes0f<>(SB), Y14
	VMOVDQU bytes08<>(SB), Y15
	TESTQ CX, CX
	JZ    x4done

x4loop:
	VBROADCASTI128 (SI), Y0
	VPSRLVD Y13, Y0, Y0
	VPAND   Y14, Y0, Y0
	VPSUBB  Y15, Y0, Y0
	VMOVDQU Y0, (DI)
	ADDQ BX, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  x4loop

x4done:
	VZEROUPPER
	RET

// F16 weights against float32 activations (the F16 activation row
// converted, exactly), 2 rows x 3 tokens, in dotF16AVX2's order, so each
// output has its bits: element i of a row is fused into lane i mod 16 of
// the (row, token) sum (lanes 0-7 and 8-15 in two accumulators), in
// increasing i, then lanes i and i+8 are added and the eight sums added
// in hsum_float_8's order. n must be a multiple of 16 (dotF16AVX2's tail
// is not repeated here). Y12-Y14 hold the three tokens' eight floats, Y15
// a row's eight weights converted; row r, token t accumulates lanes 0-7
// in Y(3r+t) and lanes 8-15 in Y(6+3r+t).
//
// func tileF16x2x3AVX2(n int, w *byte, rowStride int, a *float32, aStride int, out *float32, outStride int)
TEXT ·tileF16x2x3AVX2(SB), NOSPLIT, $0-56
	MOVQ n+0(FP), CX
	MOVQ w+8(FP), SI
	MOVQ rowStride+16(FP), R11
	MOVQ a+24(FP), DI
	MOVQ aStride+32(FP), BX
	SHRQ $4, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	TESTQ CX, CX
	JZ    f16t23done

f16t23loop:
	VMOVUPS     (DI), Y12
	VMOVUPS     (DI)(BX*1), Y13
	VMOVUPS     (DI)(BX*2), Y14
	VCVTPH2PS   (SI), Y15
	VFMADD231PS Y12, Y15, Y0
	VFMADD231PS Y13, Y15, Y1
	VFMADD231PS Y14, Y15, Y2
	VCVTPH2PS   (SI)(R11*1), Y15
	VFMADD231PS Y12, Y15, Y3
	VFMADD231PS Y13, Y15, Y4
	VFMADD231PS Y14, Y15, Y5
	VMOVUPS     32(DI), Y12
	VMOVUPS     32(DI)(BX*1), Y13
	VMOVUPS     32(DI)(BX*2), Y14
	VCVTPH2PS   16(SI), Y15
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VFMADD231PS Y14, Y15, Y8
	VCVTPH2PS   16(SI)(R11*1), Y15
	VFMADD231PS Y12, Y15, Y9
	VFMADD231PS Y13, Y15, Y10
	VFMADD231PS Y14, Y15, Y11
	ADDQ $32, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  f16t23loop

f16t23done:
	VADDPS Y6, Y0, Y0
	VADDPS Y7, Y1, Y1
	VADDPS Y8, Y2, Y2
	VADDPS Y9, Y3, Y3
	VADDPS Y10, Y4, Y4
	VADDPS Y11, Y5, Y5
	MOVQ out+40(FP), AX
	MOVQ outStride+48(FP), BX
	HSUMR(Y0, X0, 0(AX))
	HSUMR(Y1, X1, 0(AX)(BX*1))
	HSUMR(Y2, X2, 0(AX)(BX*2))
	HSUMR(Y3, X3, 4(AX))
	HSUMR(Y4, X4, 4(AX)(BX*1))
	HSUMR(Y5, X5, 4(AX)(BX*2))
	VZEROUPPER
	RET

// func f16ToF32AVX2(dst []float32, src []byte)
//
// dst[i] = the f16 at src[2i:], len(dst) a multiple of 8.
TEXT ·f16ToF32AVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ src_base+24(FP), SI
	SHRQ $3, CX
	TESTQ CX, CX
	JZ    h2fdone

h2floop:
	VCVTPH2PS (SI), Y0
	VMOVUPS   Y0, (DI)
	ADDQ $16, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  h2floop

h2fdone:
	VZEROUPPER
	RET

// func quantizeF16AVX2(dst []byte, src []float32)
//
// dst[2i:] = f16(src[i]) rounded to nearest even (FP32ToFP16), 8 at a
// time; the len(src) mod 8 tail is left to the caller.
TEXT ·quantizeF16AVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	SHRQ $3, CX
	TESTQ CX, CX
	JZ    f2hdone

f2hloop:
	VMOVUPS   (SI), Y0
	VCVTPS2PH $0, Y0, X0
	VMOVDQU   X0, (DI)
	ADDQ $32, SI
	ADDQ $16, DI
	DECQ CX
	JNZ  f2hloop

f2hdone:
	VZEROUPPER
	RET

// QDOTSV(qs, d, acc): QDOTS with vpdpbusd.
#define QDOTSV(qs, d, acc) \
	VMOVDQU      qs, Y10; \
	VPSIGNB      Y14, Y10, Y10; \
	VPXOR        Y15, Y15, Y15; \
	VPDPBUSD     Y10, Y13, Y15; \
	VCVTDQ2PS    Y15, Y15; \
	VBROADCASTSS d, Y11; \
	VFMADD231PS  Y15, Y11, acc

// func tileQSplit2x4VNNI(nb int, wq *byte, qRow, qBlock int, wd *byte, dRow, dBlock int, a *byte, aStride int, sc *float32, scBlock int, out *float32, outStride int)
//
// tileQSplit2x4AVX2 (same arguments, registers and results) with
// vpdpbusd; Y15 is its int32 scratch instead of the int16 ones.
TEXT ·tileQSplit2x4VNNI(SB), NOSPLIT, $32-104
	TILEQ2X4(QDOTSV)
