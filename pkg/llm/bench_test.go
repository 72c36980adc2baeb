package llm_test

import (
	"fmt"
	"testing"

	"github.com/llmboot/llmboot/pkg/llm"
)

// BenchmarkGenerate measures generation speed (one token per Eval, as in
// decoding) and prompt speed (a 32-token batch) on the small real models.
// Reported as tok/s; docs/benchmarks.md records the figures.
func BenchmarkGenerate(b *testing.B) {
	for _, file := range []string{
		"models/gguf/stories260K.gguf",
		"models/tiny256/tiny256-F32.gguf", "models/tiny256/tiny256-F16.gguf", "models/tiny256/tiny256-Q8_0.gguf",
		"models/tiny256/tiny256-Q4_0.gguf", "models/tiny256/tiny256-Q4_K_M.gguf", "models/tiny256/tiny256-Q6_K.gguf",
	} {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/t%d/tg", file, threads), func(b *testing.B) {
				e := openEngine(b, file, "", llm.KVF32, threads, false)
				logits, err := e.Eval([]int{1}, 0, false)
				if err != nil {
					b.Fatal(err)
				}
				pos := 1
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if pos == e.Context() {
						pos = 1 // wrap: keeps attention length bounded by the context
					}
					if logits, err = e.Eval([]int{llm.Argmax(logits)}, pos, false); err != nil {
						b.Fatal(err)
					}
					pos++
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tok/s")
			})
			b.Run(fmt.Sprintf("%s/t%d/pp32", file, threads), func(b *testing.B) {
				e := openEngine(b, file, "", llm.KVF32, threads, false)
				prompt := make([]int, 32)
				for i := range prompt {
					prompt[i] = 1 + i*7%500
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := e.Eval(prompt, 0, false); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*len(prompt))/b.Elapsed().Seconds(), "tok/s")
			})
		}
	}
}
