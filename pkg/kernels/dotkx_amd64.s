//go:build amd64 && !purego

#include "textflag.h"

// AVX2 k-quant kernels over the lane-major activation layout (quantkx.go),
// giving the generic Go code's bits (quantk.go).
//
// Each 32 weight bytes that hold one group of 32 levels (one Q4_K
// sub-block in each nibble; for Q6_K the low or high bits of one group)
// are put in the lane-major order the activations are in: a vpermd takes
// dwords 0,2,4,6 (elements l+8t, l = 0..3) to the low half and 1,3,5,7 to
// the high half, and a vpshufb transposes each half's 4x4 bytes, so byte
// 4l+t holds element l+8t. vpmaddubsw then adds the products of two
// elements of lane l, vpmaddwd with the scale (Q4_K: the same scale twice;
// Q6_K: the two 16-element groups' scales) adds two such pairs, and the
// int32 in dword l is lane l's share: eight exact lane sums with no
// shuffle of the activations and no lane sorting at the end.

DATA lmPerm<>+0(SB)/8, $0x0000000200000000
DATA lmPerm<>+8(SB)/8, $0x0000000600000004
DATA lmPerm<>+16(SB)/8, $0x0000000300000001
DATA lmPerm<>+24(SB)/8, $0x0000000700000005
GLOBL lmPerm<>(SB), RODATA|NOPTR, $32

// Byte 4l+t of each half from byte 4t+l.
DATA lmTrans<>+0(SB)/8, $0x0d0905010c080400
DATA lmTrans<>+8(SB)/8, $0x0f0b07030e0a0602
DATA lmTrans<>+16(SB)/8, $0x0d0905010c080400
DATA lmTrans<>+24(SB)/8, $0x0f0b07030e0a0602
GLOBL lmTrans<>(SB), RODATA|NOPTR, $32

DATA lmNibble<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA lmNibble<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA lmNibble<>+16(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA lmNibble<>+24(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL lmNibble<>(SB), RODATA|NOPTR, $32

DATA lm30<>+0(SB)/8, $0x3030303030303030
DATA lm30<>+8(SB)/8, $0x3030303030303030
DATA lm30<>+16(SB)/8, $0x3030303030303030
DATA lm30<>+24(SB)/8, $0x3030303030303030
GLOBL lm30<>(SB), RODATA|NOPTR, $32

DATA lm32<>+0(SB)/8, $0x2020202020202020
DATA lm32<>+8(SB)/8, $0x2020202020202020
DATA lm32<>+16(SB)/8, $0x2020202020202020
DATA lm32<>+24(SB)/8, $0x2020202020202020
GLOBL lm32<>(SB), RODATA|NOPTR, $32

// LMSUMLANES adds the eight float32 lanes of Y13 to X12 one at a time, in
// lane order, through the frame's first 32 bytes.
#define LMSUMLANES \
	VMOVUPS Y13, (SP); \
	VADDSS  0(SP), X12, X12; \
	VADDSS  4(SP), X12, X12; \
	VADDSS  8(SP), X12, X12; \
	VADDSS  12(SP), X12, X12; \
	VADDSS  16(SP), X12, X12; \
	VADDSS  20(SP), X12, X12; \
	VADDSS  24(SP), X12, X12; \
	VADDSS  28(SP), X12, X12

// Q4KSCALES sets AX to the 8 scale bytes and R10 to the 8 min bytes of
// the Q4_K block at SI (get_scale_min_k4, ggml's utmp shuffle). Clobbers
// BX, DX, R8, R9.
#define Q4KSCALES \
	MOVL 4(SI), AX; \
	MOVL 8(SI), BX; \
	MOVL 12(SI), DX; \
	MOVL DX, R8; \
	SHRL $4, R8; \
	ANDL $0x0f0f0f0f, R8; \
	MOVL BX, R9; \
	SHRL $6, R9; \
	ANDL $0x03030303, R9; \
	SHLL $4, R9; \
	ORL  R9, R8; \
	MOVL BX, R10; \
	ANDL $0x3f3f3f3f, R10; \
	ANDL $0x0f0f0f0f, DX; \
	MOVL AX, R9; \
	SHRL $6, R9; \
	ANDL $0x03030303, R9; \
	SHLL $4, R9; \
	ORL  R9, DX; \
	ANDL $0x3f3f3f3f, AX; \
	SHLQ $32, DX; \
	ORQ  DX, AX; \
	SHLQ $32, R8; \
	ORQ  R8, R10

// func dotQ4_KLMAVX2(n int, w, a []byte) float32
TEXT ·dotQ4_KLMAVX2(SB), NOSPLIT, $64-60
	MOVQ n+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ a_base+32(FP), DI
	SHRQ $8, CX
	VMOVDQU lmPerm<>(SB), Y15
	VMOVDQU lmTrans<>(SB), Y14
	VMOVDQU lmNibble<>(SB), Y11
	VXORPS  Y13, Y13, Y13      // sums[8]
	VXORPS  X12, X12, X12      // sumf
	TESTQ   CX, CX
	JZ      q4lmdone

q4lmloop:
	Q4KSCALES
	VMOVQ      AX, X2
	VPUNPCKLBW X2, X2, X2
	VPMOVZXBW  X2, Y2
	VMOVDQU    Y2, 32(SP)      // dword k: scale k as an int16 pair

	// Mins: sumi = sum_k groupsum[k] * min[k].
	VMOVQ      R10, X3
	VPMOVZXBW  X3, X3
	VPMADDWD   4(DI), X3, X3
	VPSHUFD    $0x4e, X3, X4
	VPADDD     X4, X3, X3
	VPSHUFD    $0xb1, X3, X4
	VPADDD     X4, X3, X3
	VCVTDQ2PS  X3, X3          // float32(sumi)

	VMOVD        (SI), X0
	VCVTPH2PS    X0, X0        // f16 d, dmin
	VBROADCASTSS (DI), X1
	VMULPS       X1, X0, X0    // d = f16(x.d) * y.d, dmin = f16(x.dmin) * y.d
	VMOVSHDUP    X0, X1
	VMULSS       X3, X1, X1
	VSUBSS       X1, X12, X12  // sumf -= dmin * sumi
	VBROADCASTSS X0, Y0

#define Q4LMCHUNK(c, op) \
	VMOVDQU      (16+32*c)(SI), Y7; \
	VPERMD       Y7, Y15, Y7; \
	VPSHUFB      Y14, Y7, Y7; \
	VPAND        Y11, Y7, Y8; \
	VPSRLW       $4, Y7, Y7; \
	VPAND        Y11, Y7, Y7; \
	VPMADDUBSW   (32+64*c)(DI), Y8, Y8; \
	VPMADDUBSW   (64+64*c)(DI), Y7, Y7; \
	VPBROADCASTD (32+8*c)(SP), Y9; \
	VPBROADCASTD (36+8*c)(SP), Y10; \
	VPMADDWD     Y9, Y8, Y8; \
	VPMADDWD     Y10, Y7, Y7; \
	op

#define Q4LMFIRST VMOVDQA Y8, Y5; VMOVDQA Y7, Y6
#define Q4LMNEXT VPADDD Y8, Y5, Y5; VPADDD Y7, Y6, Y6

	Q4LMCHUNK(0, Q4LMFIRST)
	Q4LMCHUNK(1, Q4LMNEXT)
	Q4LMCHUNK(2, Q4LMNEXT)
	Q4LMCHUNK(3, Q4LMNEXT)

	VPADDD    Y6, Y5, Y5
	VCVTDQ2PS Y5, Y5
	VMULPS    Y0, Y5, Y5
	VADDPS    Y5, Y13, Y13     // sums[l] += d * aux32[l]

	ADDQ $144, SI
	ADDQ $288, DI
	DECQ CX
	JNZ  q4lmloop

q4lmdone:
	LMSUMLANES
	VMOVSS X12, ret+56(FP)
	VZEROUPPER
	RET


// func dotQ4_KLMx4AVX2(n int, w []byte, a []byte, astride int, out *[4]float32)
//
// dotQ4_KLMAVX2 for four activation rows astride bytes apart, each weight
// chunk decoded once. Per row the same integer sums and the same float
// operations in the same order: the mins terms of the four rows go
// through one xmm (lane t: row t), the lane sums through one ymm each.
TEXT ·dotQ4_KLMx4AVX2(SB), NOSPLIT, $96-72
	MOVQ n+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ a_base+32(FP), DI
	MOVQ astride+56(FP), R12
	LEAQ (DI)(R12*2), R13
	ADDQ R12, R13               // row 3
	SHRQ $8, CX
	VMOVDQU lmPerm<>(SB), Y14
	VMOVDQU lmNibble<>(SB), Y15
	VXORPS  Y10, Y10, Y10      // sums of rows 0-3
	VXORPS  Y11, Y11, Y11
	VXORPS  Y12, Y12, Y12
	VXORPS  Y13, Y13, Y13
	VXORPS  X4, X4, X4
	VMOVUPS X4, 0(SP)          // sumf of rows 0-3
	TESTQ   CX, CX
	JZ      q4x4done

q4x4loop:
	Q4KSCALES
	VMOVQ      AX, X2
	VPUNPCKLBW X2, X2, X2
	VPMOVZXBW  X2, Y2
	VMOVDQU    Y2, 32(SP)      // dword k: scale k as an int16 pair

#define Q4X4ROW(c, arow, acc, op) \
	VPMADDUBSW (32+64*c)arow, Y4, Y8; \
	VPMADDUBSW (64+64*c)arow, Y5, Y9; \
	VPMADDWD   Y6, Y8, Y8; \
	VPMADDWD   Y7, Y9, Y9; \
	op(acc)

#define Q4X4FIRST(acc) VPADDD Y9, Y8, acc
#define Q4X4NEXT(acc) VPADDD Y8, acc, acc; VPADDD Y9, acc, acc

#define Q4X4CHUNK(c, op) \
	VMOVDQU      (16+32*c)(SI), Y4; \
	VPERMD       Y4, Y14, Y4; \
	VPSHUFB      lmTrans<>(SB), Y4, Y4; \
	VPSRLW       $4, Y4, Y5; \
	VPAND        Y15, Y4, Y4; \
	VPAND        Y15, Y5, Y5; \
	VPBROADCASTD (32+8*c)(SP), Y6; \
	VPBROADCASTD (36+8*c)(SP), Y7; \
	Q4X4ROW(c, (DI), Y0, op); \
	Q4X4ROW(c, (DI)(R12*1), Y1, op); \
	Q4X4ROW(c, (DI)(R12*2), Y2, op); \
	Q4X4ROW(c, (R13), Y3, op)

	Q4X4CHUNK(0, Q4X4FIRST)
	Q4X4CHUNK(1, Q4X4NEXT)
	Q4X4CHUNK(2, Q4X4NEXT)
	Q4X4CHUNK(3, Q4X4NEXT)

	// Mins: sumi of rows 0-3 in X5.
	VMOVQ      R10, X4
	VPMOVZXBW  X4, X4
	VPMADDWD   4(DI), X4, X5
	VPMADDWD   4(DI)(R12*1), X4, X6
	VPMADDWD   4(DI)(R12*2), X4, X7
	VPMADDWD   4(R13), X4, X8
	VPHADDD    X6, X5, X5
	VPHADDD    X8, X7, X7
	VPHADDD    X7, X5, X5
	VCVTDQ2PS  X5, X5          // float32(sumi) of rows 0-3

	VMOVSS     (DI), X6
	VINSERTPS  $0x10, (DI)(R12*1), X6, X6
	VINSERTPS  $0x20, (DI)(R12*2), X6, X6
	VINSERTPS  $0x30, (R13), X6, X6 // y.d of rows 0-3
	VMOVD        (SI), X7
	VCVTPH2PS    X7, X7        // f16 d, dmin
	VMOVSHDUP    X7, X8
	VBROADCASTSS X8, X8
	VBROADCASTSS X7, X7
	VMULPS       X6, X8, X8    // dmin = f16(x.dmin) * y.d
	VMULPS       X6, X7, X7    // d = f16(x.d) * y.d
	VMOVUPS      X7, 16(SP)
	VMULPS       X5, X8, X8
	VMOVUPS      0(SP), X9
	VSUBPS       X8, X9, X9
	VMOVUPS      X9, 0(SP)     // sumf -= dmin * sumi

#define Q4X4SUMS(t, acc, sums) \
	VBROADCASTSS (16+4*t)(SP), Y8; \
	VCVTDQ2PS    acc, acc; \
	VMULPS       Y8, acc, acc; \
	VADDPS       acc, sums, sums

	Q4X4SUMS(0, Y0, Y10)
	Q4X4SUMS(1, Y1, Y11)
	Q4X4SUMS(2, Y2, Y12)
	Q4X4SUMS(3, Y3, Y13)

	ADDQ $144, SI
	ADDQ $288, DI
	ADDQ $288, R13
	DECQ CX
	JNZ  q4x4loop

q4x4done:
	MOVQ out+64(FP), AX

#define LMOUT(t, sums) \
	VMOVSS  (4*t)(SP), X9; \
	VMOVUPS sums, 64(SP); \
	VADDSS  64(SP), X9, X9; \
	VADDSS  68(SP), X9, X9; \
	VADDSS  72(SP), X9, X9; \
	VADDSS  76(SP), X9, X9; \
	VADDSS  80(SP), X9, X9; \
	VADDSS  84(SP), X9, X9; \
	VADDSS  88(SP), X9, X9; \
	VADDSS  92(SP), X9, X9; \
	VMOVSS  X9, (4*t)(AX)

	LMOUT(0, Y10)
	LMOUT(1, Y11)
	LMOUT(2, Y12)
	LMOUT(3, Y13)
	VZEROUPPER
	RET

// func dotQ4_KLMx8AVX2(n int, w []byte, a []byte, astride int, out *[8]float32)
//
// dotQ4_KLMx4AVX2 for eight activation rows: each weight chunk decoded
// once for eight rows. The mins terms, block scales and sumf of the eight
// rows go through one ymm (lane t: row t); the float lane sums live in the
// frame.
TEXT ·dotQ4_KLMx8AVX2(SB), NOSPLIT, $352-72
	MOVQ n+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ a_base+32(FP), DI
	MOVQ astride+56(FP), R12
	LEAQ (DI)(R12*2), R13
	ADDQ R12, R13              // row 3
	LEAQ (R13)(R12*2), R11
	ADDQ R12, R11              // row 6
	SHRQ $8, CX
	VMOVDQU lmPerm<>(SB), Y14
	VMOVDQU lmNibble<>(SB), Y15
	VXORPS  Y0, Y0, Y0
	VMOVUPS Y0, 0(SP)          // sumf of rows 0-7
	VMOVUPS Y0, 96(SP)
	VMOVUPS Y0, 128(SP)
	VMOVUPS Y0, 160(SP)
	VMOVUPS Y0, 192(SP)
	VMOVUPS Y0, 224(SP)
	VMOVUPS Y0, 256(SP)
	VMOVUPS Y0, 288(SP)
	VMOVUPS Y0, 320(SP)
	TESTQ   CX, CX
	JZ      q4x8done

q4x8loop:
	Q4KSCALES
	VMOVQ      AX, X12
	VPUNPCKLBW X12, X12, X12
	VPMOVZXBW  X12, Y12
	VMOVDQU    Y12, 32(SP)     // dword k: scale k as an int16 pair

	VMOVDQU      16(SI), Y8
	VPERMD       Y8, Y14, Y8
	VPSHUFB      lmTrans<>(SB), Y8, Y8
	VPSRLW       $4, Y8, Y9
	VPAND        Y15, Y8, Y8
	VPAND        Y15, Y9, Y9
	VPBROADCASTD 32(SP), Y10
	VPBROADCASTD 36(SP), Y11
	VPMADDUBSW   32(DI), Y8, Y12
	VPMADDUBSW   64(DI), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y13, Y12, Y0
	VPMADDUBSW   32(DI)(R12*1), Y8, Y12
	VPMADDUBSW   64(DI)(R12*1), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y13, Y12, Y1
	VPMADDUBSW   32(DI)(R12*2), Y8, Y12
	VPMADDUBSW   64(DI)(R12*2), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y13, Y12, Y2
	VPMADDUBSW   32(R13), Y8, Y12
	VPMADDUBSW   64(R13), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y13, Y12, Y3
	VPMADDUBSW   32(DI)(R12*4), Y8, Y12
	VPMADDUBSW   64(DI)(R12*4), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y13, Y12, Y4
	VPMADDUBSW   32(R13)(R12*2), Y8, Y12
	VPMADDUBSW   64(R13)(R12*2), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y13, Y12, Y5
	VPMADDUBSW   32(R11), Y8, Y12
	VPMADDUBSW   64(R11), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y13, Y12, Y6
	VPMADDUBSW   32(R11)(R12*1), Y8, Y12
	VPMADDUBSW   64(R11)(R12*1), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y13, Y12, Y7
	VMOVDQU      48(SI), Y8
	VPERMD       Y8, Y14, Y8
	VPSHUFB      lmTrans<>(SB), Y8, Y8
	VPSRLW       $4, Y8, Y9
	VPAND        Y15, Y8, Y8
	VPAND        Y15, Y9, Y9
	VPBROADCASTD 40(SP), Y10
	VPBROADCASTD 44(SP), Y11
	VPMADDUBSW   96(DI), Y8, Y12
	VPMADDUBSW   128(DI), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y12, Y0, Y0
	VPADDD       Y13, Y0, Y0
	VPMADDUBSW   96(DI)(R12*1), Y8, Y12
	VPMADDUBSW   128(DI)(R12*1), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y12, Y1, Y1
	VPADDD       Y13, Y1, Y1
	VPMADDUBSW   96(DI)(R12*2), Y8, Y12
	VPMADDUBSW   128(DI)(R12*2), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y12, Y2, Y2
	VPADDD       Y13, Y2, Y2
	VPMADDUBSW   96(R13), Y8, Y12
	VPMADDUBSW   128(R13), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y12, Y3, Y3
	VPADDD       Y13, Y3, Y3
	VPMADDUBSW   96(DI)(R12*4), Y8, Y12
	VPMADDUBSW   128(DI)(R12*4), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y12, Y4, Y4
	VPADDD       Y13, Y4, Y4
	VPMADDUBSW   96(R13)(R12*2), Y8, Y12
	VPMADDUBSW   128(R13)(R12*2), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y12, Y5, Y5
	VPADDD       Y13, Y5, Y5
	VPMADDUBSW   96(R11), Y8, Y12
	VPMADDUBSW   128(R11), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y12, Y6, Y6
	VPADDD       Y13, Y6, Y6
	VPMADDUBSW   96(R11)(R12*1), Y8, Y12
	VPMADDUBSW   128(R11)(R12*1), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y12, Y7, Y7
	VPADDD       Y13, Y7, Y7
	VMOVDQU      80(SI), Y8
	VPERMD       Y8, Y14, Y8
	VPSHUFB      lmTrans<>(SB), Y8, Y8
	VPSRLW       $4, Y8, Y9
	VPAND        Y15, Y8, Y8
	VPAND        Y15, Y9, Y9
	VPBROADCASTD 48(SP), Y10
	VPBROADCASTD 52(SP), Y11
	VPMADDUBSW   160(DI), Y8, Y12
	VPMADDUBSW   192(DI), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y12, Y0, Y0
	VPADDD       Y13, Y0, Y0
	VPMADDUBSW   160(DI)(R12*1), Y8, Y12
	VPMADDUBSW   192(DI)(R12*1), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y12, Y1, Y1
	VPADDD       Y13, Y1, Y1
	VPMADDUBSW   160(DI)(R12*2), Y8, Y12
	VPMADDUBSW   192(DI)(R12*2), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y12, Y2, Y2
	VPADDD       Y13, Y2, Y2
	VPMADDUBSW   160(R13), Y8, Y12
	VPMADDUBSW   192(R13), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y12, Y3, Y3
	VPADDD       Y13, Y3, Y3
	VPMADDUBSW   160(DI)(R12*4), Y8, Y12
	VPMADDUBSW   192(DI)(R12*4), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y12, Y4, Y4
	VPADDD       Y13, Y4, Y4
	VPMADDUBSW   160(R13)(R12*2), Y8, Y12
	VPMADDUBSW   192(R13)(R12*2), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y12, Y5, Y5
	VPADDD       Y13, Y5, Y5
	VPMADDUBSW   160(R11), Y8, Y12
	VPMADDUBSW   192(R11), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y12, Y6, Y6
	VPADDD       Y13, Y6, Y6
	VPMADDUBSW   160(R11)(R12*1), Y8, Y12
	VPMADDUBSW   192(R11)(R12*1), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y12, Y7, Y7
	VPADDD       Y13, Y7, Y7
	VMOVDQU      112(SI), Y8
	VPERMD       Y8, Y14, Y8
	VPSHUFB      lmTrans<>(SB), Y8, Y8
	VPSRLW       $4, Y8, Y9
	VPAND        Y15, Y8, Y8
	VPAND        Y15, Y9, Y9
	VPBROADCASTD 56(SP), Y10
	VPBROADCASTD 60(SP), Y11
	VPMADDUBSW   224(DI), Y8, Y12
	VPMADDUBSW   256(DI), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y12, Y0, Y0
	VPADDD       Y13, Y0, Y0
	VPMADDUBSW   224(DI)(R12*1), Y8, Y12
	VPMADDUBSW   256(DI)(R12*1), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y12, Y1, Y1
	VPADDD       Y13, Y1, Y1
	VPMADDUBSW   224(DI)(R12*2), Y8, Y12
	VPMADDUBSW   256(DI)(R12*2), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y12, Y2, Y2
	VPADDD       Y13, Y2, Y2
	VPMADDUBSW   224(R13), Y8, Y12
	VPMADDUBSW   256(R13), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y12, Y3, Y3
	VPADDD       Y13, Y3, Y3
	VPMADDUBSW   224(DI)(R12*4), Y8, Y12
	VPMADDUBSW   256(DI)(R12*4), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y12, Y4, Y4
	VPADDD       Y13, Y4, Y4
	VPMADDUBSW   224(R13)(R12*2), Y8, Y12
	VPMADDUBSW   256(R13)(R12*2), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y12, Y5, Y5
	VPADDD       Y13, Y5, Y5
	VPMADDUBSW   224(R11), Y8, Y12
	VPMADDUBSW   256(R11), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y12, Y6, Y6
	VPADDD       Y13, Y6, Y6
	VPMADDUBSW   224(R11)(R12*1), Y8, Y12
	VPMADDUBSW   256(R11)(R12*1), Y9, Y13
	VPMADDWD     Y10, Y12, Y12
	VPMADDWD     Y11, Y13, Y13
	VPADDD       Y12, Y7, Y7
	VPADDD       Y13, Y7, Y7

	// Mins: sumi of rows 0-7 in Y9.
	VMOVQ      R10, X8
	VPMOVZXBW  X8, X8
	VPMADDWD   4(DI), X8, X9
	VPMADDWD   4(DI)(R12*1), X8, X10
	VPHADDD    X10, X9, X9
	VPMADDWD   4(DI)(R12*2), X8, X10
	VPMADDWD   4(R13), X8, X11
	VPHADDD    X11, X10, X10
	VPHADDD    X10, X9, X9
	VPMADDWD   4(DI)(R12*4), X8, X10
	VPMADDWD   4(R13)(R12*2), X8, X11
	VPHADDD    X11, X10, X10
	VPMADDWD   4(R11), X8, X11
	VPMADDWD   4(R11)(R12*1), X8, X12
	VPHADDD    X12, X11, X11
	VPHADDD    X11, X10, X10
	VINSERTI128 $1, X10, Y9, Y9
	VCVTDQ2PS  Y9, Y9          // float32(sumi) of rows 0-7

	VMOVSS     (DI), X10
	VINSERTPS  $0x10, (DI)(R12*1), X10, X10
	VINSERTPS  $0x20, (DI)(R12*2), X10, X10
	VINSERTPS  $0x30, (R13), X10, X10
	VMOVSS     (DI)(R12*4), X11
	VINSERTPS  $0x10, (R13)(R12*2), X11, X11
	VINSERTPS  $0x20, (R11), X11, X11
	VINSERTPS  $0x30, (R11)(R12*1), X11, X11
	VINSERTF128 $1, X11, Y10, Y10 // y.d of rows 0-7
	VMOVD        (SI), X11
	VCVTPH2PS    X11, X11      // f16 d, dmin
	VMOVSHDUP    X11, X12
	VBROADCASTSS X12, Y12
	VBROADCASTSS X11, Y11
	VMULPS       Y10, Y12, Y12 // dmin = f16(x.dmin) * y.d
	VMULPS       Y10, Y11, Y11 // d = f16(x.d) * y.d
	VMOVUPS      Y11, 64(SP)
	VMULPS       Y9, Y12, Y12
	VMOVUPS      0(SP), Y13
	VSUBPS       Y12, Y13, Y13
	VMOVUPS      Y13, 0(SP)    // sumf -= dmin * sumi
	VBROADCASTSS 64(SP), Y12
	VCVTDQ2PS    Y0, Y0
	VMULPS       Y12, Y0, Y0
	VADDPS       96(SP), Y0, Y0
	VMOVUPS      Y0, 96(SP)
	VBROADCASTSS 68(SP), Y12
	VCVTDQ2PS    Y1, Y1
	VMULPS       Y12, Y1, Y1
	VADDPS       128(SP), Y1, Y1
	VMOVUPS      Y1, 128(SP)
	VBROADCASTSS 72(SP), Y12
	VCVTDQ2PS    Y2, Y2
	VMULPS       Y12, Y2, Y2
	VADDPS       160(SP), Y2, Y2
	VMOVUPS      Y2, 160(SP)
	VBROADCASTSS 76(SP), Y12
	VCVTDQ2PS    Y3, Y3
	VMULPS       Y12, Y3, Y3
	VADDPS       192(SP), Y3, Y3
	VMOVUPS      Y3, 192(SP)
	VBROADCASTSS 80(SP), Y12
	VCVTDQ2PS    Y4, Y4
	VMULPS       Y12, Y4, Y4
	VADDPS       224(SP), Y4, Y4
	VMOVUPS      Y4, 224(SP)
	VBROADCASTSS 84(SP), Y12
	VCVTDQ2PS    Y5, Y5
	VMULPS       Y12, Y5, Y5
	VADDPS       256(SP), Y5, Y5
	VMOVUPS      Y5, 256(SP)
	VBROADCASTSS 88(SP), Y12
	VCVTDQ2PS    Y6, Y6
	VMULPS       Y12, Y6, Y6
	VADDPS       288(SP), Y6, Y6
	VMOVUPS      Y6, 288(SP)
	VBROADCASTSS 92(SP), Y12
	VCVTDQ2PS    Y7, Y7
	VMULPS       Y12, Y7, Y7
	VADDPS       320(SP), Y7, Y7
	VMOVUPS      Y7, 320(SP)

	ADDQ $144, SI
	ADDQ $288, DI
	ADDQ $288, R13
	ADDQ $288, R11
	DECQ CX
	JNZ  q4x8loop

q4x8done:
	MOVQ out+64(FP), AX
	VMOVSS  0(SP), X9
	VADDSS  96(SP), X9, X9
	VADDSS  100(SP), X9, X9
	VADDSS  104(SP), X9, X9
	VADDSS  108(SP), X9, X9
	VADDSS  112(SP), X9, X9
	VADDSS  116(SP), X9, X9
	VADDSS  120(SP), X9, X9
	VADDSS  124(SP), X9, X9
	VMOVSS  X9, 0(AX)
	VMOVSS  4(SP), X9
	VADDSS  128(SP), X9, X9
	VADDSS  132(SP), X9, X9
	VADDSS  136(SP), X9, X9
	VADDSS  140(SP), X9, X9
	VADDSS  144(SP), X9, X9
	VADDSS  148(SP), X9, X9
	VADDSS  152(SP), X9, X9
	VADDSS  156(SP), X9, X9
	VMOVSS  X9, 4(AX)
	VMOVSS  8(SP), X9
	VADDSS  160(SP), X9, X9
	VADDSS  164(SP), X9, X9
	VADDSS  168(SP), X9, X9
	VADDSS  172(SP), X9, X9
	VADDSS  176(SP), X9, X9
	VADDSS  180(SP), X9, X9
	VADDSS  184(SP), X9, X9
	VADDSS  188(SP), X9, X9
	VMOVSS  X9, 8(AX)
	VMOVSS  12(SP), X9
	VADDSS  192(SP), X9, X9
	VADDSS  196(SP), X9, X9
	VADDSS  200(SP), X9, X9
	VADDSS  204(SP), X9, X9
	VADDSS  208(SP), X9, X9
	VADDSS  212(SP), X9, X9
	VADDSS  216(SP), X9, X9
	VADDSS  220(SP), X9, X9
	VMOVSS  X9, 12(AX)
	VMOVSS  16(SP), X9
	VADDSS  224(SP), X9, X9
	VADDSS  228(SP), X9, X9
	VADDSS  232(SP), X9, X9
	VADDSS  236(SP), X9, X9
	VADDSS  240(SP), X9, X9
	VADDSS  244(SP), X9, X9
	VADDSS  248(SP), X9, X9
	VADDSS  252(SP), X9, X9
	VMOVSS  X9, 16(AX)
	VMOVSS  20(SP), X9
	VADDSS  256(SP), X9, X9
	VADDSS  260(SP), X9, X9
	VADDSS  264(SP), X9, X9
	VADDSS  268(SP), X9, X9
	VADDSS  272(SP), X9, X9
	VADDSS  276(SP), X9, X9
	VADDSS  280(SP), X9, X9
	VADDSS  284(SP), X9, X9
	VMOVSS  X9, 20(AX)
	VMOVSS  24(SP), X9
	VADDSS  288(SP), X9, X9
	VADDSS  292(SP), X9, X9
	VADDSS  296(SP), X9, X9
	VADDSS  300(SP), X9, X9
	VADDSS  304(SP), X9, X9
	VADDSS  308(SP), X9, X9
	VADDSS  312(SP), X9, X9
	VADDSS  316(SP), X9, X9
	VMOVSS  X9, 24(AX)
	VMOVSS  28(SP), X9
	VADDSS  320(SP), X9, X9
	VADDSS  324(SP), X9, X9
	VADDSS  328(SP), X9, X9
	VADDSS  332(SP), X9, X9
	VADDSS  336(SP), X9, X9
	VADDSS  340(SP), X9, X9
	VADDSS  344(SP), X9, X9
	VADDSS  348(SP), X9, X9
	VMOVSS  X9, 28(AX)
	VZEROUPPER
	RET

// func dotQ6_KLMAVX2(n int, w, a []byte) float32
//
// Levels are used unsigned (u in [0,63]) and the offset removed in int16:
// u*q - 32*q per pair is (u-32)*q exactly.
TEXT ·dotQ6_KLMAVX2(SB), NOSPLIT, $64-60
	MOVQ n+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ a_base+32(FP), DI
	SHRQ $8, CX
	VMOVDQU lmPerm<>(SB), Y15
	VMOVDQU lmTrans<>(SB), Y14
	VMOVDQU lmNibble<>(SB), Y12
	VMOVDQU lm32<>(SB), Y0
	VMOVDQU lm30<>(SB), Y1
	VXORPS  Y13, Y13, Y13      // sums[8]
	TESTQ   CX, CX
	JZ      q6lmdone

q6lmloop:
	VPMOVSXBW 192(SI), Y2
	VMOVDQU   Y2, 32(SP)       // dword m: scales 2m, 2m+1 as int16

// Q6LMLEVELS sets Y7-Y10 to the unsigned levels of elements 0-31, 32-63,
// 64-95, 96-127 of half h, lane-major. Clobbers Y3, Y4, Y11.
#define Q6LMLEVELS(h) \
	VMOVDQU (64*h)(SI), Y3; \
	VPERMD  Y3, Y15, Y3; \
	VPSHUFB Y14, Y3, Y3; \
	VMOVDQU (64*h+32)(SI), Y4; \
	VPERMD  Y4, Y15, Y4; \
	VPSHUFB Y14, Y4, Y4; \
	VMOVDQU (128+32*h)(SI), Y11; \
	VPERMD  Y11, Y15, Y11; \
	VPSHUFB Y14, Y11, Y11; \
	VPAND   Y12, Y3, Y7; \
	VPSLLW  $4, Y11, Y8; \
	VPAND   Y1, Y8, Y8; \
	VPOR    Y8, Y7, Y7; \
	VPAND   Y12, Y4, Y8; \
	VPSLLW  $2, Y11, Y9; \
	VPAND   Y1, Y9, Y9; \
	VPOR    Y9, Y8, Y8; \
	VPSRLW  $4, Y3, Y9; \
	VPAND   Y12, Y9, Y9; \
	VPAND   Y1, Y11, Y10; \
	VPOR    Y10, Y9, Y9; \
	VPSRLW  $4, Y4, Y10; \
	VPAND   Y12, Y10, Y10; \
	VPSRLW  $2, Y11, Y11; \
	VPAND   Y1, Y11, Y11; \
	VPOR    Y11, Y10, Y10

// Q6LMPROD adds the scaled (u-32)*q lane sums of levels v (activations at
// aoff(DI), scale pair at soff(SP)) to acc. Clobbers Y2, Y3.
#define Q6LMPROD(v, aoff, soff, acc) \
	VMOVDQU      aoff(DI), Y2; \
	VPMADDUBSW   Y2, v, v; \
	VPMADDUBSW   Y2, Y0, Y2; \
	VPSUBW       Y2, v, v; \
	VPBROADCASTD soff(SP), Y3; \
	VPMADDWD     Y3, v, v; \
	VPADDD       v, acc, acc

// Q6LMPROD0 is Q6LMPROD into a cleared acc.
#define Q6LMPROD0(v, aoff, soff, acc) \
	VMOVDQU      aoff(DI), Y2; \
	VPMADDUBSW   Y2, v, v; \
	VPMADDUBSW   Y2, Y0, Y2; \
	VPSUBW       Y2, v, v; \
	VPBROADCASTD soff(SP), Y3; \
	VPMADDWD     Y3, v, acc

	Q6LMLEVELS(0)
	Q6LMPROD0(Y7, 32, 32, Y5)
	Q6LMPROD0(Y8, 64, 36, Y6)
	Q6LMPROD(Y9, 96, 40, Y5)
	Q6LMPROD(Y10, 128, 44, Y6)
	Q6LMLEVELS(1)
	Q6LMPROD(Y7, 160, 48, Y5)
	Q6LMPROD(Y8, 192, 52, Y6)
	Q6LMPROD(Y9, 224, 56, Y5)
	Q6LMPROD(Y10, 256, 60, Y6)

	VPADDD       Y6, Y5, Y5
	MOVWLZX      208(SI), AX
	VMOVD        AX, X3
	VCVTPH2PS    X3, X3
	VMULSS       (DI), X3, X3  // d = f16(x.d) * y.d
	VBROADCASTSS X3, Y3
	VCVTDQ2PS    Y5, Y5
	VMULPS       Y3, Y5, Y5
	VADDPS       Y5, Y13, Y13  // sums[l] += d * aux32[l]

	ADDQ $210, SI
	ADDQ $288, DI
	DECQ CX
	JNZ  q6lmloop

q6lmdone:
	VXORPS X12, X12, X12
	LMSUMLANES
	VMOVSS X12, ret+56(FP)
	VZEROUPPER
	RET

// func dotQ6_KLMx4AVX2(n int, w []byte, a []byte, astride int, out *[4]float32)
//
// dotQ6_KLMAVX2 for four activation rows astride bytes apart, each half
// block's levels decoded once. The four rows' float lane sums live in the
// frame.
TEXT ·dotQ6_KLMx4AVX2(SB), NOSPLIT, $192-72
	MOVQ n+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ a_base+32(FP), DI
	MOVQ astride+56(FP), R12
	LEAQ (DI)(R12*2), R13
	ADDQ R12, R13              // row 3
	SHRQ $8, CX
	VMOVDQU lm32<>(SB), Y11
	VMOVDQU lmPerm<>(SB), Y12
	VMOVDQU lmNibble<>(SB), Y13
	VMOVDQU lm30<>(SB), Y14
	VXORPS  Y0, Y0, Y0
	VMOVUPS Y0, 64(SP)         // sums of rows 0-3
	VMOVUPS Y0, 96(SP)
	VMOVUPS Y0, 128(SP)
	VMOVUPS Y0, 160(SP)
	TESTQ   CX, CX
	JZ      q6x4done

q6x4loop:
	VPMOVSXBW 192(SI), Y8
	VMOVDQU   Y8, 32(SP)       // dword m: scales 2m, 2m+1 as int16

// Q6X4LEVELS sets Y4-Y7 to the unsigned levels of elements 0-31, 32-63,
// 64-95, 96-127 of half h, lane-major. Clobbers Y8-Y10, Y15.
#define Q6X4LEVELS(h) \
	VMOVDQU (64*h)(SI), Y8; \
	VPERMD  Y8, Y12, Y8; \
	VPSHUFB lmTrans<>(SB), Y8, Y8; \
	VMOVDQU (64*h+32)(SI), Y9; \
	VPERMD  Y9, Y12, Y9; \
	VPSHUFB lmTrans<>(SB), Y9, Y9; \
	VMOVDQU (128+32*h)(SI), Y10; \
	VPERMD  Y10, Y12, Y10; \
	VPSHUFB lmTrans<>(SB), Y10, Y10; \
	VPAND   Y13, Y8, Y4; \
	VPSLLW  $4, Y10, Y15; \
	VPAND   Y14, Y15, Y15; \
	VPOR    Y15, Y4, Y4; \
	VPAND   Y13, Y9, Y5; \
	VPSLLW  $2, Y10, Y15; \
	VPAND   Y14, Y15, Y15; \
	VPOR    Y15, Y5, Y5; \
	VPSRLW  $4, Y8, Y6; \
	VPAND   Y13, Y6, Y6; \
	VPAND   Y14, Y10, Y15; \
	VPOR    Y15, Y6, Y6; \
	VPSRLW  $4, Y9, Y7; \
	VPAND   Y13, Y7, Y7; \
	VPSRLW  $2, Y10, Y15; \
	VPAND   Y14, Y15, Y15; \
	VPOR    Y15, Y7, Y7

// Q6X4ROW adds row arow's scaled (u-32)*q lane sums of levels v
// (activations at aoff) to acc; Y8 holds the scale pair.
#define Q6X4ROW(v, aoff, arow, acc, op) \
	VMOVDQU    aoff arow, Y9; \
	VPMADDUBSW Y9, v, Y10; \
	VPMADDUBSW Y9, Y11, Y9; \
	VPSUBW     Y9, Y10, Y10; \
	op(acc)

#define Q6X4FIRST(acc) VPMADDWD Y8, Y10, acc
#define Q6X4NEXT(acc) VPMADDWD Y8, Y10, Y10; VPADDD Y10, acc, acc

#define Q6X4REG(v, aoff, soff, op) \
	VPBROADCASTD soff(SP), Y8; \
	Q6X4ROW(v, aoff, (DI), Y0, op); \
	Q6X4ROW(v, aoff, (DI)(R12*1), Y1, op); \
	Q6X4ROW(v, aoff, (DI)(R12*2), Y2, op); \
	Q6X4ROW(v, aoff, (R13), Y3, op)

	Q6X4LEVELS(0)
	Q6X4REG(Y4, 32, 32, Q6X4FIRST)
	Q6X4REG(Y5, 64, 36, Q6X4NEXT)
	Q6X4REG(Y6, 96, 40, Q6X4NEXT)
	Q6X4REG(Y7, 128, 44, Q6X4NEXT)
	Q6X4LEVELS(1)
	Q6X4REG(Y4, 160, 48, Q6X4NEXT)
	Q6X4REG(Y5, 192, 52, Q6X4NEXT)
	Q6X4REG(Y6, 224, 56, Q6X4NEXT)
	Q6X4REG(Y7, 256, 60, Q6X4NEXT)

	VMOVSS       (DI), X6
	VINSERTPS    $0x10, (DI)(R12*1), X6, X6
	VINSERTPS    $0x20, (DI)(R12*2), X6, X6
	VINSERTPS    $0x30, (R13), X6, X6 // y.d of rows 0-3
	MOVWLZX      208(SI), AX
	VMOVD        AX, X7
	VCVTPH2PS    X7, X7
	VBROADCASTSS X7, X7
	VMULPS       X6, X7, X7    // d = f16(x.d) * y.d
	VMOVUPS      X7, 0(SP)

#define Q6X4SUMS(t, acc) \
	VBROADCASTSS (4*t)(SP), Y8; \
	VCVTDQ2PS    acc, acc; \
	VMULPS       Y8, acc, acc; \
	VADDPS       (64+32*t)(SP), acc, acc; \
	VMOVUPS      acc, (64+32*t)(SP)

	Q6X4SUMS(0, Y0)
	Q6X4SUMS(1, Y1)
	Q6X4SUMS(2, Y2)
	Q6X4SUMS(3, Y3)

	ADDQ $210, SI
	ADDQ $288, DI
	ADDQ $288, R13
	DECQ CX
	JNZ  q6x4loop

q6x4done:
	MOVQ out+64(FP), AX

#define Q6X4OUT(t) \
	VXORPS X9, X9, X9; \
	VADDSS (64+32*t)(SP), X9, X9; \
	VADDSS (68+32*t)(SP), X9, X9; \
	VADDSS (72+32*t)(SP), X9, X9; \
	VADDSS (76+32*t)(SP), X9, X9; \
	VADDSS (80+32*t)(SP), X9, X9; \
	VADDSS (84+32*t)(SP), X9, X9; \
	VADDSS (88+32*t)(SP), X9, X9; \
	VADDSS (92+32*t)(SP), X9, X9; \
	VMOVSS X9, (4*t)(AX)

	Q6X4OUT(0)
	Q6X4OUT(1)
	Q6X4OUT(2)
	Q6X4OUT(3)
	VZEROUPPER
	RET
