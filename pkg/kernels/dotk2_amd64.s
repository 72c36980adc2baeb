//go:build amd64 && !purego

#include "textflag.h"
#include "avx2_amd64.h"

// func dotQ2_KAVX2(n int, w, a []byte) float32
//
// The AVX2 Q2_K x Q8_K dot product, after ggml's AVX2
// ggml_vec_dot_q2_K_q8_K, giving dotQ2_K's bits (quantk.go). Unlike the
// other k-quants, the reference has no lanes: per super-block it forms two
// exact int32s, isum (sum over the 16 sub-blocks of scale_j times sum q8*q2)
// and summs (sum of min_j * bsums[j]), so any integer order does; only the
// float steps are kept, in its order and rounding:
// sumf += float32(dall*isum) - float32(dmin*summs), one per super-block.
//
// Each 32 bytes of qs hold four 32-element groups of 2-bit levels (bits
// 2j..2j+1 for group j); byte l of a group belongs to sub-block 2j (l < 16)
// or 2j+1, i.e. to the low or the high half of a register, so vpmaddubsw's
// int16 pair sums (at most 2*3*128) are scaled by vpmaddwd with a register
// holding scale 2j in its low and 2j+1 in its high half.
//
// Registers: SI w, DI a, CX super-blocks left; Y15 bytes 3, Y14 bytes 0x0f;
// Y8-Y11 the scale shuffles for groups 0-3; X12 sumf; Y4 isum and Y5 summs
// (eight int32 partial sums each); Y1 the sub-block scales, Y0 the levels,
// Y2, Y3, Y6, Y7 scratch.

// Scale shuffles: bytes (2j, zero) eight times in the low half, (2j+1,
// zero) in the high half, giving int16 scale 2j / 2j+1 from scale bytes.
DATA q2ScShuf<>+0(SB)/8, $0x8000800080008000
DATA q2ScShuf<>+8(SB)/8, $0x8000800080008000
DATA q2ScShuf<>+16(SB)/8, $0x8001800180018001
DATA q2ScShuf<>+24(SB)/8, $0x8001800180018001
DATA q2ScShuf<>+32(SB)/8, $0x8002800280028002
DATA q2ScShuf<>+40(SB)/8, $0x8002800280028002
DATA q2ScShuf<>+48(SB)/8, $0x8003800380038003
DATA q2ScShuf<>+56(SB)/8, $0x8003800380038003
DATA q2ScShuf<>+64(SB)/8, $0x8004800480048004
DATA q2ScShuf<>+72(SB)/8, $0x8004800480048004
DATA q2ScShuf<>+80(SB)/8, $0x8005800580058005
DATA q2ScShuf<>+88(SB)/8, $0x8005800580058005
DATA q2ScShuf<>+96(SB)/8, $0x8006800680068006
DATA q2ScShuf<>+104(SB)/8, $0x8006800680068006
DATA q2ScShuf<>+112(SB)/8, $0x8007800780078007
DATA q2ScShuf<>+120(SB)/8, $0x8007800780078007
GLOBL q2ScShuf<>(SB), RODATA|NOPTR, $128

DATA q2Bytes03<>+0(SB)/8, $0x0303030303030303
DATA q2Bytes03<>+8(SB)/8, $0x0303030303030303
DATA q2Bytes03<>+16(SB)/8, $0x0303030303030303
DATA q2Bytes03<>+24(SB)/8, $0x0303030303030303
GLOBL q2Bytes03<>(SB), RODATA|NOPTR, $32

// The steps shared by dotQ2_KAVX2 and dotQ2_Kx4AVX2, which runs the
// decoding ones (levels, scales, mins, d) once for four activation rows.

// Q2KLEVELS leaves in dst the levels of group j of the 128-element half
// whose qs bytes are in Y0. A word shift of 2j then the mask 3 leaves
// bits 2j..2j+1 of each byte, since 2j+1 < 8.
#define Q2KLEVELS(j, dst) \
	VPSRLW $(2*j), Y0, dst; \
	VPAND  Y15, dst, dst

// Q2KLEVELS0 is Q2KLEVELS for group 0 (no shift).
#define Q2KLEVELS0(dst) \
	VPAND Y15, Y0, dst

// Q2KMAC adds to acc the scaled products of levels lv with the activations
// at addr, sc holding the group's int16 scales. Clobbers tmp.
#define Q2KMAC(addr, lv, sc, tmp, acc) \
	VPMADDUBSW addr, lv, tmp; \
	VPMADDWD   sc, tmp, tmp; \
	VPADDD     tmp, acc, acc

// Q2KMAC0 is Q2KMAC setting acc, for the first group of a super-block.
#define Q2KMAC0(addr, lv, sc, tmp, acc) \
	VPMADDUBSW addr, lv, tmp; \
	VPMADDWD   sc, tmp, acc

// Q2KMINS leaves in ydst the sixteen mins (scales[j] >> 4) as int16s,
// from the scale bytes in xsrc, with bytes 0x0f in X14; xdst is ydst's
// low half.
#define Q2KMINS(xsrc, xdst, ydst) \
	VPSRLW    $4, xsrc, xdst; \
	VPAND     X14, xdst, xdst; \
	VPMOVZXBW xdst, ydst

// Q2KDMIN leaves f16(x.d), f16(x.dmin), 0, 0 in x. Clobbers AX.
#define Q2KDMIN(x) \
	MOVL      80(SI), AX; \
	VMOVD     AX, x; \
	VCVTPH2PS x, x

// Q2KGROUP adds to Y4 the scaled products of group j of the half whose
// levels are in Y0 (its activations at off(DI)), with the scales of that
// half in Y1 (bytes 0-7 of each register half). Clobbers Y2, Y3.
#define Q2KGROUP(j, shuf, off) \
	Q2KLEVELS(j, Y2); \
	VPSHUFB shuf, Y1, Y3; \
	Q2KMAC(off(DI), Y2, Y3, Y2, Y4)

// Q2KGROUP0 is Q2KGROUP for group 0 of half 0, setting Y4.
#define Q2KGROUP0(shuf, off) \
	Q2KLEVELS0(Y2); \
	VPSHUFB shuf, Y1, Y3; \
	Q2KMAC0(off(DI), Y2, Y3, Y2, Y4)

// Q2KCONSTS loads the constants both kernels keep in registers: bytes 3
// (Y15), bytes 0x0f (Y14) and the four scale shuffles of groups 0-3 (Y8-Y11).
#define Q2KCONSTS \
	VMOVDQU q2Bytes03<>(SB), Y15; \
	VMOVDQU bytes0f<>(SB), Y14; \
	VMOVDQU q2ScShuf<>+0(SB), Y8; \
	VMOVDQU q2ScShuf<>+32(SB), Y9; \
	VMOVDQU q2ScShuf<>+64(SB), Y10; \
	VMOVDQU q2ScShuf<>+96(SB), Y11

// Q2KHALF1(group) is a super-block's second half, sub-blocks 8-15 and
// activations 128-255, each group through group(j, shuf, off): Q2KGROUP
// (one row) or Q2KGROUP4 (four).
#define Q2KHALF1(group) \
	VMOVDQU 48(SI), Y0; \
	VPSRLDQ $8, Y1, Y1; \
	group(0, Y8, 132); \
	group(1, Y9, 164); \
	group(2, Y10, 196); \
	group(3, Y11, 228)

// func dotQ2_KAVX2(n int, w, a []byte) float32
TEXT ·dotQ2_KAVX2(SB), NOSPLIT, $0-60
	MOVQ n+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ a_base+32(FP), DI
	SHRQ $8, CX
	Q2KCONSTS
	VXORPS  X12, X12, X12      // sumf
	TESTQ   CX, CX
	JZ      q2kdone

q2kloop:
	// Mins: summs partials = bsums[j] * (scales[j] >> 4), by pairs.
	VBROADCASTI128 (SI), Y6    // the 16 scale bytes, in both halves
	Q2KMINS(X6, X7, Y7)
	VPMADDWD 260(DI), Y7, Y5

	// Scales: scales[j] & 0xf.
	VPAND Y14, Y6, Y1

	// Half 0: sub-blocks 0-7, activations 0-127.
	VMOVDQU 16(SI), Y0
	Q2KGROUP0(Y8, 4)
	Q2KGROUP(1, Y9, 36)
	Q2KGROUP(2, Y10, 68)
	Q2KGROUP(3, Y11, 100)

	Q2KHALF1(Q2KGROUP)

	// [isum, summs] from the partial sums, then the float part in the
	// reference's order; the packed ops round each lane as scalar ones do.
	VPHADDD      Y5, Y4, Y4    // per half: isum pairs 01 23, summs pairs
	VEXTRACTI128 $1, Y4, X6
	VPADDD       X6, X4, X4
	VPHADDD      X4, X4, X4    // isum, summs, isum, summs
	VCVTDQ2PS    X4, X4        // float32(isum), float32(summs)
	Q2KDMIN(X6)                // f16(x.d), f16(x.dmin), 0, 0
	VBROADCASTSS (DI), X7
	VMULPS       X7, X6, X6    // dall = y.d * d, dmin = y.d * dmin
	VMULPS       X6, X4, X4    // dall * isum, dmin * summs
	VMOVSHDUP    X4, X6
	VSUBSS       X6, X4, X4
	VADDSS       X4, X12, X12  // sumf += dall*isum - dmin*summs

	ADDQ $84, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q2kloop

q2kdone:
	VMOVSS X12, ret+56(FP)
	VZEROUPPER
	RET

// Q2KGROUP4 is Q2KGROUP for the four activation rows at DI, DI+R8, DI+R9
// and DI+R10, into Y4-Y7: the levels and scales are decoded once for the
// four. The products alternate between Y13 and Y14 so that one row's
// multiplies need not wait for the last one's add. Clobbers Y2, Y3, Y13,
// Y14.
#define Q2KGROUP4(j, shuf, off) \
	Q2KLEVELS(j, Y2); \
	VPSHUFB shuf, Y1, Y3; \
	Q2KMAC(off(DI), Y2, Y3, Y14, Y4); \
	Q2KMAC(off(DI)(R8*1), Y2, Y3, Y13, Y5); \
	Q2KMAC(off(DI)(R9*1), Y2, Y3, Y14, Y6); \
	Q2KMAC(off(DI)(R10*1), Y2, Y3, Y13, Y7)

// func dotQ2_Kx4AVX2(n int, w []byte, a []byte, astride int, out *[4]float32)
//
// dotQ2_KAVX2 for one weight row against the four Q8_K activation rows
// at a, a+astride, a+2*astride, a+3*astride: for a prompt each weight
// super-block is decoded once for four tokens instead of once per token.
// out[i] gets dotQ2_KAVX2's bits for row i: the integer sums are exact
// whatever their order, and the float steps are dotQ2_KAVX2's scalar ones
// done in the four lanes of an XMM register, each lane rounding as the
// scalar op does, with the same operands in the same places.
//
// Registers: SI w, DI a, R8-R10 astride times 1-3, CX super-blocks left;
// Y15, Y8-Y11 as in dotQ2_KAVX2; X12 sumf for rows 0-3; Y4-Y7 isum
// partial sums of rows 0-3; Y1 the scales, Y0 the levels, Y2, Y3, Y13
// scratch. Y14 holds bytes 0x0f at the start and end of a super-block and
// is scratch between: the four accumulators leave no other register.
TEXT ·dotQ2_Kx4AVX2(SB), NOSPLIT, $0-72
	MOVQ n+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ a_base+32(FP), DI
	MOVQ astride+56(FP), R8
	LEAQ (R8)(R8*1), R9
	LEAQ (R9)(R8*1), R10
	SHRQ $8, CX
	Q2KCONSTS
	VXORPS  X12, X12, X12      // sumf, rows 0-3
	TESTQ   CX, CX
	JZ      q2k4done

q2k4loop:
	// Scales: scales[j] & 0xf.
	VBROADCASTI128 (SI), Y1
	VPAND          Y14, Y1, Y1

	// Half 0: sub-blocks 0-7, activations 0-127.
	VMOVDQU 16(SI), Y0
	Q2KLEVELS0(Y2)
	VPSHUFB Y8, Y1, Y3
	Q2KMAC0(4(DI), Y2, Y3, Y14, Y4)
	Q2KMAC0(4(DI)(R8*1), Y2, Y3, Y13, Y5)
	Q2KMAC0(4(DI)(R9*1), Y2, Y3, Y14, Y6)
	Q2KMAC0(4(DI)(R10*1), Y2, Y3, Y13, Y7)
	Q2KGROUP4(1, Y9, 36)
	Q2KGROUP4(2, Y10, 68)
	Q2KGROUP4(3, Y11, 100)

	Q2KHALF1(Q2KGROUP4)

	// isum of rows 0-3 in X4.
	VPHADDD      Y5, Y4, Y4    // per half: row 0 pairs, row 1 pairs
	VPHADDD      Y7, Y6, Y6    // row 2 pairs, row 3 pairs
	VPHADDD      Y6, Y4, Y4    // per half: rows 0-3
	VEXTRACTI128 $1, Y4, X5
	VPADDD       X5, X4, X4
	VCVTDQ2PS    X4, X4        // float32(isum), rows 0-3

	// summs of rows 0-3 in X5: bsums[j] * (scales[j] >> 4), as above.
	VMOVDQU      bytes0f<>(SB), Y14
	VMOVDQU      (SI), X0
	Q2KMINS(X0, X0, Y0)
	VPMADDWD     260(DI), Y0, Y5
	VPMADDWD     260(DI)(R8*1), Y0, Y6
	VPHADDD      Y6, Y5, Y5
	VPMADDWD     260(DI)(R9*1), Y0, Y6
	VPMADDWD     260(DI)(R10*1), Y0, Y7
	VPHADDD      Y7, Y6, Y6
	VPHADDD      Y6, Y5, Y5
	VEXTRACTI128 $1, Y5, X6
	VPADDD       X6, X5, X5
	VCVTDQ2PS    X5, X5        // float32(summs), rows 0-3

	// The float part, dotQ2_KAVX2's ops lane by lane.
	Q2KDMIN(X6)                // f16(x.d), f16(x.dmin), 0, 0
	VBROADCASTSS X6, X7        // d
	VMOVSHDUP    X6, X6
	VBROADCASTSS X6, X6        // dmin
	VMOVD        (DI), X1      // y.d, rows 0-3
	VPINSRD      $1, (DI)(R8*1), X1, X1
	VPINSRD      $2, (DI)(R9*1), X1, X1
	VPINSRD      $3, (DI)(R10*1), X1, X1
	VMULPS       X1, X7, X7    // dall = d * y.d
	VMULPS       X1, X6, X6    // dmin = dmin * y.d
	VMULPS       X7, X4, X4    // dall * isum
	VMULPS       X6, X5, X5    // dmin * summs
	VSUBPS       X5, X4, X4
	VADDPS       X4, X12, X12  // sumf += dall*isum - dmin*summs

	ADDQ $84, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q2k4loop

q2k4done:
	MOVQ    out+64(FP), AX
	VMOVUPS X12, (AX)
	VZEROUPPER
	RET
