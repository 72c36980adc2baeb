package kernels

import "syscall"

// osYield gives the thread's CPU to another runnable thread, if there is
// one: a pool thread spinning on a machine with fewer free cores than
// threads would otherwise take time from the thread it waits for.
func osYield() { syscall.Syscall(syscall.SYS_SCHED_YIELD, 0, 0, 0) }
