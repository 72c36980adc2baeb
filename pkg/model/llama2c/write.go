package llama2c

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Write writes a checkpoint in c.Version's format, as llama2.c's export.py
// does: 0 legacy_export, 1 version1_export, 2 version2_export. tensors holds
// every weight under its Checkpoint name, float32 values in llama2.c's
// row-major order (the same order as GGUF). With c.SharedClassifier,
// output.weight is not written (and need not be given).
//
// Version 0 writes the RoPE tables (freq_cis_real, freq_cis_imag) that the
// format carries, computed as llama2.c's model.py does. Version 2 quantizes
// every matrix to int8 in groups of c.GroupSize (64 when 0), halving the
// group while it does not divide Dim, as export.py does.
func Write(w io.Writer, c Config, tensors map[string][]float32) error {
	if c.Version == 2 {
		if c.GroupSize == 0 {
			c.GroupSize = 64
		}
		for c.GroupSize > 1 && c.Dim%c.GroupSize != 0 {
			c.GroupSize /= 2
		}
	}
	if err := c.Validate(); err != nil {
		return err
	}
	specs := layout(c)
	for _, s := range specs {
		if s.name == "" {
			continue
		}
		v, ok := tensors[s.name]
		if !ok {
			return fmt.Errorf("llama2c: write: tensor %s missing", s.name)
		}
		if len(v) != s.elements() {
			return fmt.Errorf("llama2c: write: tensor %s has %d values, shape %v needs %d", s.name, len(v), s.shape, s.elements())
		}
		if s.quantized && len(v)%c.GroupSize != 0 {
			return fmt.Errorf("llama2c: write: tensor %s: %d values are not a whole number of groups of %d", s.name, len(v), c.GroupSize)
		}
	}

	bw := bufio.NewWriterSize(w, 1<<16)
	if _, err := bw.Write(header(c)); err != nil {
		return fmt.Errorf("llama2c: write: %w", err)
	}
	cos, sin := ropeTables(c)
	freq := [][]float32{cos, sin}
	for _, s := range specs {
		var err error
		switch {
		case s.name == "":
			err = writeF32(bw, freq[0])
			freq = freq[1:]
		case s.quantized:
			err = writeQ8(bw, tensors[s.name], c.GroupSize)
		default:
			err = writeF32(bw, tensors[s.name])
		}
		if err != nil {
			return fmt.Errorf("llama2c: write: %s: %w", s.name, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("llama2c: write: %w", err)
	}
	return nil
}

// WriteLegacy writes a version 0 file (run.c's format), whatever c.Version says.
func WriteLegacy(w io.Writer, c Config, tensors map[string][]float32) error {
	c.Version = 0
	return Write(w, c, tensors)
}

// header encodes c as the file's header.
func header(c Config) []byte {
	le := binary.LittleEndian
	params := []int{c.Dim, c.Hidden, c.Layers, c.Heads, c.KVHeads, c.Vocab, c.SeqLen}
	if c.Version == 0 {
		if !c.SharedClassifier {
			params[5] = -c.Vocab
		}
		b := make([]byte, 0, legacyHeaderSize)
		for _, p := range params {
			b = le.AppendUint32(b, uint32(int32(p)))
		}
		return b
	}
	b := make([]byte, 0, HeaderSize)
	b = le.AppendUint32(b, Magic)
	b = le.AppendUint32(b, uint32(int32(c.Version)))
	for _, p := range params {
		b = le.AppendUint32(b, uint32(int32(p)))
	}
	if c.SharedClassifier {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	if c.Version == 2 {
		b = le.AppendUint32(b, uint32(int32(c.GroupSize)))
	}
	return append(b, make([]byte, HeaderSize-len(b))...)
}

// ropeTables computes model.py's precompute_freqs_cis(head_size, ...) for
// positions 0..SeqLen-1, in float32 like torch: freq_i = 1 /
// 10000^(2i/head_size), then cos and sin of t·freq_i.
func ropeTables(c Config) (cos, sin []float32) {
	if c.Version != 0 {
		return nil, nil
	}
	hs := c.HeadSize()
	half := hs / 2
	freqs := make([]float32, half)
	for i := range freqs {
		e := float32(2*i) / float32(hs)
		freqs[i] = 1 / float32(math.Pow(10000, float64(e)))
	}
	cos = make([]float32, c.SeqLen*half)
	sin = make([]float32, c.SeqLen*half)
	for t := 0; t < c.SeqLen; t++ {
		for i, f := range freqs {
			a := float64(float32(t) * f)
			cos[t*half+i] = float32(math.Cos(a))
			sin[t*half+i] = float32(math.Sin(a))
		}
	}
	return cos, sin
}

func writeF32(w io.Writer, v []float32) error {
	buf := make([]byte, 0, 4096)
	for i, x := range v {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
		if len(buf) == cap(buf) || i == len(v)-1 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	return nil
}

// writeQ8 writes export.py's quantize_q80: per group, scale = max|x| / 127
// and q = round(x / scale) (half to even, as torch.round); the int8 values of
// the whole tensor, then its scales.
func writeQ8(w io.Writer, v []float32, group int) error {
	q := make([]byte, len(v))
	scales := make([]float32, len(v)/group)
	for g := range scales {
		xs := v[g*group : (g+1)*group]
		var amax float32
		for _, x := range xs {
			amax = max(amax, float32(math.Abs(float64(x))))
		}
		s := amax / 127
		scales[g] = s
		for i, x := range xs {
			var r float64
			if s != 0 {
				r = math.RoundToEven(float64(x / s))
			}
			if r != r {
				r = 0 // NaN weights (or scale): no int8 value means anything
			}
			q[g*group+i] = byte(int8(max(-127, min(127, r))))
		}
	}
	if _, err := w.Write(q); err != nil {
		return err
	}
	return writeF32(w, scales)
}
