package keeplist

import (
	"os"
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	l, err := Parse(strings.NewReader(`FC510EE7-FFDC-11D4-BD41-0080C73C8881
# a comment

^DxeCore$
PciBus.*   trailing words are a comment
^Shell$
`), "test")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(l.Patterns); got != 4 {
		t.Fatalf("got %d patterns, want 4", got)
	}
	for _, tc := range []struct {
		guid, name string
		want       string // matching pattern text, "" for none
	}{
		{"FC510EE7-FFDC-11D4-BD41-0080C73C8881", "", "FC510EE7-FFDC-11D4-BD41-0080C73C8881"},
		{"fc510ee7-ffdc-11d4-bd41-0080c73c8881", "", "FC510EE7-FFDC-11D4-BD41-0080C73C8881"},
		{"D6A2CB7F-6A18-4E2F-B43B-9920A733700A", "DxeCore", "^DxeCore$"},
		{"93B80004-9FB3-11D4-9A3A-0090273FC14D", "PciBusDxe", "PciBus.*"},
		{"7C04A583-9E3E-4F1C-AD65-E05268D0B4D1", "Shell", "^Shell$"},
		{"7C04A583-9E3E-4F1C-AD65-E05268D0B4D1", "shell", "^Shell$"},
		// Whole-string matching: a longer name does not match "^Shell$".
		{"00000000-0000-0000-0000-000000000001", "ShellPkg", ""},
		{"00000000-0000-0000-0000-000000000002", "", ""},
		{"00000000-0000-0000-0000-000000000003", "MyDxeCore", ""},
	} {
		p := l.Match(tc.guid, tc.name)
		got := ""
		if p != nil {
			got = p.Text
		}
		if got != tc.want {
			t.Errorf("Match(%s, %q) = %q, want %q", tc.guid, tc.name, got, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"^Dxe(Core$\n", "line 1"},
		{"# only comments\n\n", "no patterns"},
	} {
		_, err := Parse(strings.NewReader(tc.in), "bad")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) error = %v, want one containing %q", tc.in, err, tc.want)
		}
	}
}

// The list shipped in firmware/ovmf parses, and its first line is the DXE
// apriori file's GUID.
func TestShippedList(t *testing.T) {
	f, err := os.Open("../../../ovmf/ovmf-2022.11-dxe-keep.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l, err := Parse(f, f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l.Patterns[0].Text, "FC510EE7-FFDC-11D4-BD41-0080C73C8881"; got != want {
		t.Errorf("first pattern %q, want the apriori GUID %q", got, want)
	}
	if l.Match("7C04A583-9E3E-4F1C-AD65-E05268D0B4D1", "Shell") == nil {
		t.Error("the shipped list does not keep the Shell, whose slot carries the payload")
	}
}
