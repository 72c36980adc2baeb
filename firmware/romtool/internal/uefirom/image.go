// Package uefirom turns a UEFI firmware image into a LinuxBoot image: it keeps
// the DXE files a keep list names, puts a Linux kernel (an EFI-stub PE32) in
// the UEFI Shell's place, and lays the result out again, growing the image
// where its layout is one it understands (OVMF's CODE image).
//
// It is built on github.com/linuxboot/fiano's pkg/uefi (parsing, assembly)
// and pkg/visitors.
package uefirom

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/linuxboot/fiano/pkg/guid"
	"github.com/linuxboot/fiano/pkg/uefi"
	"github.com/linuxboot/fiano/pkg/visitors"
)

// ShellGUID names the UEFI Shell application in OVMF (and in most EDK II
// images). OVMF's BdsDxe registers it as a boot option, so a kernel put in
// its place is what the firmware boots.
var ShellGUID = *guid.MustParse("7C04A583-9E3E-4F1C-AD65-E05268D0B4D1")

// Image is a parsed firmware image.
type Image struct {
	raw  []byte
	root uefi.Firmware

	// DXE is the firmware volume holding the DXE core and drivers.
	DXE *uefi.FirmwareVolume
	// Container is the top-level volume whose subtree holds DXE (DXE itself
	// when DXE is not nested, OVMF's FVMAIN_COMPACT when it is compressed).
	Container *uefi.FirmwareVolume
	// ContainerOffset is Container's offset in the image.
	ContainerOffset uint64
	// SEC is OVMF's SEC volume when the layout is growable, else nil.
	SEC *uefi.FirmwareVolume
	// NotGrowable says why the image cannot grow; "" when it can.
	NotGrowable string

	topLevel []topFV
	// pristine holds the bytes of every volume nested in Container other
	// than DXE: reassembly must leave them unchanged (OVMF's PEI volume is
	// executed in place at an address fixed at build time).
	pristine map[*uefi.FirmwareVolume][]byte
	// containerHeader and containerLen restore Container before each
	// assembly (an earlier one may have grown it).
	containerHeader []byte
	containerLen    uint64
	containerBlocks []uefi.Block
	dxeLen          uint64
}

type topFV struct {
	fv     *uefi.FirmwareVolume
	offset uint64
}

// Parse parses a firmware image: an Intel flash image (with a flash
// descriptor) or a bare BIOS region such as OVMF's.
func Parse(raw []byte) (*Image, error) {
	root, err := uefi.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parsing firmware image: %w", err)
	}
	img := &Image{raw: raw, root: root}

	switch r := root.(type) {
	case *uefi.BIOSRegion:
		img.topLevel = topVolumes(r, 0)
	case *uefi.FlashImage:
		for _, t := range r.Regions {
			if br, ok := t.Value.(*uefi.BIOSRegion); ok && br.FRegion != nil {
				img.topLevel = append(img.topLevel, topVolumes(br, uint64(br.FRegion.BaseOffset()))...)
			}
		}
		img.NotGrowable = "the image has an Intel flash descriptor, whose regions romtool does not move"
	default:
		return nil, fmt.Errorf("parsing firmware image: unexpected root %T", root)
	}
	if len(img.topLevel) == 0 {
		return nil, errors.New("no firmware volumes in the image")
	}

	img.DXE, err = visitors.FindDXEFV(root)
	if err != nil {
		return nil, fmt.Errorf("finding the DXE volume: %w", err)
	}
	for _, t := range img.topLevel {
		if t.fv == img.DXE || contains(t.fv, img.DXE) {
			img.Container, img.ContainerOffset = t.fv, t.offset
			break
		}
	}
	if img.Container == nil {
		return nil, errors.New("the DXE volume is in no top-level firmware volume")
	}
	if img.Container.Blocks == nil || len(img.Container.Blocks) != 1 || img.Container.Blocks[0].Size == 0 {
		return nil, fmt.Errorf("volume %v has a block map romtool does not handle (%v)", img.Container, img.Container.Blocks)
	}

	img.pristine = map[*uefi.FirmwareVolume][]byte{}
	for _, fv := range nestedVolumes(img.Container) {
		if fv != img.DXE {
			img.pristine[fv] = bytes.Clone(fv.Buf())
		}
	}
	img.containerHeader = bytes.Clone(img.Container.Buf()[:img.Container.DataOffset])
	img.containerLen = img.Container.Length
	img.containerBlocks = append([]uefi.Block(nil), img.Container.Blocks...)
	img.dxeLen = img.DXE.Length

	if img.NotGrowable == "" {
		img.NotGrowable = img.checkGrowable()
	}
	return img, nil
}

// checkGrowable accepts OVMF's CODE layout: the volume holding the
// compressed DXE volume at offset 0, the SEC volume right after it ending
// the image. OVMF's SEC finds the former by scanning down from itself, so a
// larger one placed below it is still found. Anything else (a variable store
// in front, which the firmware expects at a fixed address; padding; more
// volumes) is refused.
func (img *Image) checkGrowable() string {
	if img.Container == img.DXE {
		return "the DXE volume is not compressed inside another volume"
	}
	for _, t := range img.topLevel {
		if strings.HasPrefix(t.fv.FVType, "NVRAM") {
			return fmt.Sprintf("it holds a variable store (volume at %#x), which the firmware expects at a fixed address", t.offset)
		}
	}
	if len(img.topLevel) != 2 {
		return fmt.Sprintf("the image has %d top-level volumes, not OVMF's two (compressed DXE volume, SEC volume)", len(img.topLevel))
	}
	c, s := img.topLevel[0], img.topLevel[1]
	if c.fv != img.Container || c.offset != 0 {
		return "the compressed DXE volume is not the first thing in the image"
	}
	if s.offset != c.offset+c.fv.Length || s.offset+s.fv.Length != uint64(len(img.raw)) {
		return "the SEC volume does not follow the DXE volume to the end of the image"
	}
	found, err := visitors.FindExactlyOne(s.fv, visitors.FindFileTypePredicate(uefi.FVFileTypeSECCore))
	if err != nil || found == nil {
		return "the last volume holds no SEC core"
	}
	img.SEC = s.fv
	return ""
}

func topVolumes(br *uefi.BIOSRegion, base uint64) []topFV {
	var out []topFV
	for _, e := range br.Elements {
		if fv, ok := e.Value.(*uefi.FirmwareVolume); ok {
			out = append(out, topFV{fv: fv, offset: base + fv.FVOffset})
		}
	}
	return out
}

// nestedVolumes lists the volumes inside fv (not fv itself), depth first.
func nestedVolumes(fv *uefi.FirmwareVolume) []*uefi.FirmwareVolume {
	var out []*uefi.FirmwareVolume
	var walkSection func(s *uefi.Section)
	walkSection = func(s *uefi.Section) {
		for _, e := range s.Encapsulated {
			switch v := e.Value.(type) {
			case *uefi.FirmwareVolume:
				out = append(out, v)
				out = append(out, nestedVolumes(v)...)
			case *uefi.Section:
				walkSection(v)
			}
		}
	}
	for _, f := range fv.Files {
		for _, s := range f.Sections {
			walkSection(s)
		}
	}
	return out
}

func contains(outer, inner *uefi.FirmwareVolume) bool {
	for _, fv := range nestedVolumes(outer) {
		if fv == inner {
			return true
		}
	}
	return false
}

// FileName returns a file's UI name, or "".
func FileName(f *uefi.File) string {
	for _, s := range f.Sections {
		if s.Header.Type == uefi.SectionTypeUserInterface {
			return s.Name
		}
	}
	return ""
}

// Size is the image's size in bytes.
func (img *Image) Size() uint64 { return uint64(len(img.raw)) }

// Volume describes one firmware volume for Info.
type Volume struct {
	GUID   guid.GUID // the volume's name (FvNameGuid) or, without one, its file system GUID
	Depth  int       // 0 for top level
	Offset uint64    // offset in the image; top-level volumes only
	Size   uint64
	Free   uint64
	Files  int
	Role   string // "DXE", "SEC", "holds DXE", or ""
}

// File describes one file of the DXE volume for Info.
type File struct {
	GUID guid.GUID
	Name string
	Type string
	Size uint64
}

// Volumes lists the image's firmware volumes, nested ones after their parent.
func (img *Image) Volumes() []Volume {
	var out []Volume
	var add func(fv *uefi.FirmwareVolume, depth int, off uint64)
	add = func(fv *uefi.FirmwareVolume, depth int, off uint64) {
		v := Volume{GUID: fvName(fv), Depth: depth, Offset: off, Size: fv.Length, Free: fv.FreeSpace, Files: len(fv.Files)}
		switch {
		case fv == img.DXE:
			v.Role = "DXE"
		case fv == img.Container:
			v.Role = "holds DXE"
		case img.SEC != nil && fv == img.SEC:
			v.Role = "SEC"
		}
		out = append(out, v)
		for _, n := range directlyNested(fv) {
			add(n, depth+1, 0)
		}
	}
	for _, t := range img.topLevel {
		add(t.fv, 0, t.offset)
	}
	return out
}

// directlyNested lists the volumes in fv's files' sections, not deeper.
func directlyNested(fv *uefi.FirmwareVolume) []*uefi.FirmwareVolume {
	var out []*uefi.FirmwareVolume
	var walk func(s *uefi.Section)
	walk = func(s *uefi.Section) {
		for _, e := range s.Encapsulated {
			switch v := e.Value.(type) {
			case *uefi.FirmwareVolume:
				out = append(out, v)
			case *uefi.Section:
				walk(v)
			}
		}
	}
	for _, f := range fv.Files {
		for _, s := range f.Sections {
			walk(s)
		}
	}
	return out
}

func fvName(fv *uefi.FirmwareVolume) guid.GUID {
	if fv.ExtHeaderOffset != 0 {
		return fv.FVName
	}
	return fv.FileSystemGUID
}

// DXEFiles lists the files of the DXE volume, pad files left out.
func (img *Image) DXEFiles() []File {
	var out []File
	for _, f := range img.DXE.Files {
		if f.Header.Type == uefi.FVFileTypePad {
			continue
		}
		out = append(out, File{GUID: f.Header.GUID, Name: FileName(f), Type: f.Header.Type.String(), Size: f.Header.ExtendedSize})
	}
	return out
}
