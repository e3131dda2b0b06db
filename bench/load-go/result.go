package main

import (
	"math"
	"slices"
	"time"
)

// result is what grpc-load prints: one JSON object. Latencies are in milliseconds.
type result struct {
	Count    int          `json:"count"`
	RPS      float64      `json:"rps"`
	WindowMs float64      `json:"windowMs"`
	Latency  latencyStats `json:"latencyMs"`
	// SocketLatency: from the start of each call to the kernel's receive time of its answer
	// (-socket-timestamps only), so without the client's own wait for a CPU after that.
	SocketLatency *latencyStats `json:"socketLatencyMs,omitempty"`
	Errors        int64         `json:"errors"`
	FirstError    string        `json:"firstError,omitempty"`
	CPUMs         float64       `json:"cpuMs"`
	Connections   int           `json:"connections"`
	Concurrency   int           `json:"concurrency"`
}

type latencyStats struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Mean float64 `json:"mean"`
	Max  float64 `json:"max"`
}

// summarize sorts the latencies in place. Percentiles are nearest-rank, as in bench/lib/stats.ts,
// so Go and grpc-js rows are comparable. JSON has no NaN: an empty window gives zeros and count 0.
func summarize(latencies []time.Duration, window time.Duration) result {
	slices.Sort(latencies)
	r := result{Count: len(latencies), WindowMs: ms(window), RPS: float64(len(latencies)) / window.Seconds()}
	if len(latencies) == 0 {
		return r
	}
	r.Latency = statsOf(latencies)
	return r
}

// statsOf summarizes ascending-sorted, non-empty latencies.
func statsOf(sorted []time.Duration) latencyStats {
	var sum time.Duration
	for _, l := range sorted {
		sum += l
	}
	return latencyStats{
		P50:  ms(percentile(sorted, 0.5)),
		P90:  ms(percentile(sorted, 0.9)),
		P99:  ms(percentile(sorted, 0.99)),
		Mean: ms(sum) / float64(len(sorted)),
		Max:  ms(sorted[len(sorted)-1]),
	}
}

// withSocketLatencies adds the socket-level summary; an empty list (no timestamps) adds nothing.
func (r result) withSocketLatencies(latencies []time.Duration) result {
	if len(latencies) == 0 {
		return r
	}
	slices.Sort(latencies)
	s := statsOf(latencies)
	r.SocketLatency = &s
	return r
}

// percentile is the nearest-rank percentile (q in 0..1) of ascending-sorted, non-empty values.
func percentile(sorted []time.Duration, q float64) time.Duration {
	rank := int(math.Ceil(q * float64(len(sorted))))
	rank = min(len(sorted), max(1, rank))
	return sorted[rank-1]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
