//go:build !linux

package main

import (
	"errors"
	"syscall"
)

var errNoProc = errors.New("process statistics need Linux /proc")

func procMemory(pid int) (rssKB, hwmKB int64, err error) { return 0, 0, errNoProc }

func procCPU(pid int) (float64, error) { return 0, errNoProc }

func raiseFDLimit() (uint64, error) { return 0, errNoProc }

func childAttr() *syscall.SysProcAttr { return nil }

func processGone(pid int) bool { return false }

func machineBusy() (float64, error) { return 0, errNoProc }
