package model

import (
	"slices"

	"acksim/sim"
)

// isrDesign is Kafka's ISR replication as a design: the controller's
// partition state is the authority on leaders and ISRs, and each broker
// hosts a *Replica that follows it (leader epochs, HW, ISR changes through
// AlterPartition, truncation by the era's rule).
type isrDesign struct {
	h         *host
	ctl       *Controller
	brokers   []*Broker // by id; [0] is nil
	lastEpoch []int32   // per partition, for the epoch invariant
}

// newISR places each partition's replicas on the brokers and gives the
// controller the initial state: the first replica leads, every replica in
// sync, epoch 0.
func newISR(h *host, ctl *Controller, brokers []*Broker, assignment [][]int) *isrDesign {
	d := &isrDesign{h: h, ctl: ctl, brokers: brokers, lastEpoch: make([]int32, len(assignment))}
	for tp, reps := range assignment {
		ctl.parts = append(ctl.parts, &partitionState{tp: tp, leader: reps[0], epoch: 0, isr: slices.Clone(reps), replicas: reps, lastLeader: -1})
		for _, id := range reps {
			brokers[id].reps[tp] = d.newReplica(brokers[id], tp, reps)
		}
	}
	return d
}

func (d *isrDesign) newReplica(b *Broker, tp int, replicas []int) hosted {
	return &Replica{b: b, TP: tp, leader: -1, epoch: -1, pEpoch: -1, lead: leaderState{fol: make([]followerProgress, len(d.brokers))}, replicas: replicas}
}

// tasks: the leader's ISR check every replica.lag.time.max.ms/2
// (ReplicaManager's isr-expiration task) and the HW checkpoint
// (replica.high.watermark.checkpoint.interval.ms).
func (d *isrDesign) tasks() []periodicTask {
	k := &d.h.k
	return []periodicTask{
		{k.tISRCheck, func(c *BrokerConfig) sim.Duration { return c.ReplicaLagTimeMax / 2 }},
		{k.tHWCheckpoint, func(c *BrokerConfig) sim.Duration { return c.HWCheckpointInterval }},
	}
}

// rep is broker id's replica of tp.
func (d *isrDesign) rep(id, tp int) *Replica { return d.brokers[id].reps[tp].(*Replica) }

func (d *isrDesign) leader(tp int) int     { return d.ctl.parts[tp].leader }
func (d *isrDesign) quorum(tp int) []int   { return d.ctl.parts[tp].isr }
func (d *isrDesign) replicas(tp int) []int { return d.ctl.parts[tp].replicas }

// settled: the controller's leader leads, its ISR holds every replica, and
// every replica has the leader's LEO and HW, which is the LEO.
func (d *isrDesign) settled(tp int) (bool, int64) {
	p := d.ctl.parts[tp]
	if p.leader < 0 {
		return false, 0
	}
	lr := d.rep(p.leader, tp)
	if lr.role != leading || lr.HW != lr.Log.LEO() {
		return false, 0
	}
	// Every replica a permanent fault did not take is in the ISR, and
	// only those.
	n := 0
	for _, id := range p.replicas {
		r := d.rep(id, tp)
		if r.b.gone {
			if slices.Contains(p.isr, id) {
				return false, 0
			}
			continue
		}
		n++
		if r.Log.LEO() != lr.Log.LEO() || r.HW != lr.HW {
			return false, 0
		}
	}
	if len(p.isr) != n {
		return false, 0
	}
	return true, lr.HW
}

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
func (d *isrDesign) checkInvariants() {
	for tp, p := range d.ctl.parts {
		if p.epoch < d.lastEpoch[tp] {
			d.h.violate("%s: controller epoch went back from %d to %d", d.h.tpName(tp), d.lastEpoch[tp], p.epoch)
		}
		d.lastEpoch[tp] = p.epoch
		if !d.h.spec.Broker.ELR && len(p.isr) == 0 {
			d.h.violate("%s: empty ISR without ELR", d.h.tpName(tp))
		}
		var leaders []int
		for _, id := range p.replicas {
			b := d.brokers[id]
			r := d.rep(id, tp)
			if r.HW > r.Log.LEO() {
				d.h.violate("%s on broker %d: HW %d > LEO %d", d.h.tpName(tp), id, r.HW, r.Log.LEO())
			}
			if r.Log.durable > r.Log.LEO() {
				d.h.violate("%s on broker %d: durable %d > LEO %d", d.h.tpName(tp), id, r.Log.durable, r.Log.LEO())
			}
			if b.up && r.role == leading {
				for _, o := range leaders {
					if d.rep(o, tp).epoch == r.epoch {
						d.h.violate("%s: brokers %d and %d both lead epoch %d", d.h.tpName(tp), o, id, r.epoch)
					}
				}
				leaders = append(leaders, id)
			}
		}
		// Before 0.11 a follower truncates to its HW and may hold more than
		// a leader that lost data until OFFSET_OUT_OF_RANGE truncates it:
		// that window is the pre-KIP-101 divergence, not a model bug.
		if !d.h.trunc.prefixHolds() || p.leader < 0 || !d.brokers[p.leader].up {
			continue
		}
		lr := d.rep(p.leader, tp)
		if lr.role != leading {
			continue
		}
		for _, id := range p.replicas {
			b := d.brokers[id]
			r := d.rep(id, tp)
			if id != p.leader && b.up && r.role == following && r.fetch.phase != truncating && r.leader == p.leader && r.epoch == lr.epoch && r.Log.LEO() > lr.Log.LEO() {
				d.h.violate("%s: follower %d holds offsets to %d past leader %d's LEO %d in epoch %d", d.h.tpName(tp), id, r.Log.LEO(), p.leader, lr.Log.LEO(), r.epoch)
			}
		}
	}
}
