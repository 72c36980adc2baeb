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

// PACKQUADARGS loads the arguments of packQ4_0QuadAVX2 and
// packQ8_0QuadAVX2 (func(nb int, dstW, dstD, levels *byte, levelsRow int,
// scale *byte, scaleRow, blockStride int)): CX nb, DI dstW, DX dstD, SI
// levels, R11/R13 one and three levelsRow, R10 scale, R12/R14 one and three
// scaleRow, BX blockStride.
#define PACKQUADARGS \
	MOVQ nb+0(FP), CX; \
	MOVQ dstW+8(FP), DI; \
	MOVQ dstD+16(FP), DX; \
	MOVQ levels+24(FP), SI; \
	MOVQ levelsRow+32(FP), R11; \
	MOVQ scale+40(FP), R10; \
	MOVQ scaleRow+48(FP), R12; \
	MOVQ blockStride+56(FP), BX; \
	LEAQ (R11)(R11*2), R13; \
	LEAQ (R12)(R12*2), R14

// PACKSCALES converts the four rows' f16 scales of a block (at R10, R12
// bytes apart) and stores them as float32 at DX.
#define PACKSCALES \
	VPINSRW   $0, (R10), X8, X8; \
	VPINSRW   $1, (R10)(R12*1), X8, X8; \
	VPINSRW   $2, (R10)(R12*2), X8, X8; \
	VPINSRW   $3, (R10)(R14*1), X8, X8; \
	VCVTPH2PS X8, X8; \
	VMOVUPS   X8, (DX)

// TRANSPOSE4 transposes the dwords of Y0-Y3 (four rows) within each
// 128-bit lane: Y(j) gets dword j of each row, in row order. Clobbers
// Y4-Y7.
#define TRANSPOSE4 \
	VPUNPCKLDQ  Y1, Y0, Y4; \
	VPUNPCKHDQ  Y1, Y0, Y5; \
	VPUNPCKLDQ  Y3, Y2, Y6; \
	VPUNPCKHDQ  Y3, Y2, Y7; \
	VPUNPCKLQDQ Y6, Y4, Y0; \
	VPUNPCKHQDQ Y6, Y4, Y1; \
	VPUNPCKLQDQ Y7, Y5, Y2; \
	VPUNPCKHQDQ Y7, Y5, Y3

// BWTILE3(body, wStep, aStep, sStep) is the frame of the blockwise 16 x 3
// kernels (func(nb int, w *byte, a, side, acc *float32)): the six float
// sums loaded from acc, body once per block, then w, a and side advanced
// by a block, and the sums stored back. Registers: CX blocks left, SI w, DI
// a, R8 side, R10 acc; Y0-Y5 the sums (token t, octet o in Y(2t+o)).
#define BWTILE3(body, wStep, aStep, sStep) \
	MOVQ    nb+0(FP), CX; \
	MOVQ    w+8(FP), SI; \
	MOVQ    a+16(FP), DI; \
	MOVQ    side+24(FP), R8; \
	MOVQ    acc+32(FP), R10; \
	VMOVUPS 0(R10), Y0; \
	VMOVUPS 32(R10), Y1; \
	VMOVUPS 64(R10), Y2; \
	VMOVUPS 96(R10), Y3; \
	VMOVUPS 128(R10), Y4; \
	VMOVUPS 160(R10), Y5; \
	TESTQ   CX, CX; \
	JZ      bwdone; \
bwloop: \
	body; \
	ADDQ    $wStep, SI; \
	ADDQ    $aStep, DI; \
	ADDQ    $sStep, R8; \
	DECQ    CX; \
	JNZ     bwloop; \
bwdone: \
	VMOVUPS Y0, 0(R10); \
	VMOVUPS Y1, 32(R10); \
	VMOVUPS Y2, 64(R10); \
	VMOVUPS Y3, 96(R10); \
	VMOVUPS Y4, 128(R10); \
	VMOVUPS Y5, 160(R10); \
	VZEROUPPER; \
	RET

// vpsrlvd counts: the low 128 bits by 0, the high ones by 4.
DATA tileShift<>+0(SB)/8, $0
DATA tileShift<>+8(SB)/8, $0
DATA tileShift<>+16(SB)/8, $0x0000000400000004
DATA tileShift<>+24(SB)/8, $0x0000000400000004
GLOBL tileShift<>(SB), RODATA|NOPTR, $32

// Bytes of 1, for vpmaddubsw to add pairs of signed bytes.
DATA bytes01<>+0(SB)/8, $0x0101010101010101
DATA bytes01<>+8(SB)/8, $0x0101010101010101
DATA bytes01<>+16(SB)/8, $0x0101010101010101
DATA bytes01<>+24(SB)/8, $0x0101010101010101
GLOBL bytes01<>(SB), RODATA|NOPTR, $32

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

// F16ARGS(shift) loads the first arguments of the F16 packers and
// converters (func(n int, dst, src *...)): CX n >> shift (eights or pairs
// of them), DI dst, SI src; PACKF16ARGS also R11, the packers' rowStride.
#define F16ARGS(shift) \
	MOVQ n+0(FP), CX; \
	MOVQ dst+8(FP), DI; \
	MOVQ src+16(FP), SI; \
	SHRQ $shift, CX
#define PACKF16ARGS(shift) \
	F16ARGS(shift); \
	MOVQ rowStride+24(FP), R11

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

// func quantizeBF16AVX2(dst []byte, src []float32)
//
// dst[2i:] = FP32ToBF16(src[i]), 8 at a time, with FP32ToBF16's integer
// steps: (u + 0x7fff + ((u >> 16) & 1)) >> 16 rounds to nearest even (a
// finite float at the top rounds to infinity, as there), and a NaN (|u| >
// 0x7f800000) keeps its high half with the quiet bit (64) set. The
// len(src) mod 8 tail is left to the caller.
TEXT ·quantizeBF16AVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	SHRQ $3, CX
	TESTQ CX, CX
	JZ    f2bdone
	MOVL         $0x7fffffff, AX
	VMOVD        AX, X15
	VPBROADCASTD X15, Y15
	MOVL         $0x7f800000, AX
	VMOVD        AX, X14
	VPBROADCASTD X14, Y14
	MOVL         $0x7fff, AX
	VMOVD        AX, X13
	VPBROADCASTD X13, Y13
	MOVL         $1, AX
	VMOVD        AX, X12
	VPBROADCASTD X12, Y12
	MOVL         $64, AX
	VMOVD        AX, X11
	VPBROADCASTD X11, Y11

f2bloop:
	VMOVDQU   (SI), Y0
	VPAND     Y15, Y0, Y1
	VPCMPGTD  Y14, Y1, Y1 // NaN lanes
	VPSRLD    $16, Y0, Y2
	VPAND     Y12, Y2, Y3
	VPADDD    Y13, Y3, Y3
	VPADDD    Y0, Y3, Y3
	VPSRLD    $16, Y3, Y3 // rounded
	VPOR      Y11, Y2, Y2 // quiet NaN
	VPBLENDVB Y1, Y2, Y3, Y3
	VEXTRACTI128 $1, Y3, X4
	VPACKUSDW X4, X3, X3
	VMOVDQU   X3, (DI)
	ADDQ $32, SI
	ADDQ $16, DI
	DECQ CX
	JNZ  f2bloop

f2bdone:
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

// BF16 weights against BF16 activations, 3 rows x 2 tokens, in
// dotBF16AVX2's order, so each output has its bits.
//
// dotBF16AVX2 fuses element i of a row into lane i mod 32 of four 8-lane
// sums Y0-Y3 (element 32k+l in increasing k); a 16-element rest after the
// groups of 32 goes into Y0, Y1 (lanes 0-15, again i mod 32), then an
// 8-element rest into Y3; at the end (Y0+Y2) + (Y1+Y3) and hsum_float_8's
// order. Four sums for each of 6 outputs are 24 registers, so each chunk
// of BF16CHUNK groups is taken twice: pass 1 over the groups' elements
// 0-15 (and at the end the 16-element rest), pass 2 over elements 16-31
// (and the 8-element rest), each pass's twelve sums kept on the stack
// between chunks (the chunk's rows and tokens stay in L1 for pass 2).
//
// Both operands are widened in the tile by vpunpcklwd and vpunpckhwd with
// zero (a bf16 is a float32's high half; one load and shuffle each, and
// the activations stay bf16, half the bytes of float32 ones): 16 bf16
// become the floats of elements [0-3 | 8-11] and [4-7 | 12-15]. Weights
// and activations share that order, so each register lane holds one lane
// of dotBF16AVX2's sums, the same products in the same order, only in
// another place: pass 1's two sums P, Q hold [Y0 0-3 | Y1 0-3] and [Y0
// 4-7 | Y1 4-7], pass 2's U, V the same lanes of Y2/Y3. (P+U) and (Q+V)
// are then Y0+Y2 and Y1+Y3 so arranged, the sum of each one's two halves
// is lanes 0-3 and 4-7 of (Y0+Y2)+(Y1+Y3), and adding those is
// hsum_float_8's first step; the rest is HSUMR's. The products of two
// bf16 are exact in float32 and float addition commutes, so only the
// sums round, at the same places.
//
// n must be a multiple of 8 (dotBF16AVX2's one-at-a-time tail is not
// repeated here). Row r at w + r*rowStride, token t's bf16 activations at
// a + t*aStride, result (r, t) to out + t*outStride + 4r.
//
// Registers: Y15 zero, Y14 a row's eight widened weights, Y12/Y13 the two
// tokens' eight widened activations, Y(4r+2t) and Y(4r+2t+1) the two sums
// of row r and token t for the pass running; SI, DI the pass's weights and
// activations, R8, R9 the chunk's, R11 rowStride, BX aStride, CX steps
// left, DX the chunk's groups, R10 the groups left; R12 and R13 point at
// pass 1's and pass 2's sums on the stack (0(SP), 384(SP)), 768(SP) holds
// the two tokens' 8-element rest widened.

// BF16HALF(unpack, s0, ..., s5) is one half of a 16-element step: both
// tokens' activations and the three rows' weights widened by unpack, into
// the sums s0-s5.
#define BF16HALF(unpack, s0, s1, s2, s3, s4, s5) \
	unpack      (DI), Y15, Y12; \
	unpack      (DI)(BX*1), Y15, Y13; \
	unpack      (SI), Y15, Y14; \
	VFMADD231PS Y12, Y14, s0; \
	VFMADD231PS Y13, Y14, s1; \
	unpack      (SI)(R11*1), Y15, Y14; \
	VFMADD231PS Y12, Y14, s2; \
	VFMADD231PS Y13, Y14, s3; \
	unpack      (SI)(R11*2), Y15, Y14; \
	VFMADD231PS Y12, Y14, s4; \
	VFMADD231PS Y13, Y14, s5

// BF16STEPS(loop) runs CX (at least 1) steps of 16 elements from SI and
// DI, one group (64 bytes) apart.
#define BF16STEPS(loop) \
loop: \
	BF16HALF(VPUNPCKLWD, Y0, Y2, Y4, Y6, Y8, Y10); \
	BF16HALF(VPUNPCKHWD, Y1, Y3, Y5, Y7, Y9, Y11); \
	ADDQ $64, SI; \
	ADDQ $64, DI; \
	DECQ CX; \
	JNZ  loop

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

// BF16LOAD(p) and BF16STORE(p) move a pass's twelve sums between Y0-Y11
// and the stack at p.
#define BF16LOAD(p) \
	VMOVUPS 0(p), Y0; \
	VMOVUPS 32(p), Y1; \
	VMOVUPS 64(p), Y2; \
	VMOVUPS 96(p), Y3; \
	VMOVUPS 128(p), Y4; \
	VMOVUPS 160(p), Y5; \
	VMOVUPS 192(p), Y6; \
	VMOVUPS 224(p), Y7; \
	VMOVUPS 256(p), Y8; \
	VMOVUPS 288(p), Y9; \
	VMOVUPS 320(p), Y10; \
	VMOVUPS 352(p), Y11

#define BF16STORE(p) \
	VMOVUPS Y0, 0(p); \
	VMOVUPS Y1, 32(p); \
	VMOVUPS Y2, 64(p); \
	VMOVUPS Y3, 96(p); \
	VMOVUPS Y4, 128(p); \
	VMOVUPS Y5, 160(p); \
	VMOVUPS Y6, 192(p); \
	VMOVUPS Y7, 224(p); \
	VMOVUPS Y8, 256(p); \
	VMOVUPS Y9, 288(p); \
	VMOVUPS Y10, 320(p); \
	VMOVUPS Y11, 352(p)

// BF16REST8(a0, a1, u, v) fuses a row's 8-element rest, widened into X12
// (elements 0-3) and X13 (4-7), with a token's, widened at a0 (0-3) and
// a1 (4-7), into the high halves of the pass 2 sums u, v, which hold Y3's
// lanes 0-3 and 4-7. Clobbers X14.
#define BF16REST8(a0, a1, u, v) \
	VEXTRACTF128 $1, u, X14; \
	VFMADD231PS  a0, X12, X14; \
	VINSERTF128  $1, X14, u, u; \
	VEXTRACTF128 $1, v, X14; \
	VFMADD231PS  a1, X13, X14; \
	VINSERTF128  $1, X14, v, v

// BF16OUT(u, v, xu, xv, p, q, dst) adds an output's pass 1 sums at p, q
// and pass 2 sums u, v in dotBF16AVX2's order (above) and stores the
// float at dst. Clobbers X14.
#define BF16OUT(u, v, xu, xv, p, q, dst) \
	VADDPS       p, u, u; \
	VADDPS       q, v, v; \
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

// BF16CHUNK is how many groups of 32 elements the two passes take in
// turn: a chunk's three rows and two tokens (10 KiB) stay in L1 for pass
// 2. 8 to 32 measured alike, 64 and whole rows slower on 5632-element
// rows.
#define BF16CHUNK 32

// func tileBF16x3x2AVX2(n int, w *byte, rowStride int, a *byte, aStride int, out *float32, outStride int)
//
// Not NOSPLIT: the frame (two passes' sums, the rest) is over the limit.
TEXT ·tileBF16x3x2AVX2(SB), $832-56
	MOVQ w+8(FP), R8
	MOVQ rowStride+16(FP), R11
	MOVQ a+24(FP), R9
	MOVQ aStride+32(FP), BX
	MOVQ n+0(FP), R10
	SHRQ $5, R10
	LEAQ 0(SP), R12
	LEAQ 384(SP), R13
	VPXOR Y15, Y15, Y15
	BF16ZERO
	BF16STORE(R12)
	BF16STORE(R13)
	TESTQ R10, R10
	JZ    btrest

btchunk:
	MOVQ    $BF16CHUNK, DX
	CMPQ    R10, DX
	CMOVQLT R10, DX
	BF16LOAD(R12)
	MOVQ R8, SI
	MOVQ R9, DI
	MOVQ DX, CX
	BF16STEPS(bt1loop)
	BF16STORE(R12)
	BF16LOAD(R13)
	LEAQ 32(R8), SI
	LEAQ 32(R9), DI
	MOVQ DX, CX
	BF16STEPS(bt2loop)
	BF16STORE(R13)
	LEAQ -32(SI), R8
	LEAQ -32(DI), R9
	SUBQ DX, R10
	JNZ  btchunk

btrest:
	// R8, R9 at element n &^ 31.
	MOVQ  n+0(FP), DX
	TESTQ $16, DX
	JZ    bt8
	BF16LOAD(R12)
	MOVQ R8, SI
	MOVQ R9, DI
	MOVQ $1, CX
	BF16STEPS(bt16loop)
	BF16STORE(R12)
	ADDQ $32, R8
	ADDQ $32, R9

bt8:
	BF16LOAD(R13)
	TESTQ $8, DX
	JZ    btout
	VPUNPCKLWD (R9), X15, X12
	VPUNPCKHWD (R9), X15, X13
	VMOVUPS    X12, 768(SP)
	VMOVUPS    X13, 784(SP)
	VPUNPCKLWD (R9)(BX*1), X15, X12
	VPUNPCKHWD (R9)(BX*1), X15, X13
	VMOVUPS    X12, 800(SP)
	VMOVUPS    X13, 816(SP)
	VPUNPCKLWD (R8), X15, X12
	VPUNPCKHWD (R8), X15, X13
	BF16REST8(768(SP), 784(SP), Y0, Y1)
	BF16REST8(800(SP), 816(SP), Y2, Y3)
	VPUNPCKLWD (R8)(R11*1), X15, X12
	VPUNPCKHWD (R8)(R11*1), X15, X13
	BF16REST8(768(SP), 784(SP), Y4, Y5)
	BF16REST8(800(SP), 816(SP), Y6, Y7)
	VPUNPCKLWD (R8)(R11*2), X15, X12
	VPUNPCKHWD (R8)(R11*2), X15, X13
	BF16REST8(768(SP), 784(SP), Y8, Y9)
	BF16REST8(800(SP), 816(SP), Y10, Y11)

btout:
	MOVQ out+40(FP), AX
	MOVQ outStride+48(FP), BX
	BF16OUT(Y0, Y1, X0, X1, 0(R12), 32(R12), 0(AX))
	BF16OUT(Y2, Y3, X2, X3, 64(R12), 96(R12), 0(AX)(BX*1))
	BF16OUT(Y4, Y5, X4, X5, 128(R12), 160(R12), 4(AX))
	BF16OUT(Y6, Y7, X6, X7, 192(R12), 224(R12), 4(AX)(BX*1))
	BF16OUT(Y8, Y9, X8, X9, 256(R12), 288(R12), 8(AX))
	BF16OUT(Y10, Y11, X10, X11, 320(R12), 352(R12), 8(AX)(BX*1))
	VZEROUPPER
	RET

// Blockwise batch kernels (Q4_0): weight rows run in the lanes of a
// register, eight rows per octet, so a block's 32 products for eight rows
// are summed in int16 and int32 without any horizontal step, and each
// (row, token) output is the blockwise order of dotQBlockwise: acc +=
// (f16(w.d) * f16(a.d)) * isum, block by block, in float32. That takes
// 8 vpmaddubsw, 7 vpaddw and a few ops per block per eight rows and token,
// where the ggml-order tile above needs 5 ops per row.
//
// Packed layout (q4Tile*): 16 rows (two octets) per block, q4TileBlock =
// 576 bytes a block: octet o's group g (elements 4g..4g+3 of its eight
// rows, row l at bytes 4l..4l+3, as unsigned nibbles 0..15) at 256o + 32g,
// then the two octets' scales as float32 at 512 + 32o + 4l.

// packQ4_0QuadAVX2 writes four Q4_0 rows' nb blocks into the packed layout:
// block k's levels of row r at levels + r*levelsRow + k*blockStride, its
// f16 scale at scale + r*scaleRow + k*blockStride; the rows' lanes of block
// k at dstW + 576k (groups 32 bytes apart: the caller points dstW at the
// octet and the quad's half of it) and their scales at dstD + 576k.
//
// Each row's 16 level bytes become [low nibbles | high nibbles] in one
// register (elements 0-15 | 16-31); a 4x4 dword transpose within the
// 128-bit lanes then gives group g in the low lanes and g+4 in the high.
//
// func packQ4_0QuadAVX2(nb int, dstW, dstD, levels *byte, levelsRow int, scale *byte, scaleRow, blockStride int)
TEXT ·packQ4_0QuadAVX2(SB), NOSPLIT, $0-64
	PACKQUADARGS
	VMOVDQU tileShift<>(SB), Y14
	VMOVDQU bytes0f<>(SB), Y15
	TESTQ CX, CX
	JZ    pq4done

pq4loop:
	VBROADCASTI128 (SI), Y0
	VBROADCASTI128 (SI)(R11*1), Y1
	VBROADCASTI128 (SI)(R11*2), Y2
	VBROADCASTI128 (SI)(R13*1), Y3
	VPSRLVD     Y14, Y0, Y0
	VPSRLVD     Y14, Y1, Y1
	VPSRLVD     Y14, Y2, Y2
	VPSRLVD     Y14, Y3, Y3
	VPAND       Y15, Y0, Y0
	VPAND       Y15, Y1, Y1
	VPAND       Y15, Y2, Y2
	VPAND       Y15, Y3, Y3
	TRANSPOSE4 // Y(j): groups j | j+4
	VMOVDQU      X0, 0(DI)
	VEXTRACTI128 $1, Y0, 128(DI)
	VMOVDQU      X1, 32(DI)
	VEXTRACTI128 $1, Y1, 160(DI)
	VMOVDQU      X2, 64(DI)
	VEXTRACTI128 $1, Y2, 192(DI)
	VMOVDQU      X3, 96(DI)
	VEXTRACTI128 $1, Y3, 224(DI)
	PACKSCALES
	ADDQ BX, SI
	ADDQ BX, R10
	ADDQ $576, DI
	ADDQ $576, DX
	DECQ CX
	JNZ  pq4loop

pq4done:
	VZEROUPPER
	RET

// tileQ4_0x16x3AVX2: two packed octets (16 rows) by three tokens, nb
// blocks, adding into acc: token t's sums for rows 0-15 at acc + 64t
// (loaded first, stored at the end, so a row's blocks can be taken in
// several calls). The three tokens' activations are interleaved by blocks
// (prepQ4TripleAVX2), so that the kernel reads two sequential streams:
// token t's 32 levels of block k at a + 96k + 32t, its side data at side
// + 24k + 8t: the scale as float32, then 8 * the sum of its 32 levels as
// int32, which turns the unsigned nibbles' sum u*a into (u-8)*a. vpmaddubsw's pairs are at most 2*15*128 in magnitude
// and a group of 8 at most 30720, so the int16 sums are exact.
//
// Registers (in BWTILE3's frame): Y0-Y5 float sums (token t, octet o in
// Y(2t+o)), Y6-Y11 the block's integer sums in the same order, Y12/Y13
// the octets' group g, Y14 the token's group g broadcast (then its side
// data), Y15 scratch (then an octet's scales times the token's).

// BWGRP0(mul, w0, w1, a, ts) starts a block: the octets' group at w0(SI)
// and w1(SI) times each token's 4 bytes at a(DI) (token t's at a +
// t*ts), multiplied and pair-summed by mul, into Y6-Y11 (the VNNI twins
// pass an instruction that adds into them instead). BWGRP(mul, add,
// ...) adds a further group with add.
#define BWGRP0(mul, w0, w1, a, ts) \
	VMOVDQU      w0(SI), Y12; \
	VMOVDQU      w1(SI), Y13; \
	VPBROADCASTD a(DI), Y14; \
	mul          Y14, Y12, Y6; \
	mul          Y14, Y13, Y7; \
	VPBROADCASTD a+ts(DI), Y14; \
	mul          Y14, Y12, Y8; \
	mul          Y14, Y13, Y9; \
	VPBROADCASTD a+ts+ts(DI), Y14; \
	mul          Y14, Y12, Y10; \
	mul          Y14, Y13, Y11

#define BWGRP(mul, add, w0, w1, a, ts) \
	VMOVDQU      w0(SI), Y12; \
	VMOVDQU      w1(SI), Y13; \
	VPBROADCASTD a(DI), Y14; \
	mul          Y14, Y12, Y15; \
	add          Y15, Y6, Y6; \
	mul          Y14, Y13, Y15; \
	add          Y15, Y7, Y7; \
	VPBROADCASTD a+ts(DI), Y14; \
	mul          Y14, Y12, Y15; \
	add          Y15, Y8, Y8; \
	mul          Y14, Y13, Y15; \
	add          Y15, Y9, Y9; \
	VPBROADCASTD a+ts+ts(DI), Y14; \
	mul          Y14, Y12, Y15; \
	add          Y15, Y10, Y10; \
	mul          Y14, Y13, Y15; \
	add          Y15, Y11, Y11

// Q4 groups: unsigned nibbles times signed bytes, int16 pair sums (tokens
// 32 bytes apart).
#define Q4GRP0(w0, w1, a) BWGRP0(VPMADDUBSW, w0, w1, a, 32)
#define Q4GRP(w0, w1, a) BWGRP(VPMADDUBSW, VPADDW, w0, w1, a, 32)

// BWFIN(da, so, i0, i1, f0, f1) ends a block for one token (its scale
// at da, its integer sums for the two octets in i0/i1, their float sums
// f0/f1): the sums converted, times d (the octets' scales at so(SI) and
// so+32(SI) times the token's), added.
#define BWFIN(da, so, i0, i1, f0, f1) \
	VCVTDQ2PS    i0, i0; \
	VCVTDQ2PS    i1, i1; \
	VBROADCASTSS da, Y14; \
	VMULPS       so(SI), Y14, Y15; \
	VMULPS       Y15, i0, i0; \
	VADDPS       i0, f0, f0; \
	VMULPS       so+32(SI), Y14, Y15; \
	VMULPS       Y15, i1, i1; \
	VADDPS       i1, f1, f1

// Q4FIN(da, corr, i0, i1, f0, f1) is BWFIN for Q4_0, whose int16 pairs are
// summed first and 8*sum(a) (at corr) taken off: the nibbles are the
// levels + 8.
#define Q4FIN(da, corr, i0, i1, f0, f1) \
	VPBROADCASTD corr, Y14; \
	VPMADDWD     words1<>(SB), i0, i0; \
	VPMADDWD     words1<>(SB), i1, i1; \
	VPSUBD       Y14, i0, i0; \
	VPSUBD       Y14, i1, i1; \
	BWFIN(da, 512, i0, i1, f0, f1)

// Q4BLOCK is tileQ4_0x16x3AVX2's block: eight groups, then each token's
// sums.
#define Q4BLOCK 	Q4GRP0(0, 256, 0); 	Q4GRP(32, 288, 4); 	Q4GRP(64, 320, 8); 	Q4GRP(96, 352, 12); 	Q4GRP(128, 384, 16); 	Q4GRP(160, 416, 20); 	Q4GRP(192, 448, 24); 	Q4GRP(224, 480, 28); 	Q4FIN(0(R8), 4(R8), Y6, Y7, Y0, Y1); 	Q4FIN(8(R8), 12(R8), Y8, Y9, Y2, Y3); 	Q4FIN(16(R8), 20(R8), Y10, Y11, Y4, Y5)

// func tileQ4_0x16x3AVX2(nb int, w *byte, a *float32, side *float32, acc *float32)
TEXT ·tileQ4_0x16x3AVX2(SB), NOSPLIT, $0-40
	BWTILE3(Q4BLOCK, 576, 96, 24)

// Blockwise Q8_0: the same plan as Q4_0's with int16 pairs, since a Q8_0
// level (-128..127) times an activation (-127..127) does not fit
// vpmaddubsw's pair sums. Packed layout (q8Tile*): 16 rows per block,
// q8TileBlock = 1088 bytes: octet o's group g (elements 2g, 2g+1 of its
// eight rows as int16, row l at bytes 4l..4l+3) at 512o + 32g, g = 0..15,
// then the scales as float32 at 1024 + 32o + 4l. Activations are widened
// to int16 by the prep (widenQ8_0AVX2): 64 bytes a block.

// Q8PACKHALF(src, off) widens the 16 levels at src of each of four rows
// (rows R11 bytes apart from SI) and writes their pairs as the eight
// groups from off(DI) on:
// a 4x4 dword transpose in each 128-bit lane, as packQ4_0QuadAVX2.
#define Q8PACKHALF(src, off) \
	VPMOVSXBW   src(SI), Y0; \
	VPMOVSXBW   src(SI)(R11*1), Y1; \
	VPMOVSXBW   src(SI)(R11*2), Y2; \
	VPMOVSXBW   src(SI)(R13*1), Y3; \
	TRANSPOSE4; \
	VMOVDQU      X0, off+0(DI); \
	VEXTRACTI128 $1, Y0, off+128(DI); \
	VMOVDQU      X1, off+32(DI); \
	VEXTRACTI128 $1, Y1, off+160(DI); \
	VMOVDQU      X2, off+64(DI); \
	VEXTRACTI128 $1, Y2, off+192(DI); \
	VMOVDQU      X3, off+96(DI); \
	VEXTRACTI128 $1, Y3, off+224(DI)

// packQ8_0QuadAVX2 writes four Q8_0 rows' nb blocks into the packed layout,
// addressed as packQ4_0QuadAVX2's (dstW, dstD 1088 bytes a block).
//
// func packQ8_0QuadAVX2(nb int, dstW, dstD, levels *byte, levelsRow int, scale *byte, scaleRow, blockStride int)
TEXT ·packQ8_0QuadAVX2(SB), NOSPLIT, $0-64
	PACKQUADARGS
	TESTQ CX, CX
	JZ    pq8done

pq8loop:
	Q8PACKHALF(0, 0)
	Q8PACKHALF(16, 256)
	PACKSCALES
	ADDQ BX, SI
	ADDQ BX, R10
	ADDQ $1088, DI
	ADDQ $1088, DX
	DECQ CX
	JNZ  pq8loop

pq8done:
	VZEROUPPER
	RET

// widenQ8_0AVX2 writes the levels of nb Q8_0 activation blocks (34 bytes
// apart at src) as int16, 64 bytes a block, dstStride bytes apart, to dst,
// and their scales as float32, sideStride bytes apart, to side.
//
// func widenQ8_0AVX2(nb int, dst *float32, dstStride int, side *float32, sideStride int, src *byte)
TEXT ·widenQ8_0AVX2(SB), NOSPLIT, $0-48
	MOVQ nb+0(FP), CX
	MOVQ dst+8(FP), DI
	MOVQ dstStride+16(FP), BX
	MOVQ side+24(FP), R8
	MOVQ sideStride+32(FP), R9
	MOVQ src+40(FP), SI
	TESTQ CX, CX
	JZ    w8done

w8loop:
	VPMOVSXBW 2(SI), Y0
	VPMOVSXBW 18(SI), Y1
	VMOVDQU   Y0, (DI)
	VMOVDQU   Y1, 32(DI)
	VPINSRW   $0, (SI), X2, X2
	VCVTPH2PS X2, X2
	VMOVSS    X2, (R8)
	ADDQ $34, SI
	ADDQ BX, DI
	ADDQ R9, R8
	DECQ CX
	JNZ  w8loop

w8done:
	VZEROUPPER
	RET

// prepQ4TripleAVX2 writes nb Q8_0 activation blocks (34 bytes apart at
// src) for tileQ4_0x16x3AVX2: each block's 32 levels, 96 bytes apart, to
// dst, and its side data, 24 bytes apart, to side: the scale as float32,
// then 8 * the sum of the levels as int32.
//
// func prepQ4TripleAVX2(nb int, dst *float32, side *float32, src *byte)
TEXT ·prepQ4TripleAVX2(SB), NOSPLIT, $0-32
	MOVQ nb+0(FP), CX
	MOVQ dst+8(FP), DI
	MOVQ side+16(FP), R8
	MOVQ src+24(FP), SI
	VMOVDQU bytes01<>(SB), Y14
	VMOVDQU words1<>(SB), Y15
	TESTQ CX, CX
	JZ    p4tdone

p4tloop:
	VMOVDQU      2(SI), Y0
	VMOVDQU      Y0, (DI)
	VPMADDUBSW   Y0, Y14, Y1 // pairs of levels (1*a + 1*a)
	VPMADDWD     Y15, Y1, Y1
	VEXTRACTI128 $1, Y1, X2
	VPADDD       X2, X1, X1
	VPSHUFD      $0x4e, X1, X2
	VPADDD       X2, X1, X1
	VPSHUFD      $0xb1, X1, X2
	VPADDD       X2, X1, X1
	VPSLLD       $3, X1, X1
	VMOVD        X1, 4(R8)
	VPINSRW      $0, (SI), X2, X2
	VCVTPH2PS    X2, X2
	VMOVSS       X2, (R8)
	ADDQ $34, SI
	ADDQ $96, DI
	ADDQ $24, R8
	DECQ CX
	JNZ  p4tloop

p4tdone:
	VZEROUPPER
	RET

// tileQ8_0x16x3AVX2 is tileQ4_0x16x3AVX2 for packed Q8_0 groups: token t's
// widened block k at a + 192k + 64t, its scale at side + 12k + 4t;
// vpmaddwd sums each int16 pair into int32, exactly.

// Q8 groups: int16 pairs, int32 sums (tokens 64 bytes apart).
#define Q8GRP0(w0, w1, a) BWGRP0(VPMADDWD, w0, w1, a, 64)
#define Q8GRP(w0, w1, a) BWGRP(VPMADDWD, VPADDD, w0, w1, a, 64)

#define Q8FIN(da, i0, i1, f0, f1) BWFIN(da, 1024, i0, i1, f0, f1)

// Q8BLOCK is tileQ8_0x16x3AVX2's block: sixteen groups, then each
// token's sums.
#define Q8BLOCK 	Q8GRP0(0, 512, 0); 	Q8GRP(32, 544, 4); 	Q8GRP(64, 576, 8); 	Q8GRP(96, 608, 12); 	Q8GRP(128, 640, 16); 	Q8GRP(160, 672, 20); 	Q8GRP(192, 704, 24); 	Q8GRP(224, 736, 28); 	Q8GRP(256, 768, 32); 	Q8GRP(288, 800, 36); 	Q8GRP(320, 832, 40); 	Q8GRP(352, 864, 44); 	Q8GRP(384, 896, 48); 	Q8GRP(416, 928, 52); 	Q8GRP(448, 960, 56); 	Q8GRP(480, 992, 60); 	Q8FIN(0(R8), Y6, Y7, Y0, Y1); 	Q8FIN(4(R8), Y8, Y9, Y2, Y3); 	Q8FIN(8(R8), Y10, Y11, Y4, Y5)

// func tileQ8_0x16x3AVX2(nb int, w *byte, a *float32, side *float32, acc *float32)
TEXT ·tileQ8_0x16x3AVX2(SB), NOSPLIT, $0-40
	BWTILE3(Q8BLOCK, 1088, 192, 12)

// tileF16x3x4AccAVX2: F16 weights against float32 activations, 3 rows x
// 4 tokens, in the lane order of dotF16Lanes8 (the blockwise F16 batch
// order): element i of a row is fused into lane i mod 8 of its (row,
// token) sum in increasing i; tileF16x3x4OutAVX2 then adds each sum's
// eight lanes in hsum_float_8's order. One accumulator per (row, token),
// where dotF16AVX2's order needs two, leaves registers for twelve: each
// converted weight vector serves four tokens, each activation vector
// three rows. The sums live at acc (row r, token t at acc + 32*(4r+t)),
// loaded first (or, when fresh is not 0, started at zero: a row's first
// chunk, which saves clearing them) and stored at the end, so a row can
// be taken in column chunks. Both operands are interleaved by eights, so that the kernel
// reads two sequential streams: the three rows' weights 16 bytes each per
// eight elements (48 bytes, packF16x3AVX2), and the four tokens'
// activations 32 bytes each (128 bytes, f16ToF32QuadAVX2). Rows 4 KiB
// apart, or tokens 8 KiB apart, as TinyLlama's are, cost half the speed
// through L1 bank and set conflicts. n must be a multiple of 8. Y(4r+t)
// accumulates row r, token t; Y12-Y14 hold the rows' eight weights
// converted, Y15 a token's eight activations.

// F16TOK(a, r0, r1, r2) fuses a token's eight activations at a into its
// three sums.
#define F16TOK(a, r0, r1, r2) \
	VMOVUPS     a, Y15; \
	VFMADD231PS Y15, Y12, r0; \
	VFMADD231PS Y15, Y13, r1; \
	VFMADD231PS Y15, Y14, r2

// F16EIGHT(wo, ao) takes the eight at SI+wo (weights) and DI+ao (the four
// tokens' activations).
#define F16EIGHT(wo, ao) \
	VCVTPH2PS wo(SI), Y12; \
	VCVTPH2PS wo+16(SI), Y13; \
	VCVTPH2PS wo+32(SI), Y14; \
	F16TOK(ao(DI), Y0, Y4, Y8); \
	F16TOK(ao+32(DI), Y1, Y5, Y9); \
	F16TOK(ao+64(DI), Y2, Y6, Y10); \
	F16TOK(ao+96(DI), Y3, Y7, Y11)

// func tileF16x3x4AccAVX2(n int, w *byte, wStride int, a *float32, acc *float32, threes, fresh int)
//
// takes threes rows' threes in one call: three i's packed weights at w +
// i*wStride, its sums at acc + 384i, all against the same four tokens.
TEXT ·tileF16x3x4AccAVX2(SB), NOSPLIT, $0-56
	MOVQ w+8(FP), R9
	MOVQ wStride+16(FP), R11
	MOVQ acc+32(FP), R8
	MOVQ threes+40(FP), R12
	TESTQ R12, R12
	JZ    f34end

f34three:
	MOVQ n+0(FP), CX
	MOVQ R9, SI
	MOVQ a+24(FP), DI
	SHRQ $3, CX
	CMPQ fresh+48(FP), $0
	JEQ  f34load
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
	JMP    f34go

f34load:
	VMOVUPS 0(R8), Y0
	VMOVUPS 32(R8), Y1
	VMOVUPS 64(R8), Y2
	VMOVUPS 96(R8), Y3
	VMOVUPS 128(R8), Y4
	VMOVUPS 160(R8), Y5
	VMOVUPS 192(R8), Y6
	VMOVUPS 224(R8), Y7
	VMOVUPS 256(R8), Y8
	VMOVUPS 288(R8), Y9
	VMOVUPS 320(R8), Y10
	VMOVUPS 352(R8), Y11

f34go:
	// Two eights per pass, an odd eight alone first: fewer pointer steps
	// and branches beside the FMAs. The kernel alone (one thread, L1):
	// 7.2 -> 7.0 cycles per 12 FMAs, best of six alternated runs.
	TESTQ $1, CX
	JZ    f34pairs
	F16EIGHT(0, 0)
	ADDQ $48, SI
	ADDQ $128, DI

f34pairs:
	SHRQ $1, CX
	JZ   f34done

f34loop:
	F16EIGHT(0, 0)
	F16EIGHT(48, 128)
	ADDQ $96, SI
	ADDQ $256, DI
	DECQ CX
	JNZ  f34loop

f34done:
	VMOVUPS Y0, 0(R8)
	VMOVUPS Y1, 32(R8)
	VMOVUPS Y2, 64(R8)
	VMOVUPS Y3, 96(R8)
	VMOVUPS Y4, 128(R8)
	VMOVUPS Y5, 160(R8)
	VMOVUPS Y6, 192(R8)
	VMOVUPS Y7, 224(R8)
	VMOVUPS Y8, 256(R8)
	VMOVUPS Y9, 288(R8)
	VMOVUPS Y10, 320(R8)
	VMOVUPS Y11, 352(R8)
	ADDQ R11, R9
	ADDQ $384, R8
	DECQ R12
	JNZ  f34three

f34end:
	VZEROUPPER
	RET

// PACK3(r0, r1, r2) loads the three rows at SI (R11 apart) into r0-r2
// (X or Y registers: one eight or two) and stores each one's first eight
// (X0-X2) side by side at DI.
#define PACK3(r0, r1, r2) \
	VMOVDQU (SI), r0; \
	VMOVDQU (SI)(R11*1), r1; \
	VMOVDQU (SI)(R11*2), r2; \
	VMOVDQU X0, 0(DI); \
	VMOVDQU X1, 16(DI); \
	VMOVDQU X2, 32(DI)

// packF16x3AVX2 interleaves n/8 eights of three F16 rows (rowStride bytes
// apart at src) into dst: 48 bytes an eight, row by row.
//
// func packF16x3AVX2(n int, dst *byte, src *byte, rowStride int)
TEXT ·packF16x3AVX2(SB), NOSPLIT, $0-32
	PACKF16ARGS(3)
	TESTQ CX, CX
	JZ    pf3done

pf3loop:
	PACK3(X0, X1, X2)
	ADDQ $16, SI
	ADDQ $48, DI
	DECQ CX
	JNZ  pf3loop

pf3done:
	RET

// packF16x3SplitAVX2 is packF16x3AVX2 for n a multiple of 16, the eights
// split by parity: the even ones (elements 16k..16k+7) first, then the odd
// ones, so that each of matmulF16Lanes's exact passes reads one run.
//
// func packF16x3SplitAVX2(n int, dst *byte, src *byte, rowStride int)
TEXT ·packF16x3SplitAVX2(SB), NOSPLIT, $0-32
	PACKF16ARGS(4)
	LEAQ (CX)(CX*2), R8
	SHLQ $4, R8 // 48 bytes an eight: where the odd ones start
	TESTQ CX, CX
	JZ    ps3done

ps3loop:
	PACK3(Y0, Y1, Y2)
	VEXTRACTI128 $1, Y0, 0(DI)(R8*1)
	VEXTRACTI128 $1, Y1, 16(DI)(R8*1)
	VEXTRACTI128 $1, Y2, 32(DI)(R8*1)
	ADDQ $32, SI
	ADDQ $48, DI
	DECQ CX
	JNZ  ps3loop

ps3done:
	VZEROUPPER
	RET

// f16ToF32QuadAVX2 converts n/8 eights of an F16 row at src to float32,
// each eight to dst + 128*k (one token's slot in a quad's interleaved
// activations).
//
// func f16ToF32QuadAVX2(n int, dst *float32, src *byte)
TEXT ·f16ToF32QuadAVX2(SB), NOSPLIT, $0-24
	F16ARGS(3)
	TESTQ CX, CX
	JZ    fq4done

fq4loop:
	VCVTPH2PS (SI), Y0
	VMOVUPS   Y0, (DI)
	ADDQ $16, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  fq4loop

fq4done:
	VZEROUPPER
	RET

// f16ToF32QuadSplitAVX2 is f16ToF32QuadAVX2 for n a multiple of 16 with
// the eights split as packF16x3SplitAVX2 splits them: eight 2k to dst +
// 128k, eight 2k+1 to dst + 128*(n/16 + k).
//
// func f16ToF32QuadSplitAVX2(n int, dst *float32, src *byte)
TEXT ·f16ToF32QuadSplitAVX2(SB), NOSPLIT, $0-24
	F16ARGS(4)
	MOVQ CX, R8
	SHLQ $7, R8 // where the odd eights start
	TESTQ CX, CX
	JZ    fs4done

fs4loop:
	VCVTPH2PS (SI), Y0
	VCVTPH2PS 16(SI), Y1
	VMOVUPS   Y0, (DI)
	VMOVUPS   Y1, (DI)(R8*1)
	ADDQ $32, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  fs4loop

fs4done:
	VZEROUPPER
	RET

// HSUMY0(dst) adds Y0's eight lanes in hsum_float_8's order (HSUM8) and
// stores the float at dst. Clobbers X1.
#define HSUMY0(dst) \
	HSUM8; \
	VMOVSS X0, dst

// The sums of tileF16x3x4OutAVX2 (the eight lanes at off(R8)) and of
// tileF16x3x4Out2AVX2 (off(R8) + off(R9) lane by lane first, as
// dotF16AVX2 adds its two accumulators).
#define HSUMF(off, dst) \
	VMOVUPS off(R8), Y0; \
	HSUMY0(dst)
#define HSUMF2(off, dst) \
	VMOVUPS off(R8), Y0; \
	VADDPS  off(R9), Y0, Y0; \
	HSUMY0(dst)

// F16OUT(hsum) writes the twelve sums: (r, t) to AX + t*BX + 4*r.
#define F16OUT(hsum) \
	LEAQ (BX)(BX*2), DX; \
	hsum(0, 0(AX)); \
	hsum(32, 0(AX)(BX*1)); \
	hsum(64, 0(AX)(BX*2)); \
	hsum(96, 0(AX)(DX*1)); \
	hsum(128, 4(AX)); \
	hsum(160, 4(AX)(BX*1)); \
	hsum(192, 4(AX)(BX*2)); \
	hsum(224, 4(AX)(DX*1)); \
	hsum(256, 8(AX)); \
	hsum(288, 8(AX)(BX*1)); \
	hsum(320, 8(AX)(BX*2)); \
	hsum(352, 8(AX)(DX*1)); \
	VZEROUPPER; \
	RET

// tileF16x3x4OutAVX2 writes tileF16x3x4AccAVX2's twelve sums at acc,
// each of its lanes added: (r, t) to out + t*outStride + 4*r.
//
// func tileF16x3x4OutAVX2(acc *float32, out *float32, outStride int)
TEXT ·tileF16x3x4OutAVX2(SB), NOSPLIT, $0-24
	MOVQ acc+0(FP), R8
	MOVQ out+8(FP), AX
	MOVQ outStride+16(FP), BX
	F16OUT(HSUMF)

// tileF16x3x4Out2AVX2 is tileF16x3x4OutAVX2 for the two passes' sums (the
// even eights' at acc, the odd eights' at acc2): each pair added lane by
// lane, then the lanes, as dotF16AVX2 ends.
//
// func tileF16x3x4Out2AVX2(acc, acc2 *float32, out *float32, outStride int)
TEXT ·tileF16x3x4Out2AVX2(SB), NOSPLIT, $0-32
	MOVQ acc+0(FP), R8
	MOVQ acc2+8(FP), R9
	MOVQ out+16(FP), AX
	MOVQ outStride+24(FP), BX
	F16OUT(HSUMF2)

// VNNI twins of the blockwise kernels (the avx512 path, where the CPU has
// AVX512_VNNI): vpdpbusd (Q4_0: unsigned nibbles times signed bytes) and
// vpdpwssd (Q8_0: int16 pairs) multiply, sum each row's four bytes or two
// words and add them into the row's int32 lane in one instruction, where
// AVX2 takes a multiply and an add per group (and Q4_0 a vpmaddwd per
// block). The integer sums are the same, so every output has the AVX2
// kernels' (and dotQBlockwise's) bits. Go's assembler emits the EVEX form
// only, hence AVX512_VNNI (and VL) rather than AVX-VNNI.

#define BWZERO \
	VPXOR Y6, Y6, Y6; \
	VPXOR Y7, Y7, Y7; \
	VPXOR Y8, Y8, Y8; \
	VPXOR Y9, Y9, Y9; \
	VPXOR Y10, Y10, Y10; \
	VPXOR Y11, Y11, Y11

// The VNNI groups: BWGRP0 with an instruction that multiplies, sums and
// adds into the zeroed (BWZERO) or running int32 sums Y6-Y11.
#define Q4GRPV(w0, w1, a) BWGRP0(VPDPBUSD, w0, w1, a, 32)
#define Q8GRPV(w0, w1, a) BWGRP0(VPDPWSSD, w0, w1, a, 64)

// Q4FINV is Q4FIN for int32 sums: the nibble correction, then BWFIN.
#define Q4FINV(da, corr, i0, i1, f0, f1) \
	VPBROADCASTD corr, Y14; \
	VPSUBD       Y14, i0, i0; \
	VPSUBD       Y14, i1, i1; \
	BWFIN(da, 512, i0, i1, f0, f1)

#define Q4BLOCKV \
	BWZERO; \
	Q4GRPV(0, 256, 0); \
	Q4GRPV(32, 288, 4); \
	Q4GRPV(64, 320, 8); \
	Q4GRPV(96, 352, 12); \
	Q4GRPV(128, 384, 16); \
	Q4GRPV(160, 416, 20); \
	Q4GRPV(192, 448, 24); \
	Q4GRPV(224, 480, 28); \
	Q4FINV(0(R8), 4(R8), Y6, Y7, Y0, Y1); \
	Q4FINV(8(R8), 12(R8), Y8, Y9, Y2, Y3); \
	Q4FINV(16(R8), 20(R8), Y10, Y11, Y4, Y5)

#define Q8BLOCKV \
	BWZERO; \
	Q8GRPV(0, 512, 0); \
	Q8GRPV(32, 544, 4); \
	Q8GRPV(64, 576, 8); \
	Q8GRPV(96, 608, 12); \
	Q8GRPV(128, 640, 16); \
	Q8GRPV(160, 672, 20); \
	Q8GRPV(192, 704, 24); \
	Q8GRPV(224, 736, 28); \
	Q8GRPV(256, 768, 32); \
	Q8GRPV(288, 800, 36); \
	Q8GRPV(320, 832, 40); \
	Q8GRPV(352, 864, 44); \
	Q8GRPV(384, 896, 48); \
	Q8GRPV(416, 928, 52); \
	Q8GRPV(448, 960, 56); \
	Q8GRPV(480, 992, 60); \
	Q8FIN(0(R8), Y6, Y7, Y0, Y1); \
	Q8FIN(4(R8), Y8, Y9, Y2, Y3); \
	Q8FIN(8(R8), Y10, Y11, Y4, Y5)

// func tileQ4_0x16x3VNNI(nb int, w *byte, a *float32, side *float32, acc *float32)
TEXT ·tileQ4_0x16x3VNNI(SB), NOSPLIT, $0-40
	BWTILE3(Q4BLOCKV, 576, 96, 24)

// func tileQ8_0x16x3VNNI(nb int, w *byte, a *float32, side *float32, acc *float32)
TEXT ·tileQ8_0x16x3VNNI(SB), NOSPLIT, $0-40
	BWTILE3(Q8BLOCKV, 1088, 192, 12)
