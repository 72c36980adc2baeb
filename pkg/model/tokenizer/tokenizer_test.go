package tokenizer_test

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/llmboot/llmboot/internal/shareddata"
	"github.com/llmboot/llmboot/pkg/model/tokenizer"
)

// TestVocabTestVectors runs llama.cpp's own tokenizer test vectors
// (tests/test-tokenizer-0): the .inp strings split on
// "\n__ggml_vocab_test__\n", one line of ids per string in .out, tokenized
// with add_special=false, parse_special=false.
func TestVocabTestVectors(t *testing.T) {
	for _, name := range []string{"ggml-vocab-llama-spm.gguf", "ggml-vocab-phi-3.gguf"} {
		t.Run(name, func(t *testing.T) {
			rel := "models/vocab/" + name
			tok := ggufTokenizer(t, rel)
			inp, err := os.ReadFile(shareddata.Path(t, rel+".inp"))
			if err != nil {
				t.Fatal(err)
			}
			out, err := os.ReadFile(shareddata.Path(t, rel+".out"))
			if err != nil {
				t.Fatal(err)
			}
			var texts []string
			for raw := string(inp); raw != ""; {
				s, rest, found := strings.Cut(raw, "\n__ggml_vocab_test__\n")
				texts = append(texts, s)
				if !found {
					break
				}
				raw = rest
			}
			lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
			if len(texts) != len(lines) || len(texts) < 40 {
				t.Fatalf("%d test strings, %d result lines", len(texts), len(lines))
			}
			for i, text := range texts {
				var want []int
				for _, f := range strings.Fields(lines[i]) {
					id, err := strconv.Atoi(f)
					if err != nil {
						t.Fatalf("line %d: %v", i+1, err)
					}
					want = append(want, id)
				}
				got := tok.Encode(text, false, false)
				if !equalInts(got, want) {
					t.Errorf("%q:\n got %v\nwant %v", text, got, want)
				}
				// No string holds a special piece: parsing them changes nothing.
				if got := tok.Encode(text, false, true); !equalInts(got, want) {
					t.Errorf("%q with parse_special:\n got %v\nwant %v", text, got, want)
				}
			}
		})
	}
}

type tokenizerCase struct {
	Text         string   `json:"text"`
	LlamaCppIDs  []int    `json:"llama_cpp_ids"`
	LlamaCppPcs  []string `json:"llama_cpp_pieces"`
	Llama2cIDs   []int    `json:"llama2c_ids"`
	Llama2cEqual bool     `json:"llama2c_equal"`
}

// TestReferenceTokenizations compares with reference/tokenizer.json: llama.cpp
// (special tokens parsed, BOS added) with the GGUF vocabulary, run.c's
// encode() with the tokenizer.bin one.
func TestReferenceTokenizations(t *testing.T) {
	var ref struct {
		Vocabs map[string]struct {
			GGUF      string          `json:"gguf"`
			Llama2cTB string          `json:"llama2c_tokenizer"`
			Cases     []tokenizerCase `json:"cases"`
		} `json:"vocabs"`
	}
	readJSON(t, "reference/tokenizer.json", &ref)
	if len(ref.Vocabs) != 2 {
		t.Fatalf("%d vocabularies in tokenizer.json, want 2", len(ref.Vocabs))
	}
	for name, v := range ref.Vocabs {
		t.Run(strings.Fields(name)[0], func(t *testing.T) {
			n := 32000
			if strings.HasPrefix(name, "tok512") {
				n = 512
			}
			cpp := ggufTokenizer(t, v.GGUF)
			if cpp.Len() != n {
				t.Fatalf("%s has %d tokens, want %d", v.GGUF, cpp.Len(), n)
			}
			l2c := binTokenizer(t, v.Llama2cTB, n)
			for _, c := range v.Cases {
				got := cpp.Encode(c.Text, true, true)
				if !equalInts(got, c.LlamaCppIDs) {
					t.Errorf("Encode(%q):\n got %v\nwant %v", c.Text, got, c.LlamaCppIDs)
				}
				for i, id := range c.LlamaCppIDs {
					if i < len(c.LlamaCppPcs) && cpp.Piece(id) != c.LlamaCppPcs[i] {
						t.Errorf("Piece(%d) = %q, want %q", id, cpp.Piece(id), c.LlamaCppPcs[i])
					}
				}
				if got := l2c.EncodeLlama2c(c.Text, true, false); !equalInts(got, c.Llama2cIDs) {
					t.Errorf("EncodeLlama2c(%q):\n got %v\nwant %v", c.Text, got, c.Llama2cIDs)
				}
				// The tokenizer.bin vocabulary, once converted, is the GGUF one.
				if got := l2c.Encode(c.Text, true, true); !equalInts(got, c.LlamaCppIDs) {
					t.Errorf("tokenizer.bin Encode(%q) = %v, want %v", c.Text, got, c.LlamaCppIDs)
				}
				if got := cpp.EncodeLlama2c(c.Text, true, false); !equalInts(got, c.Llama2cIDs) {
					t.Errorf("GGUF EncodeLlama2c(%q) = %v, want %v", c.Text, got, c.Llama2cIDs)
				}
			}
		})
	}
}

// TestDecodeGenerations decodes the reference engines' generated ids: llama.cpp
// keeps the space after BOS and prints invalid UTF-8 as U+FFFD (tiny256 emits
// stray byte tokens); run.c strips it and prints the prompt too.
func TestDecodeGenerations(t *testing.T) {
	type run struct {
		Prompt    string  `json:"prompt"`
		PromptIDs []int   `json:"prompt_ids"`
		Generated []int   `json:"generated_ids"`
		Text      *string `json:"generated_text"`
		Stdout    *string `json:"stdout"`
	}
	type variant struct {
		Runs []run `json:"runs"`
	}
	tok := ggufTokenizer(t, "models/gguf/stories260K.gguf")
	checked := 0
	for _, file := range []string{"reference/stories260K.generation.json", "reference/tiny256.generation.json"} {
		if shareddata.Find(file) == "" {
			continue
		}
		var ref struct {
			LlamaCpp map[string]variant `json:"llama_cpp"`
			Llama2c  variant            `json:"llama2c"`
		}
		readJSON(t, file, &ref)
		for name, v := range ref.LlamaCpp {
			for _, r := range v.Runs {
				if r.Text == nil {
					t.Fatalf("%s %s: no generated_text", file, name)
				}
				if got := decodeAll(tok, false, r.Generated); got != *r.Text {
					t.Errorf("%s llama.cpp %s %q:\n got %q\nwant %q", file, name, r.Prompt, got, *r.Text)
				}
				checked++
			}
		}
		for _, r := range ref.Llama2c.Runs {
			if r.Stdout == nil {
				continue // tiny256's run.c output is gibberish bytes run.c filters; ids only
			}
			ids := append(append([]int{}, r.PromptIDs...), r.Generated...)
			if got := decodeAll(tok, true, ids) + "\n"; got != *r.Stdout {
				t.Errorf("%s run.c %q:\n got %q\nwant %q", file, r.Prompt, got, *r.Stdout)
			}
			if got := decodeAll(tok, true, append([]int{r.PromptIDs[len(r.PromptIDs)-1]}, r.Generated...)); r.Prompt == "" && got != *r.Text {
				t.Errorf("%s run.c generated_text: got %q want %q", file, got, *r.Text)
			}
			checked++
		}
	}
	if checked < 10 {
		t.Fatalf("only %d runs checked", checked)
	}
}

// TestDecoderUTF8 feeds byte tokens one at a time: complete characters come
// out whole, ill-formed ones as U+FFFD once certain.
func TestDecoderUTF8(t *testing.T) {
	tok := ggufTokenizer(t, "models/gguf/stories260K.gguf")
	b := func(x byte) int {
		id, _ := tok.ID(string([]byte{'<', '0', 'x', "0123456789ABCDEF"[x>>4], "0123456789ABCDEF"[x&15], '>'}))
		return id
	}
	piece := func(p string) int {
		id, ok := tok.ID(p)
		if !ok {
			t.Fatalf("no piece %q", p)
		}
		return id
	}
	for _, c := range []struct {
		name  string
		ids   []int
		steps []string // output of each Add, then of Flush
	}{
		{"CJK in 3 byte tokens", []int{b(0xE4), b(0xB8), b(0xAD)}, []string{"", "", "中", ""}},
		{"emoji in 4", []int{b(0xF0), b(0x9F), b(0x98), b(0x80)}, []string{"", "", "", "😀", ""}},
		{"euro piece then bytes", []int{piece("€"), b(0xC3), b(0xA4)}, []string{"€", "", "ä", ""}},
		{"cut by ASCII", []int{b(0xE4), b(0xB8), piece("▁a")}, []string{"", "", "\uFFFD a", ""}},
		{"stray continuation", []int{b(0x80), piece("e")}, []string{"\uFFFD", "e", ""}},
		{"invalid lead byte", []int{b(0xFF), b(0xC0), b(0x41)}, []string{"\uFFFD", "\uFFFD", "A", ""}},
		{"surrogate", []int{b(0xED), b(0xA0), b(0x80)}, []string{"", "\uFFFD\uFFFD", "\uFFFD", ""}},
		{"unfinished at the end", []int{piece("▁a"), b(0xF0), b(0x9F)}, []string{" a", "", "", "\uFFFD"}},
		{"control tokens print nothing", []int{tok.Vocab().BOS, b(0xC3), tok.Vocab().EOS, b(0xA4)}, []string{"", "", "", "ä", ""}},
	} {
		d := tok.NewDecoder()
		var got []string
		for _, id := range c.ids {
			got = append(got, d.Add(id))
		}
		got = append(got, d.Flush())
		if strings.Join(got, "|") != strings.Join(c.steps, "|") {
			t.Errorf("%s: got %q, want %q", c.name, got, c.steps)
		}
	}
}

// TestStripLeadingSpace: run.c drops the space of a piece that follows BOS,
// llama.cpp keeps it.
func TestStripLeadingSpace(t *testing.T) {
	tok := ggufTokenizer(t, "models/gguf/stories260K.gguf")
	ids := tok.Encode("Once upon a time", true, false)
	if got := decodeAll(tok, false, ids); got != " Once upon a time" {
		t.Errorf("llama.cpp style: %q", got)
	}
	if got := decodeAll(tok, true, ids); got != "Once upon a time" {
		t.Errorf("run.c style: %q", got)
	}
	if got := decodeAll(tok, true, ids[1:]); got != "Once upon a time" {
		t.Errorf("run.c style without the BOS: %q", got)
	}
}

func TestSpecialTokens(t *testing.T) {
	tok := llamaSPM(t)
	bos, eos := tok.Vocab().BOS, tok.Vocab().EOS
	// parse_special: "<s>" is BOS, and the text after it gets the dummy
	// prefix again, as llama.cpp's is_prev_special.
	got := tok.Encode("<s>Hello</s>", false, true)
	want := append(append([]int{bos}, tok.Encode("Hello", false, false)...), eos)
	if !equalInts(got, want) {
		t.Errorf("parsed: got %v, want %v", got, want)
	}
	// Without parse_special the pieces are text, as for run.c.
	plain := tok.Encode("<s>Hello", false, false)
	for _, id := range plain {
		if id == bos {
			t.Errorf("unparsed %v contains BOS", plain)
		}
	}
	if l2c := tok.EncodeLlama2c("<s>Hello", false, false); !equalInts(l2c, plain) {
		t.Errorf("run.c %v, llama.cpp without parsing %v", l2c, plain)
	}
	if got := decodeAll(tok, false, plain); got != " <s>Hello" {
		t.Errorf("decoded %q", got)
	}
	// An empty text gives only what add_special adds.
	if got := tok.Encode("", true, true); !equalInts(got, []int{bos}) {
		t.Errorf("Encode(\"\") = %v", got)
	}
	if got := tok.Encode("", false, true); len(got) != 0 {
		t.Errorf("Encode(\"\", no BOS) = %v", got)
	}
}

// TestLlama2cDifferences: where run.c's encode() is not llama.cpp's.
func TestLlama2cDifferences(t *testing.T) {
	tok := llamaSPM(t)
	byteA, _ := tok.ID("<0x41>")
	plainA, _ := tok.ID("A")
	// Malformed UTF-8: llama.cpp takes the lead byte's announced length
	// ("\xC3A" is one symbol, both bytes fall back to byte tokens); run.c
	// groups by continuation bytes, so "A" stays a character.
	cpp := tok.Encode("\xC3A", false, false)
	l2c := tok.EncodeLlama2c("\xC3A", false, false)
	if !containsInt(cpp, byteA) || containsInt(cpp, plainA) {
		t.Errorf("llama.cpp %v: want byte token %d for A", cpp, byteA)
	}
	if containsInt(l2c, byteA) {
		t.Errorf("run.c %v: A as a byte token", l2c)
	}
	// A literal "▁" is a space to llama.cpp (it escapes spaces to it); run.c
	// does not know it and falls back to its 3 bytes.
	if a, b := tok.Encode("a\u2581b", false, false), tok.Encode("a b", false, false); !equalInts(a, b) {
		t.Errorf("llama.cpp: %v vs %v", a, b)
	}
	e2, _ := tok.ID("<0xE2>")
	if l2c := tok.EncodeLlama2c("a\u2581b", false, false); !containsInt(l2c, e2) {
		t.Errorf("run.c %v: want byte fallback for U+2581", l2c)
	}
	// bos/eos flags.
	got := tok.EncodeLlama2c("Hi", true, true)
	if got[0] != tok.Vocab().BOS || got[len(got)-1] != tok.Vocab().EOS {
		t.Errorf("EncodeLlama2c(bos, eos) = %v", got)
	}
}

func containsInt(s []int, x int) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func TestAddBOSEOSFlags(t *testing.T) {
	v := ggufVocab(t, "models/gguf/stories260K.gguf")
	v.AddBOS, v.AddEOS = false, true
	tok, err := tokenizer.New(v)
	if err != nil {
		t.Fatal(err)
	}
	got := tok.Encode("Hi", true, true)
	if got[0] == v.BOS || got[len(got)-1] != v.EOS {
		t.Errorf("AddBOS=false AddEOS=true: %v", got)
	}
	if got := tok.Encode("Hi", false, true); got[len(got)-1] == v.EOS {
		t.Errorf("add_special=false still added EOS: %v", got)
	}
	v.AddSpacePrefix = false
	tok, _ = tokenizer.New(v)
	if got := decodeAll(tok, false, tok.Encode("Hi", false, false)); got != "Hi" {
		t.Errorf("without the dummy prefix: %q", got)
	}
}

func TestNewValidates(t *testing.T) {
	ok := tokenizer.Vocab{Tokens: []string{"<unk>", "<s>", "</s>", "a"}, BOS: 1, EOS: 2, UNK: 0, PAD: -1}
	if _, err := tokenizer.New(ok); err != nil {
		t.Fatalf("valid vocab: %v", err)
	}
	for name, mut := range map[string]func(*tokenizer.Vocab){
		"empty":        func(v *tokenizer.Vocab) { v.Tokens = nil },
		"short scores": func(v *tokenizer.Vocab) { v.Scores = []float32{0} },
		"long types":   func(v *tokenizer.Vocab) { v.Types = make([]tokenizer.TokenType, 5) },
		"BOS too big":  func(v *tokenizer.Vocab) { v.BOS = 4 },
		"EOS negative": func(v *tokenizer.Vocab) { v.EOS = -2 },
		"UNK too big":  func(v *tokenizer.Vocab) { v.UNK = 100 },
		"PAD too big":  func(v *tokenizer.Vocab) { v.PAD = 4 },
		"duplicate":    func(v *tokenizer.Vocab) { v.Tokens = []string{"<unk>", "<s>", "a", "a"} },
	} {
		v := ok
		mut(&v)
		if _, err := tokenizer.New(v); err == nil || !strings.HasPrefix(err.Error(), "tokenizer: ") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestFromGGUFArrays(t *testing.T) {
	u := func(x uint64) *uint64 { return &x }
	f := false
	toks := []string{"<unk>", "<s>", "</s>", "<0x41>", "▁a"}
	v, err := tokenizer.FromGGUFArrays(tokenizer.GGUFArrays{Tokens: toks, PAD: u(1 << 32), AddSpacePrefix: &f})
	if err != nil {
		t.Fatal(err)
	}
	if v.BOS != 1 || v.EOS != 2 || v.UNK != 0 || v.PAD != -1 || !v.AddBOS || v.AddEOS || v.AddSpacePrefix {
		t.Errorf("defaults: %+v", v)
	}
	if v.Type(4) != tokenizer.Normal || v.Score(4) != 0 {
		t.Errorf("missing types/scores: type %v score %v", v.Type(4), v.Score(4))
	}
	v, err = tokenizer.FromGGUFArrays(tokenizer.GGUFArrays{Tokens: toks, BOS: u(4), TokenType: []int32{2, 3, 3, 6, 99, 1}, Scores: make([]float32, 6)})
	if err != nil {
		t.Fatal(err)
	}
	if v.BOS != 4 || v.Type(3) != tokenizer.Byte || v.Type(4) != tokenizer.Undefined || len(v.Types) != 5 || len(v.Scores) != 5 {
		t.Errorf("given: %+v", v)
	}
	for name, a := range map[string]tokenizer.GGUFArrays{
		"gpt2":         {Model: "gpt2", Tokens: toks},
		"no tokens":    {},
		"short scores": {Tokens: toks, Scores: []float32{1}},
		"short types":  {Tokens: toks, TokenType: []int32{1}},
	} {
		if _, err := tokenizer.FromGGUFArrays(a); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestTinyVocab: a vocabulary without byte tokens or "▁" (possible in a
// file) must not break encoding: unknown bytes become UNK.
func TestTinyVocab(t *testing.T) {
	tok, err := tokenizer.New(tokenizer.Vocab{Tokens: []string{"<unk>", "a", "b", "ab"}, Scores: []float32{0, 0, 0, 1}, BOS: -1, EOS: -1, UNK: 0, PAD: -1, AddSpacePrefix: true})
	if err != nil {
		t.Fatal(err)
	}
	// "▁" falls back to its 3 bytes, each UNK.
	if got := tok.Encode("abz", true, true); !equalInts(got, []int{0, 0, 0, 3, 0}) {
		t.Errorf("Encode = %v, want [0 0 0 3 0] (the 3 bytes of ▁ and z unknown)", got)
	}
	if got := tok.EncodeLlama2c("abz", true, true); !equalInts(got, []int{3, 0}) {
		t.Errorf("EncodeLlama2c = %v, want [3 0]", got)
	}
}

// FuzzEncode: no panic, every id valid, and for valid UTF-8 decoding gives the
// text back (after the dummy-prefix space; "▁" is a space to SentencePiece);
// run.c's encode() agrees with llama.cpp's on valid UTF-8 without "▁".
func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", " ", "Hello world", "  two", "\n\n", "ÄÖÜ ß € £", "Привет", "😀", "<s>x</s>",
		"a\u2581b", "\xC3A", "\xff\xfe", "中文字符", "\x00", "tab\there", "https://example.com/?q=1"} {
		f.Add(s)
	}
	tok := llamaSPM(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, parse := range []bool{false, true} {
			for _, id := range tok.Encode(s, true, parse) {
				if id < 0 || id >= tok.Len() {
					t.Fatalf("Encode(%q): id %d out of range", s, id)
				}
			}
		}
		ids := tok.Encode(s, false, false)
		l2c := tok.EncodeLlama2c(s, false, false)
		for _, id := range l2c {
			if id < 0 || id >= tok.Len() {
				t.Fatalf("EncodeLlama2c(%q): id %d out of range", s, id)
			}
		}
		dec := decodeAll(tok, false, ids)
		if !utf8.ValidString(dec) {
			t.Fatalf("decode(Encode(%q)) = %q is not valid UTF-8", s, dec)
		}
		if !utf8.ValidString(s) {
			return
		}
		want := ""
		if s != "" {
			want = " " + strings.ReplaceAll(s, "\u2581", " ")
		}
		if dec != want {
			t.Fatalf("decode(Encode(%q)) = %q, want %q", s, dec, want)
		}
		if strings.Contains(s, "\u2581") {
			return
		}
		if !equalInts(ids, l2c) {
			t.Fatalf("%q: Encode %v, EncodeLlama2c %v", s, ids, l2c)
		}
		if got := decodeAll(tok, true, l2c); got != s {
			t.Fatalf("run.c-style decode(EncodeLlama2c(%q)) = %q", s, got)
		}
	})
}

const benchText = `Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. ` +
	`One day, she saw a big, red ball under a tree. She wanted to play with it, but it was too high. "Can you help me?" she asked ` +
	`her mom. Her mom smiled and said, "Of course, sweetie!" Together they reached up and got the ball down. Lily was so happy ` +
	`that she hugged her mom and said thank you. Then she ran to her friends and they played catch until the sun went down. ` +
	`When it was time to go home, Lily gave the ball to a boy who was sad because he had no toys. The boy smiled, and Lily felt ` +
	`warm inside. She learned that sharing makes everyone happy. That night, she dreamed of parks, balls and new friends, ` +
	`and she woke up with a big smile on her face, ready for another adventure in the sunny park near her little house.`

func BenchmarkEncode(b *testing.B) {
	tok := llamaSPM(b)
	b.SetBytes(int64(len(benchText)))
	for b.Loop() {
		tok.Encode(benchText, true, true)
	}
}

func BenchmarkEncodeLlama2c(b *testing.B) {
	tok := llamaSPM(b)
	b.SetBytes(int64(len(benchText)))
	for b.Loop() {
		tok.EncodeLlama2c(benchText, true, false)
	}
}
