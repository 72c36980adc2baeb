// Package testpayload builds a tiny EFI application for testing ROM images
// without a kernel: it writes a message to COM1 (port 0x3f8), then writes
// ExitValue to port 0xf4, where QEMU's isa-debug-exit device ends the VM
// with status ExitValue*2+1. Without that device the write is ignored and
// the application returns EFI_SUCCESS.
package testpayload

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"math/rand/v2"
)

const (
	fileAlign    = 0x200
	sectionAlign = 0x1000
	textRVA      = 0x1000
	imageBase    = 0x10000000
	// DebugExitPort is the isa-debug-exit device's I/O port the app writes.
	DebugExitPort = 0xf4
)

// App returns a PE32+ EFI application that prints msg on COM1 and writes
// exitValue to the debug-exit port. padding bytes of incompressible data are
// appended after the image (a PE loader ignores trailing data), so tests can
// make a payload of any size that a compressed volume cannot shrink.
func App(msg string, exitValue byte, padding int) []byte {
	code := program(msg, exitValue)

	fh := pe.FileHeader{
		Machine:              pe.IMAGE_FILE_MACHINE_AMD64,
		NumberOfSections:     1,
		SizeOfOptionalHeader: uint16(binary.Size(pe.OptionalHeader64{})),
		Characteristics:      pe.IMAGE_FILE_EXECUTABLE_IMAGE | pe.IMAGE_FILE_LARGE_ADDRESS_AWARE,
	}
	rawSize := align(uint32(len(code)), fileAlign)
	oh := pe.OptionalHeader64{
		Magic:               0x20b, // PE32+
		SizeOfCode:          rawSize,
		AddressOfEntryPoint: textRVA,
		BaseOfCode:          textRVA,
		ImageBase:           imageBase,
		SectionAlignment:    sectionAlign,
		FileAlignment:       fileAlign,
		SizeOfImage:         textRVA + align(uint32(len(code)), sectionAlign),
		SizeOfHeaders:       fileAlign,
		Subsystem:           pe.IMAGE_SUBSYSTEM_EFI_APPLICATION,
		NumberOfRvaAndSizes: 16,
	}
	sh := pe.SectionHeader32{
		Name:             [8]uint8{'.', 't', 'e', 'x', 't'},
		VirtualSize:      uint32(len(code)),
		VirtualAddress:   textRVA,
		SizeOfRawData:    rawSize,
		PointerToRawData: fileAlign,
		Characteristics:  pe.IMAGE_SCN_CNT_CODE | pe.IMAGE_SCN_MEM_EXECUTE | pe.IMAGE_SCN_MEM_READ,
	}

	var b bytes.Buffer
	dos := make([]byte, 0x40)
	copy(dos, "MZ")
	binary.LittleEndian.PutUint32(dos[0x3c:], 0x40) // e_lfanew
	b.Write(dos)
	b.WriteString("PE\x00\x00")
	for _, v := range []any{fh, oh, sh} {
		binary.Write(&b, binary.LittleEndian, v) // writes to a bytes.Buffer cannot fail
	}
	b.Write(make([]byte, fileAlign-b.Len()))
	b.Write(code)
	b.Write(make([]byte, int(rawSize)-len(code)))

	rng := rand.NewChaCha8([32]byte{'l', 'l', 'm', 'b', 'o', 'o', 't'})
	pad := make([]byte, padding)
	rng.Read(pad)
	b.Write(pad)
	return b.Bytes()
}

// program is the application's machine code (x86-64) followed by msg.
func program(msg string, exitValue byte) []byte {
	var c []byte
	emit := func(b ...byte) { c = append(c, b...) }
	le32 := func(v uint32) { c = binary.LittleEndian.AppendUint32(c, v) }

	emit(0x48, 0x8d, 0x35) // lea rsi, [rip+disp32] -> msg
	dispAt := len(c)
	le32(0)
	emit(0xb9) // mov ecx, len(msg)
	le32(uint32(len(msg)))
	emit(0xba) // mov edx, 0x3f8
	le32(0x3f8)
	emit(0xac)       // 1: lodsb
	emit(0xee)       //    out dx, al
	emit(0xe2, 0xfc) //    loop 1b
	emit(0xba)       // mov edx, DebugExitPort
	le32(DebugExitPort)
	emit(0xb0, exitValue) // mov al, exitValue
	emit(0xee)            // out dx, al
	emit(0x31, 0xc0)      // xor eax, eax (EFI_SUCCESS)
	emit(0xc3)            // ret

	binary.LittleEndian.PutUint32(c[dispAt:], uint32(len(c)-(dispAt+4)))
	return append(c, msg...)
}

func align(n, a uint32) uint32 { return (n + a - 1) / a * a }
