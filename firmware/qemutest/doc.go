// Package qemutest boots the llmboot firmware in QEMU and checks what it
// does: the hardware summary, DHCP, the model read raw from an NVMe disk, the
// story llmboot prints (the same as on the host), the shell, poweroff.
//
// Each way of booting (Debian's kernel with the initramfs, the LinuxBoot
// kernel alone, the UEFI ROM) is a row of one table; a row whose artifact has
// not been built skips, naming the file and ./build.sh test. The tests are
// in _test.go files only.
package qemutest
