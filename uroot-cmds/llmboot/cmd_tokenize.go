package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/llmboot/llmboot/pkg/model"
)

func cmdTokenize(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("tokenize", "tokenize MODEL TEXT [--tokenizer FILE] [--ids] [--no-bos] [--no-parse-special]", stderr)
	tokPath := fs.String("tokenizer", "", "llama2.c tokenizer.bin (default: tokenizer.bin beside a .bin model)")
	idsOnly := fs.Bool("ids", false, "print only the ids, as a list")
	noBOS := fs.Bool("no-bos", false, "do not add BOS")
	noSpecial := fs.Bool("no-parse-special", false, "treat control-token text such as <s> as plain text")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if err := positional(pos, "MODEL", "TEXT"); err != nil {
		fs.Usage()
		return err
	}
	m, err := model.Open(pos[0], model.Options{TokenizerPath: *tokPath})
	if err != nil {
		return err
	}
	defer m.Close()
	if m.Tokenizer == nil {
		return fmt.Errorf("%s has no tokenizer: name a tokenizer.bin with --tokenizer", pos[0])
	}
	tok := m.Tokenizer
	ids := tok.Encode(pos[1], tok.Vocab().AddBOS && !*noBOS, !*noSpecial)
	if *idsOnly {
		s := make([]string, len(ids))
		for i, id := range ids {
			s[i] = strconv.Itoa(id)
		}
		fmt.Fprintf(stdout, "[%s]\n", strings.Join(s, ", "))
		return nil
	}
	for _, id := range ids {
		fmt.Fprintf(stdout, "%6d -> %q\n", id, tok.Piece(id))
	}
	return nil
}
