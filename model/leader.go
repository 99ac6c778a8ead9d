package model

import (
	"slices"

	"acksim/history"
	"acksim/sim"
)

// followerProgress is what a leader knows of a follower.
// Source: kafka.cluster.Replica (updateFetchState, lastCaughtUpTimeMs).
type followerProgress struct {
	brokerEpoch        int64 // of the incarnation whose fetch this is (KIP-903)
	leo                int64
	lastCaughtUp       sim.Time
	lastFetchTime      sim.Time
	lastFetchLeaderLEO int64
}

type delayedProduce struct {
	r        *Replica
	from     sim.NodeID
	req      *produceReq
	required int64 // the batch's end offset
	base     int64
	deadline sim.Time // the request's timeout (the producer's request.timeout.ms)
}

type parkedFetch struct {
	r        *Replica
	from     sim.NodeID
	req      *fetchReq
	deadline sim.Time // answered, empty, by then (replica.fetch.wait.max.ms)
	done     bool
}

// maximalISR is the ISR used for the HW: the committed ISR plus a pending
// expansion (a pending shrink does not count until committed).
// Source: Partition.scala PendingExpandIsr / PendingShrinkIsr (KIP-497).
func (r *Replica) maximalISR() []int {
	if r.lead.pendingISR != nil && len(r.lead.pendingISR) > len(r.lead.isr) {
		return r.lead.pendingISR
	}
	return r.lead.isr
}

// produce is Partition.appendRecordsToLeader with ReplicaManager's
// handling of the answer.
func (r *Replica) produce(from sim.NodeID, m *produceReq) {
	b := r.b
	respond := func(err ErrCode, base int64) { b.respondProduce(from, m, err, base) }
	if r.role != leading {
		respond(ErrNotLeader, -1)
		return
	}
	// Partition.appendRecordsToLeader: acks=all is refused up front when the
	// ISR is smaller than min.insync.replicas (NotEnoughReplicasException).
	minISR := b.h.minISRFor(r.TP)
	if m.acks == -1 && len(r.lead.isr) < minISR {
		respond(ErrNotEnoughReplicas, -1)
		return
	}
	pb := m.batch
	if pb.txn && !r.txnChecks(from, m) {
		return
	}
	if pb.pid >= 0 {
		// Idempotence (KIP-98): a duplicate of one of the last 5 batches is
		// answered with its original offset; a gap is OutOfOrderSequence.
		dup, base, end, outOfOrder := r.pids.dedupeEpoch(pb.pid, pb.epoch, pb.seq)
		switch {
		case dup:
			// A duplicate is answered with the original batch's offset, and
			// for acks=all only once that batch is committed: the delayed
			// produce waits for the HW like any other append.
			if m.acks != -1 || r.HW >= end {
				if m.acks != 0 {
					b.h.obs.leaderAcked(r.entryAt(base), b.ID, r.epoch, r.lead.isr, m.acks)
				}
				respond(ErrNone, base)
				return
			}
			d := &delayedProduce{r: r, from: from, req: m, required: end, base: base, deadline: b.h.E.Now().Add(m.timeout)}
			r.lead.purgatory = append(r.lead.purgatory, d)
			r.armPurgatoryTimeout()
			return
		case outOfOrder:
			respond(ErrOutOfOrderSequence, -1)
			return
		}
	}
	bt := r.b.h.pool.batch()
	*bt = history.Batch{Base: r.Log.LEO(), Epoch: r.epoch, PID: pb.pid, Seq: pb.seq, Records: r.b.h.pool.recordIDs(pb.records), Producer: pb.producer, PEpoch: pb.epoch}
	if pb.txn {
		bt.Txn = history.TxnData
	}
	r.trackPID(bt)
	b.h.obs.leaderAppended(bt, b.ID, r.TP, r.epoch, r.lead.isr, m.acks)
	r.Log.append(bt, b.h.E.Now())
	if n := r.cfg().FlushIntervalMessages; n > 0 && r.Log.unflushed >= n {
		r.fsync(func() { r.afterLeaderAppend(from, m, bt) })
	} else {
		r.afterLeaderAppend(from, m, bt)
	}
	if r.role == leading {
		r.maybeAdvanceHW()
	}
}

// respondProduce answers m, which is then done with.
func (b *Broker) respondProduce(from sim.NodeID, m *produceReq, err ErrCode, base int64) {
	if m.acks != 0 {
		b.send(from, b.h.k.produceResp, b.h.pool.produceResp(produceResp{corr: m.corr, tp: m.tp, err: err, base: base}))
	}
	b.h.pool.putProduceReq(m)
}

// afterLeaderAppend runs once the leader's append (and count flush, if
// any) is done: acks=1 answers now, acks=all waits for the HW.
func (r *Replica) afterLeaderAppend(from sim.NodeID, m *produceReq, bt *history.Batch) {
	b := r.b
	r.wakeParked()
	switch m.acks {
	case 0:
		b.h.pool.putProduceReq(m)
	case 1:
		b.h.obs.leaderAcked(bt, b.ID, r.epoch, r.lead.isr, m.acks)
		b.respondProduce(from, m, ErrNone, bt.Base)
	default:
		d := b.h.pool.delayed()
		*d = delayedProduce{r: r, from: from, req: m, required: bt.End(), base: bt.Base, deadline: b.h.E.Now().Add(m.timeout)}
		r.lead.purgatory = append(r.lead.purgatory, d)
		r.armPurgatoryTimeout()
		r.maybeAdvanceHW()
	}
}

func (r *Replica) finishDelayed(d *delayedProduce, err ErrCode) {
	if err == ErrNone {
		r.b.h.obs.leaderAcked(r.entryAt(d.base), r.b.ID, r.epoch, r.lead.isr, -1)
	}
	r.b.send(d.from, r.b.h.k.produceResp, r.b.h.pool.produceResp(produceResp{corr: d.req.corr, tp: r.TP, err: err, base: d.base}))
	i := slices.Index(r.lead.purgatory, d)
	if i >= 0 {
		r.lead.purgatory = slices.Delete(r.lead.purgatory, i, i+1)
	}
	// Nothing refers to d or its request now: the purgatory let go of it,
	// and its timeout is the purgatory's shared timer, not d's own.
	r.b.h.pool.putProduceReq(d.req)
	r.b.h.pool.putDelayed(d)
}

// completeDelayed answers acks=all requests whose batch is below the HW.
// Source: Partition.checkEnoughReplicasReachOffset: once HW >= required,
// success if |ISR| >= min.insync.replicas, else NotEnoughReplicasAfterAppend.
func (r *Replica) completeDelayed() {
	minISR := r.b.h.minISRFor(r.TP)
	for i := 0; i < len(r.lead.purgatory); {
		d := r.lead.purgatory[i]
		if r.HW >= d.required {
			if len(r.lead.isr) >= minISR {
				r.finishDelayed(d, ErrNone)
			} else {
				r.finishDelayed(d, ErrNotEnoughReplicasAfterAppend)
			}
			continue
		}
		i++
	}
}

// maybeAdvanceHW: HW = min LEO over the maximal ISR.
// Source: Partition.maybeIncrementLeaderHW. From 3.7 (KAFKA-15583) the HW
// does not advance while |ISR| < min.insync.replicas.
func (r *Replica) maybeAdvanceHW() {
	if r.role != leading {
		return
	}
	if r.cfg().StrictMinISRHW && len(r.lead.isr) < r.b.h.minISRFor(r.TP) {
		return
	}
	hw := r.Log.LEO()
	for _, id := range r.maximalISR() {
		if id != r.b.ID && r.lead.fol[id].leo < hw {
			hw = r.lead.fol[id].leo
		}
	}
	if hw > r.HW {
		r.HW = hw
		r.completeDelayed()
		r.completeMarkers()
		r.completeTCWaits()
	}
}

// serveFetch answers a follower's or a consumer's fetch, at once or after
// a long poll.
func (r *Replica) serveFetch(from sim.NodeID, m *fetchReq) {
	b := r.b
	k := b.h.k
	if r.role != leading {
		b.send(from, k.fetchResp, &fetchResp{tp: m.tp, err: ErrNotLeader, session: m.session})
		return
	}
	if m.replica >= 0 {
		// KIP-320: the fetcher's leader epoch must match ours.
		if m.epoch < r.epoch {
			b.send(from, k.fetchResp, &fetchResp{tp: m.tp, err: ErrFencedLeaderEpoch, session: m.session})
			return
		}
		if m.epoch > r.epoch {
			b.send(from, k.fetchResp, &fetchResp{tp: m.tp, err: ErrUnknownLeaderEpoch, session: m.session})
			return
		}
		if m.offset > r.Log.LEO() {
			b.send(from, k.fetchResp, &fetchResp{tp: m.tp, err: ErrOffsetOutOfRange, hw: r.HW, leo: r.Log.LEO(), session: m.session})
			return
		}
		r.updateFollower(m.replica, m.offset, m.brokerEpoch)
	} else if m.offset > r.Log.LEO() || m.offset < 0 {
		// A consumer's fetch is out of range only past the log end (or
		// below its start); between the HW and the log end it waits and is
		// answered empty (Partition.fetchRecords, UnifiedLog.read with the
		// HW as the upper bound).
		b.send(from, k.fetchResp, &fetchResp{tp: m.tp, err: ErrOffsetOutOfRange, hw: r.HW, leo: r.Log.LEO(), session: m.session})
		return
	}
	if r.available(m) {
		r.answer(from, m)
		return
	}
	// Long poll: replica.fetch.wait.max.ms (fetch.max.wait.ms for consumers).
	wait := b.h.spec.Broker.FetchWaitMax
	if m.replica < 0 {
		wait = 500 * sim.Millisecond
	}
	r.lead.parked = append(r.lead.parked, &parkedFetch{r: r, from: from, req: m, deadline: b.h.E.Now().Add(wait)})
	r.armParkTimer()
}

// armPurgatoryTimeout keeps the purgatory's timer armed no later than its
// earliest deadline.
func (r *Replica) armPurgatoryTimeout() {
	next := sim.Time(-1)
	for _, d := range r.lead.purgatory {
		if next < 0 || d.deadline < next {
			next = d.deadline
		}
	}
	r.arm(&r.lead.purgTimer, r.b.h.k.tProduceTimeout, next)
}

// armParkTimer keeps the parked fetches' timer armed no later than their
// earliest deadline.
func (r *Replica) armParkTimer() {
	next := sim.Time(-1)
	for _, pf := range r.lead.parked {
		if !pf.done && (next < 0 || pf.deadline < next) {
			next = pf.deadline
		}
	}
	r.arm(&r.lead.parkTimer, r.b.h.k.tFetchWait, next)
}

// available reports whether a fetch at m.offset has something to return.
func (r *Replica) available(m *fetchReq) bool {
	// Consumers read only below the HW (read_committed: the LSO).
	return m.offset < r.fetchLimit(m)
}

func (r *Replica) answerParked(pf *parkedFetch) {
	pf.done = true
	m := pf.req
	pf.req = nil
	r.answer(pf.from, m)
}

func (r *Replica) answer(from sim.NodeID, m *fetchReq) {
	limit := r.fetchLimit(m)
	h := r.b.h
	resp := h.pool.fetchResp()
	resp.tp, resp.hw, resp.leo, resp.session, resp.offset = r.TP, r.HW, r.Log.LEO(), m.session, m.offset
	resp.batches = r.Log.fetchFrom(resp.batches, m.offset, m.maxRecords, limit)
	if m.readCommitted {
		// The aborted transactions in the range, which the consumer skips
		// (FetchResponse's AbortedTransactions).
		for i, bt := range resp.batches {
			if r.Log.aborted(bt) {
				if resp.aborted == nil {
					resp.aborted = make([]bool, len(resp.batches))
				}
				resp.aborted[i] = true
			}
		}
	}
	r.b.send(from, h.k.fetchResp, resp)
	h.pool.putFetchReq(m)
}

func (r *Replica) wakeParked() {
	if len(r.lead.parked) == 0 {
		return
	}
	keep := r.lead.parked[:0]
	for _, pf := range r.lead.parked {
		if pf.done {
			continue
		}
		if r.available(pf.req) {
			r.answerParked(pf)
			continue
		}
		keep = append(keep, pf)
	}
	r.lead.parked = keep
}

// updateFollower records a follower's fetch offset as its LEO.
// Source: Replica.updateFetchState: lastCaughtUpTime becomes the fetch time
// if the fetch reached the leader's LEO, or the previous fetch time if it
// reached the LEO the leader had then.
func (r *Replica) updateFollower(id int, offset int64, brokerEpoch int64) {
	now := r.b.h.E.Now()
	f := &r.lead.fol[id]
	f.brokerEpoch = brokerEpoch
	leo := r.Log.LEO()
	if offset >= leo {
		f.lastCaughtUp = now
	} else if offset >= f.lastFetchLeaderLEO && f.lastFetchTime > f.lastCaughtUp {
		f.lastCaughtUp = f.lastFetchTime
	}
	f.leo = offset
	f.lastFetchLeaderLEO = leo
	f.lastFetchTime = now
	// ISR expansion (Partition.maybeExpandIsr): a follower rejoins once its
	// fetch offset reaches the HW and the start of the current leader epoch.
	if !slices.Contains(r.maximalISR(), id) && r.lead.pendingISR == nil && offset >= r.HW && offset >= r.lead.epochStart {
		r.proposeISR(append(slices.Clone(r.lead.isr), id))
	}
	r.maybeAdvanceHW()
}

// maybeShrinkISR drops followers that have not caught up within
// replica.lag.time.max.ms (Partition.getOutOfSyncReplicas). The change only
// counts once the controller accepts it.
func (r *Replica) maybeShrinkISR() {
	if r.lead.pendingISR != nil {
		return
	}
	now := r.b.h.E.Now()
	leo := r.Log.LEO()
	var keep []int
	shrunk := false
	for _, id := range r.lead.isr {
		f := r.lead.fol[id]
		// 0.8 also drops a follower more than replica.lag.max.messages
		// behind (Partition.getOutOfSyncReplicas, keepInSyncMessages).
		tooFar := r.cfg().LagMaxMessages > 0 && leo-f.leo > r.cfg().LagMaxMessages
		if id != r.b.ID && f.leo < leo && (now.Sub(f.lastCaughtUp) > r.cfg().ReplicaLagTimeMax || tooFar) {
			shrunk = true
			continue
		}
		keep = append(keep, id)
	}
	if shrunk {
		r.proposeISR(keep)
	}
}

func (r *Replica) proposeISR(isr []int) {
	slices.Sort(isr)
	r.lead.pendingISR = isr
	b := r.b
	// KIP-903: the request names each member with the broker epoch of the
	// incarnation the leader heard from (its own for itself).
	epochs := make([]int64, len(isr))
	for i, id := range isr {
		epochs[i] = r.lead.fol[id].brokerEpoch
		if id == b.ID {
			epochs[i] = b.brokerEpoch
		}
	}
	b.send(b.h.ctlNode, b.h.k.alterPartition, &alterPartition{tp: r.TP, leader: b.ID, epoch: r.epoch, partitionEpoch: r.pEpoch, isr: isr, brokerEpochs: epochs})
	b.h.E.Cancel(r.lead.alterTimer)
	// AlterPartitionManager resends after a failed or unanswered request; a
	// request lost on the way is given up after 5 s (an assumed client
	// timeout) and the next ISR check proposes again.
	r.lead.alterTimer = b.timer(b.h.k.tAlterTimeout, 5*sim.Second, int64(r.TP), nil)
}

func (r *Replica) onAlterResp(m *alterPartitionResp) {
	b := r.b
	if r.role != leading {
		return
	}
	r.lead.pendingISR = nil
	b.h.E.Cancel(r.lead.alterTimer)
	if m.err != ErrNone {
		return
	}
	if m.st.epoch != r.epoch {
		return
	}
	r.lead.isr = m.st.isr
	r.pEpoch = m.st.partitionEpoch
	r.maybeAdvanceHW()
	r.completeDelayed()
}

func (r *Replica) onEpochReq(from sim.NodeID, m *epochReq) {
	b := r.b
	// A consumer's request names no current epoch (-1): it asks whoever
	// leads (KIP-320 validation).
	if r.role != leading || (m.current >= 0 && m.current != r.epoch) {
		b.send(from, b.h.k.epochResp, &epochResp{tp: m.tp, err: ErrNotLeader, session: m.session})
		return
	}
	ep, end := r.Log.EndOffsetFor(m.epoch)
	b.send(from, b.h.k.epochResp, &epochResp{tp: m.tp, epoch: ep, end: end, session: m.session})
}

// onPurgatoryTimer times out the delayed produces that are due (the
// producer's request.timeout.ms) and re-arms for the next.
func (r *Replica) onPurgatoryTimer() {
	now := r.b.h.E.Now()
	for i := 0; i < len(r.lead.purgatory); {
		if d := r.lead.purgatory[i]; d.deadline <= now {
			r.finishDelayed(d, ErrRequestTimedOut) // removes it
			continue
		}
		i++
	}
	r.armPurgatoryTimeout()
}

// onParkTimer answers, empty, the parked fetches whose wait is over
// (replica.fetch.wait.max.ms) and re-arms for the next.
func (r *Replica) onParkTimer() {
	now := r.b.h.E.Now()
	for _, pf := range r.lead.parked {
		if !pf.done && pf.deadline <= now {
			r.answerParked(pf)
		}
	}
	r.lead.parked = slices.DeleteFunc(r.lead.parked, func(pf *parkedFetch) bool { return pf.done })
	r.armParkTimer()
}
