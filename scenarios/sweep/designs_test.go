package sweep

import (
	"acksim/sim"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const designs = `name: designs
base: baseline
trials: 4
seed: 3
set: [run.duration=10s, min.insync.replicas=2]
grid:
  acks: ["1", "all"]
  min.insync.replicas: ["1", "2"]
  replication:
    - kafka
    - raft write.caching=true
    - rocketmq flushDiskType=SYNC_FLUSH
faults:
  crash: {per_hour: 400, for: 3s}
  power-loss: {per_hour: 200}
`

// The replication axis is sparse: each design's cells take only the axes
// it has, and a set entry applies to the designs that have it.
func TestReplicationAxisCells(t *testing.T) {
	s, err := Parse("designs.yaml", []byte(designs))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range s.Cells() {
		got = append(got, strings.Join(s.CellSettings(c), " "))
	}
	k := "run.duration=10s min.insync.replicas=2 "
	r := "run.duration=10s "
	want := []string{
		k + "acks=1 min.insync.replicas=1 replication=kafka", k + "acks=1 min.insync.replicas=2 replication=kafka",
		k + "acks=all min.insync.replicas=1 replication=kafka", k + "acks=all min.insync.replicas=2 replication=kafka",
		r + "acks=1 replication=raft write.caching=true", r + "acks=all replication=raft write.caching=true",
		r + "replication=rocketmq flushDiskType=SYNC_FLUSH",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("cells (-want +got):\n%s", diff)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	// A set entry of no design in the grid is an error at its line.
	bad := strings.Replace(designs, "min.insync.replicas=2]", "flushDiskType=SYNC_FLUSH]", 1)
	bad = strings.Replace(bad, "    - rocketmq flushDiskType=SYNC_FLUSH\n", "", 1)
	s, err = Parse("bad.yaml", []byte(bad))
	if err == nil {
		err = s.Check()
	}
	if err == nil || !strings.Contains(err.Error(), "bad.yaml:5") || !strings.Contains(err.Error(), "no replication design of the grid") {
		t.Errorf("got %v; want an error at bad.yaml:5 saying the entry belongs to no design", err)
	}
}

// Adding designs to a grid leaves the Kafka cells' trials as they were:
// the same schedules, seeds and results.
func TestReplicationAxisKeepsKafkaCells(t *testing.T) {
	with, err := Parse("designs.yaml", []byte(designs))
	if err != nil {
		t.Fatal(err)
	}
	without, err := Parse("kafka.yaml", []byte(strings.Replace(designs, "    - raft write.caching=true\n    - rocketmq flushDiskType=SYNC_FLUSH\n", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	_, a, err := Run(with, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, b, err := Run(without, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	strip := func(ts []Trial, cells int) []Trial {
		var out []Trial
		for _, tr := range ts {
			if tr.Cell < cells {
				out = append(out, tr)
			}
		}
		return out
	}
	if diff := cmp.Diff(strip(b, 4), strip(a, 4)); diff != "" {
		t.Errorf("Kafka cells differ with other designs in the grid (-without +with):\n%s", diff)
	}
	if len(a) != 7*4 {
		t.Errorf("%d trials; want 28", len(a))
	}
}

// The exact McNemar test against values computed by hand: all 10
// discordant pairs one way gives 2·(1/2)^10; a tie gives 1.
func TestMcNemar(t *testing.T) {
	for _, c := range []struct {
		b, c int
		want float64
	}{{10, 0, 2.0 / 1024}, {0, 10, 2.0 / 1024}, {5, 5, 1}, {0, 0, 1}, {6, 1, 2 * 8.0 / 128}} {
		if got := McNemar(c.b, c.c); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("McNemar(%d, %d) = %g; want %g", c.b, c.c, got, c.want)
		}
	}
}

// Pooled latency percentiles come from the trials' histograms: every
// record of every trial counts, to within a bucket (25%).
func TestPooledLatency(t *testing.T) {
	var lat []sim.Duration
	for i := 1; i <= 1000; i++ {
		lat = append(lat, sim.Duration(i)*sim.Millisecond) // 1..1000 ms
	}
	h := histogram(lat[:500])
	h2 := histogram(lat[500:])
	sums := Summarize([]Cell{{}}, []Trial{{Cell: 0, LatencyHist: h}, {Cell: 0, LatencyHist: h2}})
	for _, c := range []struct{ got, want float64 }{{sums[0].PooledP50Ms, 500}, {sums[0].PooledP99Ms, 990}} {
		if c.got < c.want || c.got > c.want*1.25 {
			t.Errorf("pooled percentile %.1f; want within a bucket above %.0f", c.got, c.want)
		}
	}
	if histQuantile(nil, 0.5) != 0 {
		t.Errorf("an empty histogram has no quantile")
	}
}
