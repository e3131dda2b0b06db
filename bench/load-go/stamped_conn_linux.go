//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// stampedConn is a TCP connection that asks the kernel for the receive time of what it reads
// (SO_TIMESTAMPNS). A probe then knows when its answer reached the socket, however long its own
// threads waited for a CPU afterwards: on a machine that the server under test keeps busy, that
// wait is the client's, not the server's.
type stampedConn struct {
	*net.TCPConn
	raw syscall.RawConn
	oob []byte
	// lastReceived is the kernel's receive time of the newest bytes read, Unix nanoseconds.
	lastReceived atomic.Int64
}

func dialStamped(ctx context.Context, addr string) (*stampedConn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	tcp := c.(*net.TCPConn)
	raw, err := tcp.SyscallConn()
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	var optErr error
	ctlErr := raw.Control(func(fd uintptr) {
		optErr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	})
	if err := errors.Join(ctlErr, optErr); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("enabling SO_TIMESTAMPNS: %w", err)
	}
	return &stampedConn{TCPConn: tcp, raw: raw, oob: make([]byte, syscall.CmsgSpace(16)*2)}, nil
}

// Read reads through recvmsg to get the timestamp control message with the bytes.
func (c *stampedConn) Read(p []byte) (int, error) {
	var n, oobn int
	var recvErr error
	err := c.raw.Read(func(fd uintptr) bool {
		n, oobn, _, _, recvErr = syscall.Recvmsg(int(fd), p, c.oob, 0)
		return recvErr != syscall.EAGAIN
	})
	if err == nil {
		err = recvErr
	}
	if err != nil {
		return 0, err
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	c.noteReceiveTime(c.oob[:oobn])
	return n, nil
}

func (c *stampedConn) noteReceiveTime(oob []byte) {
	messages, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return
	}
	for _, m := range messages {
		if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SCM_TIMESTAMPNS && len(m.Data) >= int(unsafe.Sizeof(syscall.Timespec{})) {
			ts := (*syscall.Timespec)(unsafe.Pointer(&m.Data[0]))
			c.lastReceived.Store(ts.Nano())
		}
	}
}

const socketTimestampsSupported = true
