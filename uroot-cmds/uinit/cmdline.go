package main

import (
	"fmt"
	"net"
	"strings"
)

// Kernel command line keys read by uinit. Keys with a dot are ignored by the
// kernel and not passed to init as arguments or environment.
const (
	keyModel = "llmboot.model" // where the model is: nvme0n1, nvme0n1p1:/x.gguf, /models/x.gguf
	keyArgs  = "llmboot.args"  // llmboot run flags, split as a shell would
	keyNet   = "llmboot.net"   // dhcp (default), none, static:ADDR/PREFIX[,GATEWAY]
)

// param is one kernel command line parameter, as the kernel parses it.
type param struct {
	key, value string
	hasValue   bool
}

// parseCmdline splits a kernel command line (the text of /proc/cmdline) into
// parameters by the kernel's own rules (lib/cmdline.c next_arg): parameters
// are separated by spaces outside double quotes, a value may be wrapped in
// double quotes (`key="a b"`) or the whole parameter may (`"key=a b"`), and
// those outer quotes are removed. Single quotes mean nothing to the kernel:
// they stay in the value, for splitArgs to honour.
func parseCmdline(s string) []param {
	var params []param
	for {
		s = strings.TrimLeft(s, " \t\n")
		if s == "" {
			return params
		}
		quoted := s[0] == '"'
		if quoted {
			s = s[1:]
		}
		inQuote := quoted
		equals := -1
		i := 0
		for ; i < len(s); i++ {
			c := s[i]
			if (c == ' ' || c == '\t' || c == '\n') && !inQuote {
				break
			}
			if equals < 0 && c == '=' {
				equals = i
			}
			if c == '"' {
				inQuote = !inQuote
			}
		}
		arg := s[:i]
		s = s[i:]
		var p param
		if equals < 0 {
			p.key = arg
		} else {
			p.key, p.value, p.hasValue = arg[:equals], arg[equals+1:], true
			if strings.HasPrefix(p.value, `"`) {
				p.value = strings.TrimSuffix(p.value[1:], `"`)
			} else if quoted {
				p.value = strings.TrimSuffix(p.value, `"`)
			}
		}
		if !p.hasValue && quoted {
			p.key = strings.TrimSuffix(p.key, `"`)
		}
		params = append(params, p)
	}
}

// lookup returns the value of the last parameter named key (the kernel lets
// a later parameter override an earlier one).
func lookup(params []param, key string) (string, bool) {
	for i := len(params) - 1; i >= 0; i-- {
		if params[i].key == key {
			return params[i].value, true
		}
	}
	return "", false
}

// splitArgs splits s into words as a POSIX shell would, without expansions:
// blanks separate words; 'single quotes' keep everything; "double quotes"
// keep everything but a backslash before " \ $ or `; a backslash outside
// quotes keeps the next character. An unterminated quote is an error.
func splitArgs(s string) ([]string, error) {
	var (
		words []string
		word  strings.Builder
		inArg bool // a word has started, possibly empty ('')
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inArg {
				words = append(words, word.String())
				word.Reset()
				inArg = false
			}
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated single quote at byte %d of %q", i, s)
			}
			word.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inArg = true
		case c == '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) && strings.IndexByte("\"\\$`", s[j+1]) >= 0 {
					j++
				}
				word.WriteByte(s[j])
			}
			if j == len(s) {
				return nil, fmt.Errorf("unterminated double quote at byte %d of %q", i, s)
			}
			i = j
			inArg = true
		case c == '\\':
			if i+1 == len(s) {
				return nil, fmt.Errorf("backslash at the end of %q", s)
			}
			i++
			word.WriteByte(s[i])
			inArg = true
		default:
			word.WriteByte(c)
			inArg = true
		}
	}
	if inArg {
		words = append(words, word.String())
	}
	return words, nil
}

// quoteArgs renders args for a log line so that splitArgs gives them back.
func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`") {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// netMode is how uinit configures the network.
type netMode int

const (
	netDHCP netMode = iota
	netNone
	netStatic
)

// netConfig is the parsed llmboot.net value.
type netConfig struct {
	mode    netMode
	addr    *net.IPNet // static: address and prefix (IP is the host's address)
	gateway net.IP     // static: default route, nil for none
	// malformed: llmboot.net did not parse, so the network stays down.
	malformed bool
}

// parseNet parses llmboot.net: "dhcp" (also the default for ""), "none", or
// "static:ADDR/PREFIX[,GATEWAY]" (IPv4 or IPv6).
func parseNet(s string) (netConfig, error) {
	switch {
	case s == "" || s == "dhcp":
		return netConfig{mode: netDHCP}, nil
	case s == "none":
		return netConfig{mode: netNone}, nil
	case strings.HasPrefix(s, "static:"):
		spec := strings.TrimPrefix(s, "static:")
		cidr, gw, hasGW := strings.Cut(spec, ",")
		ip, ipnet, err := net.ParseCIDR(cidr)
		if err != nil {
			return netConfig{}, fmt.Errorf("%s=%s: address %q is not ADDR/PREFIX", keyNet, s, cidr)
		}
		c := netConfig{mode: netStatic, addr: &net.IPNet{IP: ip, Mask: ipnet.Mask}}
		if hasGW {
			c.gateway = net.ParseIP(gw)
			if c.gateway == nil {
				return netConfig{}, fmt.Errorf("%s=%s: gateway %q is not an IP address", keyNet, s, gw)
			}
			if (c.gateway.To4() == nil) != (ip.To4() == nil) {
				return netConfig{}, fmt.Errorf("%s=%s: gateway and address are of different IP versions", keyNet, s)
			}
		}
		return c, nil
	}
	return netConfig{}, fmt.Errorf("%s=%s: want dhcp, none or static:ADDR/PREFIX[,GATEWAY]", keyNet, s)
}

// String renders the configuration as llmboot.net would spell it.
func (c netConfig) String() string {
	switch c.mode {
	case netNone:
		return "none"
	case netStatic:
		ones, _ := c.addr.Mask.Size()
		s := fmt.Sprintf("static:%s/%d", c.addr.IP, ones)
		if c.gateway != nil {
			s += "," + c.gateway.String()
		}
		return s
	}
	return "dhcp"
}

// modelKind says where a model is.
type modelKind int

const (
	modelNone modelKind = iota // no llmboot.model: boot to the shell
	modelRaw                   // a GGUF written raw at offset 0 of a block device
	modelOnFS                  // a file on a partition, mounted read-only
	modelPath                  // a file already in the initramfs
	modelURL                   // http(s)://, read by llmboot over the network
	modelAuto                  // the first disk starting with a GGUF, else /models/*.gguf
)

// modelSpec is the parsed llmboot.model value.
type modelSpec struct {
	kind   modelKind
	device string // modelRaw, modelOnFS: block device name under /dev (nvme0n1, nvme0n1p1)
	path   string // modelOnFS: path inside the file system; modelPath: absolute path
	url    string // modelURL
}

// parseModel parses llmboot.model:
//
//	auto                            the first disk (NVMe first) that starts with a
//	                                GGUF, else the first /models/*.gguf
//	nvme0n1 or /dev/nvme0n1         a GGUF written raw at the start of the device
//	nvme0n1p1:/models/x.gguf        a file on that partition (ext4 or vfat)
//	/models/x.gguf                  a file in the initramfs
//	http://host/x.gguf              not supported yet
func parseModel(s string) (modelSpec, error) {
	switch {
	case s == "" || s == "none":
		return modelSpec{kind: modelNone}, nil
	case s == "auto":
		return modelSpec{kind: modelAuto}, nil
	case strings.HasPrefix(s, "http://"), strings.HasPrefix(s, "https://"):
		return modelSpec{kind: modelURL, url: s}, nil
	case strings.HasPrefix(s, "/dev/"):
		dev := strings.TrimPrefix(s, "/dev/")
		if dev, path, ok := strings.Cut(dev, ":"); ok {
			return onFS(s, dev, path)
		}
		return raw(s, dev)
	case strings.HasPrefix(s, "/"):
		return modelSpec{kind: modelPath, path: s}, nil
	}
	if dev, path, ok := strings.Cut(s, ":"); ok {
		return onFS(s, dev, path)
	}
	return raw(s, s)
}

func raw(s, dev string) (modelSpec, error) {
	if err := checkDevice(dev); err != nil {
		return modelSpec{}, fmt.Errorf("%s=%s: %w", keyModel, s, err)
	}
	return modelSpec{kind: modelRaw, device: dev}, nil
}

func onFS(s, dev, path string) (modelSpec, error) {
	if err := checkDevice(dev); err != nil {
		return modelSpec{}, fmt.Errorf("%s=%s: %w", keyModel, s, err)
	}
	if !strings.HasPrefix(path, "/") || strings.Contains("/"+path+"/", "/../") {
		return modelSpec{}, fmt.Errorf("%s=%s: the path on %s must be absolute, without \"..\"", keyModel, s, dev)
	}
	return modelSpec{kind: modelOnFS, device: dev, path: path}, nil
}

// checkDevice accepts a device name as /dev and /sys/class/block spell it.
func checkDevice(dev string) error {
	if dev == "" || strings.ContainsAny(dev, "/ ") || dev == "." || dev == ".." {
		return fmt.Errorf("%q is not a block device name (like nvme0n1 or nvme0n1p1)", dev)
	}
	return nil
}

// String renders the spec as llmboot.model would spell it.
func (m modelSpec) String() string {
	switch m.kind {
	case modelRaw:
		return m.device
	case modelOnFS:
		return m.device + ":" + m.path
	case modelPath:
		return m.path
	case modelURL:
		return m.url
	case modelAuto:
		return "auto"
	}
	return "none"
}

// bootConfig is everything uinit reads from the kernel command line.
type bootConfig struct {
	model modelSpec
	args  []string // llmboot run flags after the model
	net   netConfig
}

// parseBootConfig reads uinit's keys from the image's defaults (the same
// syntax) and the kernel command line, which overrides them key by key.
// Every malformed key is reported; the others still apply. A malformed
// llmboot.net turns the network off.
func parseBootConfig(defaults, cmdline string) (bootConfig, []error) {
	params := append(parseCmdline(defaults), parseCmdline(cmdline)...)
	var (
		c    bootConfig
		errs []error
		err  error
	)
	if v, ok := lookup(params, keyModel); ok {
		if c.model, err = parseModel(v); err != nil {
			errs = append(errs, err)
		}
	}
	if v, ok := lookup(params, keyArgs); ok {
		if c.args, err = splitArgs(v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", keyArgs, err))
		}
	}
	v, _ := lookup(params, keyNet)
	if c.net, err = parseNet(v); err != nil {
		// Doing something else than asked (DHCP) could configure the wrong
		// network; leave it alone and say why.
		c.net = netConfig{mode: netNone, malformed: true}
		errs = append(errs, err)
	}
	return c, errs
}
