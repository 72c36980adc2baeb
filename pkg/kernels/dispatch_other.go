//go:build !amd64 || purego

package kernels

// Only the generic path exists on this architecture (or with the purego
// build tag).

func archSupports(Path) bool { return false }

func archInstall(Path, *[len(typeKernels)]typeKernel) {}

// VNNIKernels reports whether the active path runs AVX512-VNNI kernels:
// never here.
func VNNIKernels() bool { return false }
