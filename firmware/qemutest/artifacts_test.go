package qemutest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
	"github.com/ulikunitz/xz"
)

// The artifacts come from ./build.sh; each can be pointed elsewhere by an
// environment variable. Paths are relative to the repository root.
var (
	// initramfs with Debian's kernel modules, for -initrd (build.sh runs
	// firmware/initramfs.sh --kernel-modules KVER --xz out/initramfs-debian.cpio).
	debianInitramfs = artifact{"LLMBOOT_INITRAMFS", "out/initramfs-debian.cpio.xz"}
	// initramfs without modules, embedded in the LinuxBoot kernel.
	plainInitramfs = artifact{"LLMBOOT_INITRAMFS_PLAIN", "out/initramfs.cpio"}
	// LinuxBoot kernel with the initramfs inside (firmware/kernel.sh).
	linuxbootKernel = artifact{"LLMBOOT_KERNEL", "out/bzImage"}
	// UEFI ROM: OVMF with its DXEs trimmed and the kernel as the shell (firmware/rom.sh).
	uefiROM = artifact{"LLMBOOT_ROM", "out/llmboot.rom"}
)

type artifact struct{ env, def string }

// path returns the artifact's path, or "" and a skip reason when it is
// missing.
func (a artifact) path() (string, string) {
	p := os.Getenv(a.env)
	if p == "" {
		p = filepath.Join(repoRoot(), a.def)
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Sprintf("%s is missing (build it with ./build.sh test, or set %s): %v", p, a.env, err)
	}
	return p, ""
}

// repoRoot is the folder holding go.mod (tests run in firmware/qemutest).
func repoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// demoModelPath is the model every boot runs, written raw on the NVMe disk.
func demoModelPath() string {
	return filepath.Join(repoRoot(), "testdata/models/gguf/stories260K.gguf")
}

// readInitramfs reads a newc cpio archive, xz-compressed when its name ends
// in .xz.
func readInitramfs(path string) (*cpio.Archive, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(path, ".xz") {
		r, err := xz.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		var out bytes.Buffer
		if _, err := out.ReadFrom(r); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		data = out.Bytes()
	}
	a, err := cpio.ArchiveFromReader(cpio.Newc.Reader(bytes.NewReader(data)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// moduleVersions lists the kernel versions an initramfs has modules for.
func moduleVersions(a *cpio.Archive) []string {
	var vers []string
	for name := range a.Files {
		if v, ok := strings.CutPrefix(name, "lib/modules/"); ok {
			if v, rest, ok := strings.Cut(v, "/"); ok && rest == "modules.dep" {
				vers = append(vers, v)
			}
		}
	}
	sort.Strings(vers)
	return vers
}

// debianKernel finds the Debian kernel matching the modules in the
// initramfs: $LLMBOOT_DEBIAN_KERNEL, else /boot/vmlinuz-KVER.
func debianKernel(initramfs string) (string, string) {
	if p := os.Getenv("LLMBOOT_DEBIAN_KERNEL"); p != "" {
		return p, ""
	}
	a, err := readInitramfs(initramfs)
	if err != nil {
		return "", fmt.Sprintf("reading %s: %v", initramfs, err)
	}
	vers := moduleVersions(a)
	if len(vers) != 1 {
		return "", fmt.Sprintf("%s holds modules for %v, want one kernel version (firmware/initramfs.sh --kernel-modules KVER)", initramfs, vers)
	}
	p := "/boot/vmlinuz-" + vers[0]
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Sprintf("%s is missing (apt-get install linux-image-amd64, or set LLMBOOT_DEBIAN_KERNEL): %v", p, err)
	}
	return p, ""
}

var (
	hostBinOnce sync.Once
	hostBin     string
	hostBinErr  error
)

// hostLLMBoot builds llmboot for the host once per test binary.
func hostLLMBoot(t *testing.T) string {
	t.Helper()
	hostBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "qemutest-llmboot")
		if err != nil {
			hostBinErr = err
			return
		}
		hostBin = filepath.Join(dir, "llmboot")
		cmd := exec.Command("go", "build", "-o", hostBin, "./uroot-cmds/llmboot")
		cmd.Dir = repoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			hostBinErr = fmt.Errorf("go build llmboot: %v\n%s", err, out)
		}
	})
	if hostBinErr != nil {
		t.Fatal(hostBinErr)
	}
	return hostBin
}

// hostStory is what llmboot prints on stdout on the host for the demo model
// and args: the text the guest must print.
func hostStory(t *testing.T, args []string) string {
	t.Helper()
	argv := append([]string{"run", demoModelPath()}, args...)
	out, err := exec.Command(hostLLMBoot(t), argv...).Output()
	if err != nil {
		t.Fatalf("llmboot %s on the host: %v", strings.Join(argv, " "), err)
	}
	return string(out)
}

// TestInitramfsContents checks what firmware/initramfs.sh put in each
// archive, without booting it.
func TestInitramfsContents(t *testing.T) {
	model, err := os.ReadFile(demoModelPath())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		art     artifact
		modules bool
	}{{plainInitramfs, false}, {debianInitramfs, true}} {
		t.Run(filepath.Base(c.art.def), func(t *testing.T) {
			path, skip := c.art.path()
			if skip != "" {
				t.Skip(skip)
			}
			a, err := readInitramfs(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"bbin/bb", "bbin/init", "bbin/gosh", "bbin/uinit", "bbin/llmboot", "bbin/poweroff",
				"bbin/dhclient", "bbin/ip", "init", "bin/defaultsh", "models/stories260K.gguf", "etc/llmboot/defaults", "dev/console"} {
				if _, ok := a.Get(name); !ok {
					t.Errorf("%s: no %s", path, name)
				}
			}
			// u-root's init would run /bin/uinit again after the shell
			// exits; uinit must be reachable only as /bbin/uinit.
			if _, ok := a.Get("bin/uinit"); ok {
				t.Errorf("%s: has bin/uinit", path)
			}
			if r, ok := a.Get("models/stories260K.gguf"); ok {
				got := make([]byte, r.FileSize)
				if _, err := r.ReadAt(got, 0); err != nil || !bytes.Equal(got, model) {
					t.Errorf("models/stories260K.gguf differs from %s (%v)", demoModelPath(), err)
				}
			}
			vers := moduleVersions(a)
			if !c.modules {
				if len(vers) != 0 {
					t.Errorf("modules for %v in an initramfs meant for the LinuxBoot kernel", vers)
				}
				return
			}
			if len(vers) != 1 {
				t.Fatalf("modules for %v, want one kernel version", vers)
			}
			dep, _ := a.Get("lib/modules/" + vers[0] + "/modules.dep")
			depText := make([]byte, dep.FileSize)
			dep.ReadAt(depText, 0)
			load, ok := a.Get("lib/modules-load.d/llmboot.conf")
			if !ok {
				t.Fatal("no lib/modules-load.d/llmboot.conf")
			}
			loadText := make([]byte, load.FileSize)
			load.ReadAt(loadText, 0)
			for _, m := range []string{"nvme", "e1000", "virtio_net", "virtio_pci", "virtio_blk", "virtio_rng", "ext4", "vfat"} {
				if !strings.Contains("\n"+string(loadText), "\n"+m+"\n") {
					t.Errorf("modules-load.d does not load %s:\n%s", m, loadText)
				}
			}
			// Every module modules.dep names (with its dependencies) is in
			// the archive, uncompressed.
			for _, line := range strings.Split(strings.TrimSpace(string(depText)), "\n") {
				mod, deps, _ := strings.Cut(line, ":")
				for _, f := range append([]string{mod}, strings.Fields(deps)...) {
					if !strings.HasSuffix(f, ".ko") {
						t.Errorf("modules.dep names %s, want an uncompressed .ko", f)
					}
					if _, ok := a.Get("lib/modules/" + vers[0] + "/" + f); !ok {
						t.Errorf("modules.dep names %s, not in the archive", f)
					}
				}
			}
		})
	}
}
