package check

import (
	"strings"
	"testing"

	"acksim/history"
	"acksim/sim"
)

// cleanRun builds a clean run: producer 0 sent n records, all acked, all in
// partition 0 at offsets 0..n-1 in batches of 2, replicated to 3 brokers,
// and processed once by a consumer that committed everything.
func cleanRun(n int) *history.Run {
	h := &history.Run{TopicName: "t", Converged: true}
	var batches []*history.Batch
	for i := 0; i < n; i++ {
		h.Records = append(h.Records, history.Record{Seq: int32(i), Outcome: history.OutcomeAcked, Offset: int64(i), AckSite: int32(i), Sent: sim.Time(i), Done: sim.Time(i + 1)})
		h.AckSites = append(h.AckSites, history.AckSite{Broker: 1, Quorum: -1})
	}
	for i := 0; i < n; i += 2 {
		b := &history.Batch{Base: int64(i)}
		for j := i; j < i+2 && j < n; j++ {
			b.Records = append(b.Records, history.RecordID(j+1))
		}
		batches = append(batches, b)
	}
	p := history.PartitionFinal{TP: 0, Leader: 1, Committed: batches, HW: int64(n), Group: int64(n)}
	for id := 1; id <= 3; id++ {
		p.Replicas = append(p.Replicas, history.ReplicaFinal{Broker: id, HW: int64(n), Batches: batches})
	}
	h.Partitions = []history.PartitionFinal{p}
	for i := 0; i < n; i++ {
		h.Processed = append(h.Processed, history.Processed{TP: 0, Offset: int64(i), ID: history.RecordID(i + 1)})
	}
	return h
}

// rewrite replaces the committed log (and every replica's) with the given
// record ids, one per batch, at consecutive offsets.
func rewrite(h *history.Run, ids ...history.RecordID) {
	var bs []*history.Batch
	for i, id := range ids {
		bs = append(bs, &history.Batch{Base: int64(i), Records: []history.RecordID{id}})
	}
	p := &h.Partitions[0]
	p.Committed = bs
	p.HW = int64(len(ids))
	for i := range p.Replicas {
		p.Replicas[i].Batches = bs
		p.Replicas[i].HW = p.HW
	}
}

func TestCleanHistoryHasNoAnomalies(t *testing.T) {
	v := Run(cleanRun(10))
	if v.Anomalies != (Anomalies{}) {
		t.Fatalf("clean history flagged: %+v", v.Anomalies)
	}
	if v.Records.Acked != 10 || len(v.Explanations) != 0 {
		t.Fatalf("records %+v explanations %v", v.Records, v.Explanations)
	}
}

func TestDroppedAckedRecordIsLostWrite(t *testing.T) {
	h := cleanRun(6)
	rewrite(h, 1, 2, 3, 5, 6) // record 4 dropped
	h.Processed = h.Processed[:3]
	v := Run(h)
	if v.Anomalies.LostWrite != 1 || len(v.Lost) != 1 || v.Lost[0] != 4 {
		t.Fatalf("lost = %v (%+v), want record 4", v.Lost, v.Anomalies)
	}
	if len(v.Explanations) == 0 || v.Explanations[0].Anomaly != "lost-write" {
		t.Fatalf("no explanation: %+v", v.Explanations)
	}
}

func TestDroppedUnackedRecordIsOnlyInformational(t *testing.T) {
	h := cleanRun(4)
	h.Records[3].Outcome = history.OutcomeUnknown
	rewrite(h, 1, 2, 3)
	v := Run(h)
	if v.Anomalies.LostWrite != 0 || v.Anomalies.UnackedLost != 1 {
		t.Fatalf("%+v", v.Anomalies)
	}
}

func TestDuplicatedRecordIsFlagged(t *testing.T) {
	h := cleanRun(4)
	rewrite(h, 1, 2, 2, 3, 4)
	v := Run(h)
	if v.Anomalies.Duplicate != 1 || v.Anomalies.LostWrite != 0 {
		t.Fatalf("%+v", v.Anomalies)
	}
	if v.Anomalies.Reorder != 0 {
		t.Fatalf("a duplicate's second copy counted as a reorder: %+v", v.Anomalies)
	}
}

func TestMovedRecordIsReorder(t *testing.T) {
	h := cleanRun(5)
	rewrite(h, 1, 3, 2, 4, 5)
	v := Run(h)
	if v.Anomalies.Reorder != 1 || v.Anomalies.LostWrite != 0 || v.Anomalies.Duplicate != 0 {
		t.Fatalf("%+v", v.Anomalies)
	}
}

func TestConsumerLossAndDuplicate(t *testing.T) {
	h := cleanRun(6)
	h.Processed = append(h.Processed[:2], h.Processed[4:]...) // offsets 2,3 committed, never processed
	v := Run(h)
	if v.Anomalies.ConsumerLoss != 2 {
		t.Fatalf("consumer loss %+v", v.Anomalies)
	}
	h = cleanRun(6)
	h.Processed = append(h.Processed, h.Processed[3])
	if v := Run(h); v.Anomalies.ConsumerDuplicate != 1 || v.Anomalies.ConsumerLoss != 0 {
		t.Fatalf("consumer duplicate %+v", v.Anomalies)
	}
	// Processed records past the committed offset are not a loss.
	h = cleanRun(6)
	h.Partitions[0].Group = 2
	h.Processed = h.Processed[:2]
	if v := Run(h); v.Anomalies.ConsumerLoss != 0 {
		t.Fatalf("records beyond the committed offset counted as lost: %+v", v.Anomalies)
	}
}

func TestDivergenceBelowHW(t *testing.T) {
	h := cleanRun(4)
	p := &h.Partitions[0]
	other := []*history.Batch{{Base: 0, Records: []history.RecordID{1, 2}}, {Base: 2, Records: []history.RecordID{9, 4}}}
	p.Replicas[2].Batches = other
	if v := Run(h); v.Anomalies.Divergence != 1 {
		t.Fatalf("divergence %+v", v.Anomalies)
	}
	p.Replicas[2].HW = 2 // the disagreement is above this replica's HW: allowed
	if v := Run(h); v.Anomalies.Divergence != 0 {
		t.Fatalf("divergence above HW flagged: %+v", v.Anomalies)
	}
}

func TestInconsistentRead(t *testing.T) {
	h := cleanRun(4)
	rewrite(h, 1, 2, 4) // offset 2 now holds record 4; record 3 was read there
	h.Records[2].Outcome = history.OutcomeUnknown
	h.Processed = h.Processed[:3]
	h.Partitions[0].Group = 3
	v := Run(h)
	if v.Anomalies.InconsistentRead != 1 {
		t.Fatalf("%+v", v.Anomalies)
	}
}

func TestPercentiles(t *testing.T) {
	var ds []sim.Duration
	for i := 1; i <= 1000; i++ {
		ds = append(ds, sim.Duration(i)*sim.Millisecond)
	}
	p50, p99, p999 := latencies(ds)
	if p50 != 500 || p99 != 990 || p999 != 999 {
		t.Fatalf("p50=%v p99=%v p999=%v", p50, p99, p999)
	}
	if Percentile(nil, 0.5) != 0 {
		t.Fatal("empty percentile")
	}
}

func TestExplanationNamesTheRemoval(t *testing.T) {
	h := cleanRun(4)
	h.Quorums = [][]int{{1}}
	h.AckSites[2].Quorum = 0
	h.AckSites[2].At = 5
	rm := &history.Batch{Base: 2, Records: []history.RecordID{3}}
	h.Removals = []history.Removal{{At: 10, Broker: 1, TP: 0, Verb: history.Truncated, Why: "to the end of epoch 0", From: 2, To: 2, Batches: []*history.Batch{rm}}}
	h.Events = []history.Event{{At: 8, Broker: 2, TP: 0, Kind: history.Elect, Text: "broker 2 elected leader of t-0 (epoch 1, unclean, ISR [2])"}}
	rewrite(h, 1, 2, 4)
	v := Run(h)
	if len(v.Explanations) != 1 {
		t.Fatalf("explanations: %+v", v.Explanations)
	}
	story := v.Explanations[0].Story
	want := []string{"acknowledged", "elected", "truncated", "not in the committed log"}
	if len(story) != len(want) {
		t.Fatalf("story %q", story)
	}
	for i, w := range want {
		if !contains(story[i], w) {
			t.Errorf("line %d %q lacks %q", i, story[i], w)
		}
	}
}

func contains(s, sub string) bool { return len(s) >= len(sub) && (s == sub || indexOf(s, sub) >= 0) }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// BenchmarkCheckers runs every checker over a 1,000,000-record history.
func BenchmarkCheckers(b *testing.B) {
	h := cleanRun(1_000_000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Run(h)
	}
	b.ReportMetric(float64(len(h.Records))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// A record can leave one replica before another acknowledges it (the
// removal is earlier than the ack): its story has the removal and no
// events, and the explanation does not fail. Found by the swarm test.
func TestExplanationWithRemovalBeforeAck(t *testing.T) {
	h := cleanRun(4)
	h.AckSites[2].At = 20
	rm := &history.Batch{Base: 2, Records: []history.RecordID{3}}
	h.Removals = []history.Removal{{At: 10, Broker: 2, TP: 0, Verb: history.Lost, Why: "page cache lost in a power failure", From: 2, To: 2, Batches: []*history.Batch{rm}}}
	h.Events = []history.Event{{At: 5, Broker: 2, TP: 0, Kind: history.PowerLoss, Text: "broker 2 lost power"},
		{At: 15, Broker: 1, TP: 0, Kind: history.Crash, Text: "broker 1 crashed"}, {At: 25, Broker: 3, TP: 0, Kind: history.Crash, Text: "broker 3 crashed"}}
	rewrite(h, 1, 2, 4)
	v := Run(h)
	if len(v.Explanations) != 1 {
		t.Fatalf("explanations: %+v", v.Explanations)
	}
	story := strings.Join(v.Explanations[0].Story, "\n")
	if !strings.Contains(story, "lost offsets 2-2") || strings.Contains(story, "crashed") {
		t.Fatalf("story:\n%s", story)
	}
}

// A partition that ended offline: acknowledged records a replica still
// holds are stranded, not lost; those no replica holds are lost.
func TestStrandedNotLost(t *testing.T) {
	h := cleanRun(6)
	p := &h.Partitions[0]
	p.Leader, p.Committed, p.HW = -1, nil, 0
	// Broker 1 keeps records 1..4; the others lost everything.
	p.Replicas[0].Batches = p.Replicas[0].Batches[:2] // batches of two records
	for i := 1; i < len(p.Replicas); i++ {
		p.Replicas[i].Batches = nil
	}
	v := Run(h)
	if v.Stranded != 4 || v.Anomalies.LostWrite != 2 {
		t.Fatalf("stranded %d lost %d, want 4 and 2", v.Stranded, v.Anomalies.LostWrite)
	}
	found := false
	for _, e := range v.Explanations {
		found = found || e.Anomaly == "stranded" && e.Count == 4
	}
	if !found {
		t.Fatalf("no explanation of the stranded records: %+v", v.Explanations)
	}
}
