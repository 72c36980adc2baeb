package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseCmdline(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []param
	}{
		{"", nil},
		{"console=ttyS0,115200 quiet\n", []param{{"console", "ttyS0,115200", true}, {"quiet", "", false}}},
		{`  a=1   b= c==d`, []param{{"a", "1", true}, {"b", "", true}, {"c", "=d", true}}},
		// A quoted value keeps its spaces; single quotes inside stay.
		{`llmboot.args="-p 'Once upon a time' -n 64 --temp 0" llmboot.model=nvme0n1`,
			[]param{{"llmboot.args", "-p 'Once upon a time' -n 64 --temp 0", true}, {"llmboot.model", "nvme0n1", true}}},
		// The whole parameter quoted, as the kernel also allows.
		{`"llmboot.args=-n 8" x`, []param{{"llmboot.args", "-n 8", true}, {"x", "", false}}},
		{`"flag with space"`, []param{{"flag with space", "", false}}},
		// Quotes in the middle toggle the quoting but are kept (kernel rule).
		{`k=a"b c"d e`, []param{{"k", `a"b c"d`, true}, {"e", "", false}}},
		// An unterminated quote runs to the end of the line.
		{`k="a b`, []param{{"k", "a b", true}}},
		{"tab\tsep\nnl", []param{{"tab", "", false}, {"sep", "", false}, {"nl", "", false}}},
	} {
		got := parseCmdline(c.in)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseCmdline(%q)\n got %+v\nwant %+v", c.in, got, c.want)
		}
	}
}

func TestLookupLastWins(t *testing.T) {
	p := parseCmdline("llmboot.net=none llmboot.model=a llmboot.net=dhcp")
	if v, ok := lookup(p, "llmboot.net"); !ok || v != "dhcp" {
		t.Errorf("llmboot.net = %q, %v; want the later dhcp", v, ok)
	}
	if _, ok := lookup(p, "llmboot.args"); ok {
		t.Error("found an absent key")
	}
}

func TestSplitArgs(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
		err  string
	}{
		{"", nil, ""},
		{"   ", nil, ""},
		{"-p 'Once upon a time' -n 64 --temp 0", []string{"-p", "Once upon a time", "-n", "64", "--temp", "0"}, ""},
		{`-p "a \"quoted\" \$word" x`, []string{"-p", `a "quoted" $word`, "x"}, ""},
		{`-p "back\slash"`, []string{"-p", `back\slash`}, ""},
		{`a\ b c\'d`, []string{"a b", "c'd"}, ""},
		{`-p '' -n 1`, []string{"-p", "", "-n", "1"}, ""},
		{`x"y z"'w'`, []string{"xy zw"}, ""},
		{"a\tb\nc", []string{"a", "b", "c"}, ""},
		{"-p 'open", nil, "unterminated single quote"},
		{`-p "open`, nil, "unterminated double quote"},
		{`end\`, nil, "backslash at the end"},
	} {
		got, err := splitArgs(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("splitArgs(%q) error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("splitArgs(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestQuoteArgsRoundTrip(t *testing.T) {
	for _, args := range [][]string{
		{"run", "/dev/nvme0n1", "-p", "Once upon a time", "-n", "64"},
		{"-p", "it's", "", `a "b" \ $c`},
		{"plain"},
	} {
		q := quoteArgs(args)
		back, err := splitArgs(q)
		if err != nil || !reflect.DeepEqual(back, args) {
			t.Errorf("quoteArgs(%q) = %s, splits back to %q, %v", args, q, back, err)
		}
	}
	if q := quoteArgs([]string{"run", "-p", "Once upon a time"}); q != "run -p 'Once upon a time'" {
		t.Errorf("quoteArgs = %s", q)
	}
}

func TestParseNet(t *testing.T) {
	for _, c := range []struct {
		in, want string // want: String() of the result, or the error's text
		ok       bool
	}{
		{"", "dhcp", true},
		{"dhcp", "dhcp", true},
		{"none", "none", true},
		{"static:10.0.2.15/24,10.0.2.2", "static:10.0.2.15/24,10.0.2.2", true},
		{"static:192.168.1.7/16", "static:192.168.1.7/16", true},
		{"static:fd00::5/64,fd00::1", "static:fd00::5/64,fd00::1", true},
		{"static:10.0.2.15", "is not ADDR/PREFIX", false},
		{"static:10.0.2.15/24,gw", `gateway "gw" is not an IP address`, false},
		{"static:10.0.2.15/24,fd00::1", "different IP versions", false},
		{"static:10.0.2.15/33", "is not ADDR/PREFIX", false},
		{"auto", "want dhcp, none or static", false},
	} {
		got, err := parseNet(c.in)
		switch {
		case c.ok && err != nil:
			t.Errorf("parseNet(%q): %v", c.in, err)
		case c.ok && got.String() != c.want:
			t.Errorf("parseNet(%q) = %s, want %s", c.in, got, c.want)
		case !c.ok && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("parseNet(%q) error %v, want %q", c.in, err, c.want)
		}
	}
	c, _ := parseNet("static:10.0.2.15/24,10.0.2.2")
	if c.mode != netStatic || !c.addr.IP.Equal([]byte{10, 0, 2, 15}) || c.gateway.String() != "10.0.2.2" {
		t.Errorf("static config %+v", c)
	}
	if ones, _ := c.addr.Mask.Size(); ones != 24 {
		t.Errorf("prefix %d, want 24", ones)
	}
}

func TestParseModel(t *testing.T) {
	for _, c := range []struct {
		in   string
		want modelSpec
		err  string
	}{
		{"", modelSpec{kind: modelNone}, ""},
		{"none", modelSpec{kind: modelNone}, ""},
		{"auto", modelSpec{kind: modelAuto}, ""},
		{"nvme0n1", modelSpec{kind: modelRaw, device: "nvme0n1"}, ""},
		{"/dev/nvme1n2", modelSpec{kind: modelRaw, device: "nvme1n2"}, ""},
		{"nvme0n1p1:/models/x.gguf", modelSpec{kind: modelOnFS, device: "nvme0n1p1", path: "/models/x.gguf"}, ""},
		{"/dev/vda2:/m.gguf", modelSpec{kind: modelOnFS, device: "vda2", path: "/m.gguf"}, ""},
		{"/models/stories260K.gguf", modelSpec{kind: modelPath, path: "/models/stories260K.gguf"}, ""},
		{"http://10.0.2.2/x.gguf", modelSpec{kind: modelURL, url: "http://10.0.2.2/x.gguf"}, ""},
		{"https://h/x.gguf", modelSpec{kind: modelURL, url: "https://h/x.gguf"}, ""},
		{"nvme0n1p1:models/x.gguf", modelSpec{}, "must be absolute"},
		{"nvme0n1p1:/../etc/x", modelSpec{}, "must be absolute, without \"..\""},
		{":/x.gguf", modelSpec{}, "is not a block device name"},
		{"/dev/", modelSpec{}, "is not a block device name"},
		{"/dev/disk/by-id/x", modelSpec{}, "is not a block device name"},
	} {
		got, err := parseModel(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("parseModel(%q) error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("parseModel(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

func TestParseBootConfig(t *testing.T) {
	cfg, errs := parseBootConfig("", `console=ttyS0 llmboot.model=nvme0n1 llmboot.args="-p 'Once upon a time' -n 64 --temp 0" llmboot.net=static:10.0.2.15/24,10.0.2.2`)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if cfg.model != (modelSpec{kind: modelRaw, device: "nvme0n1"}) || cfg.net.String() != "static:10.0.2.15/24,10.0.2.2" ||
		!reflect.DeepEqual(cfg.args, []string{"-p", "Once upon a time", "-n", "64", "--temp", "0"}) {
		t.Errorf("config %+v", cfg)
	}

	// Defaults: no model, DHCP, no args.
	cfg, errs = parseBootConfig("", "console=ttyS0")
	if len(errs) != 0 || cfg.model.kind != modelNone || cfg.net.mode != netDHCP || cfg.args != nil {
		t.Errorf("defaults: %+v, %v", cfg, errs)
	}

	// Each bad key is reported; the good ones still apply.
	cfg, errs = parseBootConfig("", `llmboot.model=x:rel llmboot.args="-p 'open" llmboot.net=bogus`)
	if len(errs) != 3 {
		t.Fatalf("%d errors, want 3: %v", len(errs), errs)
	}
	for i, want := range []string{"llmboot.model=x:rel", "llmboot.args: unterminated", "llmboot.net=bogus"} {
		if !strings.Contains(errs[i].Error(), want) {
			t.Errorf("error %d = %v, want it to mention %q", i, errs[i], want)
		}
	}
	cfg, errs = parseBootConfig("", `llmboot.model=/models/x.gguf llmboot.net=bogus`)
	if len(errs) != 1 || cfg.model.kind != modelPath {
		t.Errorf("a bad llmboot.net dropped the model: %+v, %v", cfg, errs)
	}
	if cfg.net.mode != netNone || !cfg.net.malformed {
		t.Errorf("a bad llmboot.net gives %+v, want the network off", cfg.net)
	}
}

func TestParseBootConfigDefaults(t *testing.T) {
	defaults := `llmboot.model=auto llmboot.args="-p 'Once upon a time' -n 64 --temp 0"`
	cfg, errs := parseBootConfig(defaults, "console=ttyS0,115200")
	if len(errs) != 0 || cfg.model.kind != modelAuto || cfg.net.mode != netDHCP ||
		!reflect.DeepEqual(cfg.args, []string{"-p", "Once upon a time", "-n", "64", "--temp", "0"}) {
		t.Errorf("defaults alone: %+v, %v", cfg, errs)
	}
	// The kernel command line wins key by key.
	cfg, errs = parseBootConfig(defaults, `console=ttyS0 llmboot.model=nvme0n1 llmboot.net=none`)
	if len(errs) != 0 || cfg.model != (modelSpec{kind: modelRaw, device: "nvme0n1"}) || cfg.net.mode != netNone || len(cfg.args) != 6 {
		t.Errorf("overridden: %+v, %v", cfg, errs)
	}
	cfg, _ = parseBootConfig(defaults, `llmboot.args=`)
	if cfg.args != nil {
		t.Errorf("an empty llmboot.args kept the default: %q", cfg.args)
	}
}
