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
