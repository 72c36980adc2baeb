package uefirom

import (
	"bytes"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/linuxboot/fiano/pkg/guid"
	"github.com/linuxboot/fiano/pkg/uefi"

	"github.com/llmboot/llmboot/firmware/romtool/internal/keeplist"
	"github.com/llmboot/llmboot/firmware/romtool/internal/testpayload"
)

// Debian bookworm's OVMF (package ovmf, 2022.11), the image the keep list
// was made for.
const ovmfCode = "/usr/share/OVMF/OVMF_CODE_4M.fd"
const ovmfVars = "/usr/share/OVMF/OVMF_VARS_4M.fd"

var keepPath = filepath.Join("..", "..", "..", "ovmf", "ovmf-2022.11-dxe-keep.txt")

// Sizes of Debian's OVMF_CODE_4M.fd volumes (OvmfPkg's 4 MiB layout).
const (
	stockSize     = 0x37c000
	containerSize = 0x348000 // FVMAIN_COMPACT
	secSize       = 0x34000  // SECFV
	dxeSize       = 0xc00000 // DXEFV, decompressed into a fixed RAM region
)

var containerGUID = "48DB5E17-707C-472D-91CD-1613E7EF51B0"

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s is missing (Debian package ovmf): %v", path, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func keepList(t *testing.T) *keeplist.List {
	t.Helper()
	f, err := os.Open(keepPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l, err := keeplist.Parse(f, keepPath)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// random returns n incompressible bytes: a stand-in for a kernel, which is
// compressed already.
func random(n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{1}).Read(b)
	return b
}

var (
	smallPayload = testpayload.App("small payload\r\n", 1, 0)
	// 3 MiB does not fit the 3.28 MiB compressed volume with the kept
	// drivers (0.54 MiB): the image grows to 4 MiB. (The boot tests in
	// romtool grow images to 8 and 16 MiB; compressing kernel-sized random
	// data takes seconds, so the unit tests keep payloads small.)
	bigPayload = testpayload.App("big payload\r\n", 1, 3<<20)
)

type result struct {
	out []byte
	rep *Report
	err error
}

var (
	buildMu sync.Mutex
	builds  = map[string]result{}
)

// build runs Build once per name (each takes seconds: it decompresses and
// recompresses the DXE volume) and shares the result between tests.
func build(t *testing.T, name string, input []byte, opts Options) result {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	r, ok := builds[name]
	if !ok {
		r.out, r.rep, r.err = Build(input, opts)
		builds[name] = r
	}
	return r
}

func mustBuild(t *testing.T, name string, input []byte, opts Options) result {
	t.Helper()
	r := build(t, name, input, opts)
	if r.err != nil {
		t.Fatalf("build %s: %v", name, r.err)
	}
	return r
}

func guids(files []File) []guid.GUID {
	var out []guid.GUID
	for _, f := range files {
		out = append(out, f.GUID)
	}
	return out
}

func TestKeepsExactlyTheListedFiles(t *testing.T) {
	input := readFile(t, ovmfCode)
	keep := keepList(t)
	in, err := Parse(input)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		payload []byte
		grown   bool
	}{
		{"small", smallPayload, false},
		{"big", bigPayload, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustBuild(t, tc.name, input, Options{Keep: keep, Payload: tc.payload})
			var want []guid.GUID
			for _, f := range in.DXEFiles() {
				if keep.Match(f.GUID.String(), f.Name) == nil {
					continue
				}
				// Growing drops the flash variable driver (see DropReason).
				if tc.grown && f.GUID == FlashFVBGUID {
					continue
				}
				want = append(want, f.GUID)
			}
			out, err := Parse(r.out)
			if err != nil {
				t.Fatalf("parsing the output: %v", err)
			}
			if got := guids(out.DXEFiles()); !slices.Equal(got, want) {
				t.Errorf("DXE files of the output:\n got %v\nwant %v", got, want)
			}
			if got := guids(r.rep.Kept); !slices.Equal(got, want) {
				t.Errorf("report's kept files:\n got %v\nwant %v", got, want)
			}
			if got, want := len(r.rep.Kept)+len(r.rep.Removed)+len(r.rep.Dropped), len(in.DXEFiles()); got != want {
				t.Errorf("kept+removed+dropped = %d files, the input has %d", got, want)
			}
			// Every line of the list names a file of this OVMF build.
			if len(r.rep.Unmatched) != 0 {
				t.Errorf("keep-list patterns matching nothing: %v", r.rep.Unmatched)
			}
			if got := guids(r.rep.Dropped); tc.grown != slices.Contains(got, FlashFVBGUID) {
				t.Errorf("dropped %v; grown %v", got, tc.grown)
			}
		})
	}
}

// pe32 returns the PE32 section's data of the file guid in the DXE volume.
func pe32(t *testing.T, img *Image, g guid.GUID) []byte {
	t.Helper()
	for _, f := range img.DXE.Files {
		if f.Header.GUID != g {
			continue
		}
		for _, s := range f.Sections {
			if s.Header.Type == uefi.SectionTypePE32 {
				hdr := 4
				if s.Header.Size == [3]uint8{0xff, 0xff, 0xff} {
					hdr = 8
				}
				return s.Buf()[hdr:]
			}
		}
		t.Fatalf("file %v has no PE32 section", g)
	}
	t.Fatalf("no file %v in the DXE volume", g)
	return nil
}

func TestShellFileHoldsPayload(t *testing.T) {
	input := readFile(t, ovmfCode)
	keep := keepList(t)
	for _, tc := range []struct {
		name    string
		payload []byte
	}{
		{"small", smallPayload},
		{"big", bigPayload},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustBuild(t, tc.name, input, Options{Keep: keep, Payload: tc.payload})
			out, err := Parse(r.out)
			if err != nil {
				t.Fatal(err)
			}
			if got := pe32(t, out, ShellGUID); !bytes.Equal(got, tc.payload) {
				t.Errorf("Shell's PE32 section holds %d bytes, not the %d-byte payload", len(got), len(tc.payload))
			}
			if r.rep.PayloadName != "Shell" {
				t.Errorf("payload went into %q, want Shell", r.rep.PayloadName)
			}
		})
	}
}

func TestSizes(t *testing.T) {
	input := readFile(t, ovmfCode)
	keep := keepList(t)
	in, err := Parse(input)
	if err != nil {
		t.Fatal(err)
	}
	if in.Size() != stockSize || in.Container.Length != containerSize || in.DXE.Length != dxeSize || in.SEC == nil || in.SEC.Length != secSize {
		t.Fatalf("%s is not the 4 MiB OVMF layout this test expects", ovmfCode)
	}
	var inPEI []byte
	for fv, b := range in.pristine {
		if fv.Length == 0xe0000 {
			inPEI = b
		}
	}
	if inPEI == nil {
		t.Fatal("no PEI volume found in the input")
	}

	for _, tc := range []struct {
		name    string
		payload []byte
		size    uint64
		want    uint64
	}{
		{"small", smallPayload, 0, stockSize}, // fits: size unchanged
		{"small-4M", smallPayload, 4 << 20, 4 << 20},
		{"small-pflash-vars", smallPayload, 8<<20 - 0x84000, 8<<20 - 0x84000}, // with VARS: QEMU's 8 MiB
		{"big", bigPayload, 0, 4 << 20},                                       // the next power of two
		{"big-8M", bigPayload, 8 << 20, 8 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustBuild(t, tc.name, input, Options{Keep: keep, Payload: tc.payload, Size: tc.size})
			if got := uint64(len(r.out)); got != tc.want || r.rep.OutputSize != tc.want {
				t.Fatalf("output %d bytes (report %d), want %d", got, r.rep.OutputSize, tc.want)
			}
			if r.rep.Grown != (tc.want != stockSize) {
				t.Errorf("Grown = %v", r.rep.Grown)
			}
			out, err := Parse(r.out)
			if err != nil {
				t.Fatal(err)
			}
			if out.NotGrowable != "" {
				t.Errorf("output not in OVMF's layout: %s", out.NotGrowable)
			}
			if got, want := out.Container.Length, tc.want-secSize; got != want || out.ContainerOffset != 0 {
				t.Errorf("compressed volume %#x at %#x, want %#x at 0", got, out.ContainerOffset, want)
			}
			if out.DXE.Length != dxeSize {
				t.Errorf("DXE volume %#x, want %#x", out.DXE.Length, dxeSize)
			}
			if !bytes.Equal(r.out[len(r.out)-secSize:], input[len(input)-secSize:]) {
				t.Error("the SEC volume changed")
			}
			var pei []byte
			for fv, b := range out.pristine {
				if fv.Length == 0xe0000 {
					pei = b
				}
			}
			if !bytes.Equal(pei, inPEI) {
				t.Error("the PEI volume changed")
			}
			if used := out.Container.Length - out.Container.FreeSpace; used != r.rep.ContainerUsedWithPayload {
				t.Errorf("output's compressed volume uses %d bytes, report says %d", used, r.rep.ContainerUsedWithPayload)
			}
		})
	}

	// Removal frees room in the compressed volume (about 0.7 MiB) and the
	// DXE volume (about 2.6 MiB).
	r := mustBuild(t, "small", input, Options{Keep: keep, Payload: smallPayload})
	if freed := int64(r.rep.ContainerSize-r.rep.ContainerUsedAfterRemoval) - int64(r.rep.ContainerFree); freed < 512<<10 {
		t.Errorf("removal freed %d bytes of the compressed volume, want > 512 KiB", freed)
	}
	if freed := r.rep.DXEFreeAfterRemoval - r.rep.DXEFree; freed < 2<<20 {
		t.Errorf("removal freed %d bytes of the DXE volume, want > 2 MiB", freed)
	}
}

func TestRefusals(t *testing.T) {
	input := readFile(t, ovmfCode)
	keep := keepList(t)
	unified := append(readFile(t, ovmfVars), input...) // OVMF.fd's layout: VARS then CODE

	var noEmu keeplist.List
	for _, p := range keep.Patterns {
		if p.Text != "^EmuVariableFvbRuntimeDxe$" {
			noEmu.Patterns = append(noEmu.Patterns, p)
		}
	}
	missing := *guid.MustParse("01234567-89AB-CDEF-0123-456789ABCDEF")

	for _, tc := range []struct {
		name  string
		input []byte
		opts  Options
		want  []string
	}{
		{"no-grow", input, Options{Keep: keep, Payload: bigPayload, NoGrow: true},
			[]string{"payload does not fit: volume " + containerGUID + " needs ", "holds 3440640 bytes (3.28 MiB)", "growing is off (--no-grow)"}},
		{"size-too-small", input, Options{Keep: keep, Payload: bigPayload, Size: 0x380000},
			[]string{"payload does not fit in 3.50 MiB: the image needs ", "SEC volume 212992 bytes"}},
		{"dxe-full", input, Options{Keep: keep, Payload: testpayload.App("x", 1, 13<<20)},
			[]string{"payload does not fit in the DXE volume 7CB8BDC9-F8EB-4F34-AAEA-3EE4AF6516A1: needs ", "holds 12582912 bytes (12.00 MiB)"}},
		{"variable-store-layout", unified, Options{Keep: keep, Payload: bigPayload},
			[]string{"payload does not fit: volume " + containerGUID, "cannot grow this image: it holds a variable store (volume at 0x0)"}},
		{"not-pe", input, Options{Keep: keep, Payload: random(4096)},
			[]string{"the payload is not a PE32 image"}},
		{"size-unaligned", input, Options{Keep: keep, Payload: smallPayload, Size: 5000},
			[]string{"size 5000 is not a multiple of 4 KiB up to 16 MiB"}},
		{"size-too-big", input, Options{Keep: keep, Payload: smallPayload, Size: 32 << 20},
			[]string{"not a multiple of 4 KiB up to 16 MiB"}},
		{"size-below-input", input, Options{Keep: keep, Payload: bigPayload, Size: 2 << 20},
			[]string{"size 2.00 MiB is smaller than the input image (3.48 MiB)"}},
		{"size-and-no-grow", input, Options{Keep: keep, Payload: smallPayload, Size: 8 << 20, NoGrow: true},
			[]string{"--size 8.00 MiB and --no-grow conflict"}},
		{"no-target-file", input, Options{Keep: keep, Payload: smallPayload, PayloadGUID: missing},
			[]string{"no file 01234567-89AB-CDEF-0123-456789ABCDEF to carry the payload"}},
		{"target-without-pe32", input, Options{Keep: keep, Payload: smallPayload, PayloadGUID: *guid.MustParse("FC510EE7-FFDC-11D4-BD41-0080C73C8881")},
			[]string{"file FC510EE7-FFDC-11D4-BD41-0080C73C8881 has no PE32 section to replace"}},
		{"grow-without-emu-variables", input, Options{Keep: &noEmu, Payload: bigPayload},
			[]string{"growing the image needs EmuVariableFvbRuntimeDxe"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := build(t, "refuse-"+tc.name, tc.input, tc.opts)
			if r.err == nil {
				t.Fatalf("built a %d-byte image, want an error", len(r.out))
			}
			msg := r.err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}

// An image romtool cannot grow still takes a payload that fits: OVMF.fd's
// layout (variable store, compressed DXE volume, SEC volume) stands in for a
// vendor image.
func TestFitsWithoutGrowing(t *testing.T) {
	code := readFile(t, ovmfCode)
	vars := readFile(t, ovmfVars)
	unified := append(bytes.Clone(vars), code...)
	r := mustBuild(t, "unified-small", unified, Options{Keep: keepList(t), Payload: smallPayload})
	if len(r.out) != len(unified) || r.rep.Grown {
		t.Fatalf("output %d bytes, want the input's %d", len(r.out), len(unified))
	}
	if !bytes.Equal(r.out[:len(vars)], vars) {
		t.Error("the variable store changed")
	}
	if !bytes.Equal(r.out[len(r.out)-secSize:], unified[len(unified)-secSize:]) {
		t.Error("the SEC volume changed")
	}
	out, err := Parse(r.out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pe32(t, out, ShellGUID), smallPayload) {
		t.Error("the Shell file does not hold the payload")
	}
	if len(r.rep.Dropped) != 0 {
		t.Errorf("dropped %v from an image that did not grow", r.rep.Dropped)
	}
}

func TestAutoSize(t *testing.T) {
	for _, tc := range []struct{ need, in, want uint64 }{
		{3 << 20, stockSize, 4 << 20},
		{4 << 20, stockSize, 4 << 20},
		{4<<20 + 1, stockSize, 8 << 20},
		{9109504, stockSize, 16 << 20}, // Debian's 8 MB kernel
		{1 << 20, 8 << 20, 8 << 20},    // never smaller than the input
	} {
		if got := autoSize(tc.need, tc.in); got != tc.want {
			t.Errorf("autoSize(%d, %d) = %d, want %d", tc.need, tc.in, got, tc.want)
		}
	}
}

func TestVolumesAndFiles(t *testing.T) {
	img, err := Parse(readFile(t, ovmfCode))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range img.Volumes() {
		got = append(got, strings.Repeat(" ", v.Depth)+v.GUID.String()+" "+v.Role)
		if v.Free > v.Size {
			t.Errorf("volume %v: free %d > size %d", v.GUID, v.Free, v.Size)
		}
	}
	want := []string{
		containerGUID + " holds DXE",
		" 6938079B-B503-4E3D-9D24-B28337A25806 ", // PEIFV
		" 7CB8BDC9-F8EB-4F34-AAEA-3EE4AF6516A1 DXE",
		"763BED0D-DE9F-48F5-81F1-3E90E1B1A015 SEC",
	}
	if !slices.Equal(got, want) {
		t.Errorf("volumes:\n got %q\nwant %q", got, want)
	}
	names := map[string]bool{}
	for _, f := range img.DXEFiles() {
		names[f.Name] = true
		if f.Size == 0 {
			t.Errorf("file %v has size 0", f.GUID)
		}
	}
	for _, n := range []string{"DxeCore", "BdsDxe", "Shell", "VariableRuntimeDxe"} {
		if !names[n] {
			t.Errorf("no DXE file %q", n)
		}
	}
}

// A LinuxBoot ROM is an input too: a new kernel goes into the grown image
// without growing it again.
func TestRebuildFromROM(t *testing.T) {
	input := readFile(t, ovmfCode)
	keep := keepList(t)
	first := mustBuild(t, "big-8M", input, Options{Keep: keep, Payload: bigPayload, Size: 8 << 20})
	r := mustBuild(t, "rebuild-small", first.out, Options{Keep: keep, Payload: smallPayload})
	if len(r.out) != 8<<20 || r.rep.Grown {
		t.Errorf("rebuilt ROM %d bytes, grown %v; want 8 MiB as it was", len(r.out), r.rep.Grown)
	}
	if len(r.rep.Removed) != 0 {
		t.Errorf("removed %v from a ROM that has only kept files", r.rep.Removed)
	}
	out, err := Parse(r.out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pe32(t, out, ShellGUID), smallPayload) {
		t.Error("the Shell file does not hold the new payload")
	}
}
