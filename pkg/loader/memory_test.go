package loader

import (
	"math"
	"strings"
	"testing"

	"github.com/llmboot/llmboot/internal/shareddata"
	"github.com/llmboot/llmboot/pkg/model"
	"github.com/llmboot/llmboot/pkg/tensor"
)

func TestMemory(t *testing.T) {
	m, err := model.Open(shareddata.Path(t, "models/gguf/stories260K.gguf"), model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	r, err := Memory(m)
	if err != nil {
		t.Fatal(err)
	}
	lw, err := r.Layer(4)
	if err != nil || lw.Q.Rows != 64 || lw.K.Rows != 32 || lw.Gate.Rows != 172 || lw.Down.Cols != 172 || len(lw.FFNNorm) != 64 {
		t.Fatalf("layer 4: %+v %v", lw, err)
	}
	if _, err := r.Layer(5); err == nil {
		t.Error("layer 5 of 5 served")
	}
	out, _ := r.Output()
	if out.Rows != 512 || out.Cols != 64 {
		t.Errorf("output %dx%d", out.Rows, out.Cols)
	}
	// Row 1 of the embedding, decoded, is the tensor's second row of floats.
	row := make([]float32, 64)
	if err := r.Embedding(1, row); err != nil {
		t.Fatal(err)
	}
	emb, _ := m.Tensor(model.TokenEmbd)
	if want := tensorFloat(emb, 64); row[0] != want {
		t.Errorf("embedding row 1 starts %g, want %g", row[0], want)
	}
	if err := r.Embedding(512, row); err == nil {
		t.Error("token 512 embedded")
	}

	// A tensor of a type without kernels is refused by name.
	for i := range m.Tensors {
		if m.Tensors[i].Name == "blk.1.ffn_up.weight" {
			m.Tensors[i].Type = tensor.Q8_K
		}
	}
	if _, err := Memory(m); err == nil || !strings.Contains(err.Error(), `"blk.1.ffn_up.weight" has type Q8_K`) {
		t.Errorf("Q8_K weights: %v", err)
	}
}

func tensorFloat(t model.Tensor, i int) float32 {
	b := t.Data[4*i:]
	return math.Float32frombits(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
}
