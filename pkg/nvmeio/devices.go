package nvmeio

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Namespace is an NVMe namespace as the block layer shows it.
type Namespace struct {
	Name             string // nvme0n1
	Path             string // /dev/nvme0n1
	Size             int64  // bytes
	LogicalBlockSize int    // bytes; O_DIRECT alignment
}

// Controller is an NVMe controller and the namespaces reached through it.
type Controller struct {
	Name, Model, Serial, Firmware string
	Namespaces                    []Namespace
}

var (
	controllerName = regexp.MustCompile(`^nvme(\d+)$`)
	// A namespace's block device under its controller: nvme0n1, or with native multipath the hidden path
	// device nvme<subsystem>c<controller>n<namespace>, whose usable block device is nvme<subsystem>n<ns>.
	namespaceName = regexp.MustCompile(`^nvme(\d+)(?:c\d+)?n(\d+)$`)
)

// Devices lists NVMe controllers (sysRoot/class/nvme/*: model, serial, firmware_rev) and their
// namespaces (sysRoot/block/nvmeXnY: size in 512-byte sectors, queue/logical_block_size). sysRoot is
// "/sys" normally. No NVMe at all is an empty list, not an error.
func Devices(sysRoot string) ([]Controller, error) {
	classDir := filepath.Join(sysRoot, "class", "nvme")
	entries, err := os.ReadDir(classDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("nvmeio: listing NVMe controllers: %w", err)
	}
	var ctrls []Controller
	for _, e := range entries {
		if !controllerName.MatchString(e.Name()) {
			continue
		}
		dir := filepath.Join(classDir, e.Name())
		c := Controller{
			Name:     e.Name(),
			Model:    readAttr(dir, "model"),
			Serial:   readAttr(dir, "serial"),
			Firmware: readAttr(dir, "firmware_rev"),
		}
		subs, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("nvmeio: listing namespaces of %s: %w", c.Name, err)
		}
		seen := map[string]bool{}
		for _, s := range subs {
			m := namespaceName.FindStringSubmatch(s.Name())
			if m == nil {
				continue
			}
			name := "nvme" + m[1] + "n" + m[2]
			if seen[name] {
				continue
			}
			seen[name] = true
			ns, err := namespace(sysRoot, name)
			if err != nil {
				return nil, err
			}
			c.Namespaces = append(c.Namespaces, ns)
		}
		sort.Slice(c.Namespaces, func(i, j int) bool { return deviceLess(c.Namespaces[i].Name, c.Namespaces[j].Name) })
		ctrls = append(ctrls, c)
	}
	sort.Slice(ctrls, func(i, j int) bool { return deviceLess(ctrls[i].Name, ctrls[j].Name) })
	return ctrls, nil
}

func namespace(sysRoot, name string) (Namespace, error) {
	dir := filepath.Join(sysRoot, "block", name)
	sectors, err := strconv.ParseInt(readAttr(dir, "size"), 10, 64)
	if err != nil {
		return Namespace{}, fmt.Errorf("nvmeio: size of %s: %w", name, err)
	}
	lbs, err := strconv.Atoi(readAttr(dir, "queue/logical_block_size"))
	if err != nil {
		return Namespace{}, fmt.Errorf("nvmeio: logical block size of %s: %w", name, err)
	}
	// sysfs "size" counts 512-byte sectors whatever the logical block size.
	return Namespace{Name: name, Path: "/dev/" + name, Size: sectors * 512, LogicalBlockSize: lbs}, nil
}

// readAttr reads a sysfs attribute, trimmed (model and serial are space padded); "" if absent.
func readAttr(dir, name string) string {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// deviceLess orders names by their numbers, so nvme2 comes before nvme10.
func deviceLess(a, b string) bool {
	na, nb := numbers(a), numbers(b)
	for i := 0; i < len(na) && i < len(nb); i++ {
		if na[i] != nb[i] {
			return na[i] < nb[i]
		}
	}
	if len(na) != len(nb) {
		return len(na) < len(nb)
	}
	return a < b
}

var digits = regexp.MustCompile(`\d+`)

func numbers(s string) []int {
	var ns []int
	for _, d := range digits.FindAllString(s, -1) {
		n, _ := strconv.Atoi(d)
		ns = append(ns, n)
	}
	return ns
}
