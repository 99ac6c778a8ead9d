package model_test

import (
	"strings"
	"testing"

	"acksim/model"
	"acksim/model/check"
	"acksim/sim"
)

func spec(profile string, acks int, minISR int) model.Spec {
	pr, _ := model.LookupProfile(profile)
	pc := model.DefaultProducer(pr)
	pc.Acks = acks
	pc.Idempotence = pc.Idempotence && acks == -1
	bc := model.DefaultBroker(pr)
	bc.MinISR = minISR
	return model.Spec{
		Profile: pr, Brokers: 3, Topic: "events", Partitions: 1, RF: 3,
		Broker: bc, OS: model.DefaultOS(), Disk: model.DiskConfig{Fsync: 2 * sim.Millisecond, FsyncJitter: sim.Millisecond},
		Net:       model.NetConfig{Latency: 500 * sim.Microsecond, Jitter: 200 * sim.Microsecond},
		Producers: []model.ProducerSpec{{Name: "p1", Cfg: pc, WL: model.Workload{Records: 3000, Rate: 1000, RecordSize: 100, OnError: "give-up"}}},
		Seed:      7,
		// Tests check the invariants after every event (benchmarks turn it off).
		CheckEveryEvent: true,
	}
}

type step struct {
	at sim.Duration
	do func(c *model.Cluster)
}

func run(t *testing.T, s model.Spec, steps ...step) (*model.Cluster, *check.Verdict) {
	t.Helper()
	c := model.New(s)
	c.Start()
	for _, st := range steps {
		c.E.RunUntil(sim.Time(st.at))
		st.do(c)
	}
	c.E.RunUntil(sim.Time(6 * sim.Second))
	c.BeginRecovery()
	ok := c.E.RunWhile(c.E.Now().Add(5*sim.Minute), func() bool { return !c.Converged() })
	v := check.Run(c.History(ok))
	if !ok {
		t.Errorf("recovery did not converge")
	}
	return c, v
}

func leader(c *model.Cluster) *model.Broker { return c.BrokerByID(c.Leader(0)) }

// Followers stop fetching (cut from the leader), the leader keeps acking,
// then dies; a stale follower still in the ISR is elected.
func staleElection(acks int) []step {
	var l int
	return []step{
		{1 * sim.Second, func(c *model.Cluster) {
			l = c.Leader(0)
			for _, id := range c.BrokerIDs() {
				if id != l {
					c.Net.CutBoth(c.BrokerByID(l).Node, c.BrokerByID(id).Node)
				}
			}
		}},
		{1500 * sim.Millisecond, func(c *model.Cluster) { c.BrokerByID(l).Crash() }},
	}
}

func TestStaleISRElectionLosesAcks1(t *testing.T) {
	_, v := run(t, spec("3.9", 1, 1), staleElection(1)...)
	if v.Anomalies.LostWrite == 0 {
		t.Fatalf("acks=1 with a stale ISR election lost nothing: %+v", v.Anomalies)
	}
	if len(v.Explanations) == 0 || !strings.Contains(strings.Join(v.Explanations[0].Story, "\n"), "truncated") {
		t.Fatalf("explanation does not mention the truncation: %+v", v.Explanations)
	}
	t.Logf("lost %d; %s", v.Anomalies.LostWrite, strings.Join(v.Explanations[0].Story, "\n  "))
}

func TestStaleISRElectionSafeAcksAll(t *testing.T) {
	_, v := run(t, spec("3.9", -1, 2), staleElection(-1)...)
	if v.Anomalies.LostWrite != 0 {
		t.Fatalf("acks=all lost %d: %+v", v.Anomalies.LostWrite, v.Explanations)
	}
	if v.Records.Acked == 0 {
		t.Fatal("nothing acked")
	}
}

func TestClusterPowerLossNoFlushLoses(t *testing.T) {
	_, v := run(t, spec("3.9", -1, 2), step{2 * sim.Second, func(c *model.Cluster) {
		for _, id := range c.BrokerIDs() {
			c.BrokerByID(id).PowerLoss()
		}
	}})
	if v.Anomalies.LostWrite == 0 {
		t.Fatalf("cluster power loss without flush lost nothing: %+v", v)
	}
}

func TestClusterPowerLossFlushEveryMessageSafe(t *testing.T) {
	s := spec("3.9", -1, 2)
	s.Broker.FlushIntervalMessages = 1
	_, v := run(t, s, step{2 * sim.Second, func(c *model.Cluster) {
		for _, id := range c.BrokerIDs() {
			c.BrokerByID(id).PowerLoss()
		}
	}})
	if v.Anomalies.LostWrite != 0 || v.Records.Acked == 0 {
		t.Fatalf("flush.messages=1 lost %d (acked %d)", v.Anomalies.LostWrite, v.Records.Acked)
	}
}

func TestClusterProcessCrashSafe(t *testing.T) {
	_, v := run(t, spec("3.9", -1, 2), step{2 * sim.Second, func(c *model.Cluster) {
		for _, id := range c.BrokerIDs() {
			c.BrokerByID(id).Crash()
		}
	}})
	if v.Anomalies.LostWrite != 0 || v.Records.Acked == 0 {
		t.Fatalf("process crash lost %d (acked %d): %+v", v.Anomalies.LostWrite, v.Records.Acked, v.Explanations)
	}
}
