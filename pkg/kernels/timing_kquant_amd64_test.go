//go:build amd64 && !purego

package kernels

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/llmboot/llmboot/pkg/tensor"
)

func threadNanos() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return ts.Nano()
}

// TestKQuantTiming (KQ_TIMING=1) times the k-quant kernels on the
// thread's CPU clock: the minimum and median of many short rounds, which
// other processes on the machine disturb less than wall time.
func TestKQuantTiming(t *testing.T) {
	if os.Getenv("KQ_TIMING") == "" {
		t.Skip("KQ_TIMING unset")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	n := kquantBenchN
	for _, w := range []tensor.Type{tensor.Q4_K, tensor.Q6_K} {
		ks := kquantBenchKernels(w)
		for _, where := range []string{"L1", "DRAM"} {
			if os.Getenv("KQ_WHERE") != "" && os.Getenv("KQ_WHERE") != where {
				continue
			}
			rb0, _ := w.RowBytes(n)
			rows := 1
			if where == "DRAM" {
				rows = (256 << 20) / rb0
			}
			type res struct{ ts []float64 }
			rs := make([]res, len(ks))
			datas := make([][]byte, len(ks))
			abs := make([][]byte, len(ks))
			var rb int
			for i, kc := range ks {
				if i == 0 || where == "L1" {
					datas[i], rb, abs[i] = kquantBenchRows(t, w, rows)
				} else {
					datas[i] = datas[0]
					abs[i] = append([]byte(nil), abs[0]...)
				}
				if kc.laneMajor {
					abs[i] = toLaneMajor(abs[i])
				}
			}
			if where == "DRAM" {
				for i := range ks {
					if ks[i].laneMajor {
						_ = i
					}
				}
			}
			const calls = 2000
			var sink float32
			r := 0
			deadline := time.Now().Add(3 * time.Second)
			for round := 0; time.Now().Before(deadline); round++ {
				for i, kc := range ks {
					data, ab := datas[i], abs[i]
					t0 := threadNanos()
					for c := 0; c < calls; c++ {
						sink += kc.dot(n, data[r*rb:(r+1)*rb], ab)
						if r++; r == rows {
							r = 0
						}
					}
					rs[i].ts = append(rs[i].ts, float64(threadNanos()-t0)/calls)
				}
			}
			for i, kc := range ks {
				ts := rs[i].ts
				sort.Float64s(ts)
				fmt.Printf("%s %-4s %-5s n=%d rounds=%d  min %7.1f ns  p25 %7.1f  med %7.1f ns/row  (%.2f GB/s at min, %.1f ns/superblock)\n",
					w, where, kc.name, n, len(ts), ts[0], ts[len(ts)/4], ts[len(ts)/2], float64(rb)/ts[0], ts[0]/float64(n/256))
			}
			_ = sink
			if where == "L1" && kquantMatmul[w] != nil && kquantMatmul[w].dot4 != nil {
				lm := toLaneMajor(abs[0])
				astride := len(lm)
				acts := alignedBytes(4 * astride)
				for k := 0; k < 4; k++ {
					copy(acts[k*astride:], lm)
				}
				var out [4]float32
				var ts []float64
				dot4 := kquantMatmul[w].dot4
				for round := 0; round < 2000; round++ {
					t0 := threadNanos()
					for c := 0; c < calls/4; c++ {
						dot4(n, datas[0][:rb], acts, astride, &out)
					}
					ts = append(ts, float64(threadNanos()-t0)/calls)
				}
				sort.Float64s(ts)
				fmt.Printf("%s %-4s x4    n=%d rounds=%d  min %7.1f ns  p25 %7.1f  med %7.1f ns/row  (%.1f ns/superblock/row)\n",
					w, where, n, len(ts), ts[0], ts[len(ts)/4], ts[len(ts)/2], ts[0]/float64(n/256))
				if dot8 := kquantMatmul[w].dot8; dot8 != nil {
					acts := alignedBytes(8 * astride)
					for k := 0; k < 8; k++ {
						copy(acts[k*astride:], lm)
					}
					g := make([]byte, n/qkK*lmGroupBlockBytes)
					for k := 0; k < 8; k++ {
						lmGroupFill(g, acts[k*astride:], n/qkK, k)
					}
					var out [8]float32
					ts = ts[:0]
					for round := 0; round < 2000; round++ {
						t0 := threadNanos()
						for c := 0; c < calls/8; c++ {
							dot8(n, datas[0][:rb], acts, astride, g, &out)
						}
						ts = append(ts, float64(threadNanos()-t0)/calls)
					}
					sort.Float64s(ts)
					fmt.Printf("%s %-4s x8    n=%d rounds=%d  min %7.1f ns  p25 %7.1f  med %7.1f ns/row  (%.1f ns/superblock/row)\n",
						w, where, n, len(ts), ts[0], ts[len(ts)/4], ts[len(ts)/2], ts[0]/float64(n/256))
				}
			}
		}
	}
}
