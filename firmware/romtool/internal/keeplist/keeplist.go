// Package keeplist reads the list of DXE files a LinuxBoot image keeps: one
// regular expression per line, matched against a file's GUID or its UI name.
package keeplist

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Pattern is one line of a keep list.
type Pattern struct {
	Text string // the expression as written
	Line int    // 1-based line number in the list
	re   *regexp.Regexp
}

// List is a parsed keep list.
type List struct {
	Patterns []Pattern
}

// Parse reads a keep list. Blank lines and lines starting with '#' are
// skipped; only the first word of a line is the expression (the linuxboot
// project's lists put a comment after it). Matching is whole-string and
// case-insensitive, as fiano's remove_dxes_except does, so "^Shell$" and
// "Shell" mean the same.
func Parse(r io.Reader, name string) (*List, error) {
	l := &List{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		expr := strings.Fields(line)[0]
		re, err := regexp.Compile("(?i)^(?:" + expr + ")$")
		if err != nil {
			return nil, fmt.Errorf("keep list %s line %d: %w", name, n, err)
		}
		l.Patterns = append(l.Patterns, Pattern{Text: expr, Line: n, re: re})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading keep list %s: %w", name, err)
	}
	if len(l.Patterns) == 0 {
		return nil, fmt.Errorf("keep list %s has no patterns", name)
	}
	return l, nil
}

// Match reports the first pattern matching a file's GUID (in the usual
// 8-4-4-4-12 form, any case) or UI name, or nil.
func (l *List) Match(guid, name string) *Pattern {
	for i := range l.Patterns {
		p := &l.Patterns[i]
		if p.re.MatchString(guid) || (name != "" && p.re.MatchString(name)) {
			return p
		}
	}
	return nil
}
