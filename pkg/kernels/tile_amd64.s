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

// BF16 weights against float32 activations (the BF16 activation row
// converted, exactly, and laid out by bf16TileActAVX2), 3 rows x 2 tokens,
// in dotBF16AVX2's order, so each output has its bits.
//
// dotBF16AVX2 fuses element i of a row into lane i mod 32 of four 8-lane
// sums Y0-Y3, element 32k+l in increasing k; a 16-element rest after the
// groups of 32 goes into Y0, Y1 (lanes 0-15, again i mod 32), then an
// 8-element rest into Y3; at the end (Y0+Y2) + (Y1+Y3) and hsum_float_8's
// order. Four sums for each of 6 outputs are 24 registers, so the row is
// taken twice: pass 1 over each group's elements 0-15 (and the 16-element
// rest), pass 2 over elements 16-31 (and the 8-element rest), pass 1's
// sums kept on the stack. The weights are widened by vpunpcklwd and
// vpunpckhwd with zero (one load and shuffle each; no shift, which would
// compete with the FMAs): 16 bf16 become [0-3 | 8-11] and [4-7 | 12-15]
// as floats, and the activations come in the same order, so a register
// lane holds the sum of one lane of dotBF16AVX2's, the same products in
// the same order, only in another place: pass 1's two registers P, Q are
// Y0/Y1's lanes [Y0 0-3 | Y1 0-3] and [Y0 4-7 | Y1 4-7], pass 2's U, V
// the same of Y2/Y3. (P+U) and (Q+V) are then Y0+Y2 and Y1+Y3 in that
// arrangement, their halves added give Y0+Y1's lanes 0-3 and 4-7, and
// those two added give hsum_float_8's first step; the rest is HSUMR's.
// The products of two bf16 are exact in float32, so only the sums round,
// in the same order.
//
// n must be a multiple of 8 (dotBF16AVX2's one-at-a-time tail is not
// repeated here). Row r at w + r*rowStride, token t's activations at a +
// t*aStride, result (r, t) to out + t*outStride + 4r.
//
// Registers: Y15 zero, Y14 a row's eight widened weights, Y12/Y13 the two
// tokens' eight activations, Y(4r+2t) and Y(4r+2t+1) the two sums of row r
// and token t (pass 1's stored at (4r+2t)*32(SP) and (4r+2t+1)*32(SP)); SI
// the weights, R11 rowStride, DI the activations, BX aStride, CX steps
// left.

// BF16HALF(unpack, off) is one half of a 16-element step: the activations
// at off(DI) against the three rows' weights widened by unpack, into the
// sums Y0, Y2, ... (unpack = vpunpcklwd) or Y1, Y3, ... (vpunpckhwd).
#define BF16HALF(unpack, off, a0, a1, a2, a3, a4, a5) \
	VMOVUPS     off(DI), Y12; \
	VMOVUPS     off(DI)(BX*1), Y13; \
	unpack      (SI), Y15, Y14; \
	VFMADD231PS Y12, Y14, a0; \
	VFMADD231PS Y13, Y14, a1; \
	unpack      (SI)(R11*1), Y15, Y14; \
	VFMADD231PS Y12, Y14, a2; \
	VFMADD231PS Y13, Y14, a3; \
	unpack      (SI)(R11*2), Y15, Y14; \
	VFMADD231PS Y12, Y14, a4; \
	VFMADD231PS Y13, Y14, a5

// BF16PASS(loop, done): CX steps of 16 elements, the weights 64 and the
// activations 128 bytes apart.
#define BF16PASS(loop, done) \
	TESTQ CX, CX; \
	JZ    done; \
loop: \
	BF16HALF(VPUNPCKLWD, 0, Y0, Y2, Y4, Y6, Y8, Y10); \
	BF16HALF(VPUNPCKHWD, 32, Y1, Y3, Y5, Y7, Y9, Y11); \
	ADDQ $64, SI; \
	ADDQ $128, DI; \
	DECQ CX; \
	JNZ  loop; \
done:

#define BF16ZERO \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3; \
	VXORPS Y4, Y4, Y4; \
	VXORPS Y5, Y5, Y5; \
	VXORPS Y6, Y6, Y6; \
	VXORPS Y7, Y7, Y7; \
	VXORPS Y8, Y8, Y8; \
	VXORPS Y9, Y9, Y9; \
	VXORPS Y10, Y10, Y10; \
	VXORPS Y11, Y11, Y11

// BF16REST8(a0, a1, u, v) fuses the 8-element rest, widened into X12
// (elements 0-3) and X13 (4-7), with a token's activations at a0 (0-3)
// and a1 (4-7) into the high halves of its pass 2 sums u, v, which hold
// Y3's lanes 0-3 and 4-7. Clobbers X14.
#define BF16REST8(a0, a1, u, v) \
	VEXTRACTF128 $1, u, X14; \
	VFMADD231PS  a0, X12, X14; \
	VINSERTF128  $1, X14, u, u; \
	VEXTRACTF128 $1, v, X14; \
	VFMADD231PS  a1, X13, X14; \
	VINSERTF128  $1, X14, v, v

// BF16OUT(u, v, xu, xv, p, q, dst): output from pass 1's sums at p(SP),
// q(SP) and pass 2's u, v; the sum of all lanes, in dotBF16AVX2's order,
// to dst. Clobbers X14.
#define BF16OUT(u, v, xu, xv, p, q, dst) \
	VADDPS       p(SP), u, u; \
	VADDPS       q(SP), v, v; \
	VEXTRACTF128 $1, u, X14; \
	VADDPS       X14, xu, xu; \
	VEXTRACTF128 $1, v, X14; \
	VADDPS       X14, xv, xv; \
	VADDPS       xv, xu, xu; \
	VMOVHLPS     xu, xu, X14; \
	VADDPS       X14, xu, xu; \
	VMOVSHDUP    xu, X14; \
	VADDSS       X14, xu, xu; \
	VMOVSS       xu, dst

// func tileBF16x3x2AVX2(n int, w *byte, rowStride int, a *float32, aStride int, out *float32, outStride int)
TEXT ·tileBF16x3x2AVX2(SB), NOSPLIT, $384-56
	MOVQ n+0(FP), CX
	MOVQ w+8(FP), SI
	MOVQ rowStride+16(FP), R11
	MOVQ a+24(FP), DI
	MOVQ aStride+32(FP), BX
	VPXOR Y15, Y15, Y15
	BF16ZERO
	ADDQ $16, CX
	SHRQ $5, CX
	BF16PASS(bt1loop, bt1done)
	VMOVUPS Y0, 0(SP)
	VMOVUPS Y1, 32(SP)
	VMOVUPS Y2, 64(SP)
	VMOVUPS Y3, 96(SP)
	VMOVUPS Y4, 128(SP)
	VMOVUPS Y5, 160(SP)
	VMOVUPS Y6, 192(SP)
	VMOVUPS Y7, 224(SP)
	VMOVUPS Y8, 256(SP)
	VMOVUPS Y9, 288(SP)
	VMOVUPS Y10, 320(SP)
	VMOVUPS Y11, 352(SP)
	BF16ZERO
	MOVQ n+0(FP), CX
	MOVQ w+8(FP), SI
	MOVQ a+24(FP), DI
	ADDQ $32, SI
	ADDQ $64, DI
	SHRQ $5, CX
	BF16PASS(bt2loop, bt2done)
	MOVQ n+0(FP), CX
	TESTQ $8, CX
	JZ    btout
	ANDQ $-16, CX
	MOVQ w+8(FP), SI
	MOVQ a+24(FP), DI
	LEAQ (SI)(CX*2), SI
	LEAQ (DI)(CX*4), DI
	VPUNPCKLWD (SI), X15, X12
	VPUNPCKHWD (SI), X15, X13
	BF16REST8((DI), 16(DI), Y0, Y1)
	BF16REST8((DI)(BX*1), 16(DI)(BX*1), Y2, Y3)
	VPUNPCKLWD (SI)(R11*1), X15, X12
	VPUNPCKHWD (SI)(R11*1), X15, X13
	BF16REST8((DI), 16(DI), Y4, Y5)
	BF16REST8((DI)(BX*1), 16(DI)(BX*1), Y6, Y7)
	VPUNPCKLWD (SI)(R11*2), X15, X12
	VPUNPCKHWD (SI)(R11*2), X15, X13
	BF16REST8((DI), 16(DI), Y8, Y9)
	BF16REST8((DI)(BX*1), 16(DI)(BX*1), Y10, Y11)

btout:
	MOVQ out+40(FP), AX
	MOVQ outStride+48(FP), BX
	BF16OUT(Y0, Y1, X0, X1, 0, 32, 0(AX))
	BF16OUT(Y2, Y3, X2, X3, 64, 96, 0(AX)(BX*1))
	BF16OUT(Y4, Y5, X4, X5, 128, 160, 4(AX))
	BF16OUT(Y6, Y7, X6, X7, 192, 224, 4(AX)(BX*1))
	BF16OUT(Y8, Y9, X8, X9, 256, 288, 8(AX))
	BF16OUT(Y10, Y11, X10, X11, 320, 352, 8(AX)(BX*1))
	VZEROUPPER
	RET

// func bf16TileActAVX2(dst []float32, src []byte)
//
// Widens len(dst) bf16 at src (len(dst) a multiple of 8) to float32 in
// tileBF16x3x2AVX2's order: each 16 as elements [0-3, 8-11, 4-7, 12-15]
// (vpunpcklwd and vpunpckhwd with zero, as the tile widens its weights),
// an 8-element rest as it is (the tile widens it 4 and 4).
TEXT ·bf16TileActAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ src_base+24(FP), SI
	VPXOR Y15, Y15, Y15
	MOVQ  CX, DX
	SHRQ  $4, CX
	TESTQ CX, CX
	JZ    b2frest

b2floop:
	VPUNPCKLWD (SI), Y15, Y0
	VPUNPCKHWD (SI), Y15, Y1
	VMOVUPS    Y0, (DI)
	VMOVUPS    Y1, 32(DI)
	ADDQ $32, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  b2floop

b2frest:
	TESTQ $8, DX
	JZ    b2fdone
	VPUNPCKLWD (SI), X15, X0
	VPUNPCKHWD (SI), X15, X1
	VMOVUPS    X0, (DI)
	VMOVUPS    X1, 16(DI)

b2fdone:
	VZEROUPPER
	RET
