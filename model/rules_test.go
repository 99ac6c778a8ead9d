package model_test

import (
	"acksim/history"
	"fmt"
	"slices"
	"strings"
	"testing"

	"acksim/model"
	"acksim/sim"
)

func runFor(c *model.Cluster, d sim.Duration) { c.E.RunUntil(c.E.Now().Add(d)) }

// cutLeaderOff cuts the leader of partition 0 from its followers (both
// ways; everyone still reaches the controller) and returns the leader.
func cutLeaderOff(c *model.Cluster) int {
	l := c.Leader(0)
	for _, id := range c.Replicas(0) {
		if id != l {
			c.Net.CutBoth(c.Node(l), c.Node(id))
		}
	}
	return l
}

func started(s model.Spec) *model.Cluster {
	c := model.New(s)
	c.Start()
	runFor(c, sim.Second)
	return c
}

// Partition.maybeIncrementLeaderHW: HW = min LEO over the ISR, so a stalled
// ISR member holds the HW back until it leaves the ISR.
func TestHWIsMinLEOOverISR(t *testing.T) {
	c := started(spec("3.9", 1, 1))
	l := c.Leader(0)
	f := c.Replicas(0)[1]
	c.BrokerByID(f).Pause()
	runFor(c, 2*sim.Second)
	lr, fr := c.BrokerByID(l).Replica(0), c.BrokerByID(f).Replica(0)
	if lr.Log.LEO() <= fr.Log.LEO() {
		t.Fatal("leader did not get ahead of the paused follower")
	}
	if lr.HW != fr.Log.LEO() {
		t.Fatalf("leader HW %d, want the paused ISR member's LEO %d", lr.HW, fr.Log.LEO())
	}
}

// replica.lag.time.max.ms, checked every lag/2: a stuck follower leaves the
// ISR between lag and 1.5 x lag after it last caught up.
func TestISRShrinksBetweenLagAndOneAndAHalfLag(t *testing.T) {
	s := spec("3.9", 1, 1)
	s.Broker.ReplicaLagTimeMax = 4 * sim.Second
	c := started(s)
	f := c.Replicas(0)[2]
	c.BrokerByID(f).Pause()
	paused := c.E.Now()
	c.E.RunWhile(paused.Add(10*sim.Second), func() bool { return slices.Contains(c.ISR(0), f) })
	took := c.E.Now().Sub(paused)
	if took < 4*sim.Second || took > 6*sim.Second+100*sim.Millisecond {
		t.Fatalf("ISR shrank %v after the follower stalled, want between 4s and 6s", took)
	}
}

// AlterPartition (KIP-497): an ISR change counts only once the controller
// accepts it; a leader cut off from the controller cannot shrink the ISR.
func TestIsolatedLeaderCannotShrinkISR(t *testing.T) {
	s := spec("3.9", 1, 1)
	s.Broker.ReplicaLagTimeMax = 2 * sim.Second
	c := started(s)
	l := c.Leader(0)
	c.Net.Isolate(c.Node(l))
	runFor(c, 5*sim.Second)
	lr := c.BrokerByID(l).Replica(0)
	if len(lr.ISR()) != 3 {
		t.Fatalf("isolated leader's ISR is %v, want all three (no controller to accept the shrink)", lr.ISR())
	}
	if !lr.IsLeader() {
		t.Fatal("the isolated leader should still believe it leads (a zombie) until it hears otherwise")
	}
}

// Controller election: a new leader only from the live ISR; without unclean
// election the partition goes offline when none is live.
// Source: PartitionLeaderElectionAlgorithms.offlinePartitionLeaderElection.
func TestNoUncleanElectionMeansOffline(t *testing.T) {
	s := spec("3.9", 1, 1)
	s.Broker.ReplicaLagTimeMax = 2 * sim.Second
	c := started(s)
	l := cutLeaderOff(c)
	c.E.RunWhile(c.E.Now().Add(10*sim.Second), func() bool { return c.ISRSize(0) > 1 })
	if c.ISRSize(0) != 1 {
		t.Fatalf("ISR %v did not shrink to the leader", c.ISR(0))
	}
	c.BrokerByID(l).Crash()
	runFor(c, 15*sim.Second)
	if c.Leader(0) != -1 {
		t.Fatalf("leader %d elected from out-of-sync replicas with unclean election off", c.Leader(0))
	}
	// With unclean election on, the same shape elects an out-of-sync replica.
	s.Broker.UncleanElection = true
	c = started(s)
	l = cutLeaderOff(c)
	c.E.RunWhile(c.E.Now().Add(10*sim.Second), func() bool { return c.ISRSize(0) > 1 })
	c.BrokerByID(l).Crash()
	runFor(c, 15*sim.Second)
	if c.Leader(0) == -1 || c.Leader(0) == l {
		t.Fatalf("unclean election did not elect a live out-of-sync replica (leader %d)", c.Leader(0))
	}
}

// KAFKA-15583 (3.7): the HW does not advance while |ISR| < min.insync.replicas.
func TestStrictMinISRHighWatermark(t *testing.T) {
	hw := map[string]int64{}
	for _, prof := range []string{"3.6", "3.9"} {
		s := spec(prof, 1, 2)
		s.Broker.ReplicaLagTimeMax = 2 * sim.Second
		c := started(s)
		l := cutLeaderOff(c)
		c.E.RunWhile(c.E.Now().Add(10*sim.Second), func() bool { return c.ISRSize(0) > 1 })
		before := c.BrokerByID(l).Replica(0).HW
		runFor(c, 2*sim.Second)
		hw[prof] = c.BrokerByID(l).Replica(0).HW - before
	}
	if hw["3.6"] == 0 || hw["3.9"] != 0 {
		t.Fatalf("HW advance with ISR below min.insync.replicas: %v; want >0 on 3.6, 0 on 3.9", hw)
	}
}

// KIP-101: before 0.11 a returning follower truncates to its HW; records
// above it that the new leader also lacks are gone, and records the new
// leader has are fetched again. From 0.11 it truncates by leader epoch.
func TestTruncationRuleByProfile(t *testing.T) {
	for _, prof := range []string{"0.10", "3.9"} {
		s := spec(prof, 1, 1)
		c := started(s)
		f := c.Replicas(0)[1]
		runFor(c, sim.Second)
		c.BrokerByID(f).Crash()
		runFor(c, 100*sim.Millisecond)
		c.BrokerByID(f).Restart()
		runFor(c, 3*sim.Second)
		var truncs int
		for _, e := range c.History(false).Events {
			if e.Kind == history.Truncated && e.Broker == f {
				truncs++
			}
		}
		if prof == "0.10" && truncs == 0 {
			t.Errorf("0.10: the restarted follower did not truncate to its high watermark")
		}
		if prof == "3.9" && truncs != 0 {
			t.Errorf("3.9: the restarted follower truncated although its log matches the leader's epoch")
		}
	}
}

// log.flush.interval.messages=1: every append is fsynced before it counts,
// on the leader and on followers.
func TestCountFlushMakesEveryAppendDurable(t *testing.T) {
	s := spec("3.9", -1, 2)
	s.Broker.FlushIntervalMessages = 1
	c := started(s)
	runFor(c, 2*sim.Second)
	for _, id := range c.Replicas(0) {
		r := c.BrokerByID(id).Replica(0)
		if r.HW > r.Log.Durable() {
			t.Errorf("broker %d: HW %d above its durable prefix %d", id, r.HW, r.Log.Durable())
		}
	}
}

// KIP-966 (4.1): the last replica standing. The followers shut down
// cleanly, so the ISR is {leader} and (with ELR) they join the eligible
// leader replicas. The leader loses power and comes back short. Without ELR
// it is elected (last ISR member) and acked data is lost; with ELR its
// unclean shutdown removes it and a clean ELR member is elected. (A broker
// killed with kill -9 also counts as an unclean shutdown and leaves the ELR.)
func TestELRSavesLastReplicaStanding(t *testing.T) {
	lost := map[string]int{}
	for _, prof := range []string{"3.9", "4.1"} {
		s := spec(prof, -1, 2)
		_, v := run(t, s,
			step{2 * sim.Second, func(c *model.Cluster) {
				for _, id := range c.Replicas(0)[1:] {
					c.BrokerByID(id).Shutdown()
				}
			}},
			step{14 * sim.Second, func(c *model.Cluster) { c.BrokerByID(c.Replicas(0)[0]).PowerLoss() }},
		)
		lost[prof] = v.Anomalies.LostWrite
	}
	if lost["3.9"] == 0 || lost["4.1"] != 0 {
		t.Fatalf("lost writes %v: want loss on 3.9 (no ELR), none on 4.1 (ELR)", lost)
	}
}

// buffer.memory full: send() blocks up to max.block.ms, then the record
// fails without being written; while blocked, the application sends nothing.
func TestMaxBlockWhenBufferFull(t *testing.T) {
	s := spec("3.9", -1, 2)
	s.Producers[0].Cfg.BufferMemory = 2000 // 20 records of 100 bytes
	s.Producers[0].Cfg.MaxBlock = 500 * sim.Millisecond
	c := started(s)
	l := c.Leader(0)
	for _, id := range c.Replicas(0) {
		if id != l {
			c.BrokerByID(id).Pause() // acks=all cannot complete: the buffer fills
		}
	}
	runFor(c, 3*sim.Second)
	var notWritten, why int
	for i, r := range c.Ledger().Records() {
		if r.Outcome == history.OutcomeNotWritten {
			notWritten++
			if h := c.History(false); strings.Contains(h.Why[history.RecordID(i+1)], "max.block.ms") {
				why++
			}
		}
	}
	sent := len(c.Ledger().Records())
	if notWritten == 0 || why != notWritten {
		t.Fatalf("%d not written (%d for max.block.ms) of %d", notWritten, why, sent)
	}
	// At 1000 records/s for 3s the application would send ~3000; blocked in
	// send() for 500 ms at a time it sends a handful.
	if sent > 1200 {
		t.Fatalf("application kept sending while blocked: %d records", sent)
	}
}

// request.timeout.ms: a produce request with no response is timed out
// exactly request.timeout.ms after it was sent, the connection is closed,
// and the batch is sent again after retry.backoff.ms (NetworkClient
// handleTimedOutRequests; Sender.completeBatch). Requests in flight share
// one timer in acksim; this pins down that each still times out at its own
// deadline.
func TestRequestTimeoutAtItsDeadline(t *testing.T) {
	s := spec("3.9", 1, 1)
	s.Producers[0].Cfg.RequestTimeout = 2 * sim.Second
	s.Producers[0].Cfg.Idempotence = false
	s.Producers[0].WL = model.Workload{Records: 3, Rate: 1000, RecordSize: 100, OnError: "give-up", Start: 500 * sim.Millisecond}
	c := model.New(s)
	c.RecordMessages()
	c.Start()
	runFor(c, 400*sim.Millisecond)
	lanes := c.Recording().Lanes
	pNode := sim.NodeID(slices.Index(lanes, "p1") + 1)
	c.Net.Cut(c.Node(c.Leader(0)), pNode) // responses are lost; requests get through
	runFor(c, 4700*sim.Millisecond)       // to 5.1 s: two timeouts and three sends of each batch
	var sends []sim.Time
	for _, m := range c.Recording().Messages {
		if m.Kind == "produce" {
			sends = append(sends, m.Sent)
		}
	}
	if len(sends) < 6 {
		t.Fatalf("produce requests sent at %v: want every batch sent again after each timeout", sends)
	}
	// The first batch goes at 0.5 s; it times out at 2.5 s, with everything
	// else in flight on the connection, and is sent again 100 ms later.
	first, retry := sends[0], sim.Time(-1)
	for _, at := range sends {
		if at > first.Add(sim.Second) {
			retry = at
			break
		}
	}
	want := first.Add(2*sim.Second + 100*sim.Millisecond)
	if retry < want || retry > want.Add(2*sim.Millisecond) {
		t.Fatalf("first send %v, resend %v: want the resend at %v (timeout + retry.backoff.ms)", first, retry, want)
	}
}

// replica.socket.timeout.ms: a follower whose fetch goes unanswered sends
// the next one exactly replica.socket.timeout.ms after the lost one
// (the fetcher's NetworkClient times the request out). Fetches share one
// timer in acksim; this pins the deadline.
func TestFollowerFetchTimesOutAtItsDeadline(t *testing.T) {
	s := spec("3.9", -1, 1)
	s.Broker.ReplicaSocketTimeout = 2 * sim.Second
	c := model.New(s)
	c.RecordMessages()
	c.Start()
	runFor(c, sim.Second)
	l := c.Leader(0)
	var f int
	for _, id := range c.Replicas(0) {
		if id != l {
			f = id
			break
		}
	}
	c.Net.Cut(c.Node(l), c.Node(f)) // the follower's fetch responses are lost
	cutAt := c.E.Now()
	runFor(c, 100*sim.Millisecond)
	c.Net.Restore(c.Node(l), c.Node(f))
	runFor(c, 3*sim.Second)
	lanes := c.Recording().Lanes
	fl := slices.Index(lanes, fmt.Sprintf("broker-%d", f))
	var sent []sim.Time
	for _, m := range c.Recording().Messages {
		if m.Kind == "fetch" && m.From == fl && m.Sent >= cutAt.Add(-sim.Second) {
			sent = append(sent, m.Sent)
		}
	}
	// The last fetch sent before the cut healed is the one whose response
	// was lost; the next one goes 2 s after it.
	var lost, next sim.Time = -1, -1
	for i, at := range sent {
		if at <= cutAt.Add(100*sim.Millisecond) {
			lost = at
			if i+1 < len(sent) {
				next = sent[i+1]
			}
		}
	}
	if lost < 0 || next != lost.Add(2*sim.Second) {
		t.Fatalf("fetches sent at %v (cut at %v): want the one after the lost fetch exactly 2s later", sent, cutAt)
	}
}

// replica.fetch.wait.max.ms: a follower's fetch with nothing to read waits
// at the leader and is answered, empty, exactly that long after it arrived
// (DelayedFetch). And a produce request waiting for acks=all is answered
// REQUEST_TIMED_OUT exactly the producer's request.timeout.ms after it
// arrived (DelayedProduce). Both kinds share one timer per replica in
// acksim; this pins their deadlines.
func TestDelayedFetchAndProduceDeadlines(t *testing.T) {
	s := spec("3.9", -1, 1)
	s.Broker.FetchWaitMax = 300 * sim.Millisecond
	s.Producers[0].Cfg.RequestTimeout = 2 * sim.Second
	s.Producers[0].WL = model.Workload{Records: 1, Rate: 1, RecordSize: 100, OnError: "give-up", Start: 3 * sim.Second}
	c := model.New(s)
	c.RecordMessages()
	c.Start()
	runFor(c, 2500*sim.Millisecond) // idle: fetches wait at the leader
	l := c.Leader(0)
	for _, id := range c.Replicas(0) {
		if id != l {
			c.Net.Pause(c.Node(id)) // followers stall: the record is never replicated
		}
	}
	runFor(c, 3*sim.Second)
	lanes := c.Recording().Lanes
	ll := slices.Index(lanes, fmt.Sprintf("broker-%d", l))
	arrivals := map[string]sim.Time{}
	emptyWaits, timeouts := 0, 0
	for _, m := range c.Recording().Messages {
		switch {
		case m.Kind == "fetch" && m.To == ll && m.Arrive > sim.Time(1500*sim.Millisecond) && m.Arrive < sim.Time(2400*sim.Millisecond):
			arrivals[lanes[m.From]] = m.Arrive
		case m.Kind == "fetch-response" && m.From == ll && strings.Contains(m.Text, "records=0"):
			if a, ok := arrivals[lanes[m.To]]; ok && m.Sent > a {
				if m.Sent != a.Add(300*sim.Millisecond) {
					t.Errorf("empty fetch of %s arrived at %v, answered at %v: want %v", lanes[m.To], a, m.Sent, a.Add(300*sim.Millisecond))
				}
				emptyWaits++
				delete(arrivals, lanes[m.To])
			}
		case m.Kind == "produce" && m.To == ll:
			arrivals["produce"] = m.Arrive
		case m.Kind == "produce-response" && strings.Contains(m.Text, "REQUEST_TIMED_OUT"):
			if want := arrivals["produce"].Add(2 * sim.Second); m.Sent != want {
				t.Errorf("produce arrived at %v, timed out at %v: want %v", arrivals["produce"], m.Sent, want)
			}
			timeouts++
		}
	}
	if emptyWaits == 0 || timeouts != 1 {
		t.Fatalf("%d empty fetch answers, %d produce timeouts: the test saw nothing to check", emptyWaits, timeouts)
	}
}

// A broker that restarts after losing power has no broker epoch until the
// controller answers its registration; when that registration is lost, it
// retries and sends no heartbeats meanwhile (BrokerLifecycleManager). Its
// old epoch must not pass for the old incarnation: otherwise the controller
// hands it back leadership of its old epoch over a log the power loss cut
// short, and its followers hold more than their leader (found by the
// follower-prefix invariant, which this spec checks after every event).
func TestRestartedBrokerRegistersBeforeItLeads(t *testing.T) {
	c := started(spec("3.9", -1, 2))
	l := restartUnregistered(c)
	runFor(c, 5*sim.Second)
	if c.Leader(0) == l {
		t.Fatalf("broker %d, back from a power loss, leads again without a new election", l)
	}
	var reg []string
	for _, e := range c.History(false).Events {
		if e.Kind == history.Fence || e.Kind == history.Elect {
			reg = append(reg, e.Text)
		}
	}
	if !slices.ContainsFunc(reg, func(s string) bool { return strings.Contains(s, "re-registered") }) {
		t.Fatalf("the retried registration never reached the controller: %q", reg)
	}
}

// Until its registration is answered, a restarted broker does not apply
// partition metadata (KRaft's BrokerServer publishes metadata to the
// ReplicaManager only after the lifecycle manager's initial catch-up): a
// state change broadcast meanwhile, here an ISR shrink after another broker
// dies, must not make it leader of its old epoch over a log a power loss
// cut. Found by the long swarm search (seed 11).
func TestUnregisteredBrokerIgnoresPartitionState(t *testing.T) {
	c := started(spec("3.9", -1, 2))
	l := restartUnregistered(c)
	for _, id := range c.Replicas(0) {
		if id != l {
			other := c.BrokerByID(id)
			other.Shutdown() // a state change the controller broadcasts now
			break
		}
	}
	runFor(c, 5*sim.Second) // the invariants are checked after every event
	if c.Leader(0) == l {
		t.Fatalf("broker %d leads again without a new election", l)
	}
}

// restartUnregistered cuts the leader's power, restarts it while it is
// still isolated (so its registration is lost), heals the network, and
// returns the old leader.
func restartUnregistered(c *model.Cluster) int {
	l := c.Leader(0)
	b := c.BrokerByID(l)
	b.PowerLoss()
	c.Net.Isolate(c.Node(l))
	runFor(c, 100*sim.Millisecond)
	b.Restart()
	c.Net.Heal()
	return l
}

type kindCounter map[string]int

func (k kindCounter) Trace(l *sim.Line) {
	if l.Kind == "fetch-response" && !strings.Contains(l.Text, "records=0") {
		k[l.Node+" fetch-response"]++
	}
	if l.Kind == "fsync-done" {
		k[l.Node+" fsync"]++
	}
}

// log.flush.interval.messages on a follower: one flush per fetch response,
// as UnifiedLog.appendAsFollower appends the whole response in one call
// (issue 12, item 2), not one per batch.
func TestFollowerFlushesOncePerFetch(t *testing.T) {
	s := spec("3.9", -1, 2)
	s.Broker.FlushIntervalMessages = 1
	s.Producers[0].WL = model.Workload{Duration: 10 * sim.Second, Rate: 1000, RecordSize: 100, OnError: "give-up"}
	c := model.New(s)
	k := kindCounter{}
	c.E.SetTracer(k)
	c.Start()
	runFor(c, 10*sim.Second)
	l := c.Leader(0)
	for _, id := range c.BrokerIDs() {
		if id == l {
			continue
		}
		node := fmt.Sprintf("broker-%d", id)
		if f, r := k[node+" fsync"], k[node+" fetch-response"]; f == 0 || f > r {
			t.Errorf("follower %d: %d fsyncs for %d fetch responses with records", id, f, r)
		}
	}
}
