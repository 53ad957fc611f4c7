package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestCheckTarget(t *testing.T) {
	tests := []struct {
		addr        string
		allowRemote bool
		wantErr     string
	}{
		{"127.0.0.1:9090", false, ""},
		{"127.3.4.5:9090", false, ""},
		{"[::1]:9090", false, ""},
		{"localhost:9090", false, ""},
		{"LOCALHOST:1", false, ""},
		{"10.0.0.1:9090", false, "not a loopback address"},
		{"192.168.1.5:9090", false, "not a loopback address"},
		{"0.0.0.0:9090", false, "not a loopback address"},
		{"[::]:9090", false, "not a loopback address"},
		{"example.com:9090", false, "not a loopback address"},
		{"localhost.example.com:9090", false, "not a loopback address"},
		{"10.0.0.1:9090", true, ""},
		{"example.com:9090", true, ""},
		{"127.0.0.1", false, "missing port"},
		{"127.0.0.1:0", false, "not 1..65535"},
		{"127.0.0.1:70000", false, "not 1..65535"},
		{"127.0.0.1:http", false, "not 1..65535"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%v", tt.addr, tt.allowRemote), func(t *testing.T) {
			checkErr(t, checkTarget(tt.addr, tt.allowRemote), tt.wantErr)
		})
	}
	checkErr(t, checkListen("127.0.0.1:0", false), "")
	checkErr(t, checkListen("0.0.0.0:0", false), "not a loopback address")
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Errorf("no error, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("error %q, want one containing %q", err, want)
	}
}

func TestParseLoad(t *testing.T) {
	tests := []struct {
		mode    string
		args    string
		wantErr string
	}{
		{"lookup", "-addr 127.0.0.1:9090 -c 64 -d 5s", ""},
		{"echo", "-c 1", ""},
		{"lookup", "-c 2", "give -addr"},
		{"lookup", "-addr 127.0.0.1:9090 -spawn", "only one of"},
		{"lookup", "-inproc -spawn", "only one of"},
		{"lookup", "-addr 8.8.8.8:9090", "not a loopback address"},
		{"lookup", "-addr 8.8.8.8:9090 -allow-remote", ""},
		{"lookup", "-addr 127.0.0.1:9090 -src 10.1.1.1", "not a loopback address"},
		{"lookup", "-addr 127.0.0.1:9090 -src nothost", "not an IP address"},
		{"churn", "-addr 127.0.0.1:9090 -src 127.0.0.2,127.0.0.3", ""},
		{"lookup", "-addr 127.0.0.1:9090 -c 0", "-c 0"},
		{"lookup", "-addr 127.0.0.1:9090 -c 1000000", "-c 1000000"},
		{"lookup", "-addr 127.0.0.1:9090 -d 0s", "-d 0s"},
		{"lookup", "-addr 127.0.0.1:9090 -d 2h", "-d 2h0m0s"},
		{"lookup", "-addr 127.0.0.1:9090 -warmup -1s", "-warmup"},
		{"list", "-addr 127.0.0.1:9090 -names 10 -match 100", "-match 100"},
		{"list", "-addr 127.0.0.1:9090 -names 0", "-names 0"},
		{"lookup", "-addr 127.0.0.1:9090 -serializer pickle", "want serpent, json or marshal"},
		{"lookup", "-addr 127.0.0.1:9090 -serializer nosuch", "want serpent, json or marshal"},
		{"lookup", "-addr 127.0.0.1:9090 -serializer json", ""},
		{"lookup", "-spawn -s dbm:x.db", "pyro4 migrate"},
		{"lookup", "-spawn -s sql:x.db", ""},
		{"lookup", "-spawn -s bolt:x.db", ""},
		{"lookup", "-addr 127.0.0.1:9090 -server-cpuprofile x", "needs -spawn"},
		{"lookup", "-addr 127.0.0.1:9090 extra", "unexpected argument"},
		{"lookup", "-addr 127.0.0.1:9090 -nosuchflag", "flag provided but not defined"},
		{"nosuch", "", "unknown mode"},
	}
	for _, tt := range tests {
		t.Run(tt.mode+" "+tt.args, func(t *testing.T) {
			cfg, err := parseLoad(tt.mode, strings.Fields(tt.args))
			checkErr(t, err, tt.wantErr)
			if err == nil && cfg.codec == nil {
				t.Error("no codec chosen")
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, "refused"},
		{&rejectedError{"no free workers"}, "rejected"},
		{fmt.Errorf("lookup: %w", &remoteError{"NamingError"}), "remote"},
		{protoErr("bad"), "protocol"},
		{&wrongError{errors.New("lookup gave x")}, "wrong"},
		{os.ErrDeadlineExceeded, "timeout"},
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.EADDRNOTAVAIL)}, "no-port"},
		{os.NewSyscallError("accept", syscall.EMFILE), "fd-limit"},
		{io.EOF, "closed"},
		{fmt.Errorf("reply body: %w", io.ErrUnexpectedEOF), "closed"},
		{&net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, "closed"},
		{errors.New("mystery"), "other"},
	}
	for _, tt := range tests {
		if got := classify(tt.err); got != tt.want {
			t.Errorf("classify(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
