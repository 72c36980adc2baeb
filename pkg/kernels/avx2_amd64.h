// Constants and macros the AVX2 kernel files share (#include
// "avx2_amd64.h"). The DATA symbols are file-local (<>), so each file that
// includes this gets its own copy of the same bytes, from one source.

// Bytes 0x0f, for nibble masks.
DATA bytes0f<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA bytes0f<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA bytes0f<>+16(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA bytes0f<>+24(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL bytes0f<>(SB), RODATA|NOPTR, $32

// Bytes 8: the Q4_0 level offset.
DATA bytes08<>+0(SB)/8, $0x0808080808080808
DATA bytes08<>+8(SB)/8, $0x0808080808080808
DATA bytes08<>+16(SB)/8, $0x0808080808080808
DATA bytes08<>+24(SB)/8, $0x0808080808080808
GLOBL bytes08<>(SB), RODATA|NOPTR, $32

// int16 ones, for vpmaddwd pair sums.
DATA words1<>+0(SB)/8, $0x0001000100010001
DATA words1<>+8(SB)/8, $0x0001000100010001
DATA words1<>+16(SB)/8, $0x0001000100010001
DATA words1<>+24(SB)/8, $0x0001000100010001
GLOBL words1<>(SB), RODATA|NOPTR, $32

// Bytes 3: the mask of a Q3_K level's two low bits.
DATA bytes03<>+0(SB)/8, $0x0303030303030303
DATA bytes03<>+8(SB)/8, $0x0303030303030303
DATA bytes03<>+16(SB)/8, $0x0303030303030303
DATA bytes03<>+24(SB)/8, $0x0303030303030303
GLOBL bytes03<>(SB), RODATA|NOPTR, $32

// Bytes 4: the Q3_K level offset, and its high bit's value.
DATA bytes04<>+0(SB)/8, $0x0404040404040404
DATA bytes04<>+8(SB)/8, $0x0404040404040404
DATA bytes04<>+16(SB)/8, $0x0404040404040404
DATA bytes04<>+24(SB)/8, $0x0404040404040404
GLOBL bytes04<>(SB), RODATA|NOPTR, $32

// Bytes 0x10: the Q5_0 offset and the fifth bit's value.
DATA bytes10<>+0(SB)/8, $0x1010101010101010
DATA bytes10<>+8(SB)/8, $0x1010101010101010
DATA bytes10<>+16(SB)/8, $0x1010101010101010
DATA bytes10<>+24(SB)/8, $0x1010101010101010
GLOBL bytes10<>(SB), RODATA|NOPTR, $32

// Bytes 0x20: the Q6_K level offset (32).
DATA bytes20<>+0(SB)/8, $0x2020202020202020
DATA bytes20<>+8(SB)/8, $0x2020202020202020
DATA bytes20<>+16(SB)/8, $0x2020202020202020
DATA bytes20<>+24(SB)/8, $0x2020202020202020
GLOBL bytes20<>(SB), RODATA|NOPTR, $32

// Bytes 0x30: the mask of the Q6_K high bits in place.
DATA bytes30<>+0(SB)/8, $0x3030303030303030
DATA bytes30<>+8(SB)/8, $0x3030303030303030
DATA bytes30<>+16(SB)/8, $0x3030303030303030
DATA bytes30<>+24(SB)/8, $0x3030303030303030
GLOBL bytes30<>(SB), RODATA|NOPTR, $32

// float32 sign-clearing mask (|x|).
DATA f32Abs<>+0(SB)/8, $0x7fffffff7fffffff
DATA f32Abs<>+8(SB)/8, $0x7fffffff7fffffff
DATA f32Abs<>+16(SB)/8, $0x7fffffff7fffffff
DATA f32Abs<>+24(SB)/8, $0x7fffffff7fffffff
GLOBL f32Abs<>(SB), RODATA|NOPTR, $32

// HSUM8 leaves in X0 (low float) the sum of Y0's eight lanes as
// hsum_float_8 adds them: ((v0+v4)+(v2+v6)) + ((v1+v5)+(v3+v7)). Clobbers X1.
#define HSUM8 \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS       X1, X0, X0; \
	VMOVHLPS     X0, X0, X1; \
	VADDPS       X1, X0, X0; \
	VMOVSHDUP    X0, X1; \
	VADDSS       X1, X0, X0

// SUMLANES adds the eight float32 lanes of Y13 to X12 one at a time, in
// lane order (the k-quant kernels' final sum), through the frame's first
// 32 bytes.
#define SUMLANES \
	VMOVUPS Y13, (SP); \
	VADDSS  0(SP), X12, X12; \
	VADDSS  4(SP), X12, X12; \
	VADDSS  8(SP), X12, X12; \
	VADDSS  12(SP), X12, X12; \
	VADDSS  16(SP), X12, X12; \
	VADDSS  20(SP), X12, X12; \
	VADDSS  24(SP), X12, X12; \
	VADDSS  28(SP), X12, X12

// Q3KSCALES sets y to the 16 scales of the Q3_K block at SI as int16
// (q3Scale: the 6-bit value minus 32), x to them as int8, by ggml's aux
// shuffle in general registers: the low nibbles of scale bytes 0-7 are
// bits 0-3 of scales 0-7 (AX), their high nibbles those of scales 8-15
// (BX); bits 2(j/4) of byte 8+j%4 are bits 4-5 of scale j (shifted into
// place in R8 for scales 0-3 from byte bits 0-1 and 4-7 from bits 2-3,
// then 8-11 from bits 4-5 and 12-15 from bits 6-7). m0f and m30 are
// 64-bit masks of bytes 0x0f and 0x30 (registers, or the bytes0f and
// bytes30 constants for a kernel with no register to spare). Clobbers
// AX, BX, DX, R8, R9.
#define Q3KSCALES(m0f, m30, x, y) \
	MOVQ      96(SI), AX; \
	MOVL      104(SI), DX; \
	MOVQ      AX, BX; \
	SHRQ      $4, BX; \
	ANDQ      m0f, AX; \
	ANDQ      m0f, BX; \
	MOVQ      DX, R8; \
	SHLQ      $4, R8; \
	MOVQ      DX, R9; \
	SHLQ      $34, R9; \
	ORQ       R9, R8; \
	ANDQ      m30, R8; \
	ORQ       R8, AX; \
	MOVQ      DX, R8; \
	SHLQ      $30, R8; \
	ORQ       DX, R8; \
	ANDQ      m30, R8; \
	ORQ       R8, BX; \
	VMOVQ     AX, x; \
	VPINSRQ   $1, BX, x, x; \
	VPSUBB    bytes20<>(SB), x, x; \
	VPMOVSXBW x, y
