// Command romtool makes LinuxBoot UEFI images: it strips an OVMF (or other
// EDK II) image down to the DXE drivers a keep list names, puts a Linux
// kernel (an EFI-stub bzImage) in the UEFI Shell's place, where the boot
// manager starts it, and grows the image when the kernel needs the room.
//
// Usage:
//
//	romtool build --ovmf OVMF_CODE_4M.fd --keep KEEPLIST --payload bzImage --out llmboot.rom [--size 8M] [--no-grow]
//	romtool info ROM
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/linuxboot/fiano/pkg/guid"
	fianolog "github.com/linuxboot/fiano/pkg/log"

	"github.com/llmboot/llmboot/firmware/romtool/internal/keeplist"
	"github.com/llmboot/llmboot/firmware/romtool/internal/uefirom"
)

const usage = `usage:
  romtool build --ovmf IMAGE --keep KEEPLIST --payload PE32 --out ROM [--size SIZE] [--no-grow] [--payload-guid GUID]
  romtool info ROM

build keeps the DXE files KEEPLIST names (one regexp per line on GUID or UI
name), puts PAYLOAD (an EFI-stub kernel) into the UEFI Shell file and writes
ROM. When the payload does not fit, an OVMF CODE image grows (to SIZE, or to
the next power of two); --no-grow refuses instead.
info lists the firmware volumes, their free space and the DXE files.
`

func main() {
	fianolog.DefaultLogger = stderrLogger{}
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "romtool:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command")
	}
	switch args[0] {
	case "build":
		return runBuild(args[1:], stdout, stderr)
	case "info":
		return runInfo(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func runBuild(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("romtool build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		in, keepPath, payloadPath, outPath, sizeText, payloadGUID string
		noGrow                                                    bool
	)
	fs.StringVar(&in, "ovmf", "", "input UEFI image (Debian: /usr/share/OVMF/OVMF_CODE_4M.fd)")
	fs.StringVar(&in, "in", "", "same as --ovmf, for a vendor image")
	fs.StringVar(&keepPath, "keep", "", "keep list: the DXE files to keep")
	fs.StringVar(&payloadPath, "payload", "", "PE32 payload, e.g. an EFI-stub bzImage")
	fs.StringVar(&outPath, "out", "", "output ROM")
	fs.StringVar(&sizeText, "size", "", "output size (e.g. 8M); default: the input's, or the next power of two that holds the payload")
	fs.BoolVar(&noGrow, "no-grow", false, "refuse instead of growing the image")
	fs.StringVar(&payloadGUID, "payload-guid", uefirom.ShellGUID.String(), "GUID of the file whose PE32 section the payload replaces")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("build: unexpected arguments %q", fs.Args())
	}
	for name, v := range map[string]string{"--ovmf": in, "--keep": keepPath, "--payload": payloadPath, "--out": outPath} {
		if v == "" {
			return fmt.Errorf("build: %s is required", name)
		}
	}
	opts := uefirom.Options{NoGrow: noGrow}
	if sizeText != "" {
		n, err := parseSize(sizeText)
		if err != nil {
			return fmt.Errorf("build: --size: %w", err)
		}
		opts.Size = n
	}
	g, err := guid.Parse(payloadGUID)
	if err != nil {
		return fmt.Errorf("build: --payload-guid: %w", err)
	}
	opts.PayloadGUID = *g

	input, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	kf, err := os.Open(keepPath)
	if err != nil {
		return err
	}
	opts.Keep, err = keeplist.Parse(kf, keepPath)
	kf.Close()
	if err != nil {
		return err
	}
	if opts.Payload, err = os.ReadFile(payloadPath); err != nil {
		return err
	}

	out, rep, err := uefirom.Build(input, opts)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(outPath, out); err != nil {
		return err
	}
	printReport(stdout, in, payloadPath, outPath, rep)
	return nil
}

func printReport(w io.Writer, in, payloadPath, outPath string, r *uefirom.Report) {
	fmt.Fprintf(w, "input %s: %s\n", in, bytesMiB(r.InputSize))
	fmt.Fprintf(w, "DXE files: kept %d, removed %d\n", len(r.Kept), len(r.Removed))
	if len(r.Unmatched) > 0 {
		fmt.Fprintf(w, "keep-list patterns that matched no file: %s\n", strings.Join(r.Unmatched, " "))
	}
	fmt.Fprintf(w, "DXE volume (%s, fixed): free %s as shipped, %s after removal, %s with the payload\n",
		bytesMiB(r.DXESize), bytesMiB(r.DXEFree), bytesMiB(r.DXEFreeAfterRemoval), bytesMiB(r.DXEFreeWithPayload))
	fmt.Fprintf(w, "compressed volume (%s): free %s as shipped, %s after removal; with the payload it needs %s\n",
		bytesMiB(r.ContainerSize), bytesMiB(r.ContainerFree), signedMiB(int64(r.ContainerSize)-int64(r.ContainerUsedAfterRemoval)),
		bytesMiB(r.ContainerUsedWithPayload))
	fmt.Fprintf(w, "payload %s: %s in file %v (%s)\n", payloadPath, bytesMiB(r.PayloadSize), r.PayloadFile, r.PayloadName)
	for _, f := range r.Dropped {
		fmt.Fprintf(w, "dropped %s (%v) although kept: %s\n", f.Name, f.GUID, uefirom.DropReason)
	}
	if r.Grown {
		fmt.Fprintf(w, "grew the image %s -> %s (compressed volume %s -> %s)\n",
			bytesMiB(r.InputSize), bytesMiB(r.OutputSize), bytesMiB(r.ContainerSize), bytesMiB(r.OutputContainerSize))
	}
	fmt.Fprintf(w, "wrote %s: %s, %s free in the compressed volume\n", outPath, bytesMiB(r.OutputSize),
		bytesMiB(r.OutputContainerSize-r.ContainerUsedWithPayload))
	if !uefirom.BIOSCompatible(r.OutputSize) {
		fmt.Fprintln(w, "note: QEMU's -bios wants a multiple of 64 KiB: use this image as pflash, or build with --size 4M")
	}
}

func runInfo(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("romtool info", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("info: want one ROM file")
	}
	raw, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	img, err := uefirom.Parse(raw)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s\n", fs.Arg(0), bytesMiB(img.Size()))
	if img.NotGrowable == "" {
		fmt.Fprintln(stdout, "layout: OVMF CODE (compressed DXE volume below the SEC volume); romtool can grow it")
	} else {
		fmt.Fprintf(stdout, "layout: not growable: %s\n", img.NotGrowable)
	}
	fmt.Fprintf(stdout, "\n%-10s %-38s %10s %10s %10s %6s  %s\n", "VOLUME", "GUID", "OFFSET", "SIZE", "FREE", "FILES", "ROLE")
	for _, v := range img.Volumes() {
		off := "-"
		if v.Depth == 0 {
			off = fmt.Sprintf("%#x", v.Offset)
		}
		fmt.Fprintf(stdout, "%-10s %-38v %10s %#10x %#10x %6d  %s\n",
			strings.Repeat("  ", v.Depth)+"FV", v.GUID, off, v.Size, v.Free, v.Files, v.Role)
	}
	files := img.DXEFiles()
	fmt.Fprintf(stdout, "\nDXE files (%d):\n%-38s %-34s %10s  %s\n", len(files), "GUID", "NAME", "SIZE", "TYPE")
	for _, f := range files {
		fmt.Fprintf(stdout, "%-38v %-34s %10d  %s\n", f.GUID, f.Name, f.Size, strings.TrimPrefix(f.Type, "EFI_FV_FILETYPE_"))
	}
	return nil
}

// parseSize reads a byte count: 8388608, 0x800000, 8M, 8MiB, 512K.
func parseSize(s string) (uint64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "IB"), "B")
	mult := uint64(1)
	switch {
	case strings.HasSuffix(t, "K"):
		mult, t = 1<<10, strings.TrimSuffix(t, "K")
	case strings.HasSuffix(t, "M"):
		mult, t = 1<<20, strings.TrimSuffix(t, "M")
	}
	n, err := strconv.ParseUint(strings.ToLower(t), 0, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("bad size %q (want e.g. 8M, 512K or a byte count)", s)
	}
	return n * mult, nil
}

func bytesMiB(n uint64) string { return fmt.Sprintf("%d bytes (%.2f MiB)", n, float64(n)/(1<<20)) }

func signedMiB(n int64) string { return fmt.Sprintf("%d bytes (%.2f MiB)", n, float64(n)/(1<<20)) }

// writeFileAtomic writes through a temporary file so a failed build leaves no
// half-written ROM to flash.
func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// stderrLogger prints fiano's messages (such as "unsupported fv type ...
// NVRAM", which only means a variable store is not parsed) as romtool's,
// without the timestamps of fiano's default logger.
type stderrLogger struct{}

func (stderrLogger) Warnf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "romtool: fiano: "+format+"\n", args...)
}

func (stderrLogger) Errorf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "romtool: fiano: error: "+format+"\n", args...)
}

func (stderrLogger) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "romtool: fiano: fatal: "+format+"\n", args...)
	os.Exit(1)
}
