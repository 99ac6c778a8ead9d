package model

import (
	"fmt"

	"acksim/sim"
)

// InvariantError is a broken model invariant: a bug in acksim, not a
// finding. It carries enough to replay the run.
type InvariantError struct {
	Seed uint64
	Step uint64
	At   string
	What string
}

func (e *InvariantError) Error() string {
	return fmt.Sprintf("model invariant violated at %s (step %d, seed %d): %s", e.At, e.Step, e.Seed, e.What)
}

func violate(e *sim.Engine, seed uint64, format string, args ...any) {
	panic(&InvariantError{Seed: seed, Step: e.Steps(), At: e.Now().String(), What: fmt.Sprintf(format, args...)})
}

func (c *Cluster) violate(format string, args ...any) { violate(c.E, c.Seed, format, args...) }

// checkInvariants runs after every event with Spec.CheckEveryEvent (as in
// the tests), and otherwise on every monitor tick (10 ms of virtual time)
// and after every leadership change:
//   - HW <= LEO, and durable <= LEO, on every replica;
//   - the controller's epoch of a partition never decreases;
//   - at most one live broker believes it leads a partition in a given epoch;
//   - before ELR, the controller never empties an ISR;
//   - from 0.11 (KIP-101), a follower that finished truncating and fetches
//     in the leader's epoch holds nothing past the leader's LEO (its log is
//     a prefix of the leader's).
func (c *Cluster) checkInvariants() {
	for tp, p := range c.ctl.parts {
		if p.epoch < c.lastEpoch[tp] {
			c.violate("%s: controller epoch went back from %d to %d", c.h.tpName(tp), c.lastEpoch[tp], p.epoch)
		}
		c.lastEpoch[tp] = p.epoch
		if !c.Broker.ELR && len(p.isr) == 0 {
			c.violate("%s: empty ISR without ELR", c.h.tpName(tp))
		}
		var leaders []int
		for _, id := range p.replicas {
			b := c.brokers[id]
			r := b.reps[tp]
			if r.HW > r.Log.LEO() {
				c.violate("%s on broker %d: HW %d > LEO %d", c.h.tpName(tp), id, r.HW, r.Log.LEO())
			}
			if r.Log.durable > r.Log.LEO() {
				c.violate("%s on broker %d: durable %d > LEO %d", c.h.tpName(tp), id, r.Log.durable, r.Log.LEO())
			}
			if b.up && r.role == leading {
				for _, o := range leaders {
					if c.brokers[o].reps[tp].epoch == r.epoch {
						c.violate("%s: brokers %d and %d both lead epoch %d", c.h.tpName(tp), o, id, r.epoch)
					}
				}
				leaders = append(leaders, id)
			}
		}
		// Before 0.11 a follower truncates to its HW and may hold more than
		// a leader that lost data until OFFSET_OUT_OF_RANGE truncates it:
		// that window is the pre-KIP-101 divergence, not a model bug.
		if !c.h.trunc.prefixHolds() || p.leader < 0 || !c.brokers[p.leader].up {
			continue
		}
		lr := c.brokers[p.leader].reps[tp]
		if lr.role != leading {
			continue
		}
		for _, id := range p.replicas {
			b := c.brokers[id]
			r := b.reps[tp]
			if id != p.leader && b.up && r.role == following && r.fetch.phase != truncating && r.leader == p.leader && r.epoch == lr.epoch && r.Log.LEO() > lr.Log.LEO() {
				c.violate("%s: follower %d holds offsets to %d past leader %d's LEO %d in epoch %d", c.h.tpName(tp), id, r.Log.LEO(), p.leader, lr.Log.LEO(), r.epoch)
			}
		}
	}
}
