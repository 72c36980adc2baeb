package llm

import (
	"math"
	"math/rand/v2"
	"sort"
)

// SamplerParams are llama.cpp's sampling knobs, with its meanings: penalties
// first, then top-k, top-p and min-p on the untempered distribution, then
// temperature, then a draw. Temp ≤ 0 is greedy (argmax after penalties).
type SamplerParams struct {
	Temp          float32
	TopK          int     // ≤ 0: off
	TopP          float32 // ≥ 1: off
	MinP          float32 // ≤ 0: off
	RepeatPenalty float32 // 1: off
	RepeatLastN   int     // how many recent tokens the penalty looks at
	Seed          uint64
}

// DefaultSampler returns llama-cli's defaults.
func DefaultSampler() SamplerParams {
	return SamplerParams{Temp: 0.8, TopK: 40, TopP: 0.95, MinP: 0.05, RepeatPenalty: 1, RepeatLastN: 64}
}

// Sampler picks the next token from logits. It is deterministic for a given
// seed and sequence of calls.
type Sampler struct {
	p    SamplerParams
	rng  *rand.Rand
	cand []candidate
}

type candidate struct {
	id    int
	logit float32
	p     float32
}

// NewSampler returns a sampler with its random stream seeded from p.Seed.
func NewSampler(p SamplerParams) *Sampler {
	return &Sampler{p: p, rng: rand.New(rand.NewPCG(p.Seed, p.Seed^0x9e3779b97f4a7c15))}
}

// Sample returns the next token id. history is the sequence so far (prompt
// included), used by the repetition penalty. logits may be modified.
func (s *Sampler) Sample(logits []float32, history []int) int {
	p := s.p
	if p.RepeatPenalty != 1 && p.RepeatPenalty > 0 && p.RepeatLastN != 0 {
		recent := history
		if p.RepeatLastN > 0 && len(recent) > p.RepeatLastN {
			recent = recent[len(recent)-p.RepeatLastN:]
		}
		seen := make(map[int]bool, len(recent))
		for _, id := range recent {
			if id < 0 || id >= len(logits) || seen[id] {
				continue
			}
			seen[id] = true
			// llama.cpp: divide positive logits, multiply negative ones.
			if logits[id] > 0 {
				logits[id] /= p.RepeatPenalty
			} else {
				logits[id] *= p.RepeatPenalty
			}
		}
	}
	if p.Temp <= 0 {
		return Argmax(logits)
	}

	c := s.cand[:0]
	for id, l := range logits {
		c = append(c, candidate{id: id, logit: l})
	}
	// Sorted by logit, ties by id, so the draw is reproducible.
	sort.Slice(c, func(i, j int) bool {
		if c[i].logit != c[j].logit {
			return c[i].logit > c[j].logit
		}
		return c[i].id < c[j].id
	})
	if p.TopK > 0 && p.TopK < len(c) {
		c = c[:p.TopK]
	}
	if p.TopP < 1 && p.TopP > 0 {
		softmaxCandidates(c, 1)
		var cum float32
		for i := range c {
			cum += c[i].p
			if cum >= p.TopP {
				c = c[:i+1]
				break
			}
		}
	}
	if p.MinP > 0 && len(c) > 1 {
		// Relative to the most likely token: keep logit ≥ max + ln(min_p).
		min := c[0].logit + float32(math.Log(float64(p.MinP)))
		keep := 1
		for keep < len(c) && c[keep].logit >= min {
			keep++
		}
		c = c[:keep]
	}
	softmaxCandidates(c, p.Temp)
	s.cand = c
	r := s.rng.Float32()
	var cum float32
	for _, x := range c {
		cum += x.p
		if r < cum {
			return x.id
		}
	}
	return c[len(c)-1].id
}

// softmaxCandidates sets p of each (sorted) candidate from logit/temp.
func softmaxCandidates(c []candidate, temp float32) {
	max := c[0].logit / temp
	var sum float64
	for i := range c {
		e := math.Exp(float64(c[i].logit/temp - max))
		c[i].p = float32(e)
		sum += e
	}
	for i := range c {
		c[i].p = float32(float64(c[i].p) / sum)
	}
}

// Argmax returns the index of the largest logit, the first on ties.
func Argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}
