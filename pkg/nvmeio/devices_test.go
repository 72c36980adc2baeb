package nvmeio

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// writeTree writes files (path relative to root -> contents); a path ending in "/" is a directory.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, name)
		if name[len(name)-1] == '/' {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDevices reads a sysfs tree shaped like a real one: nvme0 with its namespace's block device
// directly under the controller, nvme1 with native multipath (hidden path devices nvme1c1nY), nvme10 to
// check numeric order, and attributes padded with spaces as the kernel pads them.
func TestDevices(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"class/nvme/nvme0/model":                 "Samsung SSD 980 PRO 1TB                 \n",
		"class/nvme/nvme0/serial":                "S5GXNX0T123456      \n",
		"class/nvme/nvme0/firmware_rev":          "5B2QGXA7\n",
		"class/nvme/nvme0/nvme0n1/":              "",
		"class/nvme/nvme0/power/":                "",
		"class/nvme/nvme10/model":                "QEMU NVMe Ctrl\n",
		"class/nvme/nvme10/serial":               "deadbeef\n",
		"class/nvme/nvme10/firmware_rev":         "9.1.0\n",
		"class/nvme/nvme1/model":                 "QEMU NVMe Ctrl                          \n",
		"class/nvme/nvme1/serial":                "llmboot0\n",
		"class/nvme/nvme1/firmware_rev":          "8.2.1   \n",
		"class/nvme/nvme1/nvme1c1n2/":            "",
		"class/nvme/nvme1/nvme1c1n1/":            "",
		"class/nvme/nvme-fabrics/":               "",
		"block/nvme0n1/size":                     "1953525168\n",
		"block/nvme0n1/queue/logical_block_size": "512\n",
		"block/nvme1n1/size":                     "8388608\n",
		"block/nvme1n1/queue/logical_block_size": "4096\n",
		"block/nvme1n2/size":                     "2048\n",
		"block/nvme1n2/queue/logical_block_size": "512\n",
	})
	got, err := Devices(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []Controller{
		{Name: "nvme0", Model: "Samsung SSD 980 PRO 1TB", Serial: "S5GXNX0T123456", Firmware: "5B2QGXA7", Namespaces: []Namespace{
			{Name: "nvme0n1", Path: "/dev/nvme0n1", Size: 1953525168 * 512, LogicalBlockSize: 512},
		}},
		{Name: "nvme1", Model: "QEMU NVMe Ctrl", Serial: "llmboot0", Firmware: "8.2.1", Namespaces: []Namespace{
			{Name: "nvme1n1", Path: "/dev/nvme1n1", Size: 8388608 * 512, LogicalBlockSize: 4096},
			{Name: "nvme1n2", Path: "/dev/nvme1n2", Size: 2048 * 512, LogicalBlockSize: 512},
		}},
		{Name: "nvme10", Model: "QEMU NVMe Ctrl", Serial: "deadbeef", Firmware: "9.1.0"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Devices =\n%+v\nwant\n%+v", got, want)
	}
}

func TestDevicesNone(t *testing.T) {
	got, err := Devices(t.TempDir())
	if err != nil || got != nil {
		t.Errorf("Devices of a tree without class/nvme = %v, %v; want nil, nil", got, err)
	}
}

func TestDevicesBrokenNamespace(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"class/nvme/nvme0/nvme0n1/": "",
		"block/nvme0n1/size":        "lots\n",
	})
	if _, err := Devices(root); err == nil {
		t.Error("Devices with an unreadable namespace size succeeded")
	}
}

// TestDevicesHere lists this machine's NVMe devices; it checks only that real sysfs parses.
func TestDevicesHere(t *testing.T) {
	ctrls, err := Devices("/sys")
	if err != nil {
		t.Fatalf("Devices(/sys): %v", err)
	}
	for _, c := range ctrls {
		for _, ns := range c.Namespaces {
			if ns.Size <= 0 || ns.LogicalBlockSize < 512 {
				t.Errorf("%s %s: size %d, logical block size %d", c.Name, ns.Name, ns.Size, ns.LogicalBlockSize)
			}
		}
	}
	t.Logf("%d NVMe controllers here: %+v", len(ctrls), ctrls)
}
