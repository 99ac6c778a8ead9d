package model

import (
	"testing"

	"acksim/sim"
)

func baseSpec(profile string) Spec {
	pr := Profiles[profile]
	pc := DefaultProducer(pr)
	return Spec{
		Profile: pr, Brokers: 3, Topic: "events", Partitions: 1, RF: 3,
		Broker: DefaultBroker(pr), OS: DefaultOS(), Disk: DiskConfig{Fsync: 2 * sim.Millisecond, FsyncJitter: sim.Millisecond},
		Net:       NetConfig{Latency: 500 * sim.Microsecond, Jitter: 200 * sim.Microsecond},
		Producers: []ProducerSpec{{Name: "p1", Cfg: pc, WL: Workload{Records: 2000, Rate: 1000, RecordSize: 100, OnError: "give-up"}}},
		Seed:      1,
	}
}

func runPlain(t *testing.T, s Spec, faults func(c *Cluster)) (*Cluster, *History) {
	t.Helper()
	c := New(s)
	c.Start()
	if faults != nil {
		faults(c)
	}
	c.E.RunUntil(sim.Time(5 * sim.Second))
	c.BeginRecovery()
	ok := c.E.RunWhile(c.E.Now().Add(3*sim.Minute), func() bool { return !c.Converged() })
	return c, c.History(ok)
}

func TestSmokeNoFaults(t *testing.T) {
	for _, prof := range ProfileNames() {
		t.Run(prof, func(t *testing.T) {
			c, h := runPlain(t, baseSpec(prof), nil)
			if !h.Converged {
				t.Fatalf("did not converge; leader=%d", c.Leader(0))
			}
			acked := 0
			for _, r := range h.Records {
				if r.Outcome == OutcomeAcked {
					acked++
				}
			}
			if acked != 2000 {
				t.Fatalf("acked %d of 2000", acked)
			}
			n := 0
			for _, b := range h.Partitions[0].Committed {
				n += len(b.Records)
			}
			if n != 2000 {
				t.Fatalf("committed log holds %d records, want 2000", n)
			}
			t.Logf("%s: steps=%d end=%v", prof, c.E.Steps(), c.E.Now())
		})
	}
}
