// Command llmboot runs LLaMA-family language models on the CPU, from a
// u-root firmware shell or any Linux host.
//
// Synopsis:
//
//	llmboot run MODEL [-p PROMPT] [-n N] [-t THREADS] [-c CTX] [--temp T] [--top-k K]
//	                  [--top-p P] [--min-p P] [--repeat-penalty R] [--seed S] [--tokenizer FILE]
//	llmboot info MODEL [--tokenizer FILE]
//	llmboot tokenize MODEL TEXT [--tokenizer FILE] [--ids]
//
// Each subcommand has --help.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, errHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "llmboot: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// errHelp ends a run after --help printed usage: success, nothing else to do.
var errHelp = errors.New("help requested")

// usageError is a mistake on the command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

const topUsage = `llmboot: LLaMA-family inference from firmware.

Usage:
  llmboot run MODEL [flags]        generate text (llmboot run --help)
  llmboot info MODEL               describe a model file
  llmboot tokenize MODEL TEXT      print the token ids of TEXT
  llmboot serve-model PATH...      serve model files over HTTP (Range requests) for streaming
  llmboot devices                  list NVMe controllers and namespaces
  llmboot bench MODEL [flags]      prompt and generation speed, as llama-bench (llmboot bench --help)
  llmboot gen-model OUT.gguf       write a random-weight model of a real shape (llmboot gen-model --help)

MODEL is a GGUF file, a block device holding one (/dev/nvme0n1), an http(s):// URL of one,
or a llama2.c checkpoint (.bin, with --tokenizer tokenizer.bin).
`

// run is the whole command, testable: args exclude the program name.
func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, topUsage)
		return usagef("no subcommand")
	}
	switch args[0] {
	case "run":
		return cmdRun(args[1:], stdout, stderr)
	case "info":
		return cmdInfo(args[1:], stdout, stderr)
	case "tokenize":
		return cmdTokenize(args[1:], stdout, stderr)
	case "serve-model":
		return cmdServe(args[1:], stdout, stderr)
	case "devices":
		return cmdDevices(args[1:], stdout, stderr)
	case "bench":
		return cmdBench(args[1:], stdout, stderr)
	case "gen-model":
		return cmdGenModel(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, topUsage)
		return nil
	}
	fmt.Fprint(stderr, topUsage)
	return usagef("unknown subcommand %q", args[0])
}
