package main

import (
	"fmt"
	"io"

	"github.com/llmboot/llmboot/pkg/loader"
	"github.com/llmboot/llmboot/pkg/model"
)

func cmdInfo(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("info", "info MODEL [--tokenizer FILE]", stderr)
	tokPath := fs.String("tokenizer", "", "llama2.c tokenizer.bin (default: tokenizer.bin beside a .bin model)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if err := positional(pos, "MODEL"); err != nil {
		fs.Usage()
		return err
	}
	m, err := model.Open(pos[0], model.Options{TokenizerPath: *tokPath})
	if err != nil {
		return err
	}
	defer m.Close()
	c := m.Config
	fmt.Fprintf(stdout, "file:           %s (%s, %s)\n", m.Path, m.Format, loader.FormatBytes(m.FileSize))
	fmt.Fprintf(stdout, "architecture:   %s\n", c.Arch)
	fmt.Fprintf(stdout, "dim:            %d\n", c.Dim)
	fmt.Fprintf(stdout, "hidden:         %d\n", c.Hidden)
	fmt.Fprintf(stdout, "layers:         %d\n", c.Layers)
	fmt.Fprintf(stdout, "heads:          %d (kv heads %d, head dim %d)\n", c.Heads, c.KVHeads, c.HeadDim)
	fmt.Fprintf(stdout, "vocab:          %d\n", c.Vocab)
	fmt.Fprintf(stdout, "context:        %d\n", c.Context)
	fmt.Fprintf(stdout, "rope base:      %g\n", c.RopeBase)
	fmt.Fprintf(stdout, "rms epsilon:    %g\n", c.RMSEps)
	_, untied := m.Tensor(model.Output)
	fmt.Fprintf(stdout, "output:         %s\n", map[bool]string{true: "separate classifier", false: "tied to the token embedding"}[untied])
	var params int64
	for _, t := range m.Tensors {
		params += int64(t.Elements())
	}
	fmt.Fprintf(stdout, "parameters:     %d\n", params)
	fmt.Fprintf(stdout, "tensors:        %d\n", len(m.Tensors))
	for _, tc := range m.TypeCounts() {
		fmt.Fprintf(stdout, "  %-6s        %d\n", tc.Type, tc.Count)
	}
	fmt.Fprintf(stdout, "tokenizer:      %s", m.TokenizerKind)
	if m.Tokenizer != nil {
		v := m.Tokenizer.Vocab()
		fmt.Fprintf(stdout, ", %d tokens, bos %d, eos %d", len(v.Tokens), v.BOS, v.EOS)
	}
	fmt.Fprintln(stdout)
	return nil
}
