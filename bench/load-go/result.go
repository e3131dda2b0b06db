package main

import (
	"math"
	"slices"
	"time"
)

// result is what grpc-load prints: one JSON object. Latencies are in milliseconds.
type result struct {
	Count       int          `json:"count"`
	RPS         float64      `json:"rps"`
	WindowMs    float64      `json:"windowMs"`
	Latency     latencyStats `json:"latencyMs"`
	Errors      int64        `json:"errors"`
	FirstError  string       `json:"firstError,omitempty"`
	CPUMs       float64      `json:"cpuMs"`
	Connections int          `json:"connections"`
	Concurrency int          `json:"concurrency"`
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
	var sum time.Duration
	for _, l := range latencies {
		sum += l
	}
	r.Latency = latencyStats{
		P50:  ms(percentile(latencies, 0.5)),
		P90:  ms(percentile(latencies, 0.9)),
		P99:  ms(percentile(latencies, 0.99)),
		Mean: ms(sum) / float64(len(latencies)),
		Max:  ms(latencies[len(latencies)-1]),
	}
	return r
}

// percentile is the nearest-rank percentile (q in 0..1) of ascending-sorted, non-empty values.
func percentile(sorted []time.Duration, q float64) time.Duration {
	rank := int(math.Ceil(q * float64(len(sorted))))
	rank = min(len(sorted), max(1, rank))
	return sorted[rank-1]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
