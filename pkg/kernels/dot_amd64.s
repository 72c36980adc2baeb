//go:build amd64 && !purego

#include "textflag.h"
#include "avx2_amd64.h"

// AVX2 + FMA + F16C kernels for the 32-element block formats and the plain
// float rows. The quantized ones reproduce the generic Go code's bits (see
// dotQ4_0 and dotQ8_0 in quant32.go): per block, eight int32 lanes each
// summing four consecutive products, converted to float32 and accumulated
// with one fused multiply-add per block into eight float32 lanes, which are
// added at the end in hsum_float_8's order. Integer sums are exact, so
// only that float sequence matters, and it is kept.

// float32 127.
DATA f127<>+0(SB)/4, $0x42fe0000
GLOBL f127<>(SB), RODATA|NOPTR, $4

// vpermd indices that undo the lane interleaving of vpackssdw/vpacksswb.
DATA packPerm<>+0(SB)/4, $0
DATA packPerm<>+4(SB)/4, $4
DATA packPerm<>+8(SB)/4, $1
DATA packPerm<>+12(SB)/4, $5
DATA packPerm<>+16(SB)/4, $2
DATA packPerm<>+20(SB)/4, $6
DATA packPerm<>+24(SB)/4, $3
DATA packPerm<>+28(SB)/4, $7
GLOBL packPerm<>(SB), RODATA|NOPTR, $32

// BLOCKSCALE sets Y1 to eight copies of f16(w) * f16(a), rounded to
// float32 once, from the f16 scales at (SI) and (DI). Clobbers Y2.
#define BLOCKSCALE \
	VPBROADCASTW (SI), X1; \
	VPBROADCASTW (DI), X2; \
	VCVTPH2PS    X1, Y1; \
	VCVTPH2PS    X2, Y2; \
	VMULPS       Y2, Y1, Y1

// DOTROWS(body) is the frame of the many-row float kernels
// (func(n int, w []byte, wstride int, a []byte, out []float32)): body, one
// of the one-row kernels' bodies (DOTF32, DOTF16, DOTBF16: the dot product
// of CX elements at SI and DI into X0, ending at label fdone), for
// len(out) rows wstride bytes apart against one activation row, out[r]
// for row r. Generation is a long run of rows, and a Go call per row was a
// few percent of it (F16: 3%; small F32 models: as much as the row).
// It stands before any TEXT, so vet's frame check reads it with the
// function that uses it.
#define DOTROWS(body) \
	MOVQ  w_base+8(FP), R12; \
	MOVQ  out_base+64(FP), R13; \
	MOVQ  out_len+72(FP), R11; \
	TESTQ R11, R11; \
	JZ    frall; \
frrow: \
	MOVQ n+0(FP), CX; \
	MOVQ R12, SI; \
	MOVQ a_base+40(FP), DI; \
	body; \
fdone: \
	VMOVSS X0, (R13); \
	ADDQ   $4, R13; \
	ADDQ   wstride+32(FP), R12; \
	DECQ   R11; \
	JNZ    frrow; \
frall: \
	VZEROUPPER; \
	RET

// func dotQ8_0AVX2(n int, w, a []byte) float32
TEXT ·dotQ8_0AVX2(SB), NOSPLIT, $0-60
	MOVQ n+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ a_base+32(FP), DI
	SHRQ $5, CX
	VXORPS  Y0, Y0, Y0
	VMOVDQU words1<>(SB), Y15
	TESTQ   CX, CX
	JZ      q8done

q8loop:
	BLOCKSCALE
	VMOVDQU    2(SI), Y3
	VMOVDQU    2(DI), Y4
	VPSIGNB    Y3, Y4, Y4      // a * sign(w)
	VPABSB     Y3, Y3          // |w|, read as unsigned
	VPMADDUBSW Y4, Y3, Y3      // pairs |w|*(a*sign(w)) = w*a
	VPMADDWD   Y15, Y3, Y3     // lane l: elements 4l..4l+3
	VCVTDQ2PS  Y3, Y3
	VFMADD231PS Y3, Y1, Y0     // acc = d*sum + acc
	ADDQ $34, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  q8loop

q8done:
	HSUM8
	VMOVSS X0, ret+56(FP)
	VZEROUPPER
	RET

// func dotQ4_0AVX2(n int, w, a []byte) float32
//
// Levels are used unsigned (u in [0,15]) and the offset removed in int16:
// u*a - 8*a per pair is (u-8)*a exactly, for every int8 a (no vpsignb
// wrap-around at -128).
TEXT ·dotQ4_0AVX2(SB), NOSPLIT, $0-60
	MOVQ n+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ a_base+32(FP), DI
	SHRQ $5, CX
	VXORPS  Y0, Y0, Y0
	VMOVDQU words1<>(SB), Y15
	VMOVDQU bytes0f<>(SB), Y14
	VMOVDQU bytes08<>(SB), Y13
	TESTQ   CX, CX
	JZ      q4done

q4loop:
	BLOCKSCALE
	VMOVDQU     2(SI), X3
	VPSRLW      $4, X3, X4
	VINSERTI128 $1, X4, Y3, Y3 // low half: bytes (elements 0-15), high: bytes>>4 (16-31)
	VPAND       Y14, Y3, Y3
	VMOVDQU     2(DI), Y4
	VPMADDUBSW  Y4, Y3, Y3     // u*a pairs
	VPMADDUBSW  Y4, Y13, Y5    // 8*a pairs
	VPSUBW      Y5, Y3, Y3
	VPMADDWD    Y15, Y3, Y3
	VCVTDQ2PS   Y3, Y3
	VFMADD231PS Y3, Y1, Y0
	ADDQ $18, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  q4loop

q4done:
	HSUM8
	VMOVSS X0, ret+56(FP)
	VZEROUPPER
	RET

// func quantizeQ8_0AVX2(dst []byte, src []float32)
//
// quantizeQ8_0Runtime, as llama.cpp's AVX2 quantize_row_q8_0: amax, d =
// amax/127 stored as f16 (round to nearest even, as FP32ToFP16), id =
// 127/amax (0 for an all-zero block), q = round-half-even(x*id).
TEXT ·quantizeQ8_0AVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	SHRQ $5, CX
	VMOVDQU f32Abs<>(SB), Y15
	VMOVDQU packPerm<>(SB), Y14
	VMOVSS  f127<>(SB), X13
	VXORPS  X12, X12, X12
	TESTQ   CX, CX
	JZ      qdone

qloop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VANDPS  Y15, Y0, Y4
	VANDPS  Y15, Y1, Y5
	VANDPS  Y15, Y2, Y6
	VANDPS  Y15, Y3, Y7
	VMAXPS  Y5, Y4, Y4
	VMAXPS  Y7, Y6, Y6
	VMAXPS  Y6, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VMAXPS  X5, X4, X4
	VMOVHLPS X4, X4, X5
	VMAXPS  X5, X4, X4
	VMOVSHDUP X4, X5
	VMAXSS  X5, X4, X4         // amax
	VDIVSS  X13, X4, X5        // d = amax/127
	VCVTPS2PH $0, X5, X5
	VMOVD   X5, AX
	MOVW    AX, (DI)
	VDIVSS  X4, X13, X6        // 127/amax (inf when amax is 0)
	VCMPSS  $4, X12, X4, X7    // amax != 0
	VANDPS  X7, X6, X6         // id
	VBROADCASTSS X6, Y6
	VMULPS  Y6, Y0, Y0
	VMULPS  Y6, Y1, Y1
	VMULPS  Y6, Y2, Y2
	VMULPS  Y6, Y3, Y3
	VCVTPS2DQ Y0, Y0           // MXCSR's round to nearest even
	VCVTPS2DQ Y1, Y1
	VCVTPS2DQ Y2, Y2
	VCVTPS2DQ Y3, Y3
	VPACKSSDW Y1, Y0, Y0
	VPACKSSDW Y3, Y2, Y2
	VPACKSSWB Y2, Y0, Y0
	VPERMD    Y0, Y14, Y0
	VMOVDQU   Y0, 2(DI)
	ADDQ $128, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  qloop

qdone:
	VZEROUPPER
	RET

// func dotF16AVX2(n int, w, a []byte) float32
//
// In llamafile tinyBLAS's order, which llama.cpp's x86 build uses for F16
// and F32 matrix products (AVX-512: tinyBLAS<16, __m512, ...>): sixteen
// float32 lanes, element i fused into lane i mod 16 (Y0: lanes 0-7, Y1:
// 8-15), then _mm512_reduce_add_ps's tree, lane i + lane i+8, then +4, +2,
// +1. A tail of n mod 16 elements (tinyBLAS declines such rows) is fused
// into the sum one at a time. Not the generic path's float64 order: held
// to a tolerance.
// DOTF16 is dotF16AVX2's body: the dot product of the CX f16 at SI and
// DI, left in X0 (low float), advancing SI and DI; it ends at label
// fdone, which the function using it defines.
#define DOTF16 \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
h16: \
	CMPQ CX, $16; \
	JLT  hreduce; \
	PREFETCHT0 4096(SI); \
	VCVTPH2PS (SI), Y4; \
	VCVTPH2PS (DI), Y5; \
	VCVTPH2PS 16(SI), Y6; \
	VCVTPH2PS 16(DI), Y7; \
	VFMADD231PS Y5, Y4, Y0; \
	VFMADD231PS Y7, Y6, Y1; \
	ADDQ $32, SI; \
	ADDQ $32, DI; \
	SUBQ $16, CX; \
	JMP  h16; \
hreduce: \
	VADDPS Y1, Y0, Y0; \
	HSUM8; \
h1: \
	TESTQ CX, CX; \
	JZ    fdone; \
	MOVWLZX (SI), AX; \
	MOVWLZX (DI), BX; \
	VMOVD   AX, X4; \
	VMOVD   BX, X5; \
	VCVTPH2PS X4, X4; \
	VCVTPH2PS X5, X5; \
	VFMADD231SS X5, X4, X0; \
	ADDQ $2, SI; \
	ADDQ $2, DI; \
	DECQ CX; \
	JMP  h1

// The prefetch reads the row 4 KiB on: one stream, the hardware prefetcher
// falls behind.
TEXT ·dotF16AVX2(SB), NOSPLIT, $0-60
	MOVQ n+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ a_base+32(FP), DI
	DOTF16

fdone:
	VMOVSS X0, ret+56(FP)
	VZEROUPPER
	RET

// func dotF16RowsAVX2(n int, w []byte, wstride int, a []byte, out []float32)
//
// dotF16AVX2 (DOTF16) for many rows: see DOTROWS.
TEXT ·dotF16RowsAVX2(SB), NOSPLIT, $0-88
	DOTROWS(DOTF16)

// func dotF32AVX2(n int, w, a []byte) float32
//
// Thirty-two float32 lanes (Y0-Y3), element i fused into lane i mod 32,
// added at the end as (Y0+Y2) + (Y1+Y3) and then across the eight lanes;
// what is left after the groups of 32 goes 16 at a time into Y0, Y1, then
// 8 into Y3 (short rows, such as the 8-element heads of small models,
// take one vector step, not a chain of scalar ones), and a tail of n mod
// 8 elements is fused into the sum one at a time. Four independent chains
// rather than dotF16AVX2's two: with two, the fused multiply-add latency
// bounds a core. Not the generic path's float64 order: held to a tolerance
// (floatDotTolerance in the tests allows 32 lanes).
// DOTF32 is dotF32AVX2's body: the dot product of the CX float32 at SI
// and DI, left in X0 (low float), advancing SI and DI. It ends at label
// fdone, which the function using it defines.
#define DOTF32 \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3; \
f32: \
	CMPQ CX, $32; \
	JLT  f16; \
	VMOVUPS (SI), Y4; \
	VMOVUPS 32(SI), Y5; \
	VMOVUPS 64(SI), Y6; \
	VMOVUPS 96(SI), Y7; \
	VFMADD231PS (DI), Y4, Y0; \
	VFMADD231PS 32(DI), Y5, Y1; \
	VFMADD231PS 64(DI), Y6, Y2; \
	VFMADD231PS 96(DI), Y7, Y3; \
	ADDQ $128, SI; \
	ADDQ $128, DI; \
	SUBQ $32, CX; \
	JMP  f32; \
f16: \
	CMPQ CX, $16; \
	JLT  freduce; \
	VMOVUPS (SI), Y4; \
	VMOVUPS 32(SI), Y5; \
	VFMADD231PS (DI), Y4, Y0; \
	VFMADD231PS 32(DI), Y5, Y1; \
	ADDQ $64, SI; \
	ADDQ $64, DI; \
	SUBQ $16, CX; \
	JMP  f16; \
freduce: \
	CMPQ CX, $8; \
	JLT  fsum; \
	VMOVUPS (SI), Y4; \
	VFMADD231PS (DI), Y4, Y3; \
	ADDQ $32, SI; \
	ADDQ $32, DI; \
	SUBQ $8, CX; \
fsum: \
	VADDPS Y2, Y0, Y0; \
	VADDPS Y3, Y1, Y1; \
	VADDPS Y1, Y0, Y0; \
	HSUM8; \
f1: \
	TESTQ CX, CX; \
	JZ    fdone; \
	VMOVSS (SI), X4; \
	VFMADD231SS (DI), X4, X0; \
	ADDQ $4, SI; \
	ADDQ $4, DI; \
	DECQ CX; \
	JMP  f1

TEXT ·dotF32AVX2(SB), NOSPLIT, $0-60
	MOVQ n+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ a_base+32(FP), DI
	DOTF32

fdone:
	VMOVSS X0, ret+56(FP)
	VZEROUPPER
	RET

// func dotF32RowsAVX2(n int, w []byte, wstride int, a []byte, out []float32)
//
// dotF32AVX2 (DOTF32, the same instructions) for len(out) rows wstride
// bytes apart against one activation row, out[r] for row r: generation
// in small F32 models is a long run of short rows, and a Go call per row
// cost as much as the row.
TEXT ·dotF32RowsAVX2(SB), NOSPLIT, $0-88
	DOTROWS(DOTF32)

// BF16TOF32(src, dst) loads eight bf16 at src as float32 into dst: a
// bf16 is the high half of a float32, so zero-extend and shift by 16.
#define BF16TOF32(src, dst) \
	VPMOVZXWD src, dst; \
	VPSLLD    $16, dst, dst

// func dotBF16AVX2(n int, w, a []byte) float32
//
// dotF32AVX2's lanes and order (element i fused into lane i mod 32, 16 and
// 8 at a time after the groups of 32, the tail one at a time) on the two
// bf16 rows converted to float32, which is exact; the product of two
// bf16 (8-bit significands) is exact in float32 too, so only the sums
// round. Held to the generic float64 sum within floatDotTolerance.
// DOTBF16 is dotBF16AVX2's body: the dot product of the CX bf16 at SI and
// DI, left in X0 (low float), advancing SI and DI; it ends at label
// fdone, which the function using it defines.
#define DOTBF16 \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3; \
bf32: \
	CMPQ CX, $32; \
	JLT  bf16; \
	BF16TOF32((SI), Y4); \
	BF16TOF32(16(SI), Y5); \
	BF16TOF32(32(SI), Y6); \
	BF16TOF32(48(SI), Y7); \
	BF16TOF32((DI), Y8); \
	BF16TOF32(16(DI), Y9); \
	BF16TOF32(32(DI), Y10); \
	BF16TOF32(48(DI), Y11); \
	VFMADD231PS Y8, Y4, Y0; \
	VFMADD231PS Y9, Y5, Y1; \
	VFMADD231PS Y10, Y6, Y2; \
	VFMADD231PS Y11, Y7, Y3; \
	ADDQ $64, SI; \
	ADDQ $64, DI; \
	SUBQ $32, CX; \
	JMP  bf32; \
bf16: \
	CMPQ CX, $16; \
	JLT  bfreduce; \
	BF16TOF32((SI), Y4); \
	BF16TOF32(16(SI), Y5); \
	BF16TOF32((DI), Y8); \
	BF16TOF32(16(DI), Y9); \
	VFMADD231PS Y8, Y4, Y0; \
	VFMADD231PS Y9, Y5, Y1; \
	ADDQ $32, SI; \
	ADDQ $32, DI; \
	SUBQ $16, CX; \
	JMP  bf16; \
bfreduce: \
	CMPQ CX, $8; \
	JLT  bfsum; \
	BF16TOF32((SI), Y4); \
	BF16TOF32((DI), Y8); \
	VFMADD231PS Y8, Y4, Y3; \
	ADDQ $16, SI; \
	ADDQ $16, DI; \
	SUBQ $8, CX; \
bfsum: \
	VADDPS Y2, Y0, Y0; \
	VADDPS Y3, Y1, Y1; \
	VADDPS Y1, Y0, Y0; \
	HSUM8; \
bf1: \
	TESTQ CX, CX; \
	JZ    fdone; \
	MOVWLZX (SI), AX; \
	SHLL    $16, AX; \
	VMOVD   AX, X4; \
	MOVWLZX (DI), DX; \
	SHLL    $16, DX; \
	VMOVD   DX, X8; \
	VFMADD231SS X8, X4, X0; \
	ADDQ $2, SI; \
	ADDQ $2, DI; \
	DECQ CX; \
	JMP  bf1

TEXT ·dotBF16AVX2(SB), NOSPLIT, $0-60
	MOVQ n+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ a_base+32(FP), DI
	DOTBF16

fdone:
	VMOVSS X0, ret+56(FP)
	VZEROUPPER
	RET

// func dotBF16RowsAVX2(n int, w []byte, wstride int, a []byte, out []float32)
//
// dotBF16AVX2 (DOTBF16) for many rows: see DOTROWS.
TEXT ·dotBF16RowsAVX2(SB), NOSPLIT, $0-88
	DOTROWS(DOTBF16)

// The four-row forms: rows w, w+rowStride, w+2*rowStride, w+3*rowStride
// against one activation row, results to out[0..3]; a row's next block is
// blockStride bytes on (the block size for row-major weights, four block
// sizes for weights interleaved by row quads, see RepackQuads). Each row keeps its own
// accumulator and the single-row kernel's exact sequence of operations, so
// the results are the single-row kernel's bits; four independent chains of
// fused multiply-adds replace one, and the activation's share of the work
// (its scale, its bytes, Q4_0's 8*a pair sums) is done once per block.

// ROWSCALE(addr, dst) sets dst to f16(addr) * Y4 (the activation scale).
#define ROWSCALE(addr, x, y) \
	VPBROADCASTW addr, x; \
	VCVTPH2PS    x, y; \
	VMULPS       Y4, y, y

// Q4ROW(scale, qs, acc): the Q4_0 block with its scale at scale and its
// levels at qs into acc; Y5 holds the activation bytes, Y6 their 8*a pairs.
#define Q4ROW(scale, qs, acc) \
	ROWSCALE(scale, X7, Y7); \
	VMOVDQU     qs, X8; \
	VPSRLW      $4, X8, X9; \
	VINSERTI128 $1, X9, Y8, Y8; \
	VPAND       Y14, Y8, Y8; \
	VPMADDUBSW  Y5, Y8, Y8; \
	VPSUBW      Y6, Y8, Y8; \
	VPMADDWD    Y15, Y8, Y8; \
	VCVTDQ2PS   Y8, Y8; \
	VFMADD231PS Y8, Y7, acc

// HSUMTO(acc, dst) adds acc's lanes as HSUM8 does and stores the float at
// dst. Clobbers X0, X1 after moving acc to Y0.
#define HSUMTO(acc, dst) \
	VMOVAPS acc, Y0; \
	HSUM8; \
	VMOVSS  X0, dst

// func dotQ4_0x4AVX2(n int, w []byte, rowStride, blockStride int, a []byte, out *[4]float32)
TEXT ·dotQ4_0x4AVX2(SB), NOSPLIT, $0-80
	MOVQ n+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ rowStride+32(FP), BX
	MOVQ blockStride+40(FP), R8
	MOVQ a_base+48(FP), DI
	LEAQ (BX)(BX*2), DX
	SHRQ $5, CX
	VXORPS  Y10, Y10, Y10
	VXORPS  Y11, Y11, Y11
	VXORPS  Y12, Y12, Y12
	VXORPS  Y0, Y0, Y0
	VMOVDQU words1<>(SB), Y15
	VMOVDQU bytes0f<>(SB), Y14
	VMOVDQU bytes08<>(SB), Y13
	TESTQ   CX, CX
	JZ      q4x4done

q4x4loop:
	VPBROADCASTW (DI), X4
	VCVTPH2PS    X4, Y4
	VMOVDQU      2(DI), Y5
	VPMADDUBSW   Y5, Y13, Y6   // 8*a pairs, shared by the rows
	Q4ROW((SI), 2(SI), Y10)
	Q4ROW((SI)(BX*1), 2(SI)(BX*1), Y11)
	Q4ROW((SI)(BX*2), 2(SI)(BX*2), Y12)
	Q4ROW((SI)(DX*1), 2(SI)(DX*1), Y0)
	ADDQ R8, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  q4x4loop

q4x4done:
	MOVQ    out+72(FP), DI
	VMOVAPS Y0, Y13
	HSUMTO(Y10, 0(DI))
	HSUMTO(Y11, 4(DI))
	HSUMTO(Y12, 8(DI))
	HSUMTO(Y13, 12(DI))
	VZEROUPPER
	RET

// Q8ROW(scale, qs, acc): Q8_0 row into acc; Y5 holds the activation bytes.
#define Q8ROW(scale, qs, acc) \
	ROWSCALE(scale, X7, Y7); \
	VMOVDQU     qs, Y8; \
	VPSIGNB     Y8, Y5, Y9; \
	VPABSB      Y8, Y8; \
	VPMADDUBSW  Y9, Y8, Y8; \
	VPMADDWD    Y15, Y8, Y8; \
	VCVTDQ2PS   Y8, Y8; \
	VFMADD231PS Y8, Y7, acc

// func dotQ8_0x4AVX2(n int, w []byte, rowStride, blockStride int, a []byte, out *[4]float32)
TEXT ·dotQ8_0x4AVX2(SB), NOSPLIT, $0-80
	MOVQ n+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ rowStride+32(FP), BX
	MOVQ blockStride+40(FP), R8
	MOVQ a_base+48(FP), DI
	LEAQ (BX)(BX*2), DX
	SHRQ $5, CX
	VXORPS  Y10, Y10, Y10
	VXORPS  Y11, Y11, Y11
	VXORPS  Y12, Y12, Y12
	VXORPS  Y13, Y13, Y13
	VMOVDQU words1<>(SB), Y15
	TESTQ   CX, CX
	JZ      q8x4done

q8x4loop:
	VPBROADCASTW (DI), X4
	VCVTPH2PS    X4, Y4
	VMOVDQU      2(DI), Y5
	Q8ROW((SI), 2(SI), Y10)
	Q8ROW((SI)(BX*1), 2(SI)(BX*1), Y11)
	Q8ROW((SI)(BX*2), 2(SI)(BX*2), Y12)
	Q8ROW((SI)(DX*1), 2(SI)(DX*1), Y13)
	ADDQ R8, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  q8x4loop

q8x4done:
	MOVQ out+72(FP), DI
	HSUMTO(Y10, 0(DI))
	HSUMTO(Y11, 4(DI))
	HSUMTO(Y12, 8(DI))
	HSUMTO(Y13, 12(DI))
	VZEROUPPER
	RET

// Q4_1, Q5_0 and Q5_1 follow ggml's generic C, which the generic Go code
// ports: each block's integer sum is reduced to one int32 and scaled into
// a single float32 running sum in block order. The integer work is
// vectorised; the float steps are the generic ones, one scalar at a time.

// vpshufb indices spreading the 4 bytes of qh so byte i holds qh byte i/8.
DATA bitsShuf<>+0(SB)/8, $0x0000000000000000
DATA bitsShuf<>+8(SB)/8, $0x0101010101010101
DATA bitsShuf<>+16(SB)/8, $0x0202020202020202
DATA bitsShuf<>+24(SB)/8, $0x0303030303030303
GLOBL bitsShuf<>(SB), RODATA|NOPTR, $32

// Every bit but bit i mod 8 of byte i.
DATA bitsMask<>+0(SB)/8, $0x7fbfdfeff7fbfdfe
DATA bitsMask<>+8(SB)/8, $0x7fbfdfeff7fbfdfe
DATA bitsMask<>+16(SB)/8, $0x7fbfdfeff7fbfdfe
DATA bitsMask<>+24(SB)/8, $0x7fbfdfeff7fbfdfe
GLOBL bitsMask<>(SB), RODATA|NOPTR, $32

// F16SS(addr, x) loads the f16 at addr into x's low float. Clobbers AX.
#define F16SS(addr, x) \
	MOVWLZX   addr, AX; \
	VMOVD     AX, x; \
	VCVTPH2PS x, x

// ISUM(y, x) reduces y's eight int32 lanes to x's low lane, as float32.
#define ISUM(y, x) \
	VEXTRACTI128 $1, y, X9; \
	VPADDD       X9, x, x; \
	VPSHUFD      $0x4e, x, X9; \
	VPADDD       X9, x, x; \
	VPSHUFD      $0xb1, x, X9; \
	VPADDD       X9, x, x; \
	VCVTDQ2PS    x, x

// NIBBLES(addr, y, x) sets y to the 32 nibbles of the 16 bytes at addr:
// low nibbles (elements 0-15) in the low half, high ones (16-31) above.
#define NIBBLES(addr, y, x) \
	VMOVDQU     addr, x; \
	VPSRLW      $4, x, X9; \
	VINSERTI128 $1, X9, y, y; \
	VPAND       Y14, y, y

// FIFTHBITS(addr, y) sets y to 16 in byte i where bit i of the 32-bit qh
// at addr is set, else 0 (ggml's bytes_from_bits_32, masked).
#define FIFTHBITS(addr, y) \
	VPBROADCASTD addr, y; \
	VPSHUFB      Y11, y, y; \
	VPOR         Y12, y, y; \
	VPCMPEQB     Y10, y, y; \
	VPAND        Y13, y, y

#define SETUP32 \
	MOVQ n+0(FP), CX; \
	MOVQ w_base+8(FP), SI; \
	MOVQ a_base+32(FP), DI; \
	SHRQ $5, CX; \
	VXORPS  X0, X0, X0; \
	VMOVDQU words1<>(SB), Y15; \
	VMOVDQU bytes0f<>(SB), Y14; \
	VMOVDQU bytes10<>(SB), Y13; \
	VMOVDQU bitsMask<>(SB), Y12; \
	VMOVDQU bitsShuf<>(SB), Y11; \
	VPCMPEQB Y10, Y10, Y10

// func dotQ5_0AVX2(n int, w, a []byte) float32
TEXT ·dotQ5_0AVX2(SB), NOSPLIT, $0-60
	SETUP32
	TESTQ CX, CX
	JZ    q50done

q50loop:
	FIFTHBITS(2(SI), Y1)
	NIBBLES(6(SI), Y2, X2)
	VPOR       Y1, Y2, Y2      // u = level + 16, in [0, 31]
	VMOVDQU    2(DI), Y3
	VPMADDUBSW Y3, Y2, Y2
	VPMADDUBSW Y3, Y13, Y4     // 16*a pairs
	VPSUBW     Y4, Y2, Y2
	VPMADDWD   Y15, Y2, Y2
	ISUM(Y2, X2)
	F16SS((SI), X5)
	F16SS((DI), X6)
	VMULSS X6, X5, X5          // dx * dy
	VMULSS X2, X5, X5          // * isum
	VADDSS X5, X0, X0
	ADDQ $22, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  q50loop

q50done:
	VMOVSS X0, ret+56(FP)
	VZEROUPPER
	RET

// Q81TAIL adds to X0 float32(dd*isum) + float32(m*s) for a block whose
// isum is in X2, weights d, m at (SI), 2(SI) and Q8_1 d, s at (DI), 2(DI).
#define Q81TAIL \
	F16SS((SI), X5); \
	F16SS((DI), X6); \
	VMULSS X6, X5, X5; \
	VMULSS X2, X5, X5; \
	F16SS(2(SI), X7); \
	F16SS(2(DI), X8); \
	VMULSS X8, X7, X7; \
	VADDSS X7, X5, X5; \
	VADDSS X5, X0, X0

// func dotQ4_1AVX2(n int, w, a []byte) float32
TEXT ·dotQ4_1AVX2(SB), NOSPLIT, $0-60
	SETUP32
	TESTQ CX, CX
	JZ    q41done

q41loop:
	NIBBLES(4(SI), Y2, X2)
	VPMADDUBSW 4(DI), Y2, Y2
	VPMADDWD   Y15, Y2, Y2
	ISUM(Y2, X2)
	Q81TAIL
	ADDQ $20, SI
	ADDQ $36, DI
	DECQ CX
	JNZ  q41loop

q41done:
	VMOVSS X0, ret+56(FP)
	VZEROUPPER
	RET

// func dotQ5_1AVX2(n int, w, a []byte) float32
TEXT ·dotQ5_1AVX2(SB), NOSPLIT, $0-60
	SETUP32
	TESTQ CX, CX
	JZ    q51done

q51loop:
	FIFTHBITS(4(SI), Y1)
	NIBBLES(8(SI), Y2, X2)
	VPOR       Y1, Y2, Y2
	VPMADDUBSW 4(DI), Y2, Y2
	VPMADDWD   Y15, Y2, Y2
	ISUM(Y2, X2)
	Q81TAIL
	ADDQ $24, SI
	ADDQ $36, DI
	DECQ CX
	JNZ  q51loop

q51done:
	VMOVSS X0, ret+56(FP)
	VZEROUPPER
	RET
