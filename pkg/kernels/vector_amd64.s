//go:build amd64 && !purego

#include "textflag.h"

// SwiGLU's vectorised exp (expVec, ggml_v_expf as built for AVX-512) in
// AVX2, eight lanes at a time, with the same fused multiply-adds in the
// same order. AVX-512's vscalefps(j, n) is j*2^n rounded once; here 2^n is
// built from n's bits and one vmulps rounds j*2^n once, which is the same
// for -126 <= n <= 127 (2^n a normal float). A group with a lane outside
// that range (|x| > ~87) stops the loop, and the Go code takes that group.

DATA expConsts<>+0(SB)/4, $0x4b400000  // 0x1.8p23
DATA expConsts<>+4(SB)/4, $0x3fb8aa3b  // 0x1.715476p+0
DATA expConsts<>+8(SB)/4, $0x3f317200  // 0x1.62e4p-1
DATA expConsts<>+12(SB)/4, $0x35bfbe8e // 0x1.7f7d1cp-20
DATA expConsts<>+16(SB)/4, $0x3c072010 // 0x1.0e4020p-7
DATA expConsts<>+20(SB)/4, $0x3d2b9f17 // 0x1.573e2ep-5
DATA expConsts<>+24(SB)/4, $0x3e2aaf33 // 0x1.555e66p-3
DATA expConsts<>+28(SB)/4, $0x3efffedb // 0x1.fffdb6p-2
DATA expConsts<>+32(SB)/4, $0x3f7ffff6 // 0x1.ffffecp-1
DATA expConsts<>+36(SB)/4, $0x3f800000 // 1
DATA expConsts<>+40(SB)/4, $0x42fc0000 // 126
DATA expConsts<>+44(SB)/4, $0x80000000 // sign bit
DATA expConsts<>+48(SB)/4, $0x7fffffff // abs mask
DATA expConsts<>+52(SB)/4, $127        // exponent bias (int32)
GLOBL expConsts<>(SB), RODATA|NOPTR, $56

// func swigluAVX2(dst, gate, up []float32) int
//
// dst[i] = float32(g/(1+expVec(-g))) * up[i] for groups of eight from 0;
// returns how many elements it wrote (a multiple of 8): len(dst) rounded
// down, or the start of the first group that needs the Go code.
TEXT ·swigluAVX2(SB), NOSPLIT, $0-80
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ gate_base+24(FP), SI
	MOVQ up_base+48(FP), DX
	SHRQ $3, CX
	XORQ AX, AX
	VBROADCASTSS expConsts<>+0(SB), Y15  // r
	VBROADCASTSS expConsts<>+4(SB), Y14  // log2(e)
	VBROADCASTSS expConsts<>+8(SB), Y13  // ln2 hi
	VBROADCASTSS expConsts<>+12(SB), Y12 // ln2 lo
	VBROADCASTSS expConsts<>+36(SB), Y11 // 1
	VBROADCASTSS expConsts<>+40(SB), Y10 // 126
	VBROADCASTSS expConsts<>+44(SB), Y9  // sign bit
	TESTQ CX, CX
	JZ    swdone

swloop:
	VMOVUPS (SI)(AX*4), Y0      // g
	VXORPS  Y9, Y0, Y1          // x = -g
	VMOVAPS Y15, Y2
	VFMADD231PS Y14, Y1, Y2     // z = x*log2e + r
	VSUBPS  Y15, Y2, Y3         // n = z - r
	VANDNPS Y3, Y9, Y4          // |n| (andnot sign)
	VCMPPS  $0x1e, Y10, Y4, Y4  // |n| > 126 (GT_OQ)
	VMOVMSKPS Y4, BX
	TESTL   BX, BX
	JNZ     swdone
	VFNMADD231PS Y13, Y3, Y1    // b = x - n*ln2hi
	VFNMADD231PS Y12, Y3, Y1    // b -= n*ln2lo
	VMULPS  Y1, Y1, Y4          // u = b*b
	VBROADCASTSS expConsts<>+20(SB), Y5 // c4
	VBROADCASTSS expConsts<>+16(SB), Y6 // c5
	VFMADD231PS  Y6, Y1, Y5              // p1 = c5*b + c4
	VBROADCASTSS expConsts<>+28(SB), Y7 // c2
	VBROADCASTSS expConsts<>+24(SB), Y6 // c3
	VFMADD231PS  Y6, Y1, Y7              // p2 = c3*b + c2
	VFMADD231PS  Y4, Y5, Y7              // p3 = p1*u + p2
	VMOVAPS      Y11, Y8
	VBROADCASTSS expConsts<>+32(SB), Y6 // c1
	VFMADD231PS  Y6, Y1, Y8              // p4 = c1*b + 1
	VFMADD231PS  Y4, Y7, Y8              // j = p3*u + p4
	VCVTPS2DQ    Y3, Y2                  // n as int32 (exact: n is integral)
	VPBROADCASTD expConsts<>+52(SB), Y6
	VPADDD       Y6, Y2, Y2
	VPSLLD       $23, Y2, Y2             // 2^n
	VMULPS       Y2, Y8, Y8              // expVec(-g) = j * 2^n, rounded once
	VADDPS       Y11, Y8, Y8             // 1 + e
	VDIVPS       Y8, Y0, Y0              // g / (1 + e)
	VMULPS       (DX)(AX*4), Y0, Y0      // * up
	VMOVUPS      Y0, (DI)(AX*4)
	ADDQ $8, AX
	DECQ CX
	JNZ  swloop

swdone:
	MOVQ AX, ret+72(FP)
	VZEROUPPER
	RET

// func weightedSumAVX2(dst *float32, n int, w *float32, nw int, rows *float32, stride int)
//
// dst[j] = sum over t < nw of w[t]*row_t[j], row t at rows + t*stride
// bytes, for j < n (a multiple of 8): per column the product rounded
// (vmulps) then added (vaddps) in increasing t from zero, as the Go loop
// does. Columns go 32 at a time (four accumulators sharing each broadcast
// weight), then 8.
TEXT ·weightedSumAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ w+16(FP), R8
	MOVQ nw+24(FP), R9
	MOVQ rows+32(FP), SI
	MOVQ stride+40(FP), BX

ws32:
	CMPQ CX, $32
	JLT  ws8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ SI, AX
	MOVQ R8, DX
	MOVQ R9, R10
	TESTQ R10, R10
	JZ    ws32store

ws32loop:
	VBROADCASTSS (DX), Y8
	VMULPS  (AX), Y8, Y4
	VMULPS  32(AX), Y8, Y5
	VMULPS  64(AX), Y8, Y6
	VMULPS  96(AX), Y8, Y7
	VADDPS  Y4, Y0, Y0
	VADDPS  Y5, Y1, Y1
	VADDPS  Y6, Y2, Y2
	VADDPS  Y7, Y3, Y3
	ADDQ BX, AX
	ADDQ $4, DX
	DECQ R10
	JNZ  ws32loop

ws32store:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ $128, DI
	ADDQ $128, SI
	SUBQ $32, CX
	JMP  ws32

ws8:
	TESTQ CX, CX
	JZ    wsdone
	VXORPS Y0, Y0, Y0
	MOVQ SI, AX
	MOVQ R8, DX
	MOVQ R9, R10
	TESTQ R10, R10
	JZ    ws8store

ws8loop:
	VBROADCASTSS (DX), Y8
	VMULPS  (AX), Y8, Y4
	VADDPS  Y4, Y0, Y0
	ADDQ BX, AX
	ADDQ $4, DX
	DECQ R10
	JNZ  ws8loop

ws8store:
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	SUBQ $8, CX
	JMP  ws8

wsdone:
	VZEROUPPER
	RET
