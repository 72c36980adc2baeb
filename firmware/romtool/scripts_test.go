package main

// Tests of firmware/rom.sh and firmware/coreboot.sh, the scripts build.sh
// calls. coreboot itself cannot be built here, so the coreboot tests add the
// payload to CBFS images cbfstool creates (and to a real coreboot image from
// fiano's test data, which has too little room).

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/llmboot/llmboot/firmware/romtool/internal/testpayload"
)

// script runs a firmware/ script and returns its exit status, stdout and stderr.
func script(t *testing.T, name string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot, "firmware", name), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return code, stdout.String(), stderr.String()
}

func TestRomScript(t *testing.T) {
	needFile(t, ovmfCode, "Debian package ovmf")
	dir := t.TempDir()
	payload := filepath.Join(dir, "app.efi")
	if err := os.WriteFile(payload, testpayload.App("hi\r\n", 1, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	rom := filepath.Join(dir, "llmboot.rom")
	code, stdout, stderr := script(t, "rom.sh", "--payload", payload, "--out", rom, "--size", "4M")
	if code != 0 {
		t.Fatalf("rom.sh exited %d:\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "rom: done in") {
		t.Errorf("no final step line:\n%s", stdout)
	}
	if fi, err := os.Stat(rom); err != nil || fi.Size() != 4<<20 {
		t.Errorf("ROM: %v, want 4 MiB", err)
	}

	code, _, stderr = script(t, "rom.sh", "--payload", filepath.Join(dir, "none"), "--out", rom)
	if code == 0 || !strings.Contains(stderr, "rom: error: payload "+filepath.Join(dir, "none")+" is missing") {
		t.Errorf("missing payload: exit %d, stderr %q", code, stderr)
	}
}

func needCbfstool(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("cbfstool"); err != nil {
		t.Skipf("cbfstool is missing (Debian package coreboot-utils): %v", err)
	}
}

// bzImage returns a kernel to use as coreboot payload: out/bzImage or
// Debian's.
func bzImage(t *testing.T) string {
	t.Helper()
	candidates, _ := filepath.Glob("/boot/vmlinuz-*")
	candidates = append([]string{filepath.Join(repoRoot, "out", "bzImage")}, candidates...)
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			abs, err := filepath.Abs(c) // the script names it so
			if err != nil {
				t.Fatal(err)
			}
			return abs
		}
	}
	t.Skip("no bzImage: neither out/bzImage nor /boot/vmlinuz-* (Debian package linux-image-amd64)")
	return ""
}

// cbfsEntries parses `cbfstool print -k`: entry name -> data size.
func cbfsEntries(t *testing.T, rom string) map[string][]int64 {
	t.Helper()
	out, err := exec.Command("cbfstool", rom, "print", "-k").Output()
	if err != nil {
		t.Fatalf("cbfstool print: %v", err)
	}
	entries := map[string][]int64{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n")[1:] {
		f := strings.Split(line, "\t")
		if len(f) < 5 {
			t.Fatalf("cbfstool print -k line %q", line)
		}
		n, err := strconv.ParseInt(f[4], 0, 64)
		if err != nil {
			t.Fatalf("cbfstool print -k line %q: %v", line, err)
		}
		entries[f[0]] = append(entries[f[0]], n)
	}
	return entries
}

func blankCBFS(t *testing.T, size string) string {
	t.Helper()
	rom := filepath.Join(t.TempDir(), "coreboot.rom")
	if out, err := exec.Command("cbfstool", rom, "create", "-m", "x86", "-s", size).CombinedOutput(); err != nil {
		t.Fatalf("cbfstool create: %v\n%s", err, out)
	}
	return rom
}

func TestCorebootScript(t *testing.T) {
	needCbfstool(t)
	kernel := bzImage(t)
	fi, err := os.Stat(kernel)
	if err != nil {
		t.Fatal(err)
	}
	size := fi.Size()
	const cmdline = "console=ttyS0,115200 llmboot.model=nvme0n1"

	t.Run("adds-and-replaces", func(t *testing.T) {
		rom := blankCBFS(t, "16M")
		code, stdout, stderr := script(t, "coreboot.sh", "--rom", rom, "--payload", kernel, "--cmdline", cmdline)
		if code != 0 {
			t.Fatalf("coreboot.sh exited %d:\n%s%s", code, stdout, stderr)
		}
		got := cbfsEntries(t, rom)["fallback/payload"]
		// The payload is the kernel's segments plus headers and the command line.
		if len(got) != 1 || got[0] < size*9/10 || got[0] > size+64<<10 {
			t.Fatalf("fallback/payload sizes %v for a %d-byte bzImage", got, size)
		}
		if !strings.Contains(stdout, "fallback/payload") || !strings.Contains(stdout, strconv.FormatInt(got[0], 10)) {
			t.Errorf("the printed listing lacks the payload and its size:\n%s", stdout)
		}
		raw := filepath.Join(t.TempDir(), "payload.bin")
		if out, err := exec.Command("cbfstool", rom, "extract", "-n", "fallback/payload", "-f", raw, "-U", "-m", "x86").CombinedOutput(); err != nil {
			t.Fatalf("cbfstool extract: %v\n%s", err, out)
		}
		if b, err := os.ReadFile(raw); err != nil || !bytes.Contains(b, []byte(cmdline)) {
			t.Errorf("the payload does not carry the command line (%v)", err)
		}

		// Again: the payload is replaced, not added twice.
		code, stdout, stderr = script(t, "coreboot.sh", "--rom", rom, "--payload", kernel)
		if code != 0 || !strings.Contains(stdout, "replacing the existing fallback/payload") {
			t.Fatalf("second run exited %d:\n%s%s", code, stdout, stderr)
		}
		if got := cbfsEntries(t, rom)["fallback/payload"]; len(got) != 1 {
			t.Errorf("fallback/payload entries %v, want one", got)
		}
	})

	refuse := func(t *testing.T, rom string, want ...string) {
		t.Helper()
		before, err := os.ReadFile(rom)
		if err != nil {
			t.Fatal(err)
		}
		code, _, stderr := script(t, "coreboot.sh", "--rom", rom, "--payload", kernel)
		if code == 0 {
			t.Fatal("coreboot.sh succeeded, want a refusal")
		}
		if lines := strings.Count(strings.TrimSpace(stderr), "\n") + 1; lines != 1 {
			t.Errorf("stderr has %d lines, want one: %q", lines, stderr)
		}
		for _, w := range want {
			if !strings.Contains(stderr, w) {
				t.Errorf("stderr %q lacks %q", stderr, w)
			}
		}
		if after, err := os.ReadFile(rom); err != nil || !bytes.Equal(before, after) {
			t.Errorf("the ROM changed although coreboot.sh failed (%v)", err)
		}
	}
	t.Run("no-room", func(t *testing.T) {
		rom := blankCBFS(t, "4M")
		refuse(t, rom, "coreboot: error: no room for "+kernel+" ("+strconv.FormatInt(size, 10)+" bytes)",
			"at most 4194212 bytes free in one piece (ROM 4194304 bytes)")
	})
	// A real coreboot build (fiano's test image: 256 KiB, with a payload).
	t.Run("real-coreboot-image-too-small", func(t *testing.T) {
		dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/linuxboot/fiano").Output()
		src := filepath.Join(strings.TrimSpace(string(dir)), "pkg", "cbfs", "testdata", "coreboot.rom")
		if err != nil {
			t.Skipf("fiano's module is not available: %v", err)
		}
		rom := copyFile(t, src)
		refuse(t, rom, "no room for", "(ROM 262144 bytes)")
	})
	t.Run("not-a-bzImage", func(t *testing.T) {
		rom := blankCBFS(t, "1M")
		app := filepath.Join(t.TempDir(), "app.efi")
		if err := os.WriteFile(app, testpayload.App("hi", 1, 0), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := script(t, "coreboot.sh", "--rom", rom, "--payload", app)
		if code == 0 || !strings.Contains(stderr, "is not a bzImage") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
}
