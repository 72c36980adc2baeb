package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fakeTree writes files (path -> content; content "->target" makes a
// symlink) under a new root folder.
func fakeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for path, content := range files {
		full := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(content, "->"); ok {
			err = os.Symlink(target, full)
		} else {
			err = os.WriteFile(full, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// qemuTree is what a QEMU guest with 256 MiB, an NVMe disk and an e1000 NIC
// shows in /proc and /sys (values taken from a real boot).
var qemuTree = map[string]string{
	"proc/meminfo": "MemTotal:         219812 kB\nMemFree:          181116 kB\nMemAvailable:     170420 kB\nBuffers:               0 kB\n",
	"proc/iomem": "00000000-00000fff : Reserved\n00001000-0009fbff : System RAM\n0009fc00-0009ffff : Reserved\n000f0000-000fffff : Reserved\n" +
		"  000f0000-000fffff : System ROM\n00100000-0ffdffff : System RAM\n  02000000-02e01e16 : Kernel code\n  03200000-0371efff : Kernel rodata\n" +
		"0ffe0000-0fffffff : Reserved\nfebd0000-febd3fff : 0000:00:04.0\n",
	"proc/filesystems":                  "nodev\tsysfs\nnodev\tproc\nnodev\ttmpfs\n\tvfat\nnodev\tdevpts\n\text3\n\text2\n\text4\n",
	"sys/devices/system/cpu/online":     "0-1\n",
	"sys/class/nvme/nvme0/model":        "QEMU NVMe Ctrl                          \n",
	"sys/class/nvme/nvme0/serial":       "llmboot             \n",
	"sys/class/nvme/nvme0/state":        "live\n",
	"sys/class/nvme/nvme0/nvme0n1/size": "16384\n",
	"sys/block/nvme0n1/size":            "16384\n",
	"sys/block/nvme0n1/device":          "->../../class/nvme/nvme0",
	"sys/block/vda/size":                "2097152\n",
	"sys/block/vda/device/model":        "",
	"sys/block/loop0/size":              "0\n",
	"sys/class/net/lo/address":          "00:00:00:00:00:00\n",
	"sys/class/net/lo/operstate":        "unknown\n",
	"sys/class/net/eth0/address":        "52:54:00:12:34:56\n",
	"sys/class/net/eth0/operstate":      "down\n",
	"sys/class/net/eth0/device/driver":  "->../../../bus/pci/drivers/e1000",
	"sys/class/net/eth1/address":        "52:54:00:12:34:57\n",
	"sys/class/net/eth1/operstate":      "up\n",
	"sys/class/net/eth1/carrier":        "1\n",
	"sys/class/net/eth1/device/driver":  "->../../../bus/virtio/drivers/virtio_net",
}

func TestReadMem(t *testing.T) {
	m, err := readMem(fakeTree(t, qemuTree))
	if err != nil {
		t.Fatal(err)
	}
	want := memInfo{
		installed: (0x9fbff - 0x1000 + 1) + (0xffdffff - 0x100000 + 1),
		total:     219812 << 10,
		available: 170420 << 10,
	}
	if m != want {
		t.Errorf("readMem = %+v, want %+v", m, want)
	}
	if s := m.String(); s != "255 MiB installed, 215 MiB total to Linux, 166 MiB available" {
		t.Errorf("String() = %q", s)
	}

	for name, files := range map[string]map[string]string{
		"no MemTotal":   {"proc/meminfo": "MemFree: 1 kB\n", "proc/iomem": qemuTree["proc/iomem"]},
		"bad unit":      {"proc/meminfo": "MemTotal: 1 MB\n", "proc/iomem": qemuTree["proc/iomem"]},
		"hidden iomem":  {"proc/meminfo": qemuTree["proc/meminfo"], "proc/iomem": "00000000-00000000 : System RAM\n"},
		"bad range":     {"proc/meminfo": qemuTree["proc/meminfo"], "proc/iomem": "zz-10 : System RAM\n"},
		"missing files": {},
	} {
		if _, err := readMem(fakeTree(t, files)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestReadSystemRAMHidden(t *testing.T) {
	// Without root, /proc/iomem shows zeros: say so rather than report 0 MiB.
	root := fakeTree(t, map[string]string{"proc/iomem": "00000000-00000000 : Reserved\n00000000-00000000 : System RAM\n"})
	_, err := readSystemRAM(filepath.Join(root, "proc/iomem"))
	if err == nil || !strings.Contains(err.Error(), "no System RAM") {
		t.Errorf("err = %v", err)
	}
}

func TestCountCPUList(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"0", 1, true}, {"0-1", 2, true}, {"0-3,6,8-9", 7, true}, {"0-63", 64, true},
		{"", 0, false}, {"a", 0, false}, {"3-1", 0, false}, {"0-", 0, false},
	} {
		got, err := countCPUList(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("countCPUList(%q) = %d, %v", c.in, got, err)
		}
	}
}

func TestReadCPU(t *testing.T) {
	c, err := readCPU(fakeTree(t, qemuTree))
	if err != nil {
		t.Fatal(err)
	}
	if c.online != 2 {
		t.Errorf("online = %d, want 2", c.online)
	}
	// The host's own CPU: every x86-64 has SSE3 at least, and the line
	// carries the brand string.
	if len(c.simd) == 0 || c.simd[0] != "SSE3" {
		t.Errorf("SIMD %v, want it to start with SSE3", c.simd)
	}
	if s := c.String(); !strings.Contains(s, "2 CPUs online; SIMD: SSE3") || !strings.Contains(s, c.vendor) || strings.Contains(s, "  ") || strings.ContainsRune(s, 0) {
		t.Errorf("String() = %q", s)
	}
	if _, err := readCPU(t.TempDir()); err == nil {
		t.Error("no error without sys/devices/system/cpu/online")
	}
}

func TestReadBlockDevices(t *testing.T) {
	devs, err := readBlockDevices(fakeTree(t, qemuTree))
	if err != nil {
		t.Fatal(err)
	}
	want := []blockDevice{
		{name: "nvme0n1", size: 16384 * 512, model: "QEMU NVMe Ctrl", serial: "llmboot"},
		{name: "vda", size: 2097152 * 512},
	}
	if !reflect.DeepEqual(devs, want) {
		t.Errorf("readBlockDevices = %+v\nwant %+v", devs, want)
	}
	if s := devs[0].String(); s != "nvme0n1 8.0 MiB (QEMU NVMe Ctrl, serial llmboot)" {
		t.Errorf("String() = %q", s)
	}
	if s := devs[1].String(); s != "vda 1.0 GiB" {
		t.Errorf("String() = %q", s)
	}
	if _, err := readBlockDevices(fakeTree(t, map[string]string{"sys/block/sda/size": "x\n"})); err == nil {
		t.Error("a bad size was accepted")
	}
}

func TestReadNICs(t *testing.T) {
	nics, err := readNICs(fakeTree(t, qemuTree))
	if err != nil {
		t.Fatal(err)
	}
	want := []nic{
		{name: "eth0", mac: "52:54:00:12:34:56", driver: "e1000", state: "down"},
		{name: "eth1", mac: "52:54:00:12:34:57", driver: "virtio_net", state: "up", carrier: true},
	}
	if !reflect.DeepEqual(nics, want) {
		t.Errorf("readNICs = %+v\nwant %+v", nics, want)
	}
	if s := nics[0].String(); s != "eth0 52:54:00:12:34:56 (e1000), link down" {
		t.Errorf("String() = %q", s)
	}
	if s := nics[1].String(); s != "eth1 52:54:00:12:34:57 (virtio_net), link up, carrier" {
		t.Errorf("String() = %q", s)
	}
}

func TestSizeString(t *testing.T) {
	for b, want := range map[uint64]string{
		0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1181600: "1.1 MiB", 8 << 20: "8.0 MiB", 1 << 40: "1.0 TiB",
	} {
		if got := sizeString(b); got != want {
			t.Errorf("sizeString(%d) = %q, want %q", b, got, want)
		}
	}
}

func TestPendingNVMe(t *testing.T) {
	if p := pendingNVMe(fakeTree(t, qemuTree)); len(p) != 0 {
		t.Errorf("live controller with a namespace reported pending: %v", p)
	}
	resetting := fakeTree(t, map[string]string{"sys/class/nvme/nvme0/state": "resetting\n"})
	if p := pendingNVMe(resetting); len(p) != 1 || !strings.Contains(p[0], `nvme0 (state "resetting", 0 namespaces)`) {
		t.Errorf("pending = %v", p)
	}
	if p := pendingNVMe(t.TempDir()); p != nil {
		t.Errorf("no NVMe class: pending = %v", p)
	}
}

func TestBlockFilesystems(t *testing.T) {
	root := fakeTree(t, qemuTree)
	got, err := blockFilesystems(filepath.Join(root, "proc/filesystems"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"vfat", "ext4", "ext3", "ext2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("blockFilesystems = %v, want %v", got, want)
	}
}
