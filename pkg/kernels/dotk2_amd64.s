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

// Q2KGROUP adds to Y4 the scaled products of group j of the 128-element
// half whose levels are in Y0 (its activations at off(DI)), with the
// scales of that half in Y1 (bytes 0-7 of each register half). A word
// shift of 2j then the mask 3 leaves bits 2j..2j+1 of each byte, since
// 2j+1 < 8. Clobbers Y2, Y3.
#define Q2KGROUP(j, shuf, off) \
	VPSRLW     $(2*j), Y0, Y2; \
	VPAND      Y15, Y2, Y2; \
	VPMADDUBSW off(DI), Y2, Y2; \
	VPSHUFB    shuf, Y1, Y3; \
	VPMADDWD   Y3, Y2, Y2; \
	VPADDD     Y2, Y4, Y4

// Q2KGROUP0 is Q2KGROUP for group 0 of half 0, setting Y4 (no shift).
#define Q2KGROUP0(shuf, off) \
	VPAND      Y15, Y0, Y2; \
	VPMADDUBSW off(DI), Y2, Y2; \
	VPSHUFB    shuf, Y1, Y3; \
	VPMADDWD   Y3, Y2, Y4

// func dotQ2_KAVX2(n int, w, a []byte) float32
TEXT ·dotQ2_KAVX2(SB), NOSPLIT, $0-60
	MOVQ n+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ a_base+32(FP), DI
	SHRQ $8, CX
	VMOVDQU q2Bytes03<>(SB), Y15
	VMOVDQU bytes0f<>(SB), Y14
	VMOVDQU q2ScShuf<>+0(SB), Y8
	VMOVDQU q2ScShuf<>+32(SB), Y9
	VMOVDQU q2ScShuf<>+64(SB), Y10
	VMOVDQU q2ScShuf<>+96(SB), Y11
	VXORPS  X12, X12, X12      // sumf
	TESTQ   CX, CX
	JZ      q2kdone

q2kloop:
	// Mins: summs partials = bsums[j] * (scales[j] >> 4), by pairs.
	VBROADCASTI128 (SI), Y6    // the 16 scale bytes, in both halves
	VPSRLW    $4, X6, X7
	VPAND     X14, X7, X7
	VPMOVZXBW X7, Y7
	VPMADDWD  260(DI), Y7, Y5

	// Scales: scales[j] & 0xf.
	VPAND Y14, Y6, Y1

	// Half 0: sub-blocks 0-7, activations 0-127.
	VMOVDQU 16(SI), Y0
	Q2KGROUP0(Y8, 4)
	Q2KGROUP(1, Y9, 36)
	Q2KGROUP(2, Y10, 68)
	Q2KGROUP(3, Y11, 100)

	// Half 1: sub-blocks 8-15, activations 128-255.
	VMOVDQU 48(SI), Y0
	VPSRLDQ $8, Y1, Y1         // scales 8-15 to bytes 0-7
	Q2KGROUP(0, Y8, 132)
	Q2KGROUP(1, Y9, 164)
	Q2KGROUP(2, Y10, 196)
	Q2KGROUP(3, Y11, 228)

	// [isum, summs] from the partial sums, then the float part in the
	// reference's order; the packed ops round each lane as scalar ones do.
	VPHADDD      Y5, Y4, Y4    // per half: isum pairs 01 23, summs pairs
	VEXTRACTI128 $1, Y4, X6
	VPADDD       X6, X4, X4
	VPHADDD      X4, X4, X4    // isum, summs, isum, summs
	VCVTDQ2PS    X4, X4        // float32(isum), float32(summs)
	MOVL         80(SI), AX
	VMOVD        AX, X6
	VCVTPH2PS    X6, X6        // f16(x.d), f16(x.dmin), 0, 0
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
