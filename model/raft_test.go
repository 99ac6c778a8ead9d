package model_test

import (
	"testing"

	"acksim/model"
	"acksim/sim"
)

func raftSpec(acks int, writeCaching bool) model.Spec {
	s := spec("3.9", acks, 1)
	s.Replication = "raft"
	s.Broker.Raft.WriteCaching = writeCaching
	return s
}

func powerLossAll(at sim.Duration) step {
	return step{at, func(c *model.Cluster) {
		for _, id := range c.BrokerIDs() {
			c.BrokerByID(id).PowerLoss()
		}
	}}
}

func TestRaftNoFaults(t *testing.T) {
	for _, wc := range []bool{false, true} {
		c, v := run(t, raftSpec(-1, wc))
		if v.Records.Acked != 3000 || v.Anomalies.LostWrite != 0 || v.Anomalies.Divergence != 0 {
			t.Fatalf("write.caching=%v: %+v %+v (leader %d)", wc, v.Records, v.Anomalies, c.Leader(0))
		}
		t.Logf("write.caching=%v: p50 %.2fms p99 %.2fms, %d steps", wc, v.LatencyMs.P50, v.LatencyMs.P99, c.E.Steps())
	}
}

// A whole-cluster power loss: Raft with fsync before the ack loses nothing;
// with write caching, what was only in page caches is gone.
func TestRaftClusterPowerLoss(t *testing.T) {
	_, v := run(t, raftSpec(-1, false), powerLossAll(2*sim.Second))
	if v.Anomalies.LostWrite != 0 || v.Records.Acked == 0 {
		t.Fatalf("raft with fsync lost %d (acked %d): %+v", v.Anomalies.LostWrite, v.Records.Acked, v.Explanations)
	}
	_, v = run(t, raftSpec(-1, true), powerLossAll(2*sim.Second))
	if v.Anomalies.LostWrite == 0 {
		t.Fatalf("raft with write caching lost nothing in a cluster power loss: %+v", v.Anomalies)
	}
	t.Logf("write caching lost %d", v.Anomalies.LostWrite)
}

// A leader crash: Raft elects a follower that holds every committed entry.
func TestRaftLeaderCrash(t *testing.T) {
	for _, wc := range []bool{false, true} {
		_, v := run(t, raftSpec(-1, wc), step{2 * sim.Second, func(c *model.Cluster) { leader(c).Crash() }})
		if v.Anomalies.LostWrite != 0 || v.Records.Acked < 2000 {
			t.Fatalf("write.caching=%v: lost %d, acked %d", wc, v.Anomalies.LostWrite, v.Records.Acked)
		}
	}
}

// acks=1 is answered at the leader's append: a leader cut off and then
// crashed loses what it acknowledged alone.
func TestRaftAcks1LeaderIsolatedLoses(t *testing.T) {
	var l int
	_, v := run(t, raftSpec(1, false),
		step{1 * sim.Second, func(c *model.Cluster) {
			l = c.Leader(0)
			for _, id := range c.BrokerIDs() {
				if id != l {
					c.Net.CutBoth(c.BrokerByID(l).Node, c.BrokerByID(id).Node)
				}
			}
		}},
		step{1500 * sim.Millisecond, func(c *model.Cluster) { c.BrokerByID(l).Crash() }})
	if v.Anomalies.LostWrite == 0 {
		t.Fatalf("raft acks=1 with an isolated leader lost nothing: %+v", v.Anomalies)
	}
}
