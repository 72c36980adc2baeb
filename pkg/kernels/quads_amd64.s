//go:build amd64 && !purego

#include "textflag.h"
#include "avx2_amd64.h"

// PFDIST is how far ahead the quad kernels prefetch: one sequential stream
// per core, but the hardware prefetcher alone left a core at ~11 GB/s from
// DRAM (Q4_0 quads, 1 thread) where 9 KiB of software prefetch gives ~15;
// 2.3 KiB to 16 KiB were measured, 9 KiB was best.
#define PFDIST 9216

// AVX2 kernels for matrices in LayoutQuads (layout.go): four rows against
// one Q8_0 activation row, per block group the four f16 scales side by
// side, then the four rows' levels. Per row and block the arithmetic is
// the single-row kernel's (dot_amd64.s): eight int32 lanes of four
// products each, d = f32(w.d)*f32(a.d), acc_l = fma(d, float(lane_l),
// acc_l), lanes added at the end as hsum_float_8 adds them. So the results
// are the generic code's bits.

// vpermps indices: row 0 in the low half and row 1 in the high half, and
// rows 2 and 3 likewise.
DATA quadIdx01<>+0(SB)/8, $0x0000000000000000
DATA quadIdx01<>+8(SB)/8, $0x0000000000000000
DATA quadIdx01<>+16(SB)/8, $0x0000000100000001
DATA quadIdx01<>+24(SB)/8, $0x0000000100000001
GLOBL quadIdx01<>(SB), RODATA|NOPTR, $32

DATA quadIdx23<>+0(SB)/8, $0x0000000200000002
DATA quadIdx23<>+8(SB)/8, $0x0000000200000002
DATA quadIdx23<>+16(SB)/8, $0x0000000300000003
DATA quadIdx23<>+24(SB)/8, $0x0000000300000003
GLOBL quadIdx23<>(SB), RODATA|NOPTR, $32

DATA quadIdx3<>+0(SB)/8, $0x0000000300000003
DATA quadIdx3<>+8(SB)/8, $0x0000000300000003
DATA quadIdx3<>+16(SB)/8, $0x0000000300000003
DATA quadIdx3<>+24(SB)/8, $0x0000000300000003
GLOBL quadIdx3<>(SB), RODATA|NOPTR, $32

// QUADZERO clears a quad's accumulators, Y8-Y11.
#define QUADZERO \
	VXORPS Y8, Y8, Y8; \
	VXORPS Y9, Y9, Y9; \
	VXORPS Y10, Y10, Y10; \
	VXORPS Y11, Y11, Y11

// QUADOUT4(dst) ends a Q4_0 quad: its accumulators hold rows 0|1 (Y8
// lanes 0-3, Y9 lanes 4-7) and rows 2|3 (Y10, Y11); each row's eight lanes
// are put together and summed into the float32 at dst+4i.
#define QUADOUT4(dst) \
	VPERM2F128 $0x20, Y9, Y8, Y0; \
	HSUM8; \
	VMOVSS     X0, 0(dst); \
	VPERM2F128 $0x31, Y9, Y8, Y0; \
	HSUM8; \
	VMOVSS     X0, 4(dst); \
	VPERM2F128 $0x20, Y11, Y10, Y0; \
	HSUM8; \
	VMOVSS     X0, 8(dst); \
	VPERM2F128 $0x31, Y11, Y10, Y0; \
	HSUM8; \
	VMOVSS     X0, 12(dst)

// QUADOUTSPLIT ends a one-quad Q4_0 kernel: QUADOUT4 into out.
#define QUADOUTSPLIT \
	MOVQ out+80(FP), DI; \
	QUADOUT4(DI); \
	VZEROUPPER; \
	RET

// QUADQ8CONSTS loads the Q8_0 quad kernels' constants: Y15 the int16
// ones for an AVX2 row, Y12-Y14 and Y3 the vpermps indices 0-3 that pick a
// row's scale.
#define QUADQ8CONSTS \
	VMOVDQU  words1<>(SB), Y15; \
	VPXOR    Y12, Y12, Y12; \
	VPCMPEQD Y13, Y13, Y13; \
	VPSRLD   $31, Y13, Y13; \
	VPADDD   Y13, Y13, Y14; \
	VMOVDQU  quadIdx3<>(SB), Y3

// QUADQ8QUAD(row) runs one quad of Q8_0 rows at SI (left at the next
// quad) against the activation row: per block group the four rows'
// scales d = f16(w.d) * f16(a.d) in X1, the activation bytes in Y4, then
// row(idx, off, acc) for each row; row i's eight lanes end in Y8+i.
// Clobbers CX, DI.
#define QUADQ8QUAD(row) \
	MOVQ   n+0(FP), CX; \
	MOVQ   a_base+32(FP), DI; \
	SHRQ   $5, CX; \
	QUADZERO; \
	TESTQ  CX, CX; \
	JZ     q8done; \
q8loop: \
	PREFETCHT0   PFDIST(SI); \
	PREFETCHT0   PFDIST+64(SI); \
	VMOVQ        (SI), X1; \
	VCVTPH2PS    X1, X1; \
	VPBROADCASTW (DI), X0; \
	VCVTPH2PS    X0, X0; \
	VMULPS       X0, X1, X1; \
	VMOVDQU      2(DI), Y4; \
	row(Y12, 8, Y8); \
	row(Y13, 40, Y9); \
	row(Y14, 72, Y10); \
	row(Y3, 104, Y11); \
	ADDQ $136, SI; \
	ADDQ $34, DI; \
	DECQ CX; \
	JNZ  q8loop; \
q8done:

// QUADQ8OUT(dst) sums row i's eight lanes (Y8+i) into the float32 at
// dst+4i, as hsum_float_8 sums them.
#define QUADQ8OUT(dst) \
	VMOVAPS Y8, Y0; \
	HSUM8; \
	VMOVSS  X0, 0(dst); \
	VMOVAPS Y9, Y0; \
	HSUM8; \
	VMOVSS  X0, 4(dst); \
	VMOVAPS Y10, Y0; \
	HSUM8; \
	VMOVSS  X0, 8(dst); \
	VMOVAPS Y11, Y0; \
	HSUM8; \
	VMOVSS  X0, 12(dst)

// QUADQ8(row) is a whole one-quad Q8_0 kernel (AVX2 or VNNI by row).
#define QUADQ8(row) \
	QUADQ8CONSTS; \
	MOVQ w_base+8(FP), SI; \
	QUADQ8QUAD(row); \
	MOVQ out+80(FP), DI; \
	QUADQ8OUT(DI); \
	VZEROUPPER; \
	RET

// QUADROWS(quad, out) is the frame of the many-quad kernels
// (func(n int, w, a, prep []byte, out []float32)): quad(), which leaves
// SI at the next quad and R12 alone, once per four outputs, then out(R12).
#define QUADROWS(quad, out) \
	MOVQ  w_base+8(FP), SI; \
	MOVQ  out_base+80(FP), R12; \
	MOVQ  out_len+88(FP), R11; \
	SHRQ  $2, R11; \
	JZ    qrdone; \
qrloop: \
	quad; \
	out(R12); \
	ADDQ  $16, R12; \
	DECQ  R11; \
	JNZ   qrloop; \
qrdone: \
	VZEROUPPER; \
	RET

// Q4QCONSTS loads the Q4_0 AVX2 quad kernels' constants.
#define Q4QCONSTS \
	VMOVDQU words1<>(SB), Y15; \
	VMOVDQU bytes0f<>(SB), Y14; \
	VMOVDQU quadIdx01<>(SB), Y13; \
	VMOVDQU quadIdx23<>(SB), Y12

// Q4QQUAD runs one quad of Q4_0 rows at SI (left at the next quad) into
// Y8-Y11 (see QUADOUT4). The two row pairs' instructions are interleaved:
// the same operations on the same accumulators in the same order, but
// this CPU's schedulers keep more of them busy (~5% in L1). Clobbers CX,
// DI, R9, R10, Y0-Y7.
#define Q4QQUAD \
	MOVQ   n+0(FP), CX; \
	MOVQ   a_base+32(FP), DI; \
	MOVQ   prep_base+56(FP), R9; \
	SHRQ   $5, CX; \
	MOVQ   CX, R10; \
	SHLQ   $6, R10; \
	ADDQ   R9, R10; \
	QUADZERO; \
	TESTQ  CX, CX; \
	JZ     q4qdone; \
q4qloop: \
	PREFETCHT0     PFDIST(SI); \
	VMOVQ          (SI), X1; \
	VCVTPH2PS      X1, X1; \
	VBROADCASTSS   (R10), X0; \
	VMULPS         X0, X1, X1; \
	VBROADCASTI128 2(DI), Y4; \
	VBROADCASTI128 18(DI), Y5; \
	VMOVDQU        8(SI), Y6; \
	VMOVDQU        40(SI), Y2; \
	VPSRLW         $4, Y6, Y7; \
	VPSRLW         $4, Y2, Y3; \
	VPAND          Y14, Y6, Y6; \
	VPAND          Y14, Y2, Y2; \
	VPAND          Y14, Y7, Y7; \
	VPAND          Y14, Y3, Y3; \
	VPMADDUBSW     Y4, Y6, Y6; \
	VPMADDUBSW     Y4, Y2, Y2; \
	VPMADDUBSW     Y5, Y7, Y7; \
	VPMADDUBSW     Y5, Y3, Y3; \
	VPSUBW         (R9), Y6, Y6; \
	VPSUBW         (R9), Y2, Y2; \
	VPSUBW         32(R9), Y7, Y7; \
	VPSUBW         32(R9), Y3, Y3; \
	VPMADDWD       Y15, Y6, Y6; \
	VPMADDWD       Y15, Y2, Y2; \
	VPMADDWD       Y15, Y7, Y7; \
	VPMADDWD       Y15, Y3, Y3; \
	VCVTDQ2PS      Y6, Y6; \
	VCVTDQ2PS      Y2, Y2; \
	VCVTDQ2PS      Y7, Y7; \
	VCVTDQ2PS      Y3, Y3; \
	VPERMPS        Y1, Y13, Y4; \
	VPERMPS        Y1, Y12, Y5; \
	VFMADD231PS    Y6, Y4, Y8; \
	VFMADD231PS    Y7, Y4, Y9; \
	VFMADD231PS    Y2, Y5, Y10; \
	VFMADD231PS    Y3, Y5, Y11; \
	ADDQ $72, SI; \
	ADDQ $34, DI; \
	ADDQ $64, R9; \
	ADDQ $4, R10; \
	DECQ CX; \
	JNZ  q4qloop; \
q4qdone:

// func dotQ4_0QuadsAVX2(n int, w, a, prep []byte, out *[4]float32)
//
// w: one quad of Q4_0 rows in LayoutQuads (72 bytes per block group);
// a: the Q8_0 activation row; prep: its quadPrepQ4_0 (per block the int16
// pair sums 8*(a[2j]+a[2j+1]) of elements 0-15 and of 16-31, each twice,
// 64 bytes; then every block's scale as float32).
//
// Rows 0 and 1 share registers: one 32-byte load holds both rows' levels,
// so the low nibbles are [row 0 elements 0-15 | row 1 elements 0-15] and
// the high nibbles the same for elements 16-31. After vpmaddwd, lane l of
// a half is lane l (low nibbles) or l+4 (high) of that row's eight: each
// lane is still one row's lane, accumulated with that row's scale, so
// nothing changes but where the lanes sit until the final sums.
TEXT ·dotQ4_0QuadsAVX2(SB), NOSPLIT, $0-88
	Q4QCONSTS
	MOVQ w_base+8(FP), SI
	Q4QQUAD
	QUADOUTSPLIT

// func dotQ4_0QuadsRowsAVX2(n int, w, a, prep []byte, out []float32)
//
// dotQ4_0QuadsAVX2 for len(out)/4 quads one after another in w, out[4q+i]
// row i of quad q: one call for a matrix's rows at one token.
TEXT ·dotQ4_0QuadsRowsAVX2(SB), NOSPLIT, $0-104
	Q4QCONSTS
	QUADROWS(Q4QQUAD, QUADOUT4)

// Q8QROW(idx, off, acc): row i of a Q8_0 block group into acc, its scale
// picked from Y1 by the index vector idx, its levels at off(SI); Y4 holds
// the activation bytes.
#define Q8QROW(idx, off, acc) \
	VPERMPS     Y1, idx, Y2; \
	VMOVDQU     off(SI), Y5; \
	VPSIGNB     Y5, Y4, Y6; \
	VPABSB      Y5, Y5; \
	VPMADDUBSW  Y6, Y5, Y5; \
	VPMADDWD    Y15, Y5, Y5; \
	VCVTDQ2PS   Y5, Y5; \
	VFMADD231PS Y5, Y2, acc

// func dotQ8_0QuadsAVX2(n int, w, a, prep []byte, out *[4]float32)
//
// w: one quad of Q8_0 rows in LayoutQuads (136 bytes per block group); a:
// the Q8_0 activation row, whose bytes must lie in [-127, 127] as for
// dotQ8_0AVX2; prep is not used.
TEXT ·dotQ8_0QuadsAVX2(SB), NOSPLIT, $0-88
	QUADQ8(Q8QROW)

// func dotQ8_0QuadsRowsAVX2(n int, w, a, prep []byte, out []float32)
//
// dotQ8_0QuadsAVX2 for len(out)/4 quads one after another in w, as
// dotQ4_0QuadsRowsAVX2.
TEXT ·dotQ8_0QuadsRowsAVX2(SB), NOSPLIT, $0-104
	QUADQ8CONSTS
	QUADROWS(QUADQ8QUAD(Q8QROW), QUADQ8OUT)

// func quadPrepQ4_0AVX2(dst, a []byte, blocks int)
//
// quadPrepQ4_0 (layout.go) for whole blocks: vpmaddubsw of the bytes 8
// with the activation bytes gives the sixteen pair sums 8*(a[2j]+a[2j+1])
// exactly (at most 8*254 in magnitude); vpermq copies each half to both.
TEXT ·quadPrepQ4_0AVX2(SB), NOSPLIT, $0-56
	MOVQ dst_base+0(FP), DI
	MOVQ a_base+24(FP), SI
	MOVQ blocks+48(FP), CX
	MOVQ CX, R8
	SHLQ $6, R8
	ADDQ DI, R8 // the float32 scales after the pair sums
	VMOVDQU bytes08<>(SB), Y15
	TESTQ CX, CX
	JZ    qpdone

qploop:
	VMOVDQU      2(SI), Y0
	VPMADDUBSW   Y0, Y15, Y0
	VPERMQ       $0x44, Y0, Y1 // pairs of elements 0-15, twice
	VPERMQ       $0xee, Y0, Y2 // 16-31, twice
	VMOVDQU      Y1, (DI)
	VMOVDQU      Y2, 32(DI)
	VPBROADCASTW (SI), X3
	VCVTPH2PS    X3, X3
	VMOVSS       X3, (R8)
	ADDQ $34, SI
	ADDQ $64, DI
	ADDQ $4, R8
	DECQ CX
	JNZ  qploop

qpdone:
	VZEROUPPER
	RET

// AVX-512 VNNI versions of the two quad kernels above (and, in
// tile_amd64.s, of the 2x4 batch tile). vpdpbusd adds the four products
// of unsigned by signed bytes behind each int32 lane in one instruction,
// where AVX2 needs vpmaddubsw then vpmaddwd: it forms the same eight
// int32 lanes of four products (lane l: elements 4l..4l+3), exactly, as
// ggml's own AVX512-VNNI build does on 256-bit vectors (_mm256_dpbusd_epi32
// in mul_sum_i8_pairs_float). Everything after the integer sums (the
// scale products, the fused multiply-adds, the lane sums) is the AVX2
// kernels' code, so every output keeps the generic code's bits. Go's
// assembler emits vpdpbusd only in its EVEX form, so these run on CPUs
// with AVX512_VNNI and AVX512VL (dispatch_amd64.go checks both); the
// accumulators beyond Y15 are EVEX-only registers.

// func dotQ4_0QuadsVNNI(n int, w, a, prep []byte, out *[4]float32)
//
// dotQ4_0QuadsAVX2 with vpdpbusd: the unsigned nibbles u times the
// activation bytes, added to -8*(a[4l]+..+a[4l+3]) (vpdpbusd of the bytes
// 8, once per block for all four rows), is (u-8)*a summed exactly. prep
// is not used.
TEXT ·dotQ4_0QuadsVNNI(SB), NOSPLIT, $0-88
	MOVQ n+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ a_base+32(FP), DI
	SHRQ $5, CX
	VMOVDQU bytes0f<>(SB), Y14
	VMOVDQU bytes08<>(SB), Y15
	VMOVDQU quadIdx01<>(SB), Y13
	VMOVDQU quadIdx23<>(SB), Y12
	QUADZERO
	TESTQ   CX, CX
	JZ      q4vdone

q4vloop:
	PREFETCHT0     PFDIST(SI)
	VMOVQ          (SI), X1
	VCVTPH2PS      X1, X1
	VPBROADCASTW   (DI), X0
	VCVTPH2PS      X0, X0
	VMULPS         X0, X1, X1 // d of rows 0-3
	VPERMPS        Y1, Y13, Y2 // d0 x4 | d1 x4
	VPERMPS        Y1, Y12, Y3 // d2 x4 | d3 x4
	VBROADCASTI128 2(DI), Y4  // a[0:16] twice
	VBROADCASTI128 18(DI), Y5 // a[16:32] twice
	VPXOR          Y6, Y6, Y6
	VPXOR          Y7, Y7, Y7
	VPDPBUSD       Y4, Y15, Y6 // 8*(a[4l]+..+a[4l+3]), elements 0-15
	VPDPBUSD       Y5, Y15, Y7 // and 16-31
	VPXOR          Y0, Y0, Y0
	VPSUBD         Y6, Y0, Y6
	VPSUBD         Y7, Y0, Y7

	VMOVDQU     8(SI), Y0 // levels of rows 0 and 1
	VPSRLW      $4, Y0, Y1
	VPAND       Y14, Y0, Y0
	VPAND       Y14, Y1, Y1
	VMOVDQA32   Y6, Y16
	VMOVDQA32   Y7, Y17
	VPDPBUSD    Y4, Y0, Y16
	VPDPBUSD    Y5, Y1, Y17
	VCVTDQ2PS   Y16, Y16
	VCVTDQ2PS   Y17, Y17
	VFMADD231PS Y16, Y2, Y8
	VFMADD231PS Y17, Y2, Y9

	VMOVDQU     40(SI), Y0 // rows 2 and 3
	VPSRLW      $4, Y0, Y1
	VPAND       Y14, Y0, Y0
	VPAND       Y14, Y1, Y1
	VMOVDQA32   Y6, Y18
	VMOVDQA32   Y7, Y19
	VPDPBUSD    Y4, Y0, Y18
	VPDPBUSD    Y5, Y1, Y19
	VCVTDQ2PS   Y18, Y18
	VCVTDQ2PS   Y19, Y19
	VFMADD231PS Y18, Y3, Y10
	VFMADD231PS Y19, Y3, Y11

	ADDQ $72, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  q4vloop

q4vdone:
	QUADOUTSPLIT

// Q8VROW(idx, off, acc): Q8QROW with vpdpbusd: |w| times
// a*sign(w) into a zeroed int32 accumulator.
#define Q8VROW(idx, off, acc) \
	VPERMPS     Y1, idx, Y2; \
	VMOVDQU     off(SI), Y5; \
	VPSIGNB     Y5, Y4, Y6; \
	VPABSB      Y5, Y5; \
	VPXOR       Y7, Y7, Y7; \
	VPDPBUSD    Y6, Y5, Y7; \
	VCVTDQ2PS   Y7, Y7; \
	VFMADD231PS Y7, Y2, acc

// func dotQ8_0QuadsVNNI(n int, w, a, prep []byte, out *[4]float32)
//
// dotQ8_0QuadsAVX2 with vpdpbusd; the activation bytes must lie in
// [-127, 127] as there. prep is not used.
TEXT ·dotQ8_0QuadsVNNI(SB), NOSPLIT, $0-88
	QUADQ8(Q8VROW)
