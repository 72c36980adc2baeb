package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/llmboot/llmboot/internal/filesize"
	"golang.org/x/sys/unix"
)

// deviceWait bounds the wait for a disk to appear: drivers probe NVMe
// namespaces and partitions asynchronously after their modules load.
var deviceWait = 10 * time.Second

// errNoModel means there is nothing to run; it is not a failure.
var errNoModel = errors.New("no model")

// locateModel turns the spec into a path llmboot can open, waiting for the
// device and mounting its file system as needed. Paths are under root (the
// tests use a fake tree; at boot it is "/").
func locateModel(lg *logger, root string, spec modelSpec) (string, error) {
	switch spec.kind {
	case modelNone:
		lg.Printf("model: none named (%s=); nothing to run", keyModel)
		return "", errNoModel
	case modelURL:
		// llmboot reads it by HTTP Range requests: into memory when it fits,
		// else streamed a layer at a time (its --explain says which).
		lg.Printf("model: %s (over the network)", spec.url)
		return spec.url, nil
	case modelAuto:
		found, err := findModel(root)
		if err != nil {
			return "", err
		}
		if found.kind == modelNone {
			lg.Printf("model: auto: no disk starts with a GGUF and /models holds none; nothing to run")
			return "", errNoModel
		}
		lg.Printf("model: auto: %s", found)
		return locateModel(lg, root, found)
	case modelPath:
		path := filepath.Join(root, spec.path)
		st, err := os.Stat(path)
		if err != nil {
			return "", fmt.Errorf("model %s: %w", spec.path, err)
		}
		lg.Printf("model: %s (%s file)", spec.path, sizeString(uint64(st.Size())))
		return path, nil
	case modelRaw:
		dev, waited, err := waitDevice(root, spec.device)
		if err != nil {
			return "", err
		}
		size, what, err := deviceSize(dev)
		if err != nil {
			return "", err
		}
		lg.Printf("model: /dev/%s found after %s (%s %s; the GGUF is read from offset 0)", spec.device, waited, sizeString(uint64(size)), what)
		return dev, nil
	case modelOnFS:
		dev, waited, err := waitDevice(root, spec.device)
		if err != nil {
			return "", err
		}
		lg.Printf("model: /dev/%s found after %s", spec.device, waited)
		mnt := filepath.Join(root, "mnt", spec.device)
		fstype, err := mountReadOnly(root, dev, mnt)
		if err != nil {
			return "", err
		}
		lg.Printf("model: mounted /dev/%s (%s, read-only) on /mnt/%s", spec.device, fstype, spec.device)
		path := filepath.Join(mnt, spec.path)
		st, err := os.Stat(path)
		if err != nil {
			return "", fmt.Errorf("model %s on /dev/%s: %w", spec.path, spec.device, err)
		}
		lg.Printf("model: %s (%s file)", filepath.Join("/mnt", spec.device, spec.path), sizeString(uint64(st.Size())))
		return path, nil
	}
	return "", fmt.Errorf("model: unknown kind %d", spec.kind)
}

// waitDevice waits up to deviceWait for /dev/name to appear.
func waitDevice(root, name string) (string, time.Duration, error) {
	path := filepath.Join(root, "dev", name)
	start := time.Now()
	for {
		_, err := os.Stat(path)
		if err == nil {
			return path, since(start), nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", 0, fmt.Errorf("/dev/%s: %w", name, err)
		}
		if time.Since(start) > deviceWait {
			return "", 0, fmt.Errorf("/dev/%s did not appear within %s (disks: %s)", name, deviceWait, listDisks(root))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// listDisks names the disks there are, for an error message.
func listDisks(root string) string {
	devs, err := readBlockDevices(root)
	if err != nil || len(devs) == 0 {
		return "none"
	}
	names := make([]string, len(devs))
	for i, d := range devs {
		names[i] = d.name
	}
	return strings.Join(names, ", ")
}

// deviceSize returns the size of a device and what it is ("block device",
// or "file" where a test stands a file in for one).
func deviceSize(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, "", err
	}
	what := "file"
	if filesize.IsBlockDevice(st.Mode()) {
		what = "block device"
	}
	size, err := filesize.Of(f)
	return size, what, err
}

// mountReadOnly mounts dev on dir read-only, trying each block file system
// the kernel knows (as mount(8) does without -t), ext4 and vfat first.
func mountReadOnly(root, dev, dir string) (string, error) {
	types, err := blockFilesystems(filepath.Join(root, "proc/filesystems"))
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	var tried []string
	for _, t := range types {
		err := unix.Mount(dev, dir, t, unix.MS_RDONLY, "")
		if err == nil {
			return t, nil
		}
		tried = append(tried, fmt.Sprintf("%s: %v", t, err))
	}
	if len(tried) == 0 {
		return "", fmt.Errorf("mount %s: the kernel knows no block file system (ext4 and vfat modules missing?)", dev)
	}
	return "", fmt.Errorf("mount %s read-only: %s", dev, strings.Join(tried, "; "))
}

// blockFilesystems lists the file systems in /proc/filesystems that live on
// a device (no "nodev" mark), ext4 and vfat first.
func blockFilesystems(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var first, rest []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 1 {
			continue // "nodev<TAB>proc"
		}
		switch fields[0] {
		case "ext4", "vfat":
			first = append(first, fields[0])
		default:
			rest = append(rest, fields[0])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return append(first, rest...), nil
}

// findModel is llmboot.model=auto: the first disk whose first bytes are the
// GGUF magic (NVMe namespaces before other disks), else the first GGUF in
// /models, else a spec of kind modelNone.
func findModel(root string) (modelSpec, error) {
	disks, err := readBlockDevices(root)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return modelSpec{}, fmt.Errorf("model: auto: %w", err)
	}
	sort.SliceStable(disks, func(i, j int) bool { return disks[i].isNVMe() && !disks[j].isNVMe() })
	for _, d := range disks {
		if startsWithGGUF(filepath.Join(root, "dev", d.name)) {
			return modelSpec{kind: modelRaw, device: d.name}, nil
		}
	}
	files, _ := filepath.Glob(filepath.Join(root, "models", "*.gguf"))
	if len(files) > 0 {
		return modelSpec{kind: modelPath, path: "/models/" + filepath.Base(files[0])}, nil
	}
	return modelSpec{kind: modelNone}, nil
}

// startsWithGGUF reports whether the file or device at path begins with the
// GGUF magic.
func startsWithGGUF(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	_, err = io.ReadFull(f, magic[:])
	return err == nil && string(magic[:]) == "GGUF"
}
