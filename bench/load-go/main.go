// Command grpc-load is a lean closed-loop gRPC load generator for the TensorFleet benchmarks.
//
// It sends the same pre-serialized request bytes on every call through a pass-through codec (no
// protobuf work on either side of the client) over N HTTP/2 connections with C calls always
// outstanding, and prints one JSON result line on stdout. The point is to spend as little CPU as
// possible on the client, since on the benchmark machine it shares the cores with the server.
//
//	grpc-load -addr 127.0.0.1:8500 -method /tensorflow.serving.PredictionService/Predict \
//	  -request req.bin -connections 2 -concurrency 32 -warmup 1.5s -duration 8s
//
// With -wait-go it connects, makes one call per connection, prints "ready" and waits for a line
// on stdin before starting its clock, so a driver can start several generators together.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

type config struct {
	addr        string
	method      string
	requestFile string
	metadata    []string
	sticky      stickyKey
	connections int
	concurrency int
	warmup      time.Duration
	duration    time.Duration
	pause       time.Duration
	timeout     time.Duration
	procs       int
	waitGo      bool
	// socketTimestamps: also time each call to the kernel's receive time of its answer.
	socketTimestamps bool
	// TLS: trust tlsCA (PEM); with tlsCert and tlsKey, present that client certificate.
	tlsCA, tlsCert, tlsKey string
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("grpc-load", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", "", "server host:port (required)")
	fs.StringVar(&c.method, "method", "", "full method path, e.g. /tensorflow.serving.PredictionService/Predict (required)")
	fs.StringVar(&c.requestFile, "request", "", "file holding the serialized request message (required; may be empty for an empty message)")
	fs.Func("metadata", "key=value sent with every call (repeatable)", func(v string) error {
		if !strings.Contains(v, "=") {
			return fmt.Errorf("want key=value, got %q", v)
		}
		c.metadata = append(c.metadata, v)
		return nil
	})
	fs.StringVar(&c.sticky.header, "sticky-header", "", "metadata key whose value rotates through <sticky-prefix><i mod sticky-keys>")
	fs.StringVar(&c.sticky.prefix, "sticky-prefix", "user-", "prefix of the rotating metadata value")
	fs.IntVar(&c.sticky.keys, "sticky-keys", 1000, "number of distinct rotating values")
	fs.IntVar(&c.connections, "connections", 1, "HTTP/2 connections (calls are spread over them round-robin)")
	fs.IntVar(&c.concurrency, "concurrency", 1, "calls always outstanding (closed loop)")
	fs.DurationVar(&c.warmup, "warmup", time.Second, "calls completing before this are not recorded")
	fs.DurationVar(&c.duration, "duration", 5*time.Second, "measured window after the warm-up")
	fs.DurationVar(&c.pause, "pause", 0, "each caller sleeps this long between calls (a probe: use with -concurrency 1)")
	fs.DurationVar(&c.timeout, "timeout", time.Minute, "calls still running this long after the window closes fail (also bounds the first calls)")
	fs.IntVar(&c.procs, "procs", 0, "GOMAXPROCS (0: Go's default, the number of cores)")
	fs.BoolVar(&c.waitGo, "wait-go", false, "after connecting print \"ready\" and wait for a line on stdin before starting")
	fs.BoolVar(&c.socketTimestamps, "socket-timestamps", false, "also report latency to the kernel's receive time of each answer (socketLatencyMs; Linux; at most one caller per connection)")
	fs.StringVar(&c.tlsCA, "tls-ca", "", "connect over TLS, trusting this CA certificate (PEM file)")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "client certificate (PEM file) to present, with -tls-key")
	fs.StringVar(&c.tlsKey, "tls-key", "", "client private key (PEM file)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var problems []string
	if c.addr == "" {
		problems = append(problems, "-addr is required")
	}
	if !strings.HasPrefix(c.method, "/") {
		problems = append(problems, "-method must be a full path starting with /")
	}
	if c.requestFile == "" {
		problems = append(problems, "-request is required")
	}
	if c.connections < 1 || c.concurrency < 1 {
		problems = append(problems, "-connections and -concurrency must be at least 1")
	}
	if c.duration <= 0 || c.warmup < 0 {
		problems = append(problems, "-duration must be positive and -warmup not negative")
	}
	if c.socketTimestamps && (c.concurrency > c.connections || !socketTimestampsSupported) {
		problems = append(problems, "-socket-timestamps needs Linux and at most one caller per connection (-concurrency <= -connections)")
	}
	if (c.tlsCert == "") != (c.tlsKey == "") || (c.tlsCert != "" && c.tlsCA == "") {
		problems = append(problems, "-tls-cert and -tls-key go together, and need -tls-ca")
	}
	if c.sticky.header != "" && c.sticky.keys < 1 {
		problems = append(problems, "-sticky-keys must be at least 1")
	}
	if len(problems) > 0 {
		return c, errors.New(strings.Join(problems, "; "))
	}
	return c, nil
}

// stickyKey rotates one metadata value per call, like many users hitting a sticky A/B route.
type stickyKey struct {
	header string
	prefix string
	keys   int
}

// transportCredentials: plain text, or TLS trusting -tls-ca (with a client certificate if given).
func transportCredentials(c *config) (credentials.TransportCredentials, error) {
	if c.tlsCA == "" {
		return insecure.NewCredentials(), nil
	}
	ca, err := os.ReadFile(c.tlsCA)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("no PEM certificates in %s", c.tlsCA)
	}
	config := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if c.tlsCert != "" {
		pair, err := tls.LoadX509KeyPair(c.tlsCert, c.tlsKey)
		if err != nil {
			return nil, err
		}
		config.Certificates = []tls.Certificate{pair}
	}
	return credentials.NewTLS(config), nil
}

// dial opens the connections; with -socket-timestamps, stamps[i] holds connection i's current
// TCP connection (replaced if grpc-go reconnects).
func dial(c *config) (conns []*grpc.ClientConn, stamps []*atomic.Pointer[stampedConn], err error) {
	transport, err := transportCredentials(c)
	if err != nil {
		return nil, nil, err
	}
	conns = make([]*grpc.ClientConn, 0, c.connections)
	for range c.connections {
		var extra []grpc.DialOption
		if c.socketTimestamps {
			stamp := &atomic.Pointer[stampedConn]{}
			stamps = append(stamps, stamp)
			extra = append(extra, grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
				sc, err := dialStamped(ctx, addr)
				if err != nil {
					return nil, err
				}
				stamp.Store(sc)
				return sc, nil
			}))
		}
		// passthrough: the address is used as is (no resolver); each ClientConn is its own connection.
		conn, err := grpc.NewClient("passthrough:///"+c.addr, append(extra,
			grpc.WithTransportCredentials(transport),
			// Static flow-control windows: they turn off grpc-go's BDP estimator, which otherwise
			// keeps one PING in flight whenever data arrives, work the server under test does for
			// this client only (grpc-js clients send none).
			grpc.WithInitialWindowSize(4<<20), grpc.WithInitialConnWindowSize(16<<20),
			grpc.WithDefaultCallOptions(grpc.ForceCodecV2(rawCodec{}), grpc.MaxCallRecvMsgSize(1<<30), grpc.MaxCallSendMsgSize(1<<30)),
		)...)
		if err != nil {
			closeAll(conns)
			return nil, nil, err
		}
		conns = append(conns, conn)
	}
	return conns, stamps, nil
}

func closeAll(conns []*grpc.ClientConn) {
	for _, conn := range conns {
		_ = conn.Close()
	}
}

// caller makes one call with the configured metadata.
type caller struct {
	cfg     *config
	request []byte
	baseCtx context.Context
	next    atomic.Uint64 // the sticky key's counter
}

// newCaller's calls share one deadline: a timer per call would cost more CPU than the rest of
// the client's work for small messages.
func newCaller(cfg *config, request []byte, deadline time.Time) (*caller, context.CancelFunc) {
	md := metadata.MD{}
	for _, kv := range cfg.metadata {
		k, v, _ := strings.Cut(kv, "=")
		md.Append(k, v)
	}
	base, cancel := context.WithDeadline(context.Background(), deadline)
	if len(md) > 0 {
		base = metadata.NewOutgoingContext(base, md)
	}
	return &caller{cfg: cfg, request: request, baseCtx: base}, cancel
}

func (c *caller) call(conn *grpc.ClientConn) error {
	ctx := c.baseCtx
	if c.cfg.sticky.header != "" {
		i := c.next.Add(1) - 1
		ctx = metadata.AppendToOutgoingContext(ctx, c.cfg.sticky.header, fmt.Sprintf("%s%d", c.cfg.sticky.prefix, i%uint64(c.cfg.sticky.keys)))
	}
	var response rawResponse
	return conn.Invoke(ctx, c.cfg.method, c.request, &response)
}

// window is the measured interval and what happened in it.
type window struct {
	recordFrom time.Time
	stopAt     time.Time

	errors     atomic.Int64
	firstError atomic.Pointer[string]
}

func (w *window) fail(err error) {
	w.errors.Add(1)
	msg := err.Error()
	w.firstError.CompareAndSwap(nil, &msg)
}

// laneResult: latencies of the calls that completed inside the window; with socket timestamps,
// also each one's latency to the kernel's receive time of its answer.
type laneResult struct {
	latencies, toSocket []time.Duration
}

// lane keeps one call outstanding until the window closes (completion-based, so calls still
// running at the end of a long-latency window are not silently dropped from one side only).
// stamp is nil unless the connection records receive times.
func lane(c *caller, conn *grpc.ClientConn, stamp *atomic.Pointer[stampedConn], w *window, pause time.Duration) laneResult {
	r := laneResult{latencies: make([]time.Duration, 0, 1024)}
	for {
		t0 := time.Now()
		if !t0.Before(w.stopAt) {
			return r
		}
		err := c.call(conn)
		t1 := time.Now()
		if err != nil {
			w.fail(err)
		} else if !t1.Before(w.recordFrom) && !t1.After(w.stopAt) {
			r.latencies = append(r.latencies, t1.Sub(t0))
			if sc := stampOf(stamp); sc != nil {
				// The newest bytes read when the call returned ended its answer (one caller per connection).
				if received := time.Unix(0, sc.lastReceived.Load()); received.After(t0) {
					r.toSocket = append(r.toSocket, received.Sub(t0))
				}
			}
		}
		if pause > 0 {
			time.Sleep(pause)
		}
	}
}

func stampOf(p *atomic.Pointer[stampedConn]) *stampedConn {
	if p == nil {
		return nil
	}
	return p.Load()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func run(cfg *config, request []byte, conns []*grpc.ClientConn, stamps []*atomic.Pointer[stampedConn]) result {
	start := time.Now()
	w := &window{recordFrom: start.Add(cfg.warmup), stopAt: start.Add(cfg.warmup + cfg.duration)}
	c, cancel := newCaller(cfg, request, w.stopAt.Add(cfg.timeout))
	defer cancel()
	// CPU of the whole process (all threads) at the window's edges.
	var cpuFrom, cpuTo time.Duration
	cpuDone := make(chan struct{})
	go func() {
		time.Sleep(time.Until(w.recordFrom))
		cpuFrom = cpuTime()
		time.Sleep(time.Until(w.stopAt))
		cpuTo = cpuTime()
		close(cpuDone)
	}()
	perLane := make([]laneResult, cfg.concurrency)
	var wg sync.WaitGroup
	for i := range cfg.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var stamp *atomic.Pointer[stampedConn]
			if stamps != nil {
				stamp = stamps[i%len(stamps)]
			}
			perLane[i] = lane(c, conns[i%len(conns)], stamp, w, cfg.pause)
		}()
	}
	wg.Wait()
	<-cpuDone
	var all, toSocket []time.Duration
	for _, l := range perLane {
		all = append(all, l.latencies...)
		toSocket = append(toSocket, l.toSocket...)
	}
	r := summarize(all, cfg.duration).withSocketLatencies(toSocket)
	r.Errors = w.errors.Load()
	if p := w.firstError.Load(); p != nil {
		r.FirstError = *p
	}
	r.CPUMs = float64(cpuTo-cpuFrom) / float64(time.Millisecond)
	r.Connections = cfg.connections
	r.Concurrency = cfg.concurrency
	return r
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "grpc-load: %v\n", err)
		os.Exit(2)
	}
	if err := mainErr(&cfg); err != nil {
		fmt.Fprintf(os.Stderr, "grpc-load: %v\n", err)
		os.Exit(1)
	}
}

func mainErr(cfg *config) error {
	if cfg.procs > 0 {
		runtime.GOMAXPROCS(cfg.procs)
	}
	request, err := os.ReadFile(cfg.requestFile)
	if err != nil {
		return fmt.Errorf("reading the request: %w", err)
	}
	conns, stamps, err := dial(cfg)
	if err != nil {
		return fmt.Errorf("creating clients for %s: %w", cfg.addr, err)
	}
	defer closeAll(conns)
	// One call per connection first: connects, and checks the method answers before the clock runs.
	c, cancel := newCaller(cfg, request, time.Now().Add(cfg.timeout))
	defer cancel()
	for i, conn := range conns {
		if err := c.call(conn); err != nil {
			return fmt.Errorf("first call on connection %d to %s%s failed: %w", i, cfg.addr, cfg.method, err)
		}
	}
	if cfg.waitGo {
		fmt.Println("ready")
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			return fmt.Errorf("waiting for go on stdin: %w", err)
		}
	}
	out, err := json.Marshal(run(cfg, request, conns, stamps))
	if err != nil {
		return err
	}
	_, err = fmt.Println(string(out))
	return err
}
