package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/u-root/cpuid"
)

// The hardware summary is read from /proc and /sys under a root folder, so
// tests can point it at a fake tree.

// cpuInfo describes the processor: the brand string, the logical CPUs Linux
// runs on and the SIMD extensions the kernels can use.
type cpuInfo struct {
	vendor, brand string
	online        int
	simd          []string
}

// readCPU combines cpuid (brand, features) with the online CPU count.
func readCPU(root string) (cpuInfo, error) {
	c := cpuInfo{
		vendor: strings.TrimSpace(cpuid.VendorIdentificatorString),
		// Brand strings are padded to 48 bytes with spaces or NULs,
		// sometimes in the middle.
		brand: strings.Join(strings.FieldsFunc(cpuid.ProcessorBrandString, func(r rune) bool { return r == 0 || unicode.IsSpace(r) }), " "),
		simd:  simdFeatures(),
	}
	online, err := os.ReadFile(filepath.Join(root, "sys/devices/system/cpu/online"))
	if err != nil {
		return c, fmt.Errorf("online CPUs: %w", err)
	}
	c.online, err = countCPUList(strings.TrimSpace(string(online)))
	if err != nil {
		return c, fmt.Errorf("online CPUs: %w", err)
	}
	return c, nil
}

// simdFeatures lists the vector extensions cpuid reports that matter to the
// matrix kernels, in order of capability. AVX and AVX-512 count only when the
// kernel enabled their register state (XCR0), as cpuid's Enabled flags say.
func simdFeatures() []string {
	var f []string
	add := func(ok bool, name string) {
		if ok {
			f = append(f, name)
		}
	}
	add(cpuid.HasFeature(cpuid.SSE3), "SSE3")
	add(cpuid.HasFeature(cpuid.SSSE3), "SSSE3")
	add(cpuid.HasFeature(cpuid.SSE4_1), "SSE4.1")
	add(cpuid.HasFeature(cpuid.SSE4_2), "SSE4.2")
	avx := cpuid.EnabledAVX
	add(avx && cpuid.HasFeature(cpuid.AVX), "AVX")
	add(avx && cpuid.HasFeature(cpuid.F16C), "F16C")
	add(avx && cpuid.HasFeature(cpuid.FMA), "FMA")
	add(avx && cpuid.HasExtendedFeature(cpuid.AVX2), "AVX2")
	avx512 := avx && cpuid.EnabledAVX512
	add(avx512 && cpuid.HasExtendedFeature(cpuid.AVX512F), "AVX512F")
	add(avx512 && cpuid.HasExtendedFeature(cpuid.AVX512BW), "AVX512BW")
	add(avx512 && cpuid.HasExtendedFeature(cpuid.AVX512VL), "AVX512VL")
	return f
}

// countCPUList counts the CPUs in a kernel CPU list such as "0-3,6,8-9".
func countCPUList(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("empty CPU list")
	}
	n := 0
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return 0, fmt.Errorf("CPU list %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return 0, fmt.Errorf("CPU list %q: %w", s, err)
			}
		}
		if a < 0 || b < a {
			return 0, fmt.Errorf("CPU list %q: bad range %q", s, part)
		}
		n += b - a + 1
	}
	return n, nil
}

func (c cpuInfo) String() string {
	brand := c.brand
	if brand == "" {
		brand = "unknown model"
	}
	simd := strings.Join(c.simd, " ")
	if simd == "" {
		simd = "none"
	}
	return fmt.Sprintf("%s (%s), %d CPUs online; SIMD: %s", brand, c.vendor, c.online, simd)
}

// memInfo is the machine's memory: what the firmware handed to Linux (the
// "System RAM" ranges of /proc/iomem), what Linux manages after its own
// reservations (MemTotal) and what is free for a model (MemAvailable).
type memInfo struct {
	installed, total, available uint64 // bytes
}

// readMem reads /proc/iomem and /proc/meminfo.
func readMem(root string) (memInfo, error) {
	var m memInfo
	f, err := os.Open(filepath.Join(root, "proc/meminfo"))
	if err != nil {
		return m, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "MemTotal:        1004276 kB"
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "MemTotal" && key != "MemAvailable") {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return m, fmt.Errorf("meminfo: %s: unexpected %q", key, rest)
		}
		kb, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("meminfo: %s: %w", key, err)
		}
		if key == "MemTotal" {
			m.total = kb << 10
		} else {
			m.available = kb << 10
		}
	}
	if err := sc.Err(); err != nil {
		return m, fmt.Errorf("meminfo: %w", err)
	}
	if m.total == 0 {
		return m, fmt.Errorf("meminfo: no MemTotal")
	}
	m.installed, err = readSystemRAM(filepath.Join(root, "proc/iomem"))
	return m, err
}

// readSystemRAM sums the top-level "System RAM" ranges of /proc/iomem: the
// usable RAM in the firmware's memory map (E820 or UEFI), before Linux takes
// its share. Reading the addresses needs root, which init has.
func readSystemRAM(path string) (uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	var sum uint64
	for _, line := range strings.Split(string(data), "\n") {
		// "00100000-3ffdffff : System RAM"; nested entries are indented.
		span, name, ok := strings.Cut(line, " : ")
		if !ok || name != "System RAM" || strings.HasPrefix(span, " ") {
			continue
		}
		lo, hi, ok := strings.Cut(span, "-")
		a, err1 := strconv.ParseUint(lo, 16, 64)
		b, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil || b < a {
			return 0, fmt.Errorf("iomem: bad range %q", span)
		}
		if b == 0 {
			continue // 00000000-00000000: addresses hidden from non-root
		}
		sum += b - a + 1
	}
	if sum == 0 {
		return 0, fmt.Errorf("iomem: no System RAM ranges (addresses are hidden without root)")
	}
	return sum, nil
}

func (m memInfo) String() string {
	return fmt.Sprintf("%s installed, %s total to Linux, %s available", mib(m.installed), mib(m.total), mib(m.available))
}

// mib renders a byte count in MiB, rounded, the unit the tests compare.
func mib(b uint64) string { return fmt.Sprintf("%d MiB", (b+1<<19)>>20) }

// blockDevice is a disk as /sys/block lists it.
type blockDevice struct {
	name   string
	size   uint64 // bytes
	model  string // the controller's model, for NVMe; the disk's otherwise
	serial string
}

// readBlockDevices lists the disks in /sys/block (whole devices, NVMe
// namespaces included; partitions are not listed there), skipping the virtual
// ones (loop, ram, zram, dm).
func readBlockDevices(root string) ([]blockDevice, error) {
	dir := filepath.Join(root, "sys/block")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var devs []blockDevice
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, "loop") || strings.HasPrefix(name, "ram") || strings.HasPrefix(name, "zram") || strings.HasPrefix(name, "dm-") {
			continue
		}
		sectors, err := readTrimmed(filepath.Join(dir, name, "size"))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		n, err := strconv.ParseUint(sectors, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: size %q: %w", name, sectors, err)
		}
		d := blockDevice{name: name, size: n * 512} // always 512-byte units
		// For an NVMe namespace "device" is the controller, which has model
		// and serial; for SCSI/virtio disks, the disk's own.
		d.model, _ = readTrimmed(filepath.Join(dir, name, "device/model"))
		d.serial, _ = readTrimmed(filepath.Join(dir, name, "device/serial"))
		devs = append(devs, d)
	}
	sort.Slice(devs, func(i, j int) bool { return devs[i].name < devs[j].name })
	return devs, nil
}

func (d blockDevice) isNVMe() bool { return strings.HasPrefix(d.name, "nvme") }

func (d blockDevice) String() string {
	s := fmt.Sprintf("%s %s", d.name, sizeString(d.size))
	var about []string
	if d.model != "" {
		about = append(about, d.model)
	}
	if d.serial != "" {
		about = append(about, "serial "+d.serial)
	}
	if len(about) > 0 {
		s += " (" + strings.Join(about, ", ") + ")"
	}
	return s
}

// sizeString renders a size in the largest binary unit that keeps a digit
// before the point.
func sizeString(b uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	v := float64(b)
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", b)
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// nic is a network interface as /sys/class/net describes it.
type nic struct {
	name, mac, driver string
	state             string // operstate: up, down, unknown, ...
	carrier           bool   // cable/link present (readable only while up)
}

// readNICs lists the network interfaces except loopback and virtual ones
// (those without a backing device).
func readNICs(root string) ([]nic, error) {
	dir := filepath.Join(root, "sys/class/net")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var nics []nic
	for _, e := range entries {
		name := e.Name()
		base := filepath.Join(dir, name)
		if _, err := os.Stat(filepath.Join(base, "device")); err != nil {
			continue // lo, bridges, tunnels
		}
		n := nic{name: name}
		n.mac, _ = readTrimmed(filepath.Join(base, "address"))
		n.state, _ = readTrimmed(filepath.Join(base, "operstate"))
		carrier, _ := readTrimmed(filepath.Join(base, "carrier"))
		n.carrier = carrier == "1"
		if drv, err := os.Readlink(filepath.Join(base, "device/driver")); err == nil {
			n.driver = filepath.Base(drv)
		}
		nics = append(nics, n)
	}
	sort.Slice(nics, func(i, j int) bool { return nics[i].name < nics[j].name })
	return nics, nil
}

func (n nic) String() string {
	link := "link " + n.state
	if n.carrier {
		link += ", carrier"
	}
	drv := n.driver
	if drv == "" {
		drv = "no driver"
	}
	return fmt.Sprintf("%s %s (%s), %s", n.name, n.mac, drv, link)
}

// readTrimmed reads a one-line sysfs attribute.
func readTrimmed(path string) (string, error) {
	b, err := os.ReadFile(path)
	return strings.TrimSpace(string(b)), err
}
