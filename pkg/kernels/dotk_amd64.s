//go:build amd64 && !purego

#include "textflag.h"
#include "avx2_amd64.h"

// AVX2 kernels for the k-quants against Q8_K, giving the generic Go code's
// bits (quantk.go): its integer sums go to eight lanes by element index mod
// 8 over a whole super-block, each lane is scaled into its own float32 sum
// (a product rounded, then an add: no fusing), and the lanes are added to
// the running total in order at the end.
//
// The lane layout: a vpshufb puts each 16-byte half of a register in the
// order 0,8,1,9,...,7,15, so vpmaddubsw's pair sums land in int16 slot p
// holding lane p mod 8 of one sub-block half. vpunpck{l,h}wd then interleave
// two such registers from sub-blocks with different scales, and vpmaddwd
// with the two scales as an int16 pair gives int32 lanes 0-3 (low words)
// and 4-7 (high words) of each half; the halves are added when the
// super-block ends. Every integer step is exact, so the lanes are the
// generic ones.

// In-lane byte order 0,8,1,9,...,7,15, twice.
DATA laneShuf<>+0(SB)/8, $0x0b030a0209010800
DATA laneShuf<>+8(SB)/8, $0x0f070e060d050c04
DATA laneShuf<>+16(SB)/8, $0x0b030a0209010800
DATA laneShuf<>+24(SB)/8, $0x0f070e060d050c04
GLOBL laneShuf<>(SB), RODATA|NOPTR, $32

// Q6_K scale pairs: from the 8 int16 scales t0..t7 of a 128-element half
// (in both register halves), words (t0,t2) in the low half and (t1,t3) in
// the high half, repeated; and (t4,t6) / (t5,t7).
DATA q6Sc01<>+0(SB)/8, $0x0504010005040100
DATA q6Sc01<>+8(SB)/8, $0x0504010005040100
DATA q6Sc01<>+16(SB)/8, $0x0706030207060302
DATA q6Sc01<>+24(SB)/8, $0x0706030207060302
GLOBL q6Sc01<>(SB), RODATA|NOPTR, $32

DATA q6Sc23<>+0(SB)/8, $0x0d0c09080d0c0908
DATA q6Sc23<>+8(SB)/8, $0x0d0c09080d0c0908
DATA q6Sc23<>+16(SB)/8, $0x0f0e0b0a0f0e0b0a
DATA q6Sc23<>+24(SB)/8, $0x0f0e0b0a0f0e0b0a
GLOBL q6Sc23<>(SB), RODATA|NOPTR, $32

// LANESUM sets Y7 to the int32 lanes 0-7 from the accumulators Y5 (lanes
// 0-3 of both halves) and Y6 (lanes 4-7). Clobbers Y8.
#define LANESUM \
	VPERM2I128 $0x20, Y6, Y5, Y7; \
	VPERM2I128 $0x31, Y6, Y5, Y8; \
	VPADDD     Y8, Y7, Y7

// func dotQ4_KAVX2(n int, w, a []byte) float32
TEXT ·dotQ4_KAVX2(SB), NOSPLIT, $32-60
	MOVQ n+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ a_base+32(FP), DI
	SHRQ $8, CX
	VMOVDQU laneShuf<>(SB), Y15
	VMOVDQU bytes0f<>(SB), Y14
	VXORPS  Y13, Y13, Y13      // sums[8]
	VXORPS  X12, X12, X12      // sumf
	TESTQ   CX, CX
	JZ      q4kdone

q4kloop:
	// Scales and mins (get_scale_min_k4), ggml's utmp shuffle.
	MOVL 4(SI), AX             // u0
	MOVL 8(SI), BX             // u1
	MOVL 12(SI), DX            // u2
	MOVL DX, R8
	SHRL $4, R8
	ANDL $0x0f0f0f0f, R8
	MOVL BX, R9
	SHRL $6, R9
	ANDL $0x03030303, R9
	SHLL $4, R9
	ORL  R9, R8                // mins 4-7
	MOVL BX, R10
	ANDL $0x3f3f3f3f, R10      // mins 0-3
	ANDL $0x0f0f0f0f, DX
	MOVL AX, R9
	SHRL $6, R9
	ANDL $0x03030303, R9
	SHLL $4, R9
	ORL  R9, DX                // scales 4-7
	ANDL $0x3f3f3f3f, AX       // scales 0-3
	SHLQ $32, DX
	ORQ  DX, AX                // 8 scale bytes
	SHLQ $32, R8
	ORQ  R8, R10               // 8 min bytes

	VMOVQ       AX, X2
	VPMOVZXBW   X2, X2
	VINSERTI128 $1, X2, Y2, Y2 // int16 scales 0-7, in both halves

	// Mins: sumi = sum_j bsums[j] * min[j/2].
	VMOVQ      R10, X3
	VPUNPCKLBW X3, X3, X3      // each min byte twice
	VPMOVZXBW  X3, Y3
	VPMADDWD   260(DI), Y3, Y3
	VEXTRACTI128 $1, Y3, X4
	VPADDD     X4, X3, X3
	VPSHUFD    $0x4e, X3, X4
	VPADDD     X4, X3, X3
	VPSHUFD    $0xb1, X3, X4
	VPADDD     X4, X3, X3
	VCVTDQ2PS  X3, X3          // float32(sumi)

	MOVWLZX   (SI), AX
	VMOVD     AX, X0
	VCVTPH2PS X0, X0
	VMULSS    (DI), X0, X0     // d = f16(x.d) * y.d
	MOVWLZX   2(SI), AX
	VMOVD     AX, X1
	VCVTPH2PS X1, X1
	VMULSS    (DI), X1, X1     // dmin = f16(x.dmin) * y.d
	VMULSS    X3, X1, X1
	VSUBSS    X1, X12, X12     // sumf -= dmin * sumi
	VBROADCASTSS X0, Y0

	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6

#define Q4KPAIR(c, shuf) \
	VMOVDQU    (16+32*c)(SI), Y7; \
	VPSHUFB    Y15, Y7, Y7; \
	VPAND      Y14, Y7, Y8; \
	VPSRLW     $4, Y7, Y7; \
	VPAND      Y14, Y7, Y7; \
	VMOVDQU    (4+64*c)(DI), Y9; \
	VPSHUFB    Y15, Y9, Y9; \
	VMOVDQU    (36+64*c)(DI), Y10; \
	VPSHUFB    Y15, Y10, Y10; \
	VPMADDUBSW Y9, Y8, Y8; \
	VPMADDUBSW Y10, Y7, Y7; \
	VPUNPCKLWD Y7, Y8, Y9; \
	VPUNPCKHWD Y7, Y8, Y10; \
	VPSHUFD    $shuf, Y2, Y11; \
	VPMADDWD   Y11, Y9, Y9; \
	VPMADDWD   Y11, Y10, Y10; \
	VPADDD     Y9, Y5, Y5; \
	VPADDD     Y10, Y6, Y6

	Q4KPAIR(0, 0x00)
	Q4KPAIR(1, 0x55)
	Q4KPAIR(2, 0xaa)
	Q4KPAIR(3, 0xff)

	LANESUM
	VCVTDQ2PS Y7, Y7
	VMULPS    Y0, Y7, Y7
	VADDPS    Y7, Y13, Y13     // sums[l] += d * aux32[l]

	ADDQ $144, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q4kloop

q4kdone:
	SUMLANES
	VMOVSS X12, ret+56(FP)
	VZEROUPPER
	RET

// func dotQ5_KAVX2(n int, w, a []byte) float32
//
// As dotQ4_KAVX2, with each level's fifth bit from qh: bit 2c of qh[l]
// for element l of sub-block 2c, bit 2c+1 for sub-block 2c+1.
TEXT ·dotQ5_KAVX2(SB), NOSPLIT, $32-60
	MOVQ n+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ a_base+32(FP), DI
	SHRQ $8, CX
	VMOVDQU laneShuf<>(SB), Y15
	VMOVDQU bytes0f<>(SB), Y14
	VXORPS  Y13, Y13, Y13      // sums[8]
	VXORPS  X12, X12, X12      // sumf
	TESTQ   CX, CX
	JZ      q5kdone

q5kloop:
	// Scales and mins (get_scale_min_k4), ggml's utmp shuffle.
	MOVL 4(SI), AX             // u0
	MOVL 8(SI), BX             // u1
	MOVL 12(SI), DX            // u2
	MOVL DX, R8
	SHRL $4, R8
	ANDL $0x0f0f0f0f, R8
	MOVL BX, R9
	SHRL $6, R9
	ANDL $0x03030303, R9
	SHLL $4, R9
	ORL  R9, R8                // mins 4-7
	MOVL BX, R10
	ANDL $0x3f3f3f3f, R10      // mins 0-3
	ANDL $0x0f0f0f0f, DX
	MOVL AX, R9
	SHRL $6, R9
	ANDL $0x03030303, R9
	SHLL $4, R9
	ORL  R9, DX                // scales 4-7
	ANDL $0x3f3f3f3f, AX       // scales 0-3
	SHLQ $32, DX
	ORQ  DX, AX                // 8 scale bytes
	SHLQ $32, R8
	ORQ  R8, R10               // 8 min bytes

	VMOVQ       AX, X2
	VPMOVZXBW   X2, X2
	VINSERTI128 $1, X2, Y2, Y2 // int16 scales 0-7, in both halves

	// Mins: sumi = sum_j bsums[j] * min[j/2].
	VMOVQ      R10, X3
	VPUNPCKLBW X3, X3, X3      // each min byte twice
	VPMOVZXBW  X3, Y3
	VPMADDWD   260(DI), Y3, Y3
	VEXTRACTI128 $1, Y3, X4
	VPADDD     X4, X3, X3
	VPSHUFD    $0x4e, X3, X4
	VPADDD     X4, X3, X3
	VPSHUFD    $0xb1, X3, X4
	VPADDD     X4, X3, X3
	VCVTDQ2PS  X3, X3          // float32(sumi)

	MOVWLZX   (SI), AX
	VMOVD     AX, X0
	VCVTPH2PS X0, X0
	VMULSS    (DI), X0, X0     // d = f16(x.d) * y.d
	MOVWLZX   2(SI), AX
	VMOVD     AX, X1
	VCVTPH2PS X1, X1
	VMULSS    (DI), X1, X1     // dmin = f16(x.dmin) * y.d
	VMULSS    X3, X1, X1
	VSUBSS    X1, X12, X12     // sumf -= dmin * sumi
	VBROADCASTSS X0, Y0

	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6

	VMOVDQU (16)(SI), Y1
	VPSHUFB Y15, Y1, Y1        // qh, lane-shuffled as the levels are
	VMOVDQU bytes10<>(SB), Y3

// Q5KPAIR is Q4KPAIR with the fifth bits: qh shifted by lsh (lo) and hsh
// (hi) word shifts puts bit 2c (2c+1) at bit 4, masked by Y3 (0x10); a
// word shift of at most 4 left or 3 right moves no foreign bit to bit 4.
#define Q5KPAIR(c, shuf, lop, lsh, hop, hsh) \
	VMOVDQU    (48+32*c)(SI), Y7; \
	VPSHUFB    Y15, Y7, Y7; \
	VPAND      Y14, Y7, Y8; \
	VPSRLW     $4, Y7, Y7; \
	VPAND      Y14, Y7, Y7; \
	lop        $lsh, Y1, Y9; \
	VPAND      Y3, Y9, Y9; \
	VPOR       Y9, Y8, Y8; \
	hop        $hsh, Y1, Y9; \
	VPAND      Y3, Y9, Y9; \
	VPOR       Y9, Y7, Y7; \
	VMOVDQU    (4+64*c)(DI), Y9; \
	VPSHUFB    Y15, Y9, Y9; \
	VMOVDQU    (36+64*c)(DI), Y10; \
	VPSHUFB    Y15, Y10, Y10; \
	VPMADDUBSW Y9, Y8, Y8; \
	VPMADDUBSW Y10, Y7, Y7; \
	VPUNPCKLWD Y7, Y8, Y9; \
	VPUNPCKHWD Y7, Y8, Y10; \
	VPSHUFD    $shuf, Y2, Y11; \
	VPMADDWD   Y11, Y9, Y9; \
	VPMADDWD   Y11, Y10, Y10; \
	VPADDD     Y9, Y5, Y5; \
	VPADDD     Y10, Y6, Y6

	Q5KPAIR(0, 0x00, VPSLLW, 4, VPSLLW, 3)
	Q5KPAIR(1, 0x55, VPSLLW, 2, VPSLLW, 1)
	Q5KPAIR(2, 0xaa, VPSRLW, 0, VPSRLW, 1)
	Q5KPAIR(3, 0xff, VPSRLW, 2, VPSRLW, 3)

	LANESUM
	VCVTDQ2PS Y7, Y7
	VMULPS    Y0, Y7, Y7
	VADDPS    Y7, Y13, Y13     // sums[l] += d * aux32[l]

	ADDQ $176, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q5kloop

q5kdone:
	SUMLANES
	VMOVSS X12, ret+56(FP)
	VZEROUPPER
	RET

// func dotQ6_KAVX2(n int, w, a []byte) float32
//
// Levels are used unsigned (u in [0,63]) and the offset removed in int16:
// u*q - 32*q per pair is (u-32)*q exactly.
TEXT ·dotQ6_KAVX2(SB), NOSPLIT, $32-60
	MOVQ n+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ a_base+32(FP), DI
	SHRQ $8, CX
	VMOVDQU laneShuf<>(SB), Y15
	VMOVDQU bytes0f<>(SB), Y14
	VXORPS  Y13, Y13, Y13      // sums[8]
	VMOVDQU bytes20<>(SB), Y0
	TESTQ   CX, CX
	JZ      q6kdone

q6kloop:
	VPMOVSXBW 192(SI), Y1      // int16 scales 0-15
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6

// Q6KLEVELS sets Y7-Y10 to the unsigned levels of elements 0-31, 32-63,
// 64-95, 96-127 of half h (lane-shuffled). Clobbers Y3, Y4, Y11.
#define Q6KLEVELS(h) \
	VMOVDQU (64*h)(SI), Y3; \
	VPSHUFB Y15, Y3, Y3; \
	VMOVDQU (64*h+32)(SI), Y4; \
	VPSHUFB Y15, Y4, Y4; \
	VMOVDQU (128+32*h)(SI), Y11; \
	VPSHUFB Y15, Y11, Y11; \
	VPAND   Y14, Y3, Y7; \
	VPAND   bytes03<>(SB), Y11, Y8; \
	VPSLLW  $4, Y8, Y8; \
	VPOR    Y8, Y7, Y7; \
	VPAND   Y14, Y4, Y8; \
	VPSLLW  $2, Y11, Y9; \
	VPAND   bytes30<>(SB), Y9, Y9; \
	VPOR    Y9, Y8, Y8; \
	VPSRLW  $4, Y3, Y9; \
	VPAND   Y14, Y9, Y9; \
	VPAND   bytes30<>(SB), Y11, Y10; \
	VPOR    Y10, Y9, Y9; \
	VPSRLW  $4, Y4, Y10; \
	VPAND   Y14, Y10, Y10; \
	VPSRLW  $2, Y11, Y11; \
	VPAND   bytes30<>(SB), Y11, Y11; \
	VPOR    Y11, Y10, Y10

// Q6KPROD replaces levels Y(v) by the int16 pair sums of (u-32)*q with the
// lane-shuffled activations at off(DI); Y0 holds bytes 32. Clobbers Y3, Y4.
#define Q6KPROD(v, off) \
	VMOVDQU    off(DI), Y3; \
	VPSHUFB    Y15, Y3, Y3; \
	VPMADDUBSW Y3, v, v; \
	VPMADDUBSW Y3, Y0, Y4; \
	VPSUBW     Y4, v, v

// Q6KPAIR scales and adds two product registers (p, q) with the scale
// pair register sc. Clobbers Y3, Y4.
#define Q6KPAIR(p, q, sc) \
	VPUNPCKLWD q, p, Y3; \
	VPUNPCKHWD q, p, Y4; \
	VPMADDWD   sc, Y3, Y3; \
	VPMADDWD   sc, Y4, Y4; \
	VPADDD     Y3, Y5, Y5; \
	VPADDD     Y4, Y6, Y6

	// Half 0: sub-blocks 0-7, activations 0-127.
	VPERMQ  $0x44, Y1, Y2
	VPSHUFB q6Sc23<>(SB), Y2, Y12
	VPSHUFB q6Sc01<>(SB), Y2, Y2
	Q6KLEVELS(0)
	Q6KPROD(Y7, 4)
	Q6KPROD(Y8, 36)
	Q6KPROD(Y9, 68)
	Q6KPROD(Y10, 100)
	Q6KPAIR(Y7, Y8, Y2)
	Q6KPAIR(Y9, Y10, Y12)

	// Half 1: sub-blocks 8-15, activations 128-255.
	VPERMQ  $0xee, Y1, Y2
	VPSHUFB q6Sc23<>(SB), Y2, Y12
	VPSHUFB q6Sc01<>(SB), Y2, Y2
	Q6KLEVELS(1)
	Q6KPROD(Y7, 132)
	Q6KPROD(Y8, 164)
	Q6KPROD(Y9, 196)
	Q6KPROD(Y10, 228)
	Q6KPAIR(Y7, Y8, Y2)
	Q6KPAIR(Y9, Y10, Y12)

	LANESUM
	MOVWLZX   208(SI), AX
	VMOVD     AX, X3
	VCVTPH2PS X3, X3
	VMULSS    (DI), X3, X3     // d = f16(x.d) * y.d
	VBROADCASTSS X3, Y3
	VCVTDQ2PS Y7, Y7
	VMULPS    Y3, Y7, Y7
	VADDPS    Y7, Y13, Y13     // sums[l] += d * aux32[l]

	ADDQ $210, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q6kloop

q6kdone:
	VXORPS X12, X12, X12      // sumf (Y12 held scales in the loop)
	SUMLANES
	VMOVSS X12, ret+56(FP)
	VZEROUPPER
	RET

// func dotQ3_KAVX2(n int, w, a []byte) float32
//
// A level is its two qs bits minus 4 where its hmask bit is clear
// (q3Levels), so each product is lo*q - h*q with lo in [0,3] and h 4 or 0:
// two vpmaddubsw on unsigned bytes and a word subtraction, exact (pair sums
// within ±1024). Sub-blocks are 16 elements, one per register half, as in
// Q6_K, so the scale pairs and Q6KPAIR are dotQ6_KAVX2's.
//
// Registers: Y0 bytes 4, Y14 bytes 3, Y15 laneShuf, Y13 sums, Y10 d,
// Y1 int16 scales 0-15, Y2/Y12 the scale pairs of a 128-element half, Y9
// its qs, Y11 hmask (both lane-shuffled), Y5/Y6 int32 lanes, Y7/Y8
// products, Y3/Y4 scratch; R11/R12 the scale masks.
TEXT ·dotQ3_KAVX2(SB), NOSPLIT, $32-60
	MOVQ n+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ a_base+32(FP), DI
	SHRQ $8, CX
	VMOVDQU laneShuf<>(SB), Y15
	VMOVDQU bytes03<>(SB), Y14
	VMOVDQU bytes04<>(SB), Y0
	VXORPS  Y13, Y13, Y13      // sums[8]
	MOVQ    $0x0f0f0f0f0f0f0f0f, R11
	MOVQ    $0x3030303030303030, R12
	TESTQ   CX, CX
	JZ      q3kdone

q3kloop:
	Q3KSCALES(R11, R12, X1, Y1) // int16 scales 0-15

	MOVWLZX   108(SI), AX
	VMOVD     AX, X3
	VCVTPH2PS X3, X3
	VMULSS    (DI), X3, X3     // d = f16(x.d) * y.d
	VBROADCASTSS X3, Y10

	VMOVDQU (SI), Y11
	VPSHUFB Y15, Y11, Y11      // hmask
	VPXOR   Y5, Y5, Y5
	VPXOR   Y6, Y6, Y6

// Q3KPROD sets v to the int16 pair sums of level*q for one 32-element
// group: lo is the qs bits (Y9) at qsh, h is 4 where hmask's bit for the
// group, moved to bit 2 by hop $hsh (a word shift of at most 2 left or 5
// right moves no foreign bit to bit 2), is clear; q is the lane-shuffled
// activations at off(DI). Clobbers Y3, Y4.
#define Q3KPROD(v, qsh, hop, hsh, off) \
	VMOVDQU    off(DI), Y3; \
	VPSHUFB    Y15, Y3, Y3; \
	VPSRLW     $qsh, Y9, v; \
	VPAND      Y14, v, v; \
	hop        $hsh, Y11, Y4; \
	VPANDN     Y0, Y4, Y4; \
	VPMADDUBSW Y3, v, v; \
	VPMADDUBSW Y3, Y4, Y4; \
	VPSUBW     Y4, v, v

	// Half 0: sub-blocks 0-7, hmask bits 0-3, activations 0-127.
	VMOVDQU 32(SI), Y9
	VPSHUFB Y15, Y9, Y9
	VPERMQ  $0x44, Y1, Y2
	VPSHUFB q6Sc23<>(SB), Y2, Y12
	VPSHUFB q6Sc01<>(SB), Y2, Y2
	Q3KPROD(Y7, 0, VPSLLW, 2, 4)
	Q3KPROD(Y8, 2, VPSLLW, 1, 36)
	Q6KPAIR(Y7, Y8, Y2)
	Q3KPROD(Y7, 4, VPSRLW, 0, 68)
	Q3KPROD(Y8, 6, VPSRLW, 1, 100)
	Q6KPAIR(Y7, Y8, Y12)

	// Half 1: sub-blocks 8-15, hmask bits 4-7, activations 128-255.
	VMOVDQU 64(SI), Y9
	VPSHUFB Y15, Y9, Y9
	VPERMQ  $0xee, Y1, Y2
	VPSHUFB q6Sc23<>(SB), Y2, Y12
	VPSHUFB q6Sc01<>(SB), Y2, Y2
	Q3KPROD(Y7, 0, VPSRLW, 2, 132)
	Q3KPROD(Y8, 2, VPSRLW, 3, 164)
	Q6KPAIR(Y7, Y8, Y2)
	Q3KPROD(Y7, 4, VPSRLW, 4, 196)
	Q3KPROD(Y8, 6, VPSRLW, 5, 228)
	Q6KPAIR(Y7, Y8, Y12)

	LANESUM
	VCVTDQ2PS Y7, Y7
	VMULPS    Y10, Y7, Y7
	VADDPS    Y7, Y13, Y13     // sums[l] += d * aux32[l]

	ADDQ $110, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q3kloop

q3kdone:
	VXORPS X12, X12, X12      // sumf
	SUMLANES
	VMOVSS X12, ret+56(FP)
	VZEROUPPER
	RET
