package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// newFlagSet makes a flag set that reports errors instead of exiting, and
// prints usage with the synopsis given.
func newFlagSet(name, synopsis string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: llmboot %s\n\nFlags (-x and --x are the same):\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseInterleaved parses flags and positional arguments in any order
// ("run model.gguf -n 5" as well as "run -n 5 model.gguf"), as llama.cpp
// users type them. "--" ends flag parsing.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, errHelp
			}
			return nil, usageError{err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// flag.Parse consumed "--" itself if it stopped there: everything left is positional.
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// positional checks the count of positional arguments.
func positional(pos []string, names ...string) error {
	if len(pos) < len(names) {
		return usagef("missing %s", strings.Join(names[len(pos):], " and "))
	}
	if len(pos) > len(names) {
		return usagef("unexpected argument %q", pos[len(names)])
	}
	return nil
}
