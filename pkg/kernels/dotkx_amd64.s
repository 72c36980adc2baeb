//go:build amd64 && !purego

#include "textflag.h"
#include "avx2_amd64.h"

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

// The many-row kernels' frame (dotQ*_KLMRowsAVX2), around each type's
// block code; the labels are each function's own: krrow (a row's start),
// krloop (a block), krend (a row's reduction), krall (the return). They
// stand before every TEXT, so vet's frame check does not read them as
// the preceding function's.
// KROWSHEAD: R12 the weight row, R13 the output, R11 the rows left.
#define KROWSHEAD \
	MOVQ  w_base+8(FP), R12; \
	MOVQ  out_base+64(FP), R13; \
	MOVQ  out_len+72(FP), R11; \
	TESTQ R11, R11; \
	JZ    krall

// KROWSTART: CX superblocks, SI the row, DI the activations, sums[8]
// (Y13) zero.
#define KROWSTART \
	MOVQ   n+0(FP), CX; \
	SHRQ   $8, CX; \
	MOVQ   R12, SI; \
	MOVQ   a_base+40(FP), DI; \
	VXORPS Y13, Y13, Y13; \
	TESTQ  CX, CX; \
	JZ     krend

// KROWNEXT(bb): the next block, bb weight bytes on.
#define KROWNEXT(bb) \
	ADDQ $bb, SI; \
	ADDQ $288, DI; \
	DECQ CX; \
	JNZ  krloop

// KROWOUT(res): the row's float in res to the output, then the next row.
#define KROWOUT(res) \
	VMOVSS res, (R13); \
	ADDQ   $4, R13; \
	ADDQ   wstride+32(FP), R12; \
	DECQ   R11; \
	JNZ    krrow

// The Q4_K scale unpacking (Q4KSCALES): get_scale_min_k4 for the 12 scale
// bytes q at 4 of a block, in both halves of a register. Each int16 result
// is 16x its value put together by vpmaddubsw, lo*c0 + hi*c1, from a byte
// pair (lo, hi) that vpshufb picks and vpand masks, then shifted down by 4:
// for j < 4, scale j is q[j]&63 and min j is q[j+4]&63 (16x: (q&63)*16);
// for j >= 4, scale j is q[j+4]&15 | (q[j-4]>>6)<<4 (16x: (q[j+4]&0x0f)*16
// + (q[j-4]&0xc0)*4) and min j is q[j+4]>>4 | (q[j]>>6)<<4 (16x:
// q[j+4]&0xf0 + (q[j]&0xc0)*4). Word j of the low half: scale j; of the
// high half: min j.
DATA q4kSMIdx<>+0(SB)/8, $0x8003800280018000
DATA q4kSMIdx<>+8(SB)/8, $0x030b020a01090008
DATA q4kSMIdx<>+16(SB)/8, $0x8007800680058004
DATA q4kSMIdx<>+24(SB)/8, $0x070b060a05090408
GLOBL q4kSMIdx<>(SB), RODATA|NOPTR, $32

DATA q4kSMMask<>+0(SB)/8, $0x003f003f003f003f
DATA q4kSMMask<>+8(SB)/8, $0xc00fc00fc00fc00f
DATA q4kSMMask<>+16(SB)/8, $0x003f003f003f003f
DATA q4kSMMask<>+24(SB)/8, $0xc0f0c0f0c0f0c0f0
GLOBL q4kSMMask<>(SB), RODATA|NOPTR, $32

DATA q4kSMMul<>+0(SB)/8, $0x0010001000100010
DATA q4kSMMul<>+8(SB)/8, $0x0410041004100410
DATA q4kSMMul<>+16(SB)/8, $0x0010001000100010
DATA q4kSMMul<>+24(SB)/8, $0x0401040104010401
GLOBL q4kSMMul<>(SB), RODATA|NOPTR, $32

// Q4KSCALES(base, v) sets v to the 8 scales (low half, word j: scale j)
// and the 8 mins (high half, word j: min j) of the Q4_K block at base, as
// int16: a load and four vector ops, where ggml's utmp shuffle in general
// registers took two dozen.
#define Q4KSCALES(base, v) \
	VBROADCASTI128 4(base), v; \
	VPSHUFB        q4kSMIdx<>(SB), v, v; \
	VPAND          q4kSMMask<>(SB), v, v; \
	VPMADDUBSW     q4kSMMul<>(SB), v, v; \
	VPSRLW         $4, v, v

// Q4KPAIRS(v, x) sets x (an xmm) to the mins of Q4KSCALES's v (word j:
// min j) and turns v into the scales as int16 pairs (dword k: scale k
// twice), the vpmaddwd operands a loop stores and broadcasts from.
#define Q4KPAIRS(v, x) \
	VEXTRACTI128 $1, v, x; \
	VPERMQ       $0x50, v, v; \
	VPUNPCKLWD   v, v, v

// Q4LMCHUNK and its ops: one 64-element chunk of the one-row Q4_K loop
// (dotQ4_KLMRowsAVX2), two accumulators Y5 (low nibbles) and Y6 (high).
// Q4LMNIBBLES and Q4LMPROD are its two halves, the one-row Q5_K loop
// putting the fifth bits in between.

// Q4LMNIBBLES sets Y8 and Y7 to the low and high nibbles of the 32 bytes
// at woff(SI), lane-major.
#define Q4LMNIBBLES(woff) \
	VMOVDQU      woff(SI), Y7; \
	VPERMD       Y7, Y15, Y7; \
	VPSHUFB      Y14, Y7, Y7; \
	VPAND        Y11, Y7, Y8; \
	VPSRLW       $4, Y7, Y7; \
	VPAND        Y11, Y7, Y7

// q4kBcast holds the vpshufb index that puts scale k (word k of each
// half) as an int16 pair in every dword, at 32k.
#define Q4KBCAST(k, pair) \
	DATA q4kBcast<>+(32*k)(SB)/8, pair; \
	DATA q4kBcast<>+(32*k+8)(SB)/8, pair; \
	DATA q4kBcast<>+(32*k+16)(SB)/8, pair; \
	DATA q4kBcast<>+(32*k+24)(SB)/8, pair
Q4KBCAST(0, $0x0100010001000100)
Q4KBCAST(1, $0x0302030203020302)
Q4KBCAST(2, $0x0504050405040504)
Q4KBCAST(3, $0x0706070607060706)
Q4KBCAST(4, $0x0908090809080908)
Q4KBCAST(5, $0x0b0a0b0a0b0a0b0a)
Q4KBCAST(6, $0x0d0c0d0c0d0c0d0c)
Q4KBCAST(7, $0x0f0e0f0e0f0e0f0e)
GLOBL q4kBcast<>(SB), RODATA|NOPTR, $256

// Q4LMPROD takes the levels in Y8 (sub-block 2c) and Y7 (2c+1) against
// the activations, op scaling them (scale pairs in Y9 and Y10, from the
// scales in both halves of Y3) into Y5 and Y6: Q4LMFIRST sets them (the
// first chunk), Q4LMNEXT adds. The scale pairs come from a register, not
// from a store and eight loads that read parts of it (~3% slower in L2 on
// Zen 3: such a load waits for the store).
#define Q4LMPROD(c, op) \
	VPMADDUBSW (32+64*c)(DI), Y8, Y8; \
	VPMADDUBSW (64+64*c)(DI), Y7, Y7; \
	VPSHUFB    q4kBcast<>+(64*c)(SB), Y3, Y9; \
	VPSHUFB    q4kBcast<>+(64*c+32)(SB), Y3, Y10; \
	op

#define Q4LMCHUNK(c, op) \
	Q4LMNIBBLES((16+32*c)); \
	Q4LMPROD(c, op)

#define Q4LMFIRST VPMADDWD Y9, Y8, Y5; VPMADDWD Y10, Y7, Y6

#define Q4LMNEXT \
	VPMADDWD Y9, Y8, Y8; \
	VPMADDWD Y10, Y7, Y7; \
	VPADDD   Y8, Y5, Y5; \
	VPADDD   Y7, Y6, Y6

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
	VMOVDQU bytes0f<>(SB), Y15
	VXORPS  Y10, Y10, Y10      // sums of rows 0-3
	VXORPS  Y11, Y11, Y11
	VXORPS  Y12, Y12, Y12
	VXORPS  Y13, Y13, Y13
	VXORPS  X4, X4, X4
	VMOVUPS X4, 0(SP)          // sumf of rows 0-3
	TESTQ   CX, CX
	JZ      q4x4done

// Q4X4MINS is a block's work but the levels and the lane sums, from the
// mins in X4 (int16, Q4KPAIRS): sumi of rows 0-3 (the group sums times
// the mins, one vpmaddwd a row, lane t: row t) to float32 in X5, y.d of
// rows 0-3 in X6, f16 d and dmin, then sumf (0(SP)) -= dmin * sumi with
// dmin = f16(x.dmin) * y.d, and d = f16(x.d) * y.d of the four rows to
// 16(SP). Clobbers X4-X9; it comes before the levels, which use them.
#define Q4X4MINS \
	VPMADDWD   4(DI), X4, X5; \
	VPMADDWD   4(DI)(R12*1), X4, X6; \
	VPMADDWD   4(DI)(R12*2), X4, X7; \
	VPMADDWD   4(R13), X4, X8; \
	VPHADDD    X6, X5, X5; \
	VPHADDD    X8, X7, X7; \
	VPHADDD    X7, X5, X5; \
	VCVTDQ2PS  X5, X5; \
	VMOVSS     (DI), X6; \
	VINSERTPS  $0x10, (DI)(R12*1), X6, X6; \
	VINSERTPS  $0x20, (DI)(R12*2), X6, X6; \
	VINSERTPS  $0x30, (R13), X6, X6; \
	VMOVD        (SI), X7; \
	VCVTPH2PS    X7, X7; \
	VMOVSHDUP    X7, X8; \
	VBROADCASTSS X8, X8; \
	VBROADCASTSS X7, X7; \
	VMULPS       X6, X8, X8; \
	VMULPS       X6, X7, X7; \
	VMOVUPS      X7, 16(SP); \
	VMULPS       X5, X8, X8; \
	VMOVUPS      0(SP), X9; \
	VSUBPS       X8, X9, X9; \
	VMOVUPS      X9, 0(SP)

q4x4loop:
	Q4KSCALES(SI, Y2)
	Q4KPAIRS(Y2, X4)
	VMOVDQU    Y2, 32(SP)      // dword k: scale k as an int16 pair
	Q4X4MINS

#define Q4X4ROW(c, arow, acc, op) \
	VPMADDUBSW (32+64*c)arow, Y4, Y8; \
	VPMADDUBSW (64+64*c)arow, Y5, Y9; \
	VPMADDWD   Y6, Y8, Y8; \
	VPMADDWD   Y7, Y9, Y9; \
	op(acc)

#define Q4X4FIRST(acc) VPADDD Y9, Y8, acc
#define Q4X4NEXT(acc) VPADDD Y8, acc, acc; VPADDD Y9, acc, acc

// Q4X4NIBBLES sets Y4 and Y5 to the low and high nibbles of the 32 bytes
// at woff(SI), lane-major; Q4X4PROD takes them (sub-blocks 2c, 2c+1)
// against the four rows. Q4X4CHUNK is the two (dotQ5_KLMx4AVX2 puts the
// fifth bits in between).
#define Q4X4NIBBLES(woff) \
	VMOVDQU      woff(SI), Y4; \
	VPERMD       Y4, Y14, Y4; \
	VPSHUFB      lmTrans<>(SB), Y4, Y4; \
	VPSRLW       $4, Y4, Y5; \
	VPAND        Y15, Y4, Y4; \
	VPAND        Y15, Y5, Y5

#define Q4X4PROD(c, op) \
	VPBROADCASTD (32+8*c)(SP), Y6; \
	VPBROADCASTD (36+8*c)(SP), Y7; \
	Q4X4ROW(c, (DI), Y0, op); \
	Q4X4ROW(c, (DI)(R12*1), Y1, op); \
	Q4X4ROW(c, (DI)(R12*2), Y2, op); \
	Q4X4ROW(c, (R13), Y3, op)

#define Q4X4CHUNK(c, op) \
	Q4X4NIBBLES((16+32*c)); \
	Q4X4PROD(c, op)

	Q4X4CHUNK(0, Q4X4FIRST)
	Q4X4CHUNK(1, Q4X4NEXT)
	Q4X4CHUNK(2, Q4X4NEXT)
	Q4X4CHUNK(3, Q4X4NEXT)

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

// func dotQ4_KLMx8AVX2(n int, w []byte, a []byte, astride int, g []byte, out *[8]float32)
//
// dotQ4_KLMx4AVX2 for eight activation rows: each weight chunk decoded
// once for eight rows (Y8/Y9 the low/high levels, Y10/Y11 their scales),
// rows 0-7 at (DI), (DI)(R12*1), (DI)(R12*2), (R13), (DI)(R12*4),
// (R13)(R12*2), (R11), (R11)(R12*1). The mins terms, block scales and sumf
// of the eight rows go through one ymm (lane t: row t); the float lane
// sums live in the frame (96+32t). g holds the eight rows' y.d and group
// sums side by side (lmGroupBlockBytes a block, see lmGroupFill), so the
// mins terms take four vpmaddwd for all eight rows.
TEXT ·dotQ4_KLMx8AVX2(SB), NOSPLIT, $384-96
	MOVQ n+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ a_base+32(FP), DI
	MOVQ astride+56(FP), R12
	LEAQ (DI)(R12*2), R13
	ADDQ R12, R13              // row 3
	LEAQ (R13)(R12*2), R11
	ADDQ R12, R11              // row 6
	MOVQ g_base+64(FP), AX
	MOVQ AX, 368(SP)           // g of the current block
	SHRQ $8, CX
	VMOVDQU lmPerm<>(SB), Y14
	VMOVDQU bytes0f<>(SB), Y15
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

// Q4X8MINS is a block's work but the levels and the lane sums, from the
// mins in X13 (int16, Q4KPAIRS) and g's block (its address at 368(SP),
// moved on to the next): sumi of rows 0-7 (lane t: row t) from g's
// group-sum pairs (dword j of 352(SP): mins 2j, 2j+1) to float32 in Y9,
// y.d of rows 0-7 from g in Y10, f16 d and dmin, then sumf (0(SP)) -=
// dmin * sumi with dmin = f16(x.dmin) * y.d, and d = f16(x.d) * y.d of
// the eight rows to 64(SP). Clobbers AX, Y8-Y13; it comes before the
// levels, which use them.
#define Q4X8MINS \
	MOVQ       368(SP), AX; \
	VMOVDQU    X13, 352(SP); \
	VPBROADCASTD 352(SP), Y9; \
	VPMADDWD   32(AX), Y9, Y9; \
	VPBROADCASTD 356(SP), Y10; \
	VPMADDWD   64(AX), Y10, Y10; \
	VPADDD     Y10, Y9, Y9; \
	VPBROADCASTD 360(SP), Y10; \
	VPMADDWD   96(AX), Y10, Y10; \
	VPADDD     Y10, Y9, Y9; \
	VPBROADCASTD 364(SP), Y10; \
	VPMADDWD   128(AX), Y10, Y10; \
	VPADDD     Y10, Y9, Y9; \
	VCVTDQ2PS  Y9, Y9; \
	VMOVUPS    (AX), Y10; \
	ADDQ       $160, AX; \
	MOVQ       AX, 368(SP); \
	VMOVD        (SI), X11; \
	VCVTPH2PS    X11, X11; \
	VMOVSHDUP    X11, X12; \
	VBROADCASTSS X12, Y12; \
	VBROADCASTSS X11, Y11; \
	VMULPS       Y10, Y12, Y12; \
	VMULPS       Y10, Y11, Y11; \
	VMOVUPS      Y11, 64(SP); \
	VMULPS       Y9, Y12, Y12; \
	VMOVUPS      0(SP), Y13; \
	VSUBPS       Y12, Y13, Y13; \
	VMOVUPS      Y13, 0(SP)

q4x8loop:
	Q4KSCALES(SI, Y12)
	Q4KPAIRS(Y12, X13)
	VMOVDQU    Y12, 32(SP)     // dword k: scale k as an int16 pair
	Q4X8MINS

#define Q4X8ROW(c, arow, acc, op) \
	VPMADDUBSW (32+64*c)arow, Y8, Y12; \
	VPMADDUBSW (64+64*c)arow, Y9, Y13; \
	VPMADDWD   Y10, Y12, Y12; \
	VPMADDWD   Y11, Y13, Y13; \
	op(acc)

#define Q4X8FIRST(acc) VPADDD Y13, Y12, acc
#define Q4X8NEXT(acc) VPADDD Y12, acc, acc; VPADDD Y13, acc, acc

// Q4X8NIBBLES and Q4X8PROD are the two halves of Q4X8CHUNK, as
// Q4X4NIBBLES and Q4X4PROD (dotQ5_KLMx8AVX2 puts the fifth bits in
// between): the nibbles in Y8 and Y9.
#define Q4X8NIBBLES(woff) \
	VMOVDQU      woff(SI), Y8; \
	VPERMD       Y8, Y14, Y8; \
	VPSHUFB      lmTrans<>(SB), Y8, Y8; \
	VPSRLW       $4, Y8, Y9; \
	VPAND        Y15, Y8, Y8; \
	VPAND        Y15, Y9, Y9

#define Q4X8PROD(c, op) \
	VPBROADCASTD (32+8*c)(SP), Y10; \
	VPBROADCASTD (36+8*c)(SP), Y11; \
	Q4X8ROW(c, (DI), Y0, op); \
	Q4X8ROW(c, (DI)(R12*1), Y1, op); \
	Q4X8ROW(c, (DI)(R12*2), Y2, op); \
	Q4X8ROW(c, (R13), Y3, op); \
	Q4X8ROW(c, (DI)(R12*4), Y4, op); \
	Q4X8ROW(c, (R13)(R12*2), Y5, op); \
	Q4X8ROW(c, (R11), Y6, op); \
	Q4X8ROW(c, (R11)(R12*1), Y7, op)

#define Q4X8CHUNK(c, op) \
	Q4X8NIBBLES((16+32*c)); \
	Q4X8PROD(c, op)

	Q4X8CHUNK(0, Q4X8FIRST)
	Q4X8CHUNK(1, Q4X8NEXT)
	Q4X8CHUNK(2, Q4X8NEXT)
	Q4X8CHUNK(3, Q4X8NEXT)

#define Q4X8SUMS(t, acc) \
	VBROADCASTSS (64+4*t)(SP), Y12; \
	VCVTDQ2PS    acc, acc; \
	VMULPS       Y12, acc, acc; \
	VADDPS       (96+32*t)(SP), acc, acc; \
	VMOVUPS      acc, (96+32*t)(SP) // sums[l] += d * aux32[l]

	Q4X8SUMS(0, Y0)
	Q4X8SUMS(1, Y1)
	Q4X8SUMS(2, Y2)
	Q4X8SUMS(3, Y3)
	Q4X8SUMS(4, Y4)
	Q4X8SUMS(5, Y5)
	Q4X8SUMS(6, Y6)
	Q4X8SUMS(7, Y7)

	ADDQ $144, SI
	ADDQ $288, DI
	ADDQ $288, R13
	ADDQ $288, R11
	DECQ CX
	JNZ  q4x8loop

q4x8done:
	MOVQ out+88(FP), AX

// LMOUT8 adds row t's lane sums (at sums) to its sumf (at 4t(SP)) in lane
// order and stores the result to out[t].
#define LMOUT8(t, sums) \
	VMOVSS (4*t)(SP), X9; \
	VADDSS (sums+4*t*8)(SP), X9, X9; \
	VADDSS (sums+4*t*8+4)(SP), X9, X9; \
	VADDSS (sums+4*t*8+8)(SP), X9, X9; \
	VADDSS (sums+4*t*8+12)(SP), X9, X9; \
	VADDSS (sums+4*t*8+16)(SP), X9, X9; \
	VADDSS (sums+4*t*8+20)(SP), X9, X9; \
	VADDSS (sums+4*t*8+24)(SP), X9, X9; \
	VADDSS (sums+4*t*8+28)(SP), X9, X9; \
	VMOVSS X9, (4*t)(AX)

	LMOUT8(0, 96)
	LMOUT8(1, 96)
	LMOUT8(2, 96)
	LMOUT8(3, 96)
	LMOUT8(4, 96)
	LMOUT8(5, 96)
	LMOUT8(6, 96)
	LMOUT8(7, 96)
	VZEROUPPER
	RET

// func dotQ5_KLMx4AVX2(n int, w []byte, a []byte, astride int, out *[4]float32)
//
// dotQ4_KLMx4AVX2 for Q5_K, whose blocks have Q4_K's d, dmin and scales
// (Q4KSCALES, Q4X4MINS and the frame's sumf, d and scales as there), the
// nibbles at 48 and a fifth bit per level in qh at 16: bit 2c of qh byte
// l for element l of sub-block 2c, bit 2c+1 for sub-block 2c+1. qh is put
// lane-major once per block, like a chunk of nibbles, so that its byte
// 4l+t holds the bits of element l+8t of every sub-block. Y0-Y3: the
// rows' int32 lane sums; Y4/Y5: the levels; Y6/Y7: the scales; Y8/Y9:
// products; Y10: qh; Y11: bytes 0x10; Y12/Y13: the fifth bits; Y14:
// lmPerm; Y15: bytes 0x0f. The four rows' float lane sums live in the
// frame (64+32t).
TEXT ·dotQ5_KLMx4AVX2(SB), NOSPLIT, $192-72
	MOVQ n+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ a_base+32(FP), DI
	MOVQ astride+56(FP), R12
	LEAQ (DI)(R12*2), R13
	ADDQ R12, R13              // row 3
	SHRQ $8, CX
	VMOVDQU lmPerm<>(SB), Y14
	VMOVDQU bytes0f<>(SB), Y15
	VMOVDQU bytes10<>(SB), Y11
	VXORPS  Y0, Y0, Y0
	VMOVUPS X0, 0(SP)          // sumf of rows 0-3
	VMOVUPS Y0, 64(SP)         // sums of rows 0-3
	VMOVUPS Y0, 96(SP)
	VMOVUPS Y0, 128(SP)
	VMOVUPS Y0, 160(SP)
	TESTQ   CX, CX
	JZ      q5x4done

q5x4loop:
	Q4KSCALES(SI, Y2)
	Q4KPAIRS(Y2, X4)
	VMOVDQU    Y2, 32(SP)      // dword k: scale k as an int16 pair
	Q4X4MINS
	VMOVDQU    16(SI), Y10
	VPERMD     Y10, Y14, Y10
	VPSHUFB    lmTrans<>(SB), Y10, Y10 // qh, lane-major

// Q5X4HIGH adds the fifth bits of chunk c to the nibbles in Y4 (sub-block
// 2c) and Y5 (2c+1): qh shifted by lsh (lop) and hsh (hop) word shifts
// puts bit 2c (2c+1) at bit 4, masked by 0x10; a word shift of at most 4
// left or 3 right moves no bit of the other byte to bit 4.
#define Q5X4HIGH(lop, lsh, hop, hsh) \
	lop   $lsh, Y10, Y12; \
	hop   $hsh, Y10, Y13; \
	VPAND Y11, Y12, Y12; \
	VPAND Y11, Y13, Y13; \
	VPOR  Y12, Y4, Y4; \
	VPOR  Y13, Y5, Y5

#define Q5X4CHUNK(c, lop, lsh, hop, hsh, op) \
	Q4X4NIBBLES((48+32*c)); \
	Q5X4HIGH(lop, lsh, hop, hsh); \
	Q4X4PROD(c, op)

	Q5X4CHUNK(0, VPSLLW, 4, VPSLLW, 3, Q4X4FIRST)
	Q5X4CHUNK(1, VPSLLW, 2, VPSLLW, 1, Q4X4NEXT)
	Q5X4CHUNK(2, VPSRLW, 0, VPSRLW, 1, Q4X4NEXT)
	Q5X4CHUNK(3, VPSRLW, 2, VPSRLW, 3, Q4X4NEXT)

#define Q5X4SUMS(t, acc) \
	VBROADCASTSS (16+4*t)(SP), Y8; \
	VCVTDQ2PS    acc, acc; \
	VMULPS       Y8, acc, acc; \
	VADDPS       (64+32*t)(SP), acc, acc; \
	VMOVUPS      acc, (64+32*t)(SP) // sums[l] += d * aux32[l]

	Q5X4SUMS(0, Y0)
	Q5X4SUMS(1, Y1)
	Q5X4SUMS(2, Y2)
	Q5X4SUMS(3, Y3)

	ADDQ $176, SI
	ADDQ $288, DI
	ADDQ $288, R13
	DECQ CX
	JNZ  q5x4loop

q5x4done:
	MOVQ out+64(FP), AX
	LMOUT8(0, 64)
	LMOUT8(1, 64)
	LMOUT8(2, 64)
	LMOUT8(3, 64)
	VZEROUPPER
	RET

// func dotQ5_KLMx8AVX2(n int, w []byte, a []byte, astride int, g []byte, out *[8]float32)
//
// dotQ4_KLMx8AVX2 for Q5_K (its registers, frame and macros), with the
// fifth bits of dotQ5_KLMx4AVX2. No register is left for qh: it is put
// lane-major once per block into the frame (384), and each chunk shifts
// it into Y12 and Y13 before they take the products.
TEXT ·dotQ5_KLMx8AVX2(SB), NOSPLIT, $416-96
	MOVQ n+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ a_base+32(FP), DI
	MOVQ astride+56(FP), R12
	LEAQ (DI)(R12*2), R13
	ADDQ R12, R13              // row 3
	LEAQ (R13)(R12*2), R11
	ADDQ R12, R11              // row 6
	MOVQ g_base+64(FP), AX
	MOVQ AX, 368(SP)           // g of the current block
	SHRQ $8, CX
	VMOVDQU lmPerm<>(SB), Y14
	VMOVDQU bytes0f<>(SB), Y15
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
	JZ      q5x8done

q5x8loop:
	Q4KSCALES(SI, Y12)
	Q4KPAIRS(Y12, X13)
	VMOVDQU    Y12, 32(SP)     // dword k: scale k as an int16 pair
	Q4X8MINS
	VMOVDQU    16(SI), Y12
	VPERMD     Y12, Y14, Y12
	VPSHUFB    lmTrans<>(SB), Y12, Y12
	VMOVDQU    Y12, 384(SP)    // qh, lane-major

// Q5X8HIGH is Q5X4HIGH for the nibbles in Y8 and Y9, qh from the frame.
#define Q5X8HIGH(lop, lsh, hop, hsh) \
	VMOVDQU 384(SP), Y13; \
	lop     $lsh, Y13, Y12; \
	hop     $hsh, Y13, Y13; \
	VPAND   bytes10<>(SB), Y12, Y12; \
	VPAND   bytes10<>(SB), Y13, Y13; \
	VPOR    Y12, Y8, Y8; \
	VPOR    Y13, Y9, Y9

#define Q5X8CHUNK(c, lop, lsh, hop, hsh, op) \
	Q4X8NIBBLES((48+32*c)); \
	Q5X8HIGH(lop, lsh, hop, hsh); \
	Q4X8PROD(c, op)

	Q5X8CHUNK(0, VPSLLW, 4, VPSLLW, 3, Q4X8FIRST)
	Q5X8CHUNK(1, VPSLLW, 2, VPSLLW, 1, Q4X8NEXT)
	Q5X8CHUNK(2, VPSRLW, 0, VPSRLW, 1, Q4X8NEXT)
	Q5X8CHUNK(3, VPSRLW, 2, VPSRLW, 3, Q4X8NEXT)

	Q4X8SUMS(0, Y0)
	Q4X8SUMS(1, Y1)
	Q4X8SUMS(2, Y2)
	Q4X8SUMS(3, Y3)
	Q4X8SUMS(4, Y4)
	Q4X8SUMS(5, Y5)
	Q4X8SUMS(6, Y6)
	Q4X8SUMS(7, Y7)

	ADDQ $176, SI
	ADDQ $288, DI
	ADDQ $288, R13
	ADDQ $288, R11
	DECQ CX
	JNZ  q5x8loop

q5x8done:
	MOVQ out+88(FP), AX
	LMOUT8(0, 96)
	LMOUT8(1, 96)
	LMOUT8(2, 96)
	LMOUT8(3, 96)
	LMOUT8(4, 96)
	LMOUT8(5, 96)
	LMOUT8(6, 96)
	LMOUT8(7, 96)
	VZEROUPPER
	RET

// The level and product steps of the one-row Q6_K loop
// (dotQ6_KLMRowsAVX2).

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
	VMOVDQU bytes20<>(SB), Y11
	VMOVDQU lmPerm<>(SB), Y12
	VMOVDQU bytes0f<>(SB), Y13
	VMOVDQU bytes30<>(SB), Y14
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
// (activations at aoff) to acc; Y8 holds the scale pair. Q6X4REG has put
// u-32 in Y15 and |u-32| in v: vpmaddubsw(|u-32|, vpsignb(q, u-32)) is
// (u-32)*q exactly (q is never -128 in a Q8_K row).
#define Q6X4ROW(v, aoff, arow, acc, op) \
	VMOVDQU    aoff arow, Y9; \
	VPSIGNB    Y15, Y9, Y9; \
	VPMADDUBSW Y9, v, Y10; \
	op(acc)

#define Q6X4FIRST(acc) VPMADDWD Y8, Y10, acc
#define Q6X4NEXT(acc) VPMADDWD Y8, Y10, Y10; VPADDD Y10, acc, acc

#define Q6X4REG(v, aoff, soff, op) \
	VPSUBB       Y11, v, Y15; \
	VPABSB       Y15, v; \
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

// Q6X4D sets 0(SP) to d = f16(x.d) * y.d of rows 0-3 (lane t: row t),
// x.d at doff(SI), y.d of the four rows in X6. Clobbers AX, X6, X7.
#define Q6X4D(doff) \
	VMOVSS       (DI), X6; \
	VINSERTPS    $0x10, (DI)(R12*1), X6, X6; \
	VINSERTPS    $0x20, (DI)(R12*2), X6, X6; \
	VINSERTPS    $0x30, (R13), X6, X6; \
	MOVWLZX      doff(SI), AX; \
	VMOVD        AX, X7; \
	VCVTPH2PS    X7, X7; \
	VBROADCASTSS X7, X7; \
	VMULPS       X6, X7, X7; \
	VMOVUPS      X7, 0(SP)

	Q6X4D(208)

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

// func dotQ6_KLMx8AVX2(n int, w []byte, a []byte, astride int, g []byte, out *[8]float32)
//
// dotQ6_KLMx4AVX2 for eight activation rows (at the addresses of
// dotQ4_KLMx8AVX2): each level register decoded once for eight rows, one
// at a time (the transformed low bits in Y8, the high bits in Y9). The
// levels are taken signed here, (u-32) in Y15 and |u-32| in Y12:
// vpmaddubsw(|u-32|, vpsignb(q, u-32)) is (u-32)*q exactly (q is never
// -128 in a Q8_K row), one multiply per row instead of two. The float lane
// sums live in the frame (64+32t). The rows' y.d come from g (as in
// dotQ4_KLMx8AVX2).
TEXT ·dotQ6_KLMx8AVX2(SB), NOSPLIT, $320-96
	MOVQ n+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ a_base+32(FP), DI
	MOVQ astride+56(FP), R12
	LEAQ (DI)(R12*2), R13
	ADDQ R12, R13              // row 3
	LEAQ (R13)(R12*2), R11
	ADDQ R12, R11              // row 6
	MOVQ g_base+64(FP), BX
	SHRQ $8, CX
	VMOVDQU lmPerm<>(SB), Y14
	VXORPS  Y0, Y0, Y0
	VMOVUPS Y0, 64(SP)
	VMOVUPS Y0, 96(SP)
	VMOVUPS Y0, 128(SP)
	VMOVUPS Y0, 160(SP)
	VMOVUPS Y0, 192(SP)
	VMOVUPS Y0, 224(SP)
	VMOVUPS Y0, 256(SP)
	VMOVUPS Y0, 288(SP)
	TESTQ   CX, CX
	JZ      q6x8done

q6x8loop:
	VPMOVSXBW 192(SI), Y13
	VMOVDQU   Y13, 32(SP)      // dword m: scales 2m, 2m+1 as int16

// Q6X8LOAD loads the 32 bytes at off(SI) into reg, lane-major.
#define Q6X8LOAD(off, reg) \
	VMOVDQU off(SI), reg; \
	VPERMD  reg, Y14, reg; \
	VPSHUFB lmTrans<>(SB), reg, reg

// LMX8SIGNED turns the unsigned levels u in Y12 into u-off (Y15) and
// |u-off| (Y12), off the bytes at offs; Q6X8SIGNED is it for Q6_K (32).
#define LMX8SIGNED(offs) \
	VPSUBB offs, Y12, Y15; \
	VPABSB Y15, Y12

#define Q6X8SIGNED LMX8SIGNED(bytes20<>(SB))

// The four level registers of a half: low bits from Y8 (low or high
// nibbles), high bits from Y9 (qh bits 0-1, 2-3, 4-5, 6-7).
#define Q6X8V0 \
	VPAND  bytes0f<>(SB), Y8, Y12; \
	VPSLLW $4, Y9, Y10; \
	VPAND  bytes30<>(SB), Y10, Y10; \
	VPOR   Y10, Y12, Y12; \
	Q6X8SIGNED

#define Q6X8V1 \
	VPAND  bytes0f<>(SB), Y8, Y12; \
	VPSLLW $2, Y9, Y10; \
	VPAND  bytes30<>(SB), Y10, Y10; \
	VPOR   Y10, Y12, Y12; \
	Q6X8SIGNED

#define Q6X8V2 \
	VPSRLW $4, Y8, Y12; \
	VPAND  bytes0f<>(SB), Y12, Y12; \
	VPAND  bytes30<>(SB), Y9, Y10; \
	VPOR   Y10, Y12, Y12; \
	Q6X8SIGNED

#define Q6X8V3 \
	VPSRLW $4, Y8, Y12; \
	VPAND  bytes0f<>(SB), Y12, Y12; \
	VPSRLW $2, Y9, Y10; \
	VPAND  bytes30<>(SB), Y10, Y10; \
	VPOR   Y10, Y12, Y12; \
	Q6X8SIGNED

#define Q6X8ROW(aoff, arow, acc, op) \
	VMOVDQU    aoff arow, Y11; \
	VPSIGNB    Y15, Y11, Y11; \
	VPMADDUBSW Y11, Y12, Y10; \
	op(acc)

#define Q6X8FIRST(acc) VPMADDWD Y13, Y10, acc
#define Q6X8NEXT(acc) VPMADDWD Y13, Y10, Y10; VPADDD Y10, acc, acc

// Q6X8REG adds the eight rows' scaled products with the level register
// in Y12/Y15 (activations at aoff, scale pair at soff(SP)).
#define Q6X8REG(aoff, soff, op) \
	VPBROADCASTD soff(SP), Y13; \
	Q6X8ROW(aoff, (DI), Y0, op); \
	Q6X8ROW(aoff, (DI)(R12*1), Y1, op); \
	Q6X8ROW(aoff, (DI)(R12*2), Y2, op); \
	Q6X8ROW(aoff, (R13), Y3, op); \
	Q6X8ROW(aoff, (DI)(R12*4), Y4, op); \
	Q6X8ROW(aoff, (R13)(R12*2), Y5, op); \
	Q6X8ROW(aoff, (R11), Y6, op); \
	Q6X8ROW(aoff, (R11)(R12*1), Y7, op)

	// Half 0: ql 0-63, qh 0-31, elements 0-127.
	Q6X8LOAD(0, Y8)
	Q6X8LOAD(128, Y9)
	Q6X8V0
	Q6X8REG(32, 32, Q6X8FIRST)
	Q6X8V2
	Q6X8REG(96, 40, Q6X8NEXT)
	Q6X8LOAD(32, Y8)
	Q6X8V1
	Q6X8REG(64, 36, Q6X8NEXT)
	Q6X8V3
	Q6X8REG(128, 44, Q6X8NEXT)

	// Half 1: ql 64-127, qh 32-63, elements 128-255.
	Q6X8LOAD(64, Y8)
	Q6X8LOAD(160, Y9)
	Q6X8V0
	Q6X8REG(160, 48, Q6X8NEXT)
	Q6X8V2
	Q6X8REG(224, 56, Q6X8NEXT)
	Q6X8LOAD(96, Y8)
	Q6X8V1
	Q6X8REG(192, 52, Q6X8NEXT)
	Q6X8V3
	Q6X8REG(256, 60, Q6X8NEXT)

// Q6X8D sets 0(SP) to d = f16(x.d) * y.d of rows 0-7 (lane t: row t),
// x.d at doff(SI), y.d of the eight rows from the block of g at greg
// (moved on to the next). Clobbers AX, Y10, Y11.
#define Q6X8D(greg, doff) \
	VMOVUPS      (greg), Y10; \
	ADDQ         $160, greg; \
	MOVWLZX      doff(SI), AX; \
	VMOVD        AX, X11; \
	VCVTPH2PS    X11, X11; \
	VBROADCASTSS X11, Y11; \
	VMULPS       Y10, Y11, Y11; \
	VMOVUPS      Y11, 0(SP)

	Q6X8D(BX, 208)

#define Q6X8SUMS(t, acc) \
	VBROADCASTSS (4*t)(SP), Y12; \
	VCVTDQ2PS    acc, acc; \
	VMULPS       Y12, acc, acc; \
	VADDPS       (64+32*t)(SP), acc, acc; \
	VMOVUPS      acc, (64+32*t)(SP) // sums[l] += d * aux32[l]

	Q6X8SUMS(0, Y0)
	Q6X8SUMS(1, Y1)
	Q6X8SUMS(2, Y2)
	Q6X8SUMS(3, Y3)
	Q6X8SUMS(4, Y4)
	Q6X8SUMS(5, Y5)
	Q6X8SUMS(6, Y6)
	Q6X8SUMS(7, Y7)

	ADDQ $210, SI
	ADDQ $288, DI
	ADDQ $288, R13
	ADDQ $288, R11
	DECQ CX
	JNZ  q6x8loop

q6x8done:
	MOVQ out+88(FP), AX

#define Q6X8OUT(t) \
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

	Q6X8OUT(0)
	Q6X8OUT(1)
	Q6X8OUT(2)
	Q6X8OUT(3)
	Q6X8OUT(4)
	Q6X8OUT(5)
	Q6X8OUT(6)
	Q6X8OUT(7)
	VZEROUPPER
	RET

// func dotQ3_KLMx4AVX2(n int, w []byte, a []byte, astride int, out *[4]float32)
//
// dotQ6_KLMx4AVX2 for Q3_K (its frame, signed products and macros): a
// level is u-4, u its two qs bits with its hmask bit at bit 2
// (q3Levels), so Q6X4REG takes u with bytes 4 as the offset. Each 32-byte
// group of activations k (sub-blocks 2k, 2k+1, their scales one int16
// pair) has its levels in qs chunk k/4 (bits 2(k%4), 2(k%4)+1 of byte l
// for element l) and hmask (bit k of byte l); hmask is put lane-major
// once per block, each qs chunk once per half, like Q6_K's chunks.
// Y0-Y3: the rows' int32 lane sums; Y4-Y7: u of a half's four groups;
// Y8: qs, lane-major, then the scale pair; Y9/Y10/Y15: as in
// dotQ6_KLMx4AVX2; Y11: bytes 4; Y12: lmPerm; Y13: bytes 3; Y14: hmask,
// lane-major.
TEXT ·dotQ3_KLMx4AVX2(SB), NOSPLIT, $192-72
	MOVQ n+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ a_base+32(FP), DI
	MOVQ astride+56(FP), R12
	LEAQ (DI)(R12*2), R13
	ADDQ R12, R13              // row 3
	SHRQ $8, CX
	VMOVDQU bytes04<>(SB), Y11
	VMOVDQU lmPerm<>(SB), Y12
	VMOVDQU bytes03<>(SB), Y13
	VXORPS  Y0, Y0, Y0
	VMOVUPS Y0, 64(SP)         // sums of rows 0-3
	VMOVUPS Y0, 96(SP)
	VMOVUPS Y0, 128(SP)
	VMOVUPS Y0, 160(SP)
	TESTQ   CX, CX
	JZ      q3x4done

q3x4loop:
	Q3KSCALES(bytes0f<>(SB), bytes30<>(SB), X8, Y8)
	VMOVDQU Y8, 32(SP)         // dword k: scales 2k, 2k+1 as int16
	VMOVDQU (SI), Y14          // hmask, put lane-major:
	VPERMD  Y14, Y12, Y14
	VPSHUFB lmTrans<>(SB), Y14, Y14

// Q3X4LEVEL sets v to u of one group from the qs chunk in Y8 (its bits at
// qsh) and hmask, whose bit for the group hop $hsh moves to bit 2 (a word
// shift of at most 2 left or 5 right moves no bit of the other byte to
// bit 2). Clobbers Y15.
#define Q3X4LEVEL(v, qsh, hop, hsh) \
	VPSRLW $qsh, Y8, v; \
	VPAND  Y13, v, v; \
	hop    $hsh, Y14, Y15; \
	VPAND  Y11, Y15, Y15; \
	VPOR   Y15, v, v

// Q3X4LEVELS sets Y4-Y7 to u of groups 4c to 4c+3 (qs chunk c), hmask
// bit 4c+j moved to bit 2 by opj $shj.
#define Q3X4LEVELS(c, op0, sh0, op1, sh1, op2, sh2, op3, sh3) \
	VMOVDQU (32+32*c)(SI), Y8; \
	VPERMD  Y8, Y12, Y8; \
	VPSHUFB lmTrans<>(SB), Y8, Y8; \
	Q3X4LEVEL(Y4, 0, op0, sh0); \
	Q3X4LEVEL(Y5, 2, op1, sh1); \
	Q3X4LEVEL(Y6, 4, op2, sh2); \
	Q3X4LEVEL(Y7, 6, op3, sh3)

	Q3X4LEVELS(0, VPSLLW, 2, VPSLLW, 1, VPSRLW, 0, VPSRLW, 1)
	Q6X4REG(Y4, 32, 32, Q6X4FIRST)
	Q6X4REG(Y5, 64, 36, Q6X4NEXT)
	Q6X4REG(Y6, 96, 40, Q6X4NEXT)
	Q6X4REG(Y7, 128, 44, Q6X4NEXT)
	Q3X4LEVELS(1, VPSRLW, 2, VPSRLW, 3, VPSRLW, 4, VPSRLW, 5)
	Q6X4REG(Y4, 160, 48, Q6X4NEXT)
	Q6X4REG(Y5, 192, 52, Q6X4NEXT)
	Q6X4REG(Y6, 224, 56, Q6X4NEXT)
	Q6X4REG(Y7, 256, 60, Q6X4NEXT)

	Q6X4D(108)
	Q6X4SUMS(0, Y0)
	Q6X4SUMS(1, Y1)
	Q6X4SUMS(2, Y2)
	Q6X4SUMS(3, Y3)

	ADDQ $110, SI
	ADDQ $288, DI
	ADDQ $288, R13
	DECQ CX
	JNZ  q3x4loop

q3x4done:
	MOVQ out+64(FP), AX
	Q6X4OUT(0)
	Q6X4OUT(1)
	Q6X4OUT(2)
	Q6X4OUT(3)
	VZEROUPPER
	RET

// func dotQ3_KLMx8AVX2(n int, w []byte, a []byte, astride int, g []byte, out *[8]float32)
//
// dotQ6_KLMx8AVX2 for Q3_K (its registers, frame and macros), with the
// levels of dotQ3_KLMx4AVX2: hmask lane-major in Y9 for the block, a qs
// chunk in Y8 for a half, u of one group at a time into Y12 (Y10 the
// hmask bits), then u-4 and |u-4|. g's address is in R10 (Q3KSCALES
// clobbers BX).
TEXT ·dotQ3_KLMx8AVX2(SB), NOSPLIT, $320-96
	MOVQ n+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ a_base+32(FP), DI
	MOVQ astride+56(FP), R12
	LEAQ (DI)(R12*2), R13
	ADDQ R12, R13              // row 3
	LEAQ (R13)(R12*2), R11
	ADDQ R12, R11              // row 6
	MOVQ g_base+64(FP), R10
	SHRQ $8, CX
	VMOVDQU lmPerm<>(SB), Y14
	VXORPS  Y0, Y0, Y0
	VMOVUPS Y0, 64(SP)
	VMOVUPS Y0, 96(SP)
	VMOVUPS Y0, 128(SP)
	VMOVUPS Y0, 160(SP)
	VMOVUPS Y0, 192(SP)
	VMOVUPS Y0, 224(SP)
	VMOVUPS Y0, 256(SP)
	VMOVUPS Y0, 288(SP)
	TESTQ   CX, CX
	JZ      q3x8done

q3x8loop:
	Q3KSCALES(bytes0f<>(SB), bytes30<>(SB), X13, Y13)
	VMOVDQU Y13, 32(SP)        // dword k: scales 2k, 2k+1 as int16
	Q6X8LOAD(0, Y9)            // hmask

// Q3X8V is Q3X4LEVEL for the eight-row loop, into Y12, then signed.
#define Q3X8V(qsh, hop, hsh) \
	VPSRLW $qsh, Y8, Y12; \
	VPAND  bytes03<>(SB), Y12, Y12; \
	hop    $hsh, Y9, Y10; \
	VPAND  bytes04<>(SB), Y10, Y10; \
	VPOR   Y10, Y12, Y12; \
	LMX8SIGNED(bytes04<>(SB))

	// Half 0: qs chunk 0, hmask bits 0-3, elements 0-127.
	Q6X8LOAD(32, Y8)
	Q3X8V(0, VPSLLW, 2)
	Q6X8REG(32, 32, Q6X8FIRST)
	Q3X8V(2, VPSLLW, 1)
	Q6X8REG(64, 36, Q6X8NEXT)
	Q3X8V(4, VPSRLW, 0)
	Q6X8REG(96, 40, Q6X8NEXT)
	Q3X8V(6, VPSRLW, 1)
	Q6X8REG(128, 44, Q6X8NEXT)

	// Half 1: qs chunk 1, hmask bits 4-7, elements 128-255.
	Q6X8LOAD(64, Y8)
	Q3X8V(0, VPSRLW, 2)
	Q6X8REG(160, 48, Q6X8NEXT)
	Q3X8V(2, VPSRLW, 3)
	Q6X8REG(192, 52, Q6X8NEXT)
	Q3X8V(4, VPSRLW, 4)
	Q6X8REG(224, 56, Q6X8NEXT)
	Q3X8V(6, VPSRLW, 5)
	Q6X8REG(256, 60, Q6X8NEXT)

	Q6X8D(R10, 108)
	Q6X8SUMS(0, Y0)
	Q6X8SUMS(1, Y1)
	Q6X8SUMS(2, Y2)
	Q6X8SUMS(3, Y3)
	Q6X8SUMS(4, Y4)
	Q6X8SUMS(5, Y5)
	Q6X8SUMS(6, Y6)
	Q6X8SUMS(7, Y7)

	ADDQ $110, SI
	ADDQ $288, DI
	ADDQ $288, R13
	ADDQ $288, R11
	DECQ CX
	JNZ  q3x8loop

q3x8done:
	MOVQ out+88(FP), AX
	Q6X8OUT(0)
	Q6X8OUT(1)
	Q6X8OUT(2)
	Q6X8OUT(3)
	Q6X8OUT(4)
	Q6X8OUT(5)
	Q6X8OUT(6)
	Q6X8OUT(7)
	VZEROUPPER
	RET

// Constants of quantizeQ8KLMAVX2 (besides f32Abs): 1.5*2^23 (nearestInt),
// its mantissa mask and offset, 127, a byte mask, bytes 0x80.
DATA lmMagic<>+0(SB)/8, $0x4b4000004b400000
DATA lmMagic<>+8(SB)/8, $0x4b4000004b400000
DATA lmMagic<>+16(SB)/8, $0x4b4000004b400000
DATA lmMagic<>+24(SB)/8, $0x4b4000004b400000
GLOBL lmMagic<>(SB), RODATA|NOPTR, $32

DATA lmMant<>+0(SB)/8, $0x007fffff007fffff
DATA lmMant<>+8(SB)/8, $0x007fffff007fffff
DATA lmMant<>+16(SB)/8, $0x007fffff007fffff
DATA lmMant<>+24(SB)/8, $0x007fffff007fffff
GLOBL lmMant<>(SB), RODATA|NOPTR, $32

DATA lmOff<>+0(SB)/8, $0x0040000000400000
DATA lmOff<>+8(SB)/8, $0x0040000000400000
DATA lmOff<>+16(SB)/8, $0x0040000000400000
DATA lmOff<>+24(SB)/8, $0x0040000000400000
GLOBL lmOff<>(SB), RODATA|NOPTR, $32

DATA lm127<>+0(SB)/8, $0x0000007f0000007f
DATA lm127<>+8(SB)/8, $0x0000007f0000007f
DATA lm127<>+16(SB)/8, $0x0000007f0000007f
DATA lm127<>+24(SB)/8, $0x0000007f0000007f
GLOBL lm127<>(SB), RODATA|NOPTR, $32

DATA lmByte<>+0(SB)/8, $0x000000ff000000ff
DATA lmByte<>+8(SB)/8, $0x000000ff000000ff
DATA lmByte<>+16(SB)/8, $0x000000ff000000ff
DATA lmByte<>+24(SB)/8, $0x000000ff000000ff
GLOBL lmByte<>(SB), RODATA|NOPTR, $32

DATA lm80<>+0(SB)/8, $0x8080808080808080
DATA lm80<>+8(SB)/8, $0x8080808080808080
DATA lm80<>+16(SB)/8, $0x8080808080808080
DATA lm80<>+24(SB)/8, $0x8080808080808080
GLOBL lm80<>(SB), RODATA|NOPTR, $32

DATA lmM127<>+0(SB)/4, $0xc2fe0000 // -127
GLOBL lmM127<>(SB), RODATA|NOPTR, $4

DATA lmOne<>+0(SB)/4, $0x3f800000 // 1
GLOBL lmOne<>(SB), RODATA|NOPTR, $4

// func quantizeQ8KLMAVX2(dst []byte, src []float32)
//
// quantizeQ8_K followed by laneMajorQ8K, per 256-value block: amax (NaNs
// skipped, as absMax's compare does), the first value whose |x| is amax,
// iscale = -127/max, q = low byte of min(127, nearestInt(iscale*x)) (the
// same float32 product and 1.5*2^23 addition, the same bit arithmetic),
// d = 1/iscale; the values lane-major (the packs' dword order is the
// lmPerm order, so only the transposing vpshufb remains) and the group
// sums by vpsadbw. An all-zero block is all zero.
TEXT ·quantizeQ8KLMAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	SHRQ $8, CX
	VMOVDQU f32Abs<>(SB), Y15
	VMOVDQU lmMagic<>(SB), Y14
	VMOVDQU lmMant<>(SB), Y13
	VMOVDQU lmOff<>(SB), Y12
	VMOVDQU lm127<>(SB), Y11
	VMOVDQU lmByte<>(SB), Y10
	VMOVDQU lmTrans<>(SB), Y9
	VMOVDQU lm80<>(SB), Y7
	TESTQ   CX, CX
	JZ      qlmdone

qlmblock:
	// amax over the block; VMAXPS returns its second source when the
	// first (the new |x|) is NaN, so NaNs are skipped.
	VXORPS  Y0, Y0, Y0
	MOVQ    $0, AX
qlmamax:
	VANDPS  (SI)(AX*1), Y15, Y1
	VMAXPS  Y0, Y1, Y0
	ADDQ    $32, AX
	CMPQ    AX, $1024
	JLT     qlmamax
	VEXTRACTF128 $1, Y0, X1
	VMAXPS  X0, X1, X0
	VMOVHLPS X0, X0, X1
	VMAXPS  X0, X1, X0
	VMOVSHDUP X0, X1
	VMAXSS  X0, X1, X0         // amax
	VXORPS  X1, X1, X1
	VUCOMISS X1, X0
	JNE     qlmnonzero
	VXORPS  Y1, Y1, Y1
	MOVQ    $0, AX
qlmzero:
	VMOVDQU Y1, (DI)(AX*1)
	ADDQ    $32, AX
	CMPQ    AX, $288
	JLT     qlmzero
	JMP     qlmnext

qlmnonzero:
	// max: the first x with |x| == amax.
	VBROADCASTSS X0, Y0
	MOVQ    $0, BX
qlmfind:
	VANDPS  (SI)(BX*1), Y15, Y1
	VCMPPS  $0, Y0, Y1, Y1     // EQ_OQ
	VMOVMSKPS Y1, AX
	TESTL   AX, AX
	JNZ     qlmfound
	ADDQ    $32, BX
	JMP     qlmfind
qlmfound:
	BSFL    AX, AX
	LEAQ    (BX)(AX*4), BX
	VMOVSS  (SI)(BX*1), X1     // max
	VMOVSS  lmM127<>(SB), X2
	VDIVSS  X1, X2, X2         // iscale = -127/max
	VMOVSS  lmOne<>(SB), X3
	VDIVSS  X2, X3, X3         // d = 1/iscale
	VMOVSS  X3, (DI)
	MOVL    $0, 20(DI)
	MOVQ    $0, 24(DI)
	VBROADCASTSS X2, Y8

#define QLMQ(off, r) \
	VMULPS  off(SI), Y8, r; \
	VADDPS  Y14, r, r; \
	VPAND   Y13, r, r; \
	VPSUBD  Y12, r, r; \
	VPMINSD Y11, r, r; \
	VPAND   Y10, r, r

#define QLMGROUP(k) \
	QLMQ(128*k, Y0); \
	QLMQ(128*k+32, Y1); \
	QLMQ(128*k+64, Y2); \
	QLMQ(128*k+96, Y3); \
	VPACKUSDW Y1, Y0, Y0; \
	VPACKUSDW Y3, Y2, Y2; \
	VPACKUSWB Y2, Y0, Y0; \
	VPSHUFB   Y9, Y0, Y0; \
	VMOVDQU   Y0, (32+32*k)(DI); \
	VPXOR     Y7, Y0, Y0; \
	VPXOR     Y1, Y1, Y1; \
	VPSADBW   Y1, Y0, Y0; \
	VEXTRACTI128 $1, Y0, X1; \
	VPADDQ    X1, X0, X0; \
	VPSHUFD   $0x4e, X0, X1; \
	VPADDQ    X1, X0, X0; \
	VMOVD     X0, AX; \
	SUBL      $4096, AX; \
	MOVW      AX, (4+2*k)(DI)

	QLMGROUP(0)
	QLMGROUP(1)
	QLMGROUP(2)
	QLMGROUP(3)
	QLMGROUP(4)
	QLMGROUP(5)
	QLMGROUP(6)
	QLMGROUP(7)

qlmnext:
	ADDQ $1024, SI
	ADDQ $288, DI
	DECQ CX
	JNZ  qlmblock

qlmdone:
	VZEROUPPER
	RET

// KPFDIST is how far ahead the many-row kernels prefetch the weights (as
// PFDIST in quads_amd64.s: the hardware prefetcher alone leaves a core
// short of DRAM bandwidth on one stream).
#define KPFDIST 9216

// func dotQ4_KLMRowsAVX2(n int, w []byte, wstride int, a []byte, out []float32)
//
// dotQ4_KLMAVX2 for len(out) weight rows wstride bytes apart against one
// activation row, out[r] for row r: the same code per row, without a call
// per row.
TEXT ·dotQ4_KLMRowsAVX2(SB), NOSPLIT, $32-88
	VMOVDQU lmPerm<>(SB), Y15
	VMOVDQU lmTrans<>(SB), Y14
	VMOVDQU bytes0f<>(SB), Y11
	KROWSHEAD

krrow:
	VXORPS  X12, X12, X12      // sumf
	KROWSTART
	Q4KSCALES(SI, Y4)          // the first block's: Q4LMHEAD takes the rest

krloop:
	PREFETCHT0 KPFDIST(SI)
	PREFETCHT0 KPFDIST+64(SI)
	PREFETCHT0 KPFDIST+128(SI)
// Q4LMHEAD(bb) is the one-row loop's block start but the levels, for the
// Q4_K or Q5_K block at SI (bb bytes; the same d, dmin and scales), given
// Q4KSCALES of it in Y4: the scales in both halves of Y3 (word k: scale k,
// for Q4LMPROD), Y4 = Q4KSCALES of the next block (at the row's last
// block, of this one again: nothing past the row is read), sumf (lane 1
// of X12) -= dmin * sumi with sumi = sum_k groupsum[k] * min[k], and Y0 =
// d = f16(x.d) * y.d. Taking the scales a block ahead takes their latency
// off each block's path (~7% in L2 on Zen 3). sumf stays in lane 1, where
// dmin is, so that no shuffle brings dmin down to lane 0; the other lanes
// take no part. Clobbers R8, Y1, Y2.
#define Q4LMHEAD(bb) \
	VPERMQ       $0x44, Y4, Y3; \
	VEXTRACTI128 $1, Y4, X2; \
	LEAQ         bb(SI), R8; \
	CMPQ         CX, $1; \
	CMOVQEQ      SI, R8; \
	Q4KSCALES(R8, Y4); \
	VPMADDWD     4(DI), X2, X2; \
	VPSHUFD      $0x4e, X2, X1; \
	VPADDD       X1, X2, X2; \
	VPSHUFD      $0xb1, X2, X1; \
	VPADDD       X1, X2, X2; \
	VCVTDQ2PS    X2, X2; \
	VMOVD        (SI), X0; \
	VCVTPH2PS    X0, X0; \
	VBROADCASTSS (DI), X1; \
	VMULPS       X1, X0, X0; \
	VMULPS       X2, X0, X1; \
	VSUBPS       X1, X12, X12; \
	VBROADCASTSS X0, Y0

	Q4LMHEAD(144)

	Q4LMCHUNK(0, Q4LMFIRST)
	Q4LMCHUNK(1, Q4LMNEXT)
	Q4LMCHUNK(2, Q4LMNEXT)
	Q4LMCHUNK(3, Q4LMNEXT)

	VPADDD    Y6, Y5, Y5
	VCVTDQ2PS Y5, Y5
	VMULPS    Y0, Y5, Y5
	VADDPS    Y5, Y13, Y13     // sums[l] += d * aux32[l]

	KROWNEXT(144)

krend:
	VMOVSHDUP X12, X12         // sumf from lane 1 (Q4LMHEAD)
	SUMLANES
	KROWOUT(X12)

krall:
	VZEROUPPER
	RET

// func dotQ5_KLMRowsAVX2(n int, w []byte, wstride int, a []byte, out []float32)
//
// dotQ4_KLMRowsAVX2 for Q5_K: the same block start (Q4LMHEAD), the
// nibbles at 48 and their fifth bits from qh (as in dotQ5_KLMx4AVX2), qh
// lane-major in Y1 and bytes 0x10 in Y2, set after Q4LMHEAD (which
// clobbers them). The prefetch is dotQ4_KLMRowsAVX2's: three lines a
// block cover the 176 bytes a block moves on.
TEXT ·dotQ5_KLMRowsAVX2(SB), NOSPLIT, $32-88
	VMOVDQU lmPerm<>(SB), Y15
	VMOVDQU lmTrans<>(SB), Y14
	VMOVDQU bytes0f<>(SB), Y11
	KROWSHEAD

krrow:
	VXORPS  X12, X12, X12      // sumf
	KROWSTART
	Q4KSCALES(SI, Y4)          // the first block's: Q4LMHEAD takes the rest

krloop:
	PREFETCHT0 KPFDIST(SI)
	PREFETCHT0 KPFDIST+64(SI)
	PREFETCHT0 KPFDIST+128(SI)
	Q4LMHEAD(176)
	VMOVDQU 16(SI), Y1
	VPERMD  Y1, Y15, Y1
	VPSHUFB Y14, Y1, Y1        // qh, lane-major
	VMOVDQU bytes10<>(SB), Y2

// Q5LMHIGH is Q5X4HIGH for the one-row loop: the fifth bits into Y8
// (sub-block 2c) and Y7 (2c+1).
#define Q5LMHIGH(lop, lsh, hop, hsh) \
	lop   $lsh, Y1, Y9; \
	hop   $hsh, Y1, Y10; \
	VPAND Y2, Y9, Y9; \
	VPAND Y2, Y10, Y10; \
	VPOR  Y9, Y8, Y8; \
	VPOR  Y10, Y7, Y7

#define Q5LMCHUNK(c, lop, lsh, hop, hsh, op) \
	Q4LMNIBBLES((48+32*c)); \
	Q5LMHIGH(lop, lsh, hop, hsh); \
	Q4LMPROD(c, op)

	Q5LMCHUNK(0, VPSLLW, 4, VPSLLW, 3, Q4LMFIRST)
	Q5LMCHUNK(1, VPSLLW, 2, VPSLLW, 1, Q4LMNEXT)
	Q5LMCHUNK(2, VPSRLW, 0, VPSRLW, 1, Q4LMNEXT)
	Q5LMCHUNK(3, VPSRLW, 2, VPSRLW, 3, Q4LMNEXT)

	VPADDD    Y6, Y5, Y5
	VCVTDQ2PS Y5, Y5
	VMULPS    Y0, Y5, Y5
	VADDPS    Y5, Y13, Y13     // sums[l] += d * aux32[l]

	KROWNEXT(176)

krend:
	VMOVSHDUP X12, X12         // sumf from lane 1 (Q4LMHEAD)
	SUMLANES
	KROWOUT(X12)

krall:
	VZEROUPPER
	RET

// func dotQ6_KLMRowsAVX2(n int, w []byte, wstride int, a []byte, out []float32)
//
// dotQ6_KLMAVX2 for len(out) weight rows wstride bytes apart against one
// activation row, out[r] for row r: the same code per row, without a call
// per row.
TEXT ·dotQ6_KLMRowsAVX2(SB), NOSPLIT, $64-88
	VMOVDQU lmPerm<>(SB), Y15
	VMOVDQU lmTrans<>(SB), Y14
	VMOVDQU bytes0f<>(SB), Y12
	VMOVDQU bytes20<>(SB), Y0
	VMOVDQU bytes30<>(SB), Y1
	KROWSHEAD

krrow:
	KROWSTART

krloop:
	PREFETCHT0 KPFDIST(SI)
	PREFETCHT0 KPFDIST+64(SI)
	PREFETCHT0 KPFDIST+128(SI)
	PREFETCHT0 KPFDIST+192(SI)
	VPMOVSXBW 192(SI), Y2
	VMOVDQU   Y2, 32(SP)       // dword m: scales 2m, 2m+1 as int16

// Q6LMLEVELS sets Y7-Y10 to the unsigned levels of elements 0-31, 32-63,
// 64-95, 96-127 of half h, lane-major. Clobbers Y3, Y4, Y11.

// Q6LMPROD adds the scaled (u-32)*q lane sums of levels v (activations at
// aoff(DI), scale pair at soff(SP)) to acc. Clobbers Y2, Y3.

// Q6LMPROD0 is Q6LMPROD into a cleared acc.

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

	KROWNEXT(210)

krend:
	VXORPS  X9, X9, X9         // not X12: Y12 holds the nibble mask
	VMOVUPS Y13, (SP)
	VADDSS  0(SP), X9, X9
	VADDSS  4(SP), X9, X9
	VADDSS  8(SP), X9, X9
	VADDSS  12(SP), X9, X9
	VADDSS  16(SP), X9, X9
	VADDSS  20(SP), X9, X9
	VADDSS  24(SP), X9, X9
	VADDSS  28(SP), X9, X9
	KROWOUT(X9)

krall:
	VZEROUPPER
	RET

// func dotQ3_KLMRowsAVX2(n int, w []byte, wstride int, a []byte, out []float32)
//
// The one-row Q3_K loop (the generic dotQ3_K) for len(out) weight rows
// wstride bytes apart against one lane-major activation row, with the
// levels of dotQ3_KLMx4AVX2 but taken unsigned as in dotQ3_KAVX2: a
// product is lo*q - h*q, lo the two qs bits and h 4 where the hmask bit
// is clear, two vpmaddubsw and a word subtraction (pair sums within
// +-1024). Two lines of prefetch a block cover the 110 bytes it moves on.
// Y15: lmPerm; Y14: lmTrans; Y13: sums[8]; Y12: d (X12: sumf at the
// end); Y11: bytes 3; Y10: bytes 4; Y1: hmask, lane-major; Y2: a qs
// chunk, lane-major; Y3: the activations; Y4/Y5: lo and h, then
// products; Y6: a scale pair; Y7/Y8: int32 lane sums.
TEXT ·dotQ3_KLMRowsAVX2(SB), NOSPLIT, $64-88
	VMOVDQU lmPerm<>(SB), Y15
	VMOVDQU lmTrans<>(SB), Y14
	VMOVDQU bytes03<>(SB), Y11
	VMOVDQU bytes04<>(SB), Y10
	KROWSHEAD

krrow:
	KROWSTART

krloop:
	PREFETCHT0 KPFDIST(SI)
	PREFETCHT0 KPFDIST+64(SI)
	Q3KSCALES(bytes0f<>(SB), bytes30<>(SB), X0, Y0)
	VMOVDQU Y0, 32(SP)         // dword k: scales 2k, 2k+1 as int16
	VMOVDQU (SI), Y1           // hmask, put lane-major:
	VPERMD  Y1, Y15, Y1
	VPSHUFB Y14, Y1, Y1

// Q3LMPROD takes group k (activations at 32+32k, scale pair at 32+4k(SP))
// into acc (op: Q3LMFIRST or Q3LMNEXT): lo from the qs chunk in Y2 at
// qsh, h 4 where hmask's bit for the group, moved to bit 2 by hop $hsh,
// is clear (shifts as in Q3X4LEVEL).
#define Q3LMPROD(k, qsh, hop, hsh, acc, op) \
	VMOVDQU      (32+32*k)(DI), Y3; \
	VPSRLW       $qsh, Y2, Y4; \
	VPAND        Y11, Y4, Y4; \
	hop          $hsh, Y1, Y5; \
	VPANDN       Y10, Y5, Y5; \
	VPMADDUBSW   Y3, Y4, Y4; \
	VPMADDUBSW   Y3, Y5, Y5; \
	VPSUBW       Y5, Y4, Y4; \
	VPBROADCASTD (32+4*k)(SP), Y6; \
	op(acc)

#define Q3LMFIRST(acc) VPMADDWD Y6, Y4, acc
#define Q3LMNEXT(acc) VPMADDWD Y6, Y4, Y4; VPADDD Y4, acc, acc

// Q3LMCHUNK loads qs chunk c lane-major into Y2.
#define Q3LMCHUNK(c) \
	VMOVDQU (32+32*c)(SI), Y2; \
	VPERMD  Y2, Y15, Y2; \
	VPSHUFB Y14, Y2, Y2

	Q3LMCHUNK(0)
	Q3LMPROD(0, 0, VPSLLW, 2, Y7, Q3LMFIRST)
	Q3LMPROD(1, 2, VPSLLW, 1, Y8, Q3LMFIRST)
	Q3LMPROD(2, 4, VPSRLW, 0, Y7, Q3LMNEXT)
	Q3LMPROD(3, 6, VPSRLW, 1, Y8, Q3LMNEXT)
	Q3LMCHUNK(1)
	Q3LMPROD(4, 0, VPSRLW, 2, Y7, Q3LMNEXT)
	Q3LMPROD(5, 2, VPSRLW, 3, Y8, Q3LMNEXT)
	Q3LMPROD(6, 4, VPSRLW, 4, Y7, Q3LMNEXT)
	Q3LMPROD(7, 6, VPSRLW, 5, Y8, Q3LMNEXT)

	VPADDD       Y8, Y7, Y7
	MOVWLZX      108(SI), AX
	VMOVD        AX, X12
	VCVTPH2PS    X12, X12
	VMULSS       (DI), X12, X12 // d = f16(x.d) * y.d
	VBROADCASTSS X12, Y12
	VCVTDQ2PS    Y7, Y7
	VMULPS       Y12, Y7, Y7
	VADDPS       Y7, Y13, Y13  // sums[l] += d * aux32[l]

	KROWNEXT(110)

krend:
	VXORPS X12, X12, X12      // sumf
	SUMLANES
	KROWOUT(X12)

krall:
	VZEROUPPER
	RET
