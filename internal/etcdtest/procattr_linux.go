package etcdtest

import "syscall"

// procAttr makes the kernel kill a member when the test process dies
// without its cleanup (killed, or a panic in another goroutine), so no
// etcd outlives its test.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
