// Constants and a macro the AVX2 kernel files share (#include
// "avx2_amd64.h"). The DATA symbols are file-local (<>), so each file that
// includes this gets its own copy of the same 96 bytes, from one source.

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

// HSUM8 leaves in X0 (low float) the sum of Y0's eight lanes as
// hsum_float_8 adds them: ((v0+v4)+(v2+v6)) + ((v1+v5)+(v3+v7)). Clobbers X1.
#define HSUM8 \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS       X1, X0, X0; \
	VMOVHLPS     X0, X0, X1; \
	VADDPS       X1, X0, X0; \
	VMOVSHDUP    X0, X1; \
	VADDSS       X1, X0, X0
