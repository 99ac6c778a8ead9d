package model_test

import (
	"runtime/debug"
	"testing"

	"acksim/model"
	"acksim/sim"
)

// BenchmarkCluster60s simulates 60 s of a 3-broker, RF=3 cluster with one
// producer at 1,000 records/s (acks=all), and reports simulated seconds per
// wall-clock second.
//
// The GC runs at acksim's own setting (GOGC=400, set in cmd/acksim's main),
// so the figure is the binary's; run with -cpu 1 for one core.
func BenchmarkCluster60s(b *testing.B) { bench60s(b, spec("3.9", -1, 2)) }

// BenchmarkCluster60sRaft is the same cluster and workload on the Raft
// design (Redpanda's defaults: fsync before an entry counts).
func BenchmarkCluster60sRaft(b *testing.B) { bench60s(b, raftSpec(-1, false)) }

// BenchmarkCluster60sRaftWriteCaching: the Raft design with write caching.
func BenchmarkCluster60sRaftWriteCaching(b *testing.B) { bench60s(b, raftSpec(-1, true)) }

func bench60s(b *testing.B, s model.Spec) {
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	s.CheckEveryEvent = false // as acksim runs: invariants every 10 ms and at leadership changes
	s.Producers[0].WL = model.Workload{Duration: 60 * sim.Second, Rate: 1000, RecordSize: 100, OnError: "give-up"}
	var steps uint64
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c := model.New(s)
		c.Start()
		c.E.RunUntil(sim.Time(60 * sim.Second))
		steps += c.E.Steps()
	}
	b.ReportMetric(60*float64(b.N)/b.Elapsed().Seconds(), "sim-s/s")
	b.ReportMetric(float64(steps)/b.Elapsed().Seconds(), "events/s")
}
