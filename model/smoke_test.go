package model

import (
	"acksim/history"
	"slices"
	"strings"
	"testing"

	"acksim/sim"
)

func baseSpec(profile string) Spec {
	pr, _ := LookupProfile(profile)
	pc := DefaultProducer(pr)
	return Spec{
		Profile: pr, Brokers: 3, Topic: "events", Partitions: 1, RF: 3,
		Broker: DefaultBroker(pr), OS: DefaultOS(), Disk: DiskConfig{Fsync: 2 * sim.Millisecond, FsyncJitter: sim.Millisecond},
		Net:       NetConfig{Latency: 500 * sim.Microsecond, Jitter: 200 * sim.Microsecond},
		Producers: []ProducerSpec{{Name: "p1", Cfg: pc, WL: Workload{Records: 2000, Rate: 1000, RecordSize: 100, OnError: "give-up"}}},
		Seed:      1,
		// Tests check the invariants after every event.
		CheckEveryEvent: true,
	}
}

func runPlain(t *testing.T, s Spec, faults func(c *Cluster)) (*Cluster, *history.Run) {
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
				if r.Outcome == history.OutcomeAcked {
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

// Each invariant fires when its state is broken by hand (they would
// otherwise be tests that cannot fail), and names what broke.
func TestInvariantsFire(t *testing.T) {
	cases := []struct {
		name    string
		breakIt func(c *Cluster)
		want    string
	}{
		{"HW past LEO", func(c *Cluster) { c.brokers[1].Replica(0).HW = c.brokers[1].Replica(0).Log.LEO() + 1 }, "HW"},
		{"epoch goes back", func(c *Cluster) { c.d.(*isrDesign).lastEpoch[0] = c.ctl.parts[0].epoch + 1 }, "went back"},
		{"empty ISR", func(c *Cluster) { c.ctl.parts[0].isr = nil }, "empty ISR"},
		{"two leaders", func(c *Cluster) {
			l := c.ctl.parts[0].leader
			for _, id := range c.ctl.parts[0].replicas {
				if id != l {
					c.brokers[id].Replica(0).role = leading
					c.brokers[id].Replica(0).epoch = c.brokers[l].Replica(0).epoch
					return
				}
			}
		}, "both lead"},
		{"follower past leader", func(c *Cluster) {
			l := c.ctl.parts[0].leader
			lr := c.brokers[l].Replica(0)
			for _, id := range c.ctl.parts[0].replicas {
				if r := c.brokers[id].Replica(0); id != l {
					bt := &history.Batch{Base: r.Log.LEO(), Epoch: lr.epoch, PID: -1, Records: make([]history.RecordID, lr.Log.LEO()-r.Log.LEO()+5)}
					r.Log.append(bt, c.E.Now())
					return
				}
			}
		}, "past leader"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := New(baseSpec("3.9"))
			c.Start()
			c.E.RunUntil(sim.Time(sim.Second))
			c.checkInvariants() // holds before
			tc.breakIt(c)
			defer func() {
				ie, ok := recover().(*InvariantError)
				if !ok || !strings.Contains(ie.What, tc.want) {
					t.Fatalf("got %v, want an invariant error about %q", ie, tc.want)
				}
				if ie.Seed != 1 || ie.Step == 0 {
					t.Errorf("the error must name the seed and step: %v", ie)
				}
			}()
			c.E.RunSteps(1) // checked after the next event
		})
	}
}

// KIP-903: the controller refuses an ISR expansion naming a broker epoch
// that is not the broker's current one (a fetch made by an incarnation
// that may have lost its disk since), with INELIGIBLE_REPLICA; without the
// rule (before 3.5, ZooKeeper) it accepts it.
func TestISRExpansionWithStaleBrokerEpoch(t *testing.T) {
	for _, rule := range []bool{true, false} {
		s := baseSpec("3.9")
		s.Broker.IneligibleStaleEpoch = rule
		c := New(s)
		c.Start()
		c.E.RunUntil(sim.Time(sim.Second))
		p := c.ctl.parts[0]
		l := p.leader
		f := p.replicas[1]
		if f == l {
			f = p.replicas[0]
		}
		stale := c.ctl.brokers[f].epoch
		c.BrokerByID(f).DiskLoss()
		c.BrokerByID(f).Restart()
		c.E.RunUntil(sim.Time(2 * sim.Second)) // registered again and unfenced
		// Whatever the catch-up did since, take f out of the ISR so that the
		// request below adds it.
		np := c.ctl.parts[0].clone()
		np.isr = remove(np.isr, f)
		np.partitionEpoch++
		c.ctl.parts[0] = np
		p = np
		if slices.Contains(p.isr, f) || c.ctl.brokers[f].epoch == stale || !c.ctl.live(f) {
			t.Fatalf("setup: isr %v, epoch %d (stale %d), live %v", p.isr, c.ctl.brokers[f].epoch, stale, c.ctl.live(f))
		}
		isr := append(slices.Clone(p.isr), f)
		slices.Sort(isr)
		epochs := make([]int64, len(isr))
		for i, id := range isr {
			epochs[i] = c.ctl.brokers[id].epoch
			if id == f {
				epochs[i] = stale
			}
		}
		resp := c.ctl.onAlterPartition(&alterPartition{tp: 0, leader: l, epoch: p.epoch, partitionEpoch: p.partitionEpoch, isr: isr, brokerEpochs: epochs})
		if want := map[bool]ErrCode{true: ErrIneligibleReplica, false: ErrNone}[rule]; resp.err != want {
			t.Errorf("rule %v: got %s, want %s", rule, resp.err, want)
		}
	}
}

// Before 0.11, OFFSET_OUT_OF_RANGE (the leader's log ends below the
// follower's) truncates the follower to the leader's log end when unclean
// election is allowed, and halts its broker otherwise
// (ReplicaFetcherThread.handleOffsetOutOfRange, 0.8 to 0.10).
func TestPre011OffsetOutOfRange(t *testing.T) {
	for _, unclean := range []bool{true, false} {
		s := baseSpec("0.10")
		s.Broker.UncleanElection = unclean
		c := New(s)
		c.Start()
		c.E.RunUntil(sim.Time(sim.Second))
		l := c.Leader(0)
		var f *Broker
		for _, id := range c.Replicas(0) {
			if id != l {
				f = c.BrokerByID(id)
				break
			}
		}
		r := f.Replica(0)
		leo := r.Log.LEO()
		if leo < 10 {
			t.Fatalf("setup: follower LEO %d", leo)
		}
		c.h.trunc.outOfRange(r, leo-5)
		switch {
		case unclean && (r.Log.LEO() != leo-5 || !f.Up()):
			t.Errorf("unclean allowed: LEO %d (want %d), up %v", r.Log.LEO(), leo-5, f.Up())
		case !unclean && (f.Up() || r.Log.LEO() != leo):
			t.Errorf("unclean off: up %v (want halted), LEO %d (want %d, untouched)", f.Up(), r.Log.LEO(), leo)
		}
	}
}
