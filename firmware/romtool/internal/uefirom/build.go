package uefirom

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/linuxboot/fiano/pkg/guid"
	"github.com/linuxboot/fiano/pkg/uefi"
	"github.com/linuxboot/fiano/pkg/visitors"

	"github.com/llmboot/llmboot/firmware/romtool/internal/keeplist"
)

// MaxSize is the largest image romtool writes: x86 maps the boot flash in
// the 16 MiB below 4 GiB (QEMU's -bios accepts up to that; as pflash QEMU
// takes 8 MiB in all).
const MaxSize = 16 << 20

// sizeAlign is the unit of automatic sizes: QEMU's -bios wants a multiple
// of 64 KiB. A --size need only be a multiple of 4 KiB (OVMF's block size):
// a CODE image of 8 MiB less the 528 KiB VARS image fits QEMU's 8 MiB pflash
// limit together with it.
const sizeAlign = 64 << 10

// BIOSCompatible says whether QEMU's -bios takes an image of n bytes.
func BIOSCompatible(n uint64) bool { return n%sizeAlign == 0 }

// OVMF's two providers of the firmware-volume-block protocol under its
// variable store: QemuFlashFvbServicesRuntimeDxe writes variables to the
// flash at the address fixed at build time (0xFFC00000 for the 4 MiB
// layout), EmuVariableFvbRuntimeDxe keeps them in RAM when no writable flash
// is found there.
var (
	FlashFVBGUID = *guid.MustParse("733CBAC2-B23F-4B92-BC8E-FB01CE5907B7")
	EmuFVBGUID   = *guid.MustParse("22DC2B60-FE40-42AC-B01F-3AB1FAD9AAD8")
)

// DropReason says why a grown image loses FlashFVBGUID: growing moves the
// code below the fixed variable-store address, so on a writable pflash drive
// that driver would format a variable store in the middle of the compressed
// volume (seen: QEMU then hangs, and the ROM file is corrupt for good).
const DropReason = "a grown image puts firmware code where OVMF's flash variable driver would write its variable store; variables stay in RAM (EmuVariableFvbRuntimeDxe)"

// Options says what Build does.
type Options struct {
	Keep        *keeplist.List
	Payload     []byte    // an EFI-stub kernel or other PE32(+) image
	PayloadGUID guid.GUID // the file whose PE32 section the payload replaces; zero means ShellGUID
	// Size is the output's size; 0 keeps the input's size when the payload
	// fits and otherwise grows to the smallest power of two that holds it.
	Size   uint64
	NoGrow bool
}

// Report says what Build did, with sizes in bytes.
type Report struct {
	InputSize, OutputSize uint64
	Kept, Removed         []File
	Unmatched             []string // keep-list patterns that matched no file

	DXESize                      uint64 // the DXE volume, which keeps its size
	DXEFree, DXEFreeAfterRemoval uint64
	DXEFreeWithPayload           uint64
	ContainerSize, ContainerFree uint64 // as in the input
	ContainerUsedAfterRemoval    uint64 // bytes used with the unkept files gone (Shell still in)
	ContainerUsedWithPayload     uint64
	OutputContainerSize          uint64
	Grown                        bool
	Dropped                      []File // kept-list files removed for growing (see DropReason)
	PayloadSize                  uint64
	PayloadFile                  guid.GUID
	PayloadName                  string // the replaced file's UI name
}

// Build applies opts to the image in input and returns the new image.
func Build(input []byte, opts Options) ([]byte, *Report, error) {
	if opts.Keep == nil {
		return nil, nil, fmt.Errorf("no keep list")
	}
	if err := checkPE(opts.Payload); err != nil {
		return nil, nil, err
	}
	payloadGUID := opts.PayloadGUID
	if payloadGUID == (guid.GUID{}) {
		payloadGUID = ShellGUID
	}
	if opts.Size != 0 {
		if opts.Size%4096 != 0 || opts.Size > MaxSize {
			return nil, nil, fmt.Errorf("size %d is not a multiple of 4 KiB up to 16 MiB", opts.Size)
		}
		if opts.Size < uint64(len(input)) {
			return nil, nil, fmt.Errorf("size %s is smaller than the input image (%s)", mib(opts.Size), mib(uint64(len(input))))
		}
		if opts.NoGrow && opts.Size != uint64(len(input)) {
			return nil, nil, fmt.Errorf("--size %s and --no-grow conflict: the input is %s", mib(opts.Size), mib(uint64(len(input))))
		}
	}

	img, err := Parse(input)
	if err != nil {
		return nil, nil, err
	}
	rep := &Report{
		InputSize:     img.Size(),
		DXESize:       img.DXE.Length,
		DXEFree:       img.DXE.FreeSpace,
		ContainerSize: img.Container.Length,
		ContainerFree: img.Container.FreeSpace,
		PayloadSize:   uint64(len(opts.Payload)),
		PayloadFile:   payloadGUID,
	}

	// Keep what the list names, and the file the payload goes into. Pad
	// files go too: assembly makes the ones alignment needs.
	var target *uefi.File
	var kept []*uefi.File
	matched := map[*keeplist.Pattern]bool{}
	for _, f := range img.DXE.Files {
		if f.Header.Type == uefi.FVFileTypePad {
			continue
		}
		info := File{GUID: f.Header.GUID, Name: FileName(f), Type: f.Header.Type.String(), Size: f.Header.ExtendedSize}
		p := opts.Keep.Match(f.Header.GUID.String(), info.Name)
		if p != nil {
			matched[p] = true
		}
		if f.Header.GUID == payloadGUID {
			if target != nil {
				return nil, nil, fmt.Errorf("the DXE volume has two files %v", payloadGUID)
			}
			target = f
			rep.PayloadName = info.Name
		}
		if p == nil && f.Header.GUID != payloadGUID {
			rep.Removed = append(rep.Removed, info)
			continue
		}
		kept = append(kept, f)
		rep.Kept = append(rep.Kept, info)
	}
	if target == nil {
		return nil, nil, fmt.Errorf("the DXE volume has no file %v to carry the payload", payloadGUID)
	}
	if !hasSection(target, uefi.SectionTypePE32) {
		return nil, nil, fmt.Errorf("file %v has no PE32 section to replace", payloadGUID)
	}
	for i := range opts.Keep.Patterns {
		if p := &opts.Keep.Patterns[i]; !matched[p] {
			rep.Unmatched = append(rep.Unmatched, p.Text)
		}
	}
	img.DXE.Files = kept

	if rep.ContainerUsedAfterRemoval, err = img.assemble(); err != nil {
		return nil, nil, err
	}
	rep.DXEFreeAfterRemoval = img.DXE.FreeSpace

	replace := &visitors.ReplacePE32{Predicate: visitors.FindFileGUIDPredicate(payloadGUID), NewPE32: opts.Payload}
	if err := replace.Run(img.DXE); err != nil {
		return nil, nil, fmt.Errorf("putting the payload into %v: %w", payloadGUID, err)
	}
	// Compressing a kernel takes seconds, so do it once in the common case:
	// where the image may grow, assemble it as grown (without the flash
	// variable driver, see DropReason), and put the driver back only when
	// the payload turns out to fit as it is.
	mayGrow := img.NotGrowable == "" && !opts.NoGrow
	sizeForced := opts.Size != 0 && opts.Size != img.Size()
	flashFVB := img.fileIndex(FlashFVBGUID)
	var removedFVB *uefi.File
	if mayGrow && flashFVB >= 0 {
		if img.fileIndex(EmuFVBGUID) < 0 {
			return nil, nil, fmt.Errorf("growing the image needs EmuVariableFvbRuntimeDxe (%v) kept: %s", EmuFVBGUID, DropReason)
		}
		removedFVB = img.DXE.Files[flashFVB]
		img.DXE.Files = slices.Delete(slices.Clone(img.DXE.Files), flashFVB, flashFVB+1)
	}
	if rep.ContainerUsedWithPayload, err = img.assemble(); err != nil {
		return nil, nil, err
	}
	if removedFVB != nil && !sizeForced && rep.ContainerUsedWithPayload <= img.containerLen {
		// It fits without growing: keep the image as the list says.
		img.DXE.Files = slices.Insert(slices.Clone(img.DXE.Files), flashFVB, removedFVB)
		if rep.ContainerUsedWithPayload, err = img.assemble(); err != nil {
			return nil, nil, err
		}
		if rep.ContainerUsedWithPayload > img.containerLen {
			// The driver itself tipped it over: grow after all.
			img.DXE.Files = slices.Delete(slices.Clone(img.DXE.Files), flashFVB, flashFVB+1)
			if rep.ContainerUsedWithPayload, err = img.assemble(); err != nil {
				return nil, nil, err
			}
		} else {
			removedFVB = nil
		}
	}
	if removedFVB != nil {
		i := slices.IndexFunc(rep.Kept, func(f File) bool { return f.GUID == FlashFVBGUID })
		rep.Dropped = append(rep.Dropped, rep.Kept[i])
		rep.Kept = slices.Delete(rep.Kept, i, i+1)
	}
	rep.DXEFreeWithPayload = img.DXE.FreeSpace

	out, err := img.layout(rep.ContainerUsedWithPayload, opts)
	if err != nil {
		return nil, nil, err
	}
	rep.OutputSize = uint64(len(out))
	rep.OutputContainerSize = img.Container.Length
	rep.Grown = rep.OutputSize != rep.InputSize
	return out, rep, nil
}

// fileIndex returns the index of a file in the DXE volume, or -1.
func (img *Image) fileIndex(g guid.GUID) int {
	return slices.IndexFunc(img.DXE.Files, func(f *uefi.File) bool { return f.Header.GUID == g })
}

// checkPE accepts a PE32 or PE32+ image, which is what an EFI-stub kernel is.
func checkPE(b []byte) error {
	if len(b) == 0 {
		return fmt.Errorf("the payload is empty")
	}
	f, err := pe.NewFile(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("the payload is not a PE32 image (a kernel needs CONFIG_EFI_STUB): %w", err)
	}
	defer f.Close()
	return nil
}

func hasSection(f *uefi.File, t uefi.SectionType) bool {
	for _, s := range f.Sections {
		if s.Header.Type == t {
			return true
		}
	}
	return false
}

// assemble rebuilds Container from its files and returns the bytes its
// contents use. Container is allowed to grow here (layout decides whether it
// may); the DXE volume and the volumes beside it may not change size, and
// the latter not a byte.
func (img *Image) assemble() (uint64, error) {
	c := img.Container
	c.Length = img.containerLen
	c.Blocks = append([]uefi.Block(nil), img.containerBlocks...)
	c.SetBuf(bytes.Clone(img.containerHeader))
	c.Resizable = true
	// The DXE volume first, on its own: when it overflows, that is the
	// answer, without compressing it into Container.
	img.DXE.Resizable = true
	if err := (&visitors.Assemble{}).Run(img.DXE); err != nil {
		return 0, fmt.Errorf("assembling the DXE volume %v: %w", fvName(img.DXE), err)
	}
	if img.DXE.Length != img.dxeLen {
		need := img.DXE.Length - img.DXE.FreeSpace
		return 0, fmt.Errorf("payload does not fit in the DXE volume %v: needs %s, holds %s (its size is fixed by the firmware build)",
			fvName(img.DXE), sz(need), sz(img.dxeLen))
	}
	if err := (&visitors.Assemble{}).Run(c); err != nil {
		return 0, fmt.Errorf("assembling volume %v: %w", fvName(c), err)
	}
	for fv, b := range img.pristine {
		if !bytes.Equal(fv.Buf(), b) {
			return 0, fmt.Errorf("assembling changed volume %v, which must stay byte-identical", fvName(fv))
		}
	}
	return c.Length - c.FreeSpace, nil
}

// layout places the assembled Container into the output image.
func (img *Image) layout(used uint64, opts Options) ([]byte, error) {
	in := img.Size()
	c := img.Container
	if (opts.Size == 0 || opts.Size == in) && used <= img.containerLen {
		if err := resizeFV(c, img.containerLen); err != nil {
			return nil, err
		}
		out := bytes.Clone(img.raw)
		copy(out[img.ContainerOffset:], c.Buf())
		return out, nil
	}

	secLen := uint64(0)
	if img.SEC != nil {
		secLen = img.SEC.Length
	}
	need := used + secLen
	noFit := fmt.Sprintf("payload does not fit: volume %v needs %s, holds %s", fvName(c), sz(used), sz(img.containerLen))
	switch {
	case opts.NoGrow:
		return nil, fmt.Errorf("%s, and growing is off (--no-grow)", noFit)
	case img.NotGrowable != "":
		return nil, fmt.Errorf("%s, and romtool cannot grow this image: %s", noFit, img.NotGrowable)
	}

	size := opts.Size
	if size == 0 {
		size = autoSize(need, in)
		if size > MaxSize {
			return nil, fmt.Errorf("payload does not fit: the image would need %s, more than the %s a firmware image can have",
				sz(alignUp(need, sizeAlign)), mib(MaxSize))
		}
	}
	if need > size {
		return nil, fmt.Errorf("payload does not fit in %s: the image needs %s (volume %v %s + SEC volume %s)",
			mib(size), sz(alignUp(need, sizeAlign)), fvName(c), sz(used), sz(secLen))
	}
	newLen := size - secLen
	if newLen%uint64(c.Blocks[0].Size) != 0 {
		return nil, fmt.Errorf("size %s leaves volume %v at %d bytes, not a multiple of its %d-byte blocks",
			mib(size), fvName(c), newLen, c.Blocks[0].Size)
	}
	if err := resizeFV(c, newLen); err != nil {
		return nil, err
	}
	out := make([]byte, 0, size)
	out = append(out, c.Buf()...)
	out = append(out, img.SEC.Buf()...)
	return out, nil
}

// resizeFV sets an assembled top-level volume's length, padding with (or
// trimming) erased bytes, and rewrites the header fields that depend on it.
func resizeFV(fv *uefi.FirmwareVolume, n uint64) error {
	buf := fv.Buf()
	used := fv.Length - fv.FreeSpace
	if used > n {
		return fmt.Errorf("volume %v: %d bytes used, more than %d", fvName(fv), used, n)
	}
	erased := fv.GetErasePolarity()
	if uint64(len(buf)) > n {
		buf = buf[:n]
	}
	for uint64(len(buf)) < n {
		buf = append(buf, erased)
	}
	fv.Length = n
	fv.Blocks[0].Count = uint32(n / uint64(fv.Blocks[0].Size))
	fv.FreeSpace = n - used
	binary.LittleEndian.PutUint64(buf[32:], n)
	binary.LittleEndian.PutUint32(buf[56:], fv.Blocks[0].Count)
	binary.LittleEndian.PutUint16(buf[50:], 0)
	sum, err := uefi.Checksum16(buf[:fv.HeaderLen])
	if err != nil {
		return err
	}
	binary.LittleEndian.PutUint16(buf[50:], -sum)
	fv.SetBuf(buf)
	return nil
}

// autoSize is the size of a grown image: the smallest power of two holding
// need bytes and no smaller than the input (flash chips come in powers of
// two, and QEMU's -bios wants a multiple of 64 KiB).
func autoSize(need, in uint64) uint64 {
	size := uint64(sizeAlign)
	for size < need || size < in {
		size *= 2
	}
	return size
}

func alignUp(n, a uint64) uint64 { return (n + a - 1) / a * a }

// sz prints a byte count exactly and in MiB.
func sz(n uint64) string { return fmt.Sprintf("%d bytes (%s)", n, mib(n)) }

func mib(n uint64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }
