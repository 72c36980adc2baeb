//go:build !linux

package kernels

import "runtime"

// osYield lets other goroutines run (no portable thread yield here).
func osYield() { runtime.Gosched() }
