package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// testServer answers every method through the raw codec after `delay`, or fails with `fail`.
type testServer struct {
	delay time.Duration
	fail  error

	mu        sync.Mutex
	sizes     map[int]int
	fixed     map[string]int
	sticky    map[string]int
	responses []byte
}

func startTestServer(t *testing.T, s *testServer, options ...grpc.ServerOption) string {
	t.Helper()
	s.sizes, s.fixed, s.sticky = map[int]int{}, map[string]int{}, map[string]int{}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(append(options, grpc.ForceServerCodecV2(rawCodec{}), grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		var req rawResponse
		if err := stream.RecvMsg(&req); err != nil {
			return err
		}
		md, _ := metadata.FromIncomingContext(stream.Context())
		s.mu.Lock()
		s.sizes[req.bytes]++
		for _, v := range md.Get("x-fixed") {
			s.fixed[v]++
		}
		for _, v := range md.Get("x-user") {
			s.sticky[v]++
		}
		s.mu.Unlock()
		time.Sleep(s.delay)
		if s.fail != nil {
			return s.fail
		}
		return stream.SendMsg([]byte("response"))
	}))...)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func testConfig(t *testing.T, addr string, extra ...string) (config, []byte) {
	t.Helper()
	request := []byte("pre-serialized request")
	file := filepath.Join(t.TempDir(), "request.bin")
	if err := os.WriteFile(file, request, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseFlags(append([]string{"-addr", addr, "-method", "/test.Service/Call", "-request", file}, extra...))
	if err != nil {
		t.Fatal(err)
	}
	return cfg, request
}

func runAgainst(t *testing.T, cfg config, request []byte) result {
	t.Helper()
	conns, stamps, err := dial(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(conns)
	return run(&cfg, request, conns, stamps)
}

func TestRunKeepsCallsOutstandingAndCountsTheWindow(t *testing.T) {
	s := &testServer{delay: 5 * time.Millisecond}
	cfg, request := testConfig(t, startTestServer(t, s),
		"-connections", "2", "-concurrency", "4", "-warmup", "200ms", "-duration", "1s",
		"-metadata", "x-fixed=yes", "-sticky-header", "x-user", "-sticky-prefix", "u", "-sticky-keys", "3")
	r := runAgainst(t, cfg, request)

	// 4 lanes of ~5 ms calls for 1 s: at most 800 calls; scheduling delays only make it fewer.
	if r.Count < 300 || r.Count > 800 {
		t.Errorf("count = %d, want 300..800 for 4 lanes of 5 ms calls over 1 s", r.Count)
	}
	if r.RPS != float64(r.Count) {
		t.Errorf("rps = %v, want count/1s = %d", r.RPS, r.Count)
	}
	if r.Errors != 0 || r.FirstError != "" {
		t.Errorf("errors = %d (%q), want none", r.Errors, r.FirstError)
	}
	if r.Latency.P50 < 5 || r.Latency.P50 > r.Latency.P90 || r.Latency.P90 > r.Latency.P99 || r.Latency.P99 > r.Latency.Max {
		t.Errorf("latencies %+v: want 5 ms <= p50 <= p90 <= p99 <= max", r.Latency)
	}
	if r.CPUMs <= 0 {
		t.Errorf("cpuMs = %v, want > 0", r.CPUMs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	total := 0
	for _, n := range s.sizes {
		total += n
	}
	if s.sizes[len(request)] != total || total < r.Count {
		t.Errorf("server saw request sizes %v, want all %d bytes and at least %d calls", s.sizes, len(request), r.Count)
	}
	if s.fixed["yes"] != total {
		t.Errorf("x-fixed seen %d times in %d calls", s.fixed["yes"], total)
	}
	if len(s.sticky) != 3 || s.sticky["u0"] == 0 || s.sticky["u2"] == 0 {
		t.Errorf("x-user values %v, want u0, u1, u2", s.sticky)
	}
}

func TestRunReportsErrors(t *testing.T) {
	s := &testServer{fail: status.Error(codes.NotFound, "no such model")}
	cfg, request := testConfig(t, startTestServer(t, s), "-warmup", "0s", "-duration", "200ms", "-pause", "10ms")
	r := runAgainst(t, cfg, request)
	if r.Count != 0 || r.Errors == 0 || !strings.Contains(r.FirstError, "no such model") {
		t.Errorf("count %d errors %d first %q: want 0 calls and the server's error", r.Count, r.Errors, r.FirstError)
	}
	// -pause 10ms: one lane makes at most ~20 calls in 200 ms.
	if r.Errors > 21 {
		t.Errorf("errors = %d: the pause between calls was not applied", r.Errors)
	}
}

func TestSocketTimestampsTimeTheAnswerToTheSocket(t *testing.T) {
	s := &testServer{delay: 5 * time.Millisecond}
	cfg, request := testConfig(t, startTestServer(t, s), "-warmup", "0s", "-duration", "300ms", "-socket-timestamps")
	r := runAgainst(t, cfg, request)
	if r.SocketLatency == nil {
		t.Fatalf("no socketLatencyMs in %+v", r)
	}
	// The answer reaches the socket after the server's 5 ms and before the call returns.
	if r.SocketLatency.P50 < 5 || r.SocketLatency.P50 > r.Latency.P50 || r.SocketLatency.Max > r.Latency.Max {
		t.Errorf("socket latencies %+v, call latencies %+v: want 5 ms <= socket <= call", *r.SocketLatency, r.Latency)
	}
}

func TestStampedConnKeepsTheKernelsReceiveTime(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	// Each value on send makes the server write it and report when it did.
	send := make(chan string)
	sent := make(chan time.Time)
	go func() {
		c, err := lis.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		for msg := range send {
			sent <- time.Now()
			_, _ = c.Write([]byte(msg))
		}
	}()
	defer close(send)
	sc, err := dialStamped(context.Background(), lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	buf := make([]byte, 16)
	exchange := func(msg string, readAfter time.Duration) (sentAt, readAt time.Time) {
		send <- msg
		sentAt = <-sent
		time.Sleep(readAfter)
		n, err := sc.Read(buf)
		if err != nil || string(buf[:n]) != msg {
			t.Fatalf("read %q, %v; want %q", buf[:n], err, msg)
		}
		return sentAt, time.Now()
	}
	// Linux turns receive timestamps on for the whole machine a little after the first socket asks
	// for them (a deferred static key), so the first segments may come unstamped.
	for i := 0; sc.lastReceived.Load() == 0; i++ {
		if i == 100 {
			t.Fatal("no receive timestamp after 100 reads: SO_TIMESTAMPNS does not work here")
		}
		exchange("warm-up", 10*time.Millisecond)
	}
	sentAt, readAt := exchange("answer", 100*time.Millisecond) // read late, as a busy client would
	received := time.Unix(0, sc.lastReceived.Load())
	if received.Before(sentAt) || readAt.Sub(received) < 90*time.Millisecond {
		t.Errorf("receive time %v: want just after the write at %v, not near the read at %v", received, sentAt, readAt)
	}
}

// The repository's test certificates (scripts/fixtures/make-tls-certs.sh).
func tlsFixture(name string) string {
	return filepath.Join("..", "..", "test", "fixtures", "tls", name+".pem")
}

func TestTLSWithAClientCertificate(t *testing.T) {
	pair, err := tls.LoadX509KeyPair(tlsFixture("server"), tlsFixture("server-key"))
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(tlsFixture("ca"))
	if err != nil {
		t.Fatal(err)
	}
	clients := x509.NewCertPool()
	clients.AppendCertsFromPEM(ca)
	creds := credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: clients, ClientAuth: tls.RequireAndVerifyClientCert})
	addr := startTestServer(t, &testServer{}, grpc.Creds(creds))
	window := []string{"-concurrency", "2", "-warmup", "0s", "-duration", "200ms", "-timeout", "2s"}

	cfg, request := testConfig(t, addr, append(window, "-tls-ca", tlsFixture("ca"), "-tls-cert", tlsFixture("client"), "-tls-key", tlsFixture("client-key"))...)
	if r := runAgainst(t, cfg, request); r.Errors != 0 || r.Count == 0 {
		t.Fatalf("with a client certificate: %d calls, %d errors (%s)", r.Count, r.Errors, r.FirstError)
	}
	cfg, request = testConfig(t, addr, append(window, "-tls-ca", tlsFixture("ca"))...)
	if r := runAgainst(t, cfg, request); r.Count != 0 || r.Errors == 0 {
		t.Fatalf("without a client certificate: %d calls, %d errors; the server must refuse them", r.Count, r.Errors)
	}
	if _, err := parseFlags([]string{"-addr", addr, "-method", "/a/b", "-request", "f", "-tls-cert", "c"}); err == nil || !strings.Contains(err.Error(), "-tls-cert and -tls-key go together") {
		t.Fatalf("want the TLS flag problem, got %v", err)
	}
}

func TestParseFlagsListsEveryProblem(t *testing.T) {
	_, err := parseFlags([]string{"-method", "Predict", "-concurrency", "0"})
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"-addr", "-method", "-request", "-concurrency"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestPercentileIsNearestRank(t *testing.T) {
	values := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0, 1}, {0.5, 5}, {0.9, 9}, {0.99, 10}, {1, 10}} {
		if got := percentile(values, tc.q); got != tc.want {
			t.Errorf("percentile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
}

func TestSummarizeEmptyWindow(t *testing.T) {
	r := summarize(nil, time.Second)
	if r.Count != 0 || r.RPS != 0 || r.Latency != (latencyStats{}) {
		t.Errorf("summarize(nil) = %+v, want zeros", r)
	}
}
