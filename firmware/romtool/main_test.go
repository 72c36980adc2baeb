package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/llmboot/llmboot/firmware/romtool/internal/testpayload"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
	}{
		{"8M", 8 << 20},
		{"8MiB", 8 << 20},
		{"16m", 16 << 20},
		{"7664K", 7664 << 10},
		{"8388608", 8 << 20},
		{"0x800000", 8 << 20},
		{"0x77C000", 0x77c000},
	} {
		got, err := parseSize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "0", "8G", "M", "-1", "eight"} {
		if n, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", bad, n)
		}
	}
}

func TestRunErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "no command"},
		{[]string{"flash"}, `unknown command "flash"`},
		{[]string{"build", "--keep", "k", "--payload", "p", "--out", "o"}, "--ovmf is required"},
		{[]string{"build", "--ovmf", "x", "--keep", "k", "--payload", "p", "--out", "o", "--size", "8G"}, "--size: bad size"},
		{[]string{"build", "--ovmf", "x", "--keep", "k", "--payload", "p", "--out", "o", "extra"}, "unexpected arguments"},
		{[]string{"info"}, "want one ROM file"},
		{[]string{"info", "/nonexistent.rom"}, "no such file"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(tc.args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}

// build and info end to end, on Debian's OVMF with a payload that fits.
func TestBuildAndInfo(t *testing.T) {
	needFile(t, ovmfCode, "Debian package ovmf")
	dir := t.TempDir()
	payload := filepath.Join(dir, "app.efi")
	if err := os.WriteFile(payload, testpayload.App("hi\r\n", 1, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	rom := filepath.Join(dir, "out.rom")
	var stdout, stderr bytes.Buffer
	if err := run([]string{"build", "--ovmf", ovmfCode, "--keep", keepList, "--payload", payload, "--out", rom, "--size", "4M"}, &stdout, &stderr); err != nil {
		t.Fatalf("build: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{
		"DXE files: kept 41, removed 69",
		"dropped FvbServicesRuntimeDxe (733CBAC2-B23F-4B92-BC8E-FB01CE5907B7) although kept",
		"in file 7C04A583-9E3E-4F1C-AD65-E05268D0B4D1 (Shell)",
		"grew the image 3653632 bytes (3.48 MiB) -> 4194304 bytes (4.00 MiB)",
		"wrote " + rom + ": 4194304 bytes (4.00 MiB)",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("build output lacks %q:\n%s", want, stdout.String())
		}
	}
	if fi, err := os.Stat(rom); err != nil || fi.Size() != 4<<20 {
		t.Fatalf("ROM: %v", err)
	}
	if _, err := os.Stat(rom + ".tmp"); err == nil {
		t.Error("temporary file left behind")
	}

	stdout.Reset()
	if err := run([]string{"info", rom}, &stdout, &stderr); err != nil {
		t.Fatalf("info: %v", err)
	}
	info := stdout.String()
	for _, re := range []string{
		`layout: OVMF CODE`,
		`FV\s+48DB5E17-707C-472D-91CD-1613E7EF51B0\s+0x0\s+0x3cc000\s+0x[0-9a-f]+\s+1\s+holds DXE`,
		`  FV\s+7CB8BDC9-F8EB-4F34-AAEA-3EE4AF6516A1\s+-\s+0xc00000\s+0x[0-9a-f]+\s+41\s+DXE`,
		`FV\s+763BED0D-DE9F-48F5-81F1-3E90E1B1A015\s+0x3cc000\s+0x34000\s+0x0\s+3\s+SEC`,
		`DXE files \(41\)`,
		`7C04A583-9E3E-4F1C-AD65-E05268D0B4D1\s+Shell\s+\d+\s+APPLICATION`,
	} {
		if !regexpMatch(re, info) {
			t.Errorf("info lacks /%s/:\n%s", re, info)
		}
	}
}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }
