// Package llm is the transformer: the llama forward pass over a KV cache, the
// samplers and the generation loop. It does not know where weights come
// from: it asks a Weights for each layer in turn, so resident, streamed,
// device-resident and remote weights are interchangeable.
package llm

import "github.com/llmboot/llmboot/pkg/kernels"

// LayerWeights are the tensors of one transformer block, as the kernels
// consume them.
type LayerWeights struct {
	AttnNorm, FFNNorm []float32
	Q, K, V, O        kernels.Matrix
	Gate, Up, Down    kernels.Matrix
}

// Weights hands the forward pass its tensors.
//
// The forward pass calls Layer(0), Release(0), Layer(1), Release(1), ... once
// per evaluated batch, in order. A resident implementation returns views of
// memory and ignores Release; a streaming one may block in Layer until the
// layer has arrived and may reuse the layer's buffers once it is released.
type Weights interface {
	Layer(i int) (*LayerWeights, error)
	Release(i int)
	// Embedding writes the embedding of token into dst (Dim floats).
	Embedding(token int, dst []float32) error
	OutputNorm() []float32
	// Output is the classifier, Vocab rows of Dim (the embedding when tied).
	Output() (kernels.Matrix, error)
}
