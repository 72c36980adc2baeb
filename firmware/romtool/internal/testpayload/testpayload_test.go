package testpayload

import (
	"bytes"
	"debug/pe"
	"testing"
)

func TestAppIsAnEFIApplication(t *testing.T) {
	for _, padding := range []int{0, 4096} {
		b := App("hello from the payload\r\n", 0x21, padding)
		f, err := pe.NewFile(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("padding %d: %v", padding, err)
		}
		oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
		if !ok {
			t.Fatalf("padding %d: optional header %T, want PE32+", padding, f.OptionalHeader)
		}
		if oh.Subsystem != pe.IMAGE_SUBSYSTEM_EFI_APPLICATION {
			t.Errorf("subsystem %d, want EFI application", oh.Subsystem)
		}
		text := f.Section(".text")
		if text == nil {
			t.Fatal("no .text section")
		}
		data, err := text.Data()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, []byte("hello from the payload")) {
			t.Error(".text lacks the message")
		}
		if oh.AddressOfEntryPoint != text.VirtualAddress {
			t.Errorf("entry %#x, want the start of .text %#x", oh.AddressOfEntryPoint, text.VirtualAddress)
		}
		if got, want := len(b), 0x400+padding; got != want {
			t.Errorf("size %d, want %d", got, want)
		}
	}
}

// The lea's displacement points at the message.
func TestProgramAddressesMessage(t *testing.T) {
	c := program("XYZ", 1)
	disp := int(c[3]) | int(c[4])<<8 | int(c[5])<<16 | int(c[6])<<24
	if got := string(c[7+disp : 7+disp+3]); got != "XYZ" {
		t.Errorf("lea points at %q, want XYZ", got)
	}
}
