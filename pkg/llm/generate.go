package llm

import (
	"fmt"
	"time"
)

// StopReason says why generation ended.
type StopReason string

// The ways generation ends.
const (
	StopLimit   StopReason = "token limit reached"
	StopEOS     StopReason = "end of sequence"
	StopBOS     StopReason = "beginning of sequence sampled (llama2.c convention)"
	StopContext StopReason = "context full"
)

// GenerateOptions control one generation.
type GenerateOptions struct {
	// MaxTokens is how many tokens to generate; < 0 runs until a stop token
	// or the end of the context.
	MaxTokens int
	// EOS and BOS ids that end generation; -1 disables either. The stop
	// token itself is counted but not emitted.
	StopEOS, StopBOS int
	Sampler          SamplerParams
}

// Stats measures one generation.
type Stats struct {
	PromptTokens int
	PromptTime   time.Duration
	Generated    int
	GenTime      time.Duration
	Reason       StopReason
}

// Generate evaluates prompt as one batch, then samples and evaluates one
// token at a time, calling emit with each generated token as soon as it is
// chosen. An error from emit stops generation and is returned.
func Generate(e *Engine, prompt []int, opts GenerateOptions, emit func(id int) error) (st Stats, err error) {
	if len(prompt) == 0 {
		return st, fmt.Errorf("llm: empty prompt (a model needs at least one token, usually BOS)")
	}
	if len(prompt) >= e.Context() {
		return st, fmt.Errorf("llm: prompt is %d tokens, which does not leave room to generate in a context of %d (raise -c)", len(prompt), e.Context())
	}
	st.PromptTokens = len(prompt)
	start := time.Now()
	logits, err := e.Eval(prompt, 0, false)
	if err != nil {
		return st, err
	}
	st.PromptTime = time.Since(start)

	start = time.Now()
	defer func() { st.GenTime = time.Since(start) }()
	sampler := NewSampler(opts.Sampler)
	history := append([]int(nil), prompt...)
	pos := len(prompt)
	for {
		if opts.MaxTokens >= 0 && st.Generated >= opts.MaxTokens {
			st.Reason = StopLimit
			return st, nil
		}
		id := sampler.Sample(logits, history)
		st.Generated++
		history = append(history, id)
		switch {
		case id == opts.StopEOS:
			st.Reason = StopEOS
			return st, nil
		case id == opts.StopBOS:
			st.Reason = StopBOS
			return st, nil
		}
		if err := emit(id); err != nil {
			return st, err
		}
		if opts.MaxTokens >= 0 && st.Generated >= opts.MaxTokens {
			st.Reason = StopLimit
			return st, nil
		}
		if pos >= e.Context() {
			st.Reason = StopContext
			return st, nil
		}
		if logits, err = e.Eval([]int{id}, pos, false); err != nil {
			return st, err
		}
		pos++
	}
}
