package model

import (
	"acksim/history"
	"fmt"
	"slices"

	"acksim/sim"
)

// Broker is one Kafka broker: a process (up, paused or down), an OS with a
// page cache, and a disk.
type Broker struct {
	h    *host
	hid  sim.HandlerID
	ID   int
	Node sim.NodeID
	Rack string

	up            bool  // the process runs
	paused        bool  // GC or VM stall: alive, doing nothing
	osUp          bool  // the OS runs (false after power loss until restart)
	inc           int64 // process incarnation: timers of an older one are ignored
	osGen         int64 // OS incarnation: fsync and writeback of an older one are void
	brokerEpoch   int64
	lastClean     bool // the last shutdown was a controlled one
	registerClean bool // what the pending registration reports (clean shutdown before it)
	shuttingDown  bool

	reps       []*Replica // indexed by partition; nil if not a replica
	slowUntil  sim.Time
	slowFactor float64
	deferred   []sim.Event // timers that fired while paused
}

// followerState is what a leader knows of a follower.
// Source: kafka.cluster.Replica (updateFetchState, lastCaughtUpTimeMs).
type followerState struct {
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

type pidEntry struct {
	firstSeq, lastSeq int32
	base              int64
}

// pidState is the broker's producer state for one producer id on one
// partition: the last 5 batches, for de-duplication.
// Source: ProducerStateManager / ProducerAppendInfo (KIP-98); 5 batches
// (KAFKA-5494).
type pidState struct{ last []pidEntry }

// Replica is one partition's replica on one broker.
type Replica struct {
	b   *Broker
	TP  int
	Log Log

	HW       int64 // Invariant: HW <= Log.LEO()
	hwCkpt   int64 // last checkpointed HW (replication-offset-checkpoint, fsynced)
	epoch    int32 // latest leader epoch this replica knows
	leader   int   // broker id of the leader it knows, -1 none
	pEpoch   int32 // partition epoch (AlterPartition version)
	replicas []int

	// Leader state.
	isLeader   bool
	isr        []int // committed ISR (accepted by the controller)
	pendingISR []int // proposed, in flight; nil if none
	alterTimer sim.Timer
	fol        []followerState // indexed by broker id
	epochStart int64           // leader epoch start offset
	purgatory  []*delayedProduce
	parked     []*parkedFetch
	// One timer each for the purgatory's timeouts and the parked fetches'
	// waits (see sharedTimer).
	purgTimer, parkTimer sharedTimer
	pids                 map[int64]*pidState

	// Follower state.
	session    int64     // fetcher generation; responses of other sessions are ignored
	fetchTimer sim.Timer // replica.fetch.backoff.ms retries
	// The outstanding fetch or epoch request times out at sockDeadline
	// (replica.socket.timeout.ms after it was sent; 0: none outstanding),
	// on sockTimer.
	sockDeadline sim.Time
	sockTimer    sharedTimer
	fetching     bool
	needTrunc    bool // epoch truncation not done yet: retries ask the epoch again, never fetch
	stuck        bool // pre-0.11: the log diverged from the leader's and appends fail
}

func (r *Replica) cfg() *BrokerConfig { return &r.b.h.spec.Broker }

// Up reports whether the broker process runs (paused counts as up).
func (b *Broker) Up() bool { return b.up }

// Replica returns the broker's replica of partition tp, or nil.
func (b *Broker) Replica(tp int) *Replica {
	if tp < len(b.reps) {
		return b.reps[tp]
	}
	return nil
}

// IsLeader reports whether this replica believes it leads the partition.
func (r *Replica) IsLeader() bool { return r.isLeader }

// Epoch is the latest leader epoch the replica knows.
func (r *Replica) Epoch() int32 { return r.epoch }

// ISR is the committed ISR as the leader knows it.
func (r *Replica) ISR() []int { return r.isr }

// maximalISR is the ISR used for the HW: the committed ISR plus a pending
// expansion (a pending shrink does not count until committed).
// Source: Partition.scala PendingExpandIsr / PendingShrinkIsr (KIP-497).
func (r *Replica) maximalISR() []int {
	if r.pendingISR != nil && len(r.pendingISR) > len(r.isr) {
		return r.pendingISR
	}
	return r.isr
}

func (b *Broker) timer(kind sim.KindID, d sim.Duration, a int64, p any) sim.Timer {
	return b.h.E.After(d, sim.Event{H: b.hid, Kind: kind, Node: b.Node, A: a, B: b.inc, P: p})
}

func (b *Broker) send(to sim.NodeID, kind sim.KindID, p any) { b.h.Net.Send(b.Node, to, kind, p) }

func (b *Broker) fsyncLatency() sim.Duration {
	d := b.h.spec.Disk.Fsync + sim.Jitter(b.h.diskRng, b.h.spec.Disk.FsyncJitter)
	if b.h.E.Now() < b.slowUntil {
		d = sim.Duration(float64(d) * b.slowFactor)
	}
	return d
}

type fsyncJob struct {
	r     *Replica
	upTo  int64
	osGen int64
	after func()
}

func (j *fsyncJob) Describe() string {
	return fmt.Sprintf("fsync-done tp=%d up-to=%d", j.r.TP, j.upTo)
}

// fsync flushes r's log up to its current LEO; after runs when it completes
// (if the process is still the same incarnation).
func (r *Replica) fsync(after func()) {
	b := r.b
	r.Log.unflushed = 0
	r.Log.lastFlush = b.h.E.Now()
	j := &fsyncJob{r: r, upTo: r.Log.LEO(), osGen: b.osGen, after: after}
	b.h.E.After(b.fsyncLatency(), sim.Event{H: b.hid, Kind: b.h.k.fsyncDone, Node: b.Node, B: b.inc, P: j})
}

// The count flush, log.flush.interval.messages, runs synchronously inside
// the append path, on leader and follower appends alike (UnifiedLog.append
// flushes when unflushedMessages >= flushInterval): see onProduce and
// appendFetched.

// Handle is the broker's state machine: messages, timers, faults.
func (b *Broker) Handle(e *sim.Engine, ev *sim.Event) {
	h := b.h
	k := &h.k
	// OS-level events happen whether or not the process runs.
	switch ev.Kind {
	case k.writeback:
		if ev.B != b.osGen || !b.osUp {
			return
		}
		cutoff := e.Now().Add(-h.spec.OS.DirtyExpire)
		for _, r := range b.reps {
			if r != nil {
				r.Log.writeback(cutoff)
			}
		}
		h.E.After(h.spec.OS.DirtyWriteback, sim.Event{H: b.hid, Kind: k.writeback, Node: b.Node, B: b.osGen})
		return
	case k.fsyncDone:
		j := ev.P.(*fsyncJob)
		if j.osGen != b.osGen || !b.osUp {
			return // power was lost before the fsync completed
		}
		j.r.Log.markDurable(j.upTo)
		if ev.B != b.inc || !b.up {
			return // the OS finished the write; the process that asked is gone
		}
		if b.paused {
			b.deferred = append(b.deferred, *ev)
			return
		}
		if j.after != nil {
			j.after()
		}
		return
	}
	if !b.up {
		// The process is dead but the OS answers: a TCP RST tells clients at
		// once (NetworkClient marks the node disconnected). After a power
		// loss or across a partition there is no such signal.
		if b.osUp && (ev.Kind == k.produce || ev.Kind == k.fetch) && h.producerNode[ev.A] {
			h.Net.Send(b.Node, sim.NodeID(ev.A), k.rst, &rst{broker: b.ID})
		}
		return
	}
	isTimer := ev.Kind >= k.firstBrokerTimer && ev.Kind <= k.lastBrokerTimer
	if isTimer && ev.B != b.inc {
		return
	}
	if b.paused {
		if isTimer {
			b.deferred = append(b.deferred, *ev)
		}
		return // messages are held by the network while paused
	}
	from := sim.NodeID(ev.A)
	switch ev.Kind {
	case k.produce:
		b.onProduce(from, ev.P.(*produceReq))
	case k.fetch:
		b.onFetch(from, ev.P.(*fetchReq))
	case k.fetchResp:
		b.onFetchResp(ev.P.(*fetchResp))
	case k.epochReq:
		b.onEpochReq(from, ev.P.(*epochReq))
	case k.epochResp:
		b.onEpochResp(ev.P.(*epochResp))
	case k.leaderAndIsr:
		// A broker applies partition metadata only once its registration is
		// answered (BrokerServer waits for the lifecycle manager's initial
		// catch-up before it publishes metadata to the ReplicaManager); the
		// controller sends the current state with the answer.
		if b.brokerEpoch >= 0 {
			b.onPartitionState(ev.P.(*partitionState))
		}
	case k.alterResp:
		b.onAlterResp(ev.P.(*alterPartitionResp))
	case k.registered:
		b.brokerEpoch = ev.P.(*registered).brokerEpoch
		b.heartbeatNow()
	case k.shutdownResp:
		b.finishShutdown()
	case k.rst:
		// The leader's process died: the fetcher backs off and retries
		// (replica.fetch.backoff.ms) instead of waiting for its timeout.
		id := ev.P.(*rst).broker
		for _, r := range b.reps {
			if r != nil && r.fetching && r.leader == id {
				r.answered() // the RST is the answer: no timeout to wait for
				r.fetchTimer = b.timer(k.tFetchRetry, r.cfg().FetchBackoff, fetchTimerArg(r.TP, r.session), nil)
			}
		}
	case k.tHeartbeat:
		if b.brokerEpoch < 0 {
			// Not registered yet (the request or its answer was lost):
			// retry, at the heartbeat cadence (acksim's choice; Kafka backs
			// off exponentially within initial.broker.registration.timeout.ms).
			b.register()
		} else {
			b.heartbeatNow()
		}
		b.timer(k.tHeartbeat, h.spec.Broker.HeartbeatInterval, 0, nil)
	case k.tISRCheck:
		for _, r := range b.reps {
			if r != nil && r.isLeader {
				r.maybeShrinkISR()
			}
		}
		b.timer(k.tISRCheck, h.spec.Broker.ReplicaLagTimeMax/2, 0, nil)
	case k.tFlushScheduler:
		// LogManager.flushDirtyLogs: flush logs whose last flush is older than
		// log.flush.interval.ms (default: every run of the scheduler).
		for _, r := range b.reps {
			if r != nil && r.Log.LEO() > r.Log.durable && e.Now().Sub(r.Log.lastFlush) >= h.spec.Broker.FlushInterval {
				r.fsync(nil)
			}
		}
		b.timer(k.tFlushScheduler, h.spec.Broker.FlushSchedulerInterval, 0, nil)
	case k.tHWCheckpoint:
		for _, r := range b.reps {
			if r != nil {
				r.hwCkpt = r.HW
			}
		}
		b.timer(k.tHWCheckpoint, h.spec.Broker.HWCheckpointInterval, 0, nil)
	case k.tProduceTimeout:
		r := b.reps[ev.A]
		for i := 0; i < len(r.purgatory); {
			if d := r.purgatory[i]; d.deadline <= e.Now() {
				r.finishDelayed(d, ErrRequestTimedOut) // removes it
				continue
			}
			i++
		}
		r.armPurgatoryTimeout()
	case k.tFetchWait:
		r := b.reps[ev.A]
		for _, pf := range r.parked {
			if !pf.done && pf.deadline <= e.Now() {
				r.answerParked(pf)
			}
		}
		r.parked = slices.DeleteFunc(r.parked, func(pf *parkedFetch) bool { return pf.done })
		r.armParkTimer()
	case k.tFetchRetry:
		tp, session := ev.A&0xffff, ev.A>>16
		if r := b.reps[tp]; r.session == session {
			r.fetchAgain()
		}
	case k.tSocketTimeout:
		r := b.reps[ev.A]
		switch {
		case r.sockDeadline == 0:
		case e.Now() >= r.sockDeadline:
			r.sockDeadline = 0
			r.fetchAgain() // no answer: the request or its response was lost
		default:
			r.armSocketTimeout()
		}
	case k.tAlterTimeout:
		r := b.reps[ev.A]
		r.pendingISR = nil
	case k.tShutdownForce:
		if b.shuttingDown {
			b.finishShutdown()
		}
	}
}

// fetchTimerArg packs a partition and a fetcher session into a timer's A
// (no allocation per fetch): partitions < 65536, sessions < 2^47.
func fetchTimerArg(tp int, session int64) int64 { return int64(tp) | session<<16 }

func (b *Broker) heartbeatNow() {
	hb := &heartbeat{broker: b.ID, brokerEpoch: b.brokerEpoch}
	for _, r := range b.reps {
		if r != nil {
			hb.known = append(hb.known, knownState{r.TP, r.epoch, r.pEpoch})
		}
	}
	b.send(b.h.ctlNode, b.h.k.heartbeat, hb)
}

// ---- produce ----

func (b *Broker) onProduce(from sim.NodeID, m *produceReq) {
	r := b.Replica(m.tp)
	respond := func(err ErrCode, base int64) { b.respondProduce(from, m, err, base) }
	if r == nil || !r.isLeader {
		respond(ErrNotLeader, -1)
		return
	}
	// Partition.appendRecordsToLeader: acks=all is refused up front when the
	// ISR is smaller than min.insync.replicas (NotEnoughReplicasException).
	minISR := b.h.minISR()
	if m.acks == -1 && len(r.isr) < minISR {
		respond(ErrNotEnoughReplicas, -1)
		return
	}
	pb := m.batch
	if pb.pid >= 0 {
		// Idempotence (KIP-98): a duplicate of one of the last 5 batches is
		// answered with its original offset; a gap is OutOfOrderSequence.
		if st := r.pids[pb.pid]; st != nil {
			for _, x := range st.last {
				if x.firstSeq == pb.seq {
					// A duplicate is answered with the original batch's offset,
					// and for acks=all only once that batch is committed: the
					// delayed produce waits for the HW like any other append.
					end := x.base + int64(x.lastSeq-x.firstSeq) + 1
					if m.acks != -1 || r.HW >= end {
						if m.acks != 0 {
							b.h.obs.leaderAcked(r.entryAt(x.base), b.ID, r.epoch, r.isr, m.acks)
						}
						respond(ErrNone, x.base)
						return
					}
					d := &delayedProduce{r: r, from: from, req: m, required: end, base: x.base, deadline: b.h.E.Now().Add(m.timeout)}
					r.purgatory = append(r.purgatory, d)
					r.armPurgatoryTimeout()
					return
				}
			}
			if n := len(st.last); n > 0 && pb.seq != st.last[n-1].lastSeq+1 {
				respond(ErrOutOfOrderSequence, -1)
				return
			}
		}
	}
	bt := r.b.h.pool.batch()
	*bt = history.Batch{Base: r.Log.LEO(), Epoch: r.epoch, PID: pb.pid, Seq: pb.seq, Records: pb.records, Producer: pb.producer}
	r.trackPID(bt)
	b.h.obs.leaderAppended(bt, b.ID, r.TP, r.epoch, r.isr, m.acks)
	r.Log.append(bt, b.h.E.Now())
	if n := r.cfg().FlushIntervalMessages; n > 0 && r.Log.unflushed >= n {
		r.fsync(func() { r.afterLeaderAppend(from, m, bt) })
	} else {
		r.afterLeaderAppend(from, m, bt)
	}
	if r.isLeader {
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
		b.h.obs.leaderAcked(bt, b.ID, r.epoch, r.isr, m.acks)
		b.respondProduce(from, m, ErrNone, bt.Base)
	default:
		d := b.h.pool.delayed()
		*d = delayedProduce{r: r, from: from, req: m, required: bt.End(), base: bt.Base, deadline: b.h.E.Now().Add(m.timeout)}
		r.purgatory = append(r.purgatory, d)
		r.armPurgatoryTimeout()
		r.maybeAdvanceHW()
	}
}

func (r *Replica) trackPID(bt *history.Batch) {
	if bt.PID < 0 {
		return
	}
	if r.pids == nil {
		r.pids = map[int64]*pidState{}
	}
	st := r.pids[bt.PID]
	if st == nil {
		st = &pidState{}
		r.pids[bt.PID] = st
	}
	e := pidEntry{bt.Seq, bt.Seq + int32(len(bt.Records)) - 1, bt.Base}
	if len(st.last) < 5 {
		st.last = append(st.last, e)
	} else { // a sliding window of the last 5, in place
		copy(st.last, st.last[1:])
		st.last[4] = e
	}
}

// rebuildPIDs recomputes producer state from the log (after truncation or
// restart: ProducerStateManager is rebuilt from the log).
func (r *Replica) rebuildPIDs() {
	r.pids = nil
	for _, e := range r.Log.entries {
		r.trackPID(e.b)
	}
}

func (r *Replica) finishDelayed(d *delayedProduce, err ErrCode) {
	if err == ErrNone {
		r.b.h.obs.leaderAcked(r.entryAt(d.base), r.b.ID, r.epoch, r.isr, -1)
	}
	r.b.send(d.from, r.b.h.k.produceResp, r.b.h.pool.produceResp(produceResp{corr: d.req.corr, tp: r.TP, err: err, base: d.base}))
	i := slices.Index(r.purgatory, d)
	if i >= 0 {
		r.purgatory = slices.Delete(r.purgatory, i, i+1)
	}
	// Nothing refers to d or its request now: the purgatory let go of it,
	// and its timeout is the purgatory's shared timer, not d's own.
	r.b.h.pool.putProduceReq(d.req)
	r.b.h.pool.putDelayed(d)
}

func (r *Replica) entryAt(base int64) *history.Batch {
	i := r.Log.find(base)
	if i < len(r.Log.entries) && r.Log.entries[i].b.Base == base {
		return r.Log.entries[i].b
	}
	return nil
}

// completeDelayed answers acks=all requests whose batch is below the HW.
// Source: Partition.checkEnoughReplicasReachOffset: once HW >= required,
// success if |ISR| >= min.insync.replicas, else NotEnoughReplicasAfterAppend.
func (r *Replica) completeDelayed() {
	minISR := r.b.h.minISR()
	for i := 0; i < len(r.purgatory); {
		d := r.purgatory[i]
		if r.HW >= d.required {
			if len(r.isr) >= minISR {
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
	if !r.isLeader {
		return
	}
	if r.cfg().StrictMinISRHW && len(r.isr) < r.b.h.minISR() {
		return
	}
	hw := r.Log.LEO()
	for _, id := range r.maximalISR() {
		if id != r.b.ID && r.fol[id].leo < hw {
			hw = r.fol[id].leo
		}
	}
	if hw > r.HW {
		r.HW = hw
		r.completeDelayed()
	}
}

// ---- fetch (leader side) ----

func (b *Broker) onFetch(from sim.NodeID, m *fetchReq) {
	r := b.Replica(m.tp)
	k := b.h.k
	if r == nil || !r.isLeader {
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
			b.send(from, k.fetchResp, &fetchResp{tp: m.tp, err: ErrOffsetOutOfRange, session: m.session})
			return
		}
		r.updateFollower(m.replica, m.offset)
	} else if m.offset > r.HW || m.offset < 0 {
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
	r.parked = append(r.parked, &parkedFetch{r: r, from: from, req: m, deadline: b.h.E.Now().Add(wait)})
	r.armParkTimer()
}

// armPurgatoryTimeout keeps the purgatory's timer armed no later than its
// earliest deadline.
func (r *Replica) armPurgatoryTimeout() {
	next := sim.Time(-1)
	for _, d := range r.purgatory {
		if next < 0 || d.deadline < next {
			next = d.deadline
		}
	}
	r.arm(&r.purgTimer, r.b.h.k.tProduceTimeout, next)
}

// armParkTimer keeps the parked fetches' timer armed no later than their
// earliest deadline.
func (r *Replica) armParkTimer() {
	next := sim.Time(-1)
	for _, pf := range r.parked {
		if !pf.done && (next < 0 || pf.deadline < next) {
			next = pf.deadline
		}
	}
	r.arm(&r.parkTimer, r.b.h.k.tFetchWait, next)
}

// sharedTimer serves every request of one kind on a replica (the
// purgatory's produce timeouts, the parked fetches' waits, the fetcher's
// socket timeout): it is kept armed no later than the earliest deadline and
// re-armed when it fires early, instead of one timer scheduled and
// cancelled per request.
type sharedTimer struct {
	t   sim.Timer
	at  sim.Time // when it is armed
	inc int64    // the broker incarnation that armed it
}

// arm makes st due no later than next (-1: no deadline). A timer armed by
// this incarnation and due no later is kept.
func (r *Replica) arm(st *sharedTimer, kind sim.KindID, next sim.Time) {
	b := r.b
	if next < 0 {
		return
	}
	if st.inc == b.inc && b.h.E.IsPending(st.t) {
		if st.at <= next {
			return
		}
		b.h.E.Cancel(st.t) // a deadline earlier than the armed time
	}
	st.t = b.h.E.At(next, sim.Event{H: b.hid, Kind: kind, Node: b.Node, A: int64(r.TP), B: b.inc})
	st.at, st.inc = next, b.inc
}

// available reports whether a fetch at m.offset has something to return.
func (r *Replica) available(m *fetchReq) bool {
	if m.replica >= 0 {
		return m.offset < r.Log.LEO()
	}
	return m.offset < r.HW // consumers read only below the HW
}

func (r *Replica) answerParked(pf *parkedFetch) {
	pf.done = true
	m := pf.req
	pf.req = nil
	r.answer(pf.from, m)
}

func (r *Replica) answer(from sim.NodeID, m *fetchReq) {
	limit := r.Log.LEO()
	if m.replica < 0 {
		limit = r.HW
	}
	h := r.b.h
	resp := h.pool.fetchResp()
	resp.tp, resp.hw, resp.leo, resp.session, resp.offset = r.TP, r.HW, r.Log.LEO(), m.session, m.offset
	resp.batches = r.Log.fetchFrom(resp.batches, m.offset, m.maxRecords, limit)
	r.b.send(from, h.k.fetchResp, resp)
	h.pool.putFetchReq(m)
}

func (r *Replica) wakeParked() {
	if len(r.parked) == 0 {
		return
	}
	keep := r.parked[:0]
	for _, pf := range r.parked {
		if pf.done {
			continue
		}
		if r.available(pf.req) {
			r.answerParked(pf)
			continue
		}
		keep = append(keep, pf)
	}
	r.parked = keep
}

// updateFollower records a follower's fetch offset as its LEO.
// Source: Replica.updateFetchState: lastCaughtUpTime becomes the fetch time
// if the fetch reached the leader's LEO, or the previous fetch time if it
// reached the LEO the leader had then.
func (r *Replica) updateFollower(id int, offset int64) {
	now := r.b.h.E.Now()
	f := &r.fol[id]
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
	if !slices.Contains(r.maximalISR(), id) && r.pendingISR == nil && offset >= r.HW && offset >= r.epochStart {
		r.proposeISR(append(slices.Clone(r.isr), id))
	}
	r.maybeAdvanceHW()
}

// maybeShrinkISR drops followers that have not caught up within
// replica.lag.time.max.ms (Partition.getOutOfSyncReplicas). The change only
// counts once the controller accepts it.
func (r *Replica) maybeShrinkISR() {
	if r.pendingISR != nil {
		return
	}
	now := r.b.h.E.Now()
	leo := r.Log.LEO()
	var keep []int
	shrunk := false
	for _, id := range r.isr {
		f := r.fol[id]
		if id != r.b.ID && f.leo < leo && now.Sub(f.lastCaughtUp) > r.cfg().ReplicaLagTimeMax {
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
	r.pendingISR = isr
	b := r.b
	b.send(b.h.ctlNode, b.h.k.alterPartition, &alterPartition{tp: r.TP, leader: b.ID, epoch: r.epoch, partitionEpoch: r.pEpoch, isr: isr})
	b.h.E.Cancel(r.alterTimer)
	// AlterPartitionManager resends after a failed or unanswered request; a
	// request lost on the way is given up after 5 s (an assumed client
	// timeout) and the next ISR check proposes again.
	r.alterTimer = b.timer(b.h.k.tAlterTimeout, 5*sim.Second, int64(r.TP), nil)
}

func (b *Broker) onAlterResp(m *alterPartitionResp) {
	r := b.Replica(m.tp)
	if r == nil || !r.isLeader {
		return
	}
	r.pendingISR = nil
	b.h.E.Cancel(r.alterTimer)
	if m.err != ErrNone {
		return
	}
	if m.st.epoch != r.epoch {
		return
	}
	r.isr = m.st.isr
	r.pEpoch = m.st.partitionEpoch
	r.maybeAdvanceHW()
	r.completeDelayed()
}

// ---- follower side ----

func (b *Broker) onPartitionState(st *partitionState) {
	r := b.Replica(st.tp)
	if r == nil {
		return
	}
	if st.epoch < r.epoch || (st.epoch == r.epoch && st.partitionEpoch <= r.pEpoch) {
		return // stale or nothing new
	}
	wasLeader := r.isLeader
	sameEpoch := st.epoch == r.epoch
	r.epoch, r.pEpoch, r.replicas = st.epoch, st.partitionEpoch, st.replicas
	if st.leader == b.ID {
		if wasLeader && sameEpoch {
			r.isr = st.isr // ISR change only
			r.maybeAdvanceHW()
			r.completeDelayed()
			return
		}
		r.becomeLeader(st)
		return
	}
	if wasLeader {
		r.resignLeadership()
	}
	r.leader = st.leader
	if st.leader < 0 {
		r.stopFetching()
		return
	}
	if sameEpoch && r.fetching {
		return
	}
	r.becomeFollower()
}

func (r *Replica) becomeLeader(st *partitionState) {
	b := r.b
	r.stopFetching()
	r.isLeader = true
	r.leader = b.ID
	r.isr = st.isr
	r.pendingISR = nil
	r.Log.assignEpoch(st.epoch)
	r.epochStart = r.Log.LEO()
	now := b.h.E.Now()
	for i := range r.fol {
		r.fol[i] = followerState{}
		if slices.Contains(st.isr, i) {
			r.fol[i].lastCaughtUp = now // Partition.makeLeader resets ISR members as caught up
		}
	}
	r.maybeAdvanceHW()
	b.h.leadershipChanged()
}

// resignLeadership fails waiting acks=all requests with NotLeader and answers
// parked fetches (DelayedProduce completes with NOT_LEADER_OR_FOLLOWER).
func (r *Replica) resignLeadership() {
	r.isLeader = false
	r.pendingISR = nil
	for len(r.purgatory) > 0 {
		r.finishDelayed(r.purgatory[0], ErrNotLeader)
	}
	for _, pf := range r.parked {
		if !pf.done {
			pf.done = true
			r.b.send(pf.from, r.b.h.k.fetchResp, &fetchResp{tp: r.TP, err: ErrNotLeader, session: pf.req.session})
		}
	}
	r.parked = nil
}

func (r *Replica) stopFetching() {
	r.fetching = false
	r.needTrunc = false
	r.session = r.b.h.nextGen()
	r.b.h.E.Cancel(r.fetchTimer)
	r.sockDeadline = 0
	r.stuck = false
}

// fetchAgain retries after a backoff or a timeout: the epoch request while
// truncation is not done, else a fetch.
func (r *Replica) fetchAgain() {
	if r.needTrunc {
		r.askEpoch()
	} else {
		r.sendFetch()
	}
}

// awaitAnswer starts the socket timeout of a request just sent.
func (r *Replica) awaitAnswer() {
	r.b.h.E.Cancel(r.fetchTimer)
	r.sockDeadline = r.b.h.E.Now().Add(r.cfg().ReplicaSocketTimeout)
	r.armSocketTimeout()
}

// armSocketTimeout keeps the socket timer due no later than the
// outstanding request's deadline.
func (r *Replica) armSocketTimeout() {
	if r.sockDeadline != 0 {
		r.arm(&r.sockTimer, r.b.h.k.tSocketTimeout, r.sockDeadline)
	}
}

// answered stops the socket timeout: the response came.
func (r *Replica) answered() {
	r.b.h.E.Cancel(r.fetchTimer)
	r.sockDeadline = 0
}

// becomeFollower truncates and starts fetching from the leader.
// From 0.11 (KIP-101) it asks the leader where its latest epoch ends;
// before, it truncates to its HW (ReplicaManager.makeFollowers).
func (r *Replica) becomeFollower() {
	r.stopFetching()
	r.fetching = true
	if !r.cfg().EpochTruncation {
		r.truncate(r.HW, fmt.Sprintf("to its high watermark on following broker %d (epoch %d, pre-0.11 rule)", r.leader, r.epoch))
		r.sendFetch()
		return
	}
	r.needTrunc = true
	r.askEpoch()
}

// askEpoch sends OffsetsForLeaderEpoch for our latest epoch to the leader.
func (r *Replica) askEpoch() {
	b := r.b
	to := b.h.node(r.leader)
	b.send(to, b.h.k.epochReq, &epochReq{tp: r.TP, epoch: r.Log.LatestEpoch(), current: r.epoch, session: r.session})
	r.awaitAnswer()
}

func (r *Replica) truncate(to int64, why string) {
	if to >= r.Log.LEO() {
		return
	}
	removed := r.Log.truncateTo(to)
	if r.HW > r.Log.LEO() {
		r.HW = r.Log.LEO()
	}
	r.rebuildPIDs()
	r.b.h.obs.removal(r.b.ID, r.TP, removed, history.Truncated, why)
}

func (b *Broker) onEpochReq(from sim.NodeID, m *epochReq) {
	r := b.Replica(m.tp)
	if r == nil || !r.isLeader || m.current != r.epoch {
		b.send(from, b.h.k.epochResp, &epochResp{tp: m.tp, err: ErrNotLeader, session: m.session})
		return
	}
	ep, end := r.Log.EndOffsetFor(m.epoch)
	b.send(from, b.h.k.epochResp, &epochResp{tp: m.tp, epoch: ep, end: end, session: m.session})
}

func (b *Broker) onEpochResp(m *epochResp) {
	r := b.Replica(m.tp)
	if r == nil || m.session != r.session || !r.fetching {
		return
	}
	r.answered()
	if m.err != ErrNone {
		r.fetchTimer = b.timer(b.h.k.tFetchRetry, r.cfg().FetchBackoff, fetchTimerArg(r.TP, r.session), nil)
		return
	}
	// KIP-279: if the leader answers with an older epoch than ours, truncate
	// to where that epoch ends in our own log as well.
	to := m.end
	why := fmt.Sprintf("to the end of epoch %d on leader broker %d (epoch %d)", m.epoch, r.leader, r.epoch)
	switch {
	case m.epoch < 0:
		// The leader knows no epoch at or below ours (UNDEFINED_EPOCH_OFFSET):
		// fall back to the high watermark (AbstractFetcherThread).
		to = r.HW
		why = fmt.Sprintf("to its high watermark: leader broker %d (epoch %d) has no record of epoch %d", r.leader, r.epoch, r.Log.LatestEpoch())
	case m.epoch < r.Log.LatestEpoch():
		_, own := r.Log.EndOffsetFor(m.epoch)
		to = min(to, own)
	}
	r.truncate(to, why)
	r.needTrunc = false
	r.sendFetch()
}

func (r *Replica) sendFetch() {
	b := r.b
	if !r.fetching || r.leader < 0 {
		return
	}
	to := b.h.node(r.leader)
	m := b.h.pool.fetchReq()
	*m = fetchReq{tp: r.TP, replica: b.ID, offset: r.Log.LEO(), epoch: r.epoch, session: r.session, maxRecords: 1 << 16, brokerEpoch: b.brokerEpoch}
	b.send(to, b.h.k.fetch, m)
	r.awaitAnswer()
}

func (b *Broker) onFetchResp(m *fetchResp) {
	r := b.Replica(m.tp)
	if r == nil || m.session != r.session || !r.fetching {
		b.h.pool.putFetchResp(m)
		return
	}
	r.answered()
	if m.err != ErrNone {
		b.h.pool.putFetchResp(m)
		if m.err == ErrOffsetOutOfRange {
			// The leader's log ends below ours (pre-0.11 paths): truncate to it.
			r.becomeFollower()
			return
		}
		r.fetchTimer = b.timer(b.h.k.tFetchRetry, r.cfg().FetchBackoff, fetchTimerArg(r.TP, r.session), nil)
		return
	}
	r.appendFetched(m, 0)
}

// appendFetched appends a fetch response's batches from index i. The count
// flush runs inside the follower's append too; the fetcher waits for it.
func (r *Replica) appendFetched(m *fetchResp, i int) {
	b := r.b
	if r.session != m.session || !r.fetching {
		b.h.pool.putFetchResp(m)
		return
	}
	for ; i < len(m.batches); i++ {
		bt := m.batches[i]
		if bt.Base != r.Log.LEO() {
			if bt.Base < r.Log.LEO() && bt.End() > r.Log.LEO() {
				if r.cfg().EpochTruncation {
					// Epoch truncation cuts our log back to a batch boundary
					// of the leader's; a batch straddling our LEO means it
					// did not.
					b.h.violate("%s on broker %d: fetched batch %d-%d straddles LEO %d (log diverged from leader %d)", b.h.tpName(r.TP), b.ID, bt.Base, bt.End()-1, r.Log.LEO(), r.leader)
				}
				// Before 0.11 the follower truncated to its HW, which need
				// not be a boundary of the leader's batches: the logs
				// diverged (what KIP-101 fixed). The append fails ("out of
				// order offsets"), and the fetcher retries the partition
				// after replica.fetch.backoff.ms, failing the same way: the
				// replica is stuck and drops out of the ISR.
				if !r.stuck {
					r.stuck = true
					b.h.obs.emit(b.ID, r.TP, history.Stuck, "broker %d cannot append the leader's batch %d-%d over its diverged log end %d of %s: its fetcher fails the partition (pre-0.11 high-watermark truncation)", b.ID, bt.Base, bt.End()-1, r.Log.LEO(), b.h.tpName(r.TP))
				}
				b.h.pool.putFetchResp(m)
				r.fetchTimer = b.timer(b.h.k.tFetchRetry, r.cfg().FetchBackoff, fetchTimerArg(r.TP, r.session), nil)
				return
			}
			continue
		}
		r.trackPID(bt)
		r.Log.append(bt, b.h.E.Now())
		if n := r.cfg().FlushIntervalMessages; n > 0 && r.Log.unflushed >= n {
			next := i + 1
			r.fsync(func() { r.appendFetched(m, next) })
			return
		}
	}
	// Follower HW = min(own LEO, leader HW in the response).
	r.HW = max(r.HW, min(r.Log.LEO(), m.hw))
	b.h.pool.putFetchResp(m)
	r.sendFetch()
}

// ---- lifecycle ----

// boot starts a broker the controller registered at bootstrap with broker
// epoch epoch.
func (b *Broker) boot(epoch int64) {
	b.brokerEpoch = epoch
	b.osUp = false
	b.startProcess(true, true)
}

// startProcess starts the broker process (boot or restart).
func (b *Broker) startProcess(clean, boot bool) {
	h := b.h
	b.up, b.paused = true, false
	b.inc = h.nextGen()
	b.deferred = nil
	h.Net.Resume(b.Node)
	if !b.osUp {
		b.osUp = true
		b.osGen = h.nextGen()
		if h.spec.OS.Writeback {
			h.E.After(h.spec.OS.DirtyWriteback, sim.Event{H: b.hid, Kind: h.k.writeback, Node: b.Node, B: b.osGen})
		}
	}
	for _, r := range b.reps {
		if r == nil {
			continue
		}
		// Log recovery: the HW comes back from the checkpoint file, bounded
		// by the recovered log (replication-offset-checkpoint).
		r.HW = min(r.hwCkpt, r.Log.LEO())
		r.isLeader, r.fetching, r.pendingISR = false, false, nil
		r.purgatory, r.parked = nil, nil
		r.leader = -1
		r.epoch, r.pEpoch = -1, -1
		r.session = h.nextGen()
		r.rebuildPIDs()
	}
	k := h.k
	b.timer(k.tHeartbeat, h.spec.Broker.HeartbeatInterval, 0, nil)
	b.timer(k.tISRCheck, h.spec.Broker.ReplicaLagTimeMax/2, 0, nil)
	b.timer(k.tHWCheckpoint, h.spec.Broker.HWCheckpointInterval, 0, nil)
	if h.spec.Broker.FlushSchedulerInterval > 0 {
		b.timer(k.tFlushScheduler, h.spec.Broker.FlushSchedulerInterval, 0, nil)
	}
	if !boot {
		// A restarted broker has no broker epoch until the controller
		// answers its registration; until then it sends no heartbeats and
		// retries the registration (BrokerLifecycleManager). A heartbeat
		// with its old epoch would pass for the old incarnation.
		b.brokerEpoch = -1
		b.registerClean = clean
		b.register()
	}
}

func (b *Broker) register() {
	b.send(b.h.ctlNode, b.h.k.register, &register{broker: b.ID, clean: b.registerClean})
}

// stopProcess kills the process: in-memory state goes, the page cache stays.
func (b *Broker) stopProcess() {
	b.up, b.paused = false, false
	b.shuttingDown = false
	b.inc = b.h.nextGen()
	b.deferred = nil
	b.h.Net.DropHeld(b.Node)
	b.h.Net.Resume(b.Node)
	for _, r := range b.reps {
		if r != nil {
			r.isLeader, r.fetching = false, false
			r.purgatory, r.parked = nil, nil
		}
	}
}

// Crash is kill -9: the process dies, the OS keeps the page cache and writes
// it back later.
func (b *Broker) Crash() {
	if !b.up {
		return
	}
	b.stopProcess()
	b.lastClean = false
	b.h.obs.emit(b.ID, -1, history.Crash, "broker %d crashed (kill -9; page cache kept by the OS)", b.ID)
	// The kernel closes the dead process's sockets: every peer with a
	// connection sees it drop at once (no wait for request.timeout.ms).
	h := b.h
	for _, n := range h.clientNodes {
		h.Net.Send(b.Node, n, h.k.rst, &rst{broker: b.ID})
	}
	for _, n := range h.brokerNodes[1:] {
		if n != b.Node {
			h.Net.Send(b.Node, n, h.k.rst, &rst{broker: b.ID})
		}
	}
}

// PowerLoss: the process and the OS die; the page cache is gone, each log is
// cut back to its durable prefix.
func (b *Broker) PowerLoss() {
	if !b.osUp && !b.up {
		return
	}
	b.machineDies(history.PowerLoss, fmt.Sprintf("broker %d lost power", b.ID), "page cache lost in a power failure", func(r *Replica) []*history.Batch {
		lost := r.Log.powerCut()
		r.hwCkpt = min(r.hwCkpt, r.Log.LEO())
		r.HW = min(r.HW, r.Log.LEO())
		return lost
	})
}

// DiskLoss: the broker dies and its log directory is gone.
func (b *Broker) DiskLoss() {
	b.machineDies(history.DiskLoss, fmt.Sprintf("broker %d lost its disk", b.ID), "disk lost", func(r *Replica) []*history.Batch {
		lost := r.Log.wipe()
		r.hwCkpt, r.HW = 0, 0
		return lost
	})
}

// machineDies stops the process and the OS (an unclean shutdown) and applies
// what happens to each replica's storage.
func (b *Broker) machineDies(kind history.Kind, text, why string, storage func(r *Replica) []*history.Batch) {
	b.stopProcess()
	b.osUp = false
	b.osGen = b.h.nextGen()
	b.lastClean = false
	b.h.obs.emit(b.ID, -1, kind, "%s", text)
	for _, r := range b.reps {
		if r != nil {
			b.h.obs.removal(b.ID, r.TP, storage(r), history.Lost, why)
		}
	}
}

// Restart starts a stopped broker.
func (b *Broker) Restart() {
	if b.up {
		return
	}
	b.h.obs.emit(b.ID, -1, history.Restart, "broker %d restarted", b.ID)
	b.startProcess(b.lastClean, false)
}

// Shutdown is a controlled shutdown: the controller moves leadership away,
// then the broker flushes every log and stops.
func (b *Broker) Shutdown() {
	if !b.up || b.shuttingDown {
		return
	}
	b.shuttingDown = true
	b.h.obs.emit(b.ID, -1, history.Shutdown, "broker %d began a controlled shutdown", b.ID)
	b.send(b.h.ctlNode, b.h.k.shutdownReq, &shutdownReq{broker: b.ID})
	// controlled.shutdown.max.retries x request timeout; if the controller
	// cannot be reached, the broker stops anyway.
	b.timer(b.h.k.tShutdownForce, 30*sim.Second, 0, nil)
}

func (b *Broker) finishShutdown() {
	if !b.up {
		return
	}
	for _, r := range b.reps {
		if r != nil {
			r.Log.markDurable(r.Log.LEO()) // clean shutdown flushes everything
			r.hwCkpt = r.HW
		}
	}
	b.stopProcess()
	b.lastClean = true
	b.h.obs.emit(b.ID, -1, history.Shutdown, "broker %d shut down cleanly (logs flushed)", b.ID)
}

// Pause stalls the process (GC or VM pause): no timers, no messages.
func (b *Broker) Pause() {
	if !b.up || b.paused {
		return
	}
	b.paused = true
	b.h.Net.Pause(b.Node)
	b.h.obs.emit(b.ID, -1, history.Pause, "broker %d paused", b.ID)
}

// Resume ends a pause: held messages and timers run now.
func (b *Broker) Resume() {
	if !b.paused {
		return
	}
	b.paused = false
	for _, ev := range b.deferred {
		b.h.E.At(b.h.E.Now(), ev)
	}
	b.deferred = nil
	b.h.Net.Resume(b.Node)
	b.h.obs.emit(b.ID, -1, history.Resume, "broker %d resumed", b.ID)
}

// SlowDisk multiplies fsync latency by factor for d.
func (b *Broker) SlowDisk(factor float64, d sim.Duration) {
	b.slowFactor = factor
	b.slowUntil = b.h.E.Now().Add(d)
	b.h.obs.emit(b.ID, -1, history.SlowDisk, "broker %d disk slowed %gx for %s", b.ID, factor, d)
}
