package llm

import (
	"math"
	"testing"
)

func TestSamplerGreedyAndPenalty(t *testing.T) {
	logits := []float32{1, 3, 2, -1}
	if got := NewSampler(SamplerParams{Temp: 0}).Sample(append([]float32(nil), logits...), nil); got != 1 {
		t.Errorf("greedy = %d, want 1", got)
	}
	// Penalty 2 on token 1 (3 → 1.5) makes token 2 the argmax; a negative
	// logit is multiplied, as llama.cpp does.
	p := SamplerParams{Temp: 0, RepeatPenalty: 2, RepeatLastN: 64}
	l := append([]float32(nil), logits...)
	if got := NewSampler(p).Sample(l, []int{1, 3}); got != 2 || l[1] != 1.5 || l[3] != -2 {
		t.Errorf("penalised: got %d, logits %v", got, l)
	}
	// Only the last N tokens count.
	p.RepeatLastN = 1
	if got := NewSampler(p).Sample(append([]float32(nil), logits...), []int{1, 3}); got != 1 {
		t.Errorf("penalty window: got %d", got)
	}
}

// TestSamplerDistribution draws many samples and checks frequencies against
// the distribution each filter leaves.
func TestSamplerDistribution(t *testing.T) {
	logits := []float32{2, 1, 0, -1, -3}
	probs := softmax64(logits, 1)
	cases := []struct {
		name string
		p    SamplerParams
		want []float64
	}{
		{"plain", SamplerParams{Temp: 1, TopP: 1}, probs},
		{"top-k 2", SamplerParams{Temp: 1, TopK: 2, TopP: 1}, renorm(probs, 2)},
		// Cumulative: 0.64, 0.88, 0.97: top-p 0.9 keeps three.
		{"top-p 0.9", SamplerParams{Temp: 1, TopP: 0.9}, renorm(probs, 3)},
		// min-p 0.2 keeps tokens with p ≥ 0.2 × p_max: e^-1 = 0.37 yes, e^-2 = 0.135 no.
		{"min-p 0.2", SamplerParams{Temp: 1, TopP: 1, MinP: 0.2}, renorm(probs, 2)},
		{"temp 0.5", SamplerParams{Temp: 0.5, TopP: 1}, softmax64(logits, 0.5)},
	}
	const n = 200000
	for _, c := range cases {
		c.p.Seed = 42
		s := NewSampler(c.p)
		counts := make([]float64, len(logits))
		for i := 0; i < n; i++ {
			counts[s.Sample(append([]float32(nil), logits...), nil)]++
		}
		for i, w := range c.want {
			got := counts[i] / n
			// Five binomial standard deviations, plus float slack.
			if tol := 5*math.Sqrt(w*(1-w)/n) + 1e-4; math.Abs(got-w) > tol {
				t.Errorf("%s: token %d frequency %.4f, want %.4f ± %.4f", c.name, i, got, w, tol)
			}
		}
	}
}

func TestSamplerSeed(t *testing.T) {
	logits := []float32{0.5, 0.4, 0.3, 0.2, 0.1, 0}
	draw := func(seed uint64) []int {
		s := NewSampler(SamplerParams{Temp: 1, TopP: 1, Seed: seed})
		var out []int
		for i := 0; i < 50; i++ {
			out = append(out, s.Sample(append([]float32(nil), logits...), nil))
		}
		return out
	}
	a, b, c := draw(1), draw(1), draw(2)
	same := func(x, y []int) bool {
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Error("same seed, different draws")
	}
	if same(a, c) {
		t.Error("different seeds, same 50 draws")
	}
}

func softmax64(l []float32, temp float64) []float64 {
	out := make([]float64, len(l))
	var sum float64
	for i, v := range l {
		out[i] = math.Exp(float64(v) / temp)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

func renorm(p []float64, keep int) []float64 {
	out := make([]float64, len(p))
	var sum float64
	for i := 0; i < keep; i++ {
		sum += p[i]
	}
	for i := 0; i < keep; i++ {
		out[i] = p[i] / sum
	}
	return out
}
