// Package shareddata finds the reference models and reference-engine outputs
// that tests compare against.
//
// The full set lives in the project's shared/ folder beside the repository; a
// fresh clone has only the small subset copied into testdata/. Both have the
// same layout, so a test names a file by its path inside shared/.
package shareddata

import (
	"os"
	"path/filepath"
	"testing"
)

// Roots returns the folders searched, in order: $LLMBOOT_SHARED, ../shared
// beside the repository root, and the repository's testdata/.
func Roots() []string {
	var roots []string
	if env := os.Getenv("LLMBOOT_SHARED"); env != "" {
		roots = append(roots, env)
	}
	if top := repoRoot(); top != "" {
		roots = append(roots, filepath.Join(top, "..", "shared"), filepath.Join(top, "testdata"))
	}
	return roots
}

// Find returns the path of rel (e.g. "models/gguf/stories260K.gguf") in the
// first root that has it, or "" if none does.
func Find(rel string) string {
	for _, r := range Roots() {
		p := filepath.Join(r, rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// Path returns the path of rel, or skips the test, naming the file, when no
// root has it (a clone without ../shared lacks the larger files).
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	p := Find(rel)
	if p == "" {
		tb.Skipf("%s not found in %v (the larger reference files live only in ../shared)", rel, Roots())
	}
	return p
}

// repoRoot walks up from the working directory (a package folder under go
// test) to the folder holding go.mod.
func repoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
