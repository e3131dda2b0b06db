//go:build !linux

package main

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
)

// stampedConn needs SO_TIMESTAMPNS, which this tool uses on Linux only.
type stampedConn struct {
	net.Conn
	lastReceived atomic.Int64
}

func dialStamped(context.Context, string) (*stampedConn, error) {
	return nil, errors.New("-socket-timestamps needs Linux")
}

const socketTimestampsSupported = false
