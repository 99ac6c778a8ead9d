package model

import (
	"slices"

	"acksim/history"
	"acksim/sim"
)

// Replica is one partition's replica on one broker: the log and the state
// every role shares, and the state of its role. A replica is a leader, a
// follower, or neither (no leader known, or the process just started); the
// leader's and the follower's state live in their own structs and are
// meaningful only in their role.
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
	pids     pidTable // producer state, rebuilt from the log (both roles append)

	role  replicaRole
	lead  leaderState // role == leading
	fetch fetcher     // role == following
}

// replicaRole is what a replica does for its partition.
type replicaRole uint8

const (
	noRole    replicaRole = iota // no leader known, or the process (re)started
	leading                      // it leads: takes produce requests, answers fetches
	following                    // it follows r.leader: truncates, then fetches
)

// leaderState is what a leader keeps (Partition.scala's leader state).
// Its shared timers outlive the role: one armed by a former leadership
// fires, finds nothing due and is not re-armed.
type leaderState struct {
	isr        []int // committed ISR (accepted by the controller)
	pendingISR []int // proposed, in flight; nil if none
	alterTimer sim.Timer
	fol        []followerProgress // indexed by broker id
	epochStart int64              // leader epoch start offset
	purgatory  []*delayedProduce
	parked     []*parkedFetch
	// Transactions: produces waiting for the coordinator's verification,
	// and markers waiting to be committed.
	verifying []verifyingProduce
	markers   []pendingMarker
	// tcWaits: the transaction coordinator's actions waiting for their
	// log entries to commit (the transaction log's leader only).
	tcWaits []tcWait
	// One timer each for the purgatory's timeouts and the parked fetches'
	// waits (see sharedTimer).
	purgTimer, parkTimer sharedTimer
}

// fetchPhase is where a follower's fetcher is (AbstractFetcherThread's
// partition states: Truncating, Fetching; and a failed partition).
type fetchPhase uint8

const (
	truncating fetchPhase = iota // KIP-101: asked the leader where our epoch ends; retries ask again, never fetch
	fetching                     // appending what the leader returns
	stuck                        // pre-0.11: the log diverged from the leader's and appends fail; retried after replica.fetch.backoff.ms
)

// fetcher is a follower's replica fetcher for this partition.
type fetcher struct {
	phase      fetchPhase
	session    int64     // fetcher generation; responses of other sessions are ignored
	fetchTimer sim.Timer // replica.fetch.backoff.ms retries
	// The outstanding fetch or epoch request times out at sockDeadline
	// (replica.socket.timeout.ms after it was sent; 0: none outstanding),
	// on sockTimer.
	sockDeadline sim.Time
	sockTimer    sharedTimer
}

func (r *Replica) cfg() *BrokerConfig { return &r.b.h.spec.Broker }

// IsLeader reports whether this replica believes it leads the partition.
func (r *Replica) IsLeader() bool { return r.role == leading }

// Epoch is the latest leader epoch the replica knows.
func (r *Replica) Epoch() int32 { return r.epoch }

// ISR is the committed ISR as the leader knows it.
func (r *Replica) ISR() []int { return r.lead.isr }

// fsync flushes r's log up to its current LEO; after runs when it completes
// (if the process is still the same incarnation).
func (r *Replica) fsync(after func()) { r.b.fsync(&r.Log, r.TP, after) }

// The count flush, log.flush.interval.messages, runs synchronously inside
// the append path, on leader and follower appends alike (UnifiedLog.append
// flushes when unflushedMessages >= flushInterval): see produce and
// appendFetched.

func (r *Replica) trackPID(bt *history.Batch) { r.pids.track(bt) }

// rebuildPIDs recomputes producer state from the log (after truncation or
// restart: ProducerStateManager is rebuilt from the log).
func (r *Replica) rebuildPIDs() { r.pids.rebuild(&r.Log) }

func (r *Replica) entryAt(base int64) *history.Batch {
	i := r.Log.find(base)
	if i < len(r.Log.entries) && r.Log.entries[i].b.Base == base {
		return r.Log.entries[i].b
	}
	return nil
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

func (r *Replica) onPartitionState(st *partitionState) {
	b := r.b
	if st.epoch < r.epoch || (st.epoch == r.epoch && st.partitionEpoch <= r.pEpoch) {
		return // stale or nothing new
	}
	wasLeader := r.role == leading
	sameEpoch := st.epoch == r.epoch
	r.epoch, r.pEpoch, r.replicas = st.epoch, st.partitionEpoch, st.replicas
	if st.leader == b.ID {
		if wasLeader && sameEpoch {
			r.lead.isr = st.isr // ISR change only
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
	if sameEpoch && r.role == following {
		return
	}
	r.becomeFollower()
}

func (r *Replica) becomeLeader(st *partitionState) {
	b := r.b
	r.stopFetching()
	r.role = leading
	r.leader = b.ID
	r.lead.isr = st.isr
	r.lead.pendingISR = nil
	r.Log.assignEpoch(st.epoch)
	r.lead.epochStart = r.Log.LEO()
	now := b.h.E.Now()
	for i := range r.lead.fol {
		r.lead.fol[i] = followerProgress{}
		if slices.Contains(st.isr, i) {
			r.lead.fol[i].lastCaughtUp = now // Partition.makeLeader resets ISR members as caught up
		}
	}
	r.maybeAdvanceHW()
	if r.TP == b.h.txnTP && (b.tc == nil || b.tc.rep != r) {
		activateTxnCoordinator(r)
	}
	b.h.leadershipChanged()
}

// resignLeadership fails waiting acks=all requests with NotLeader and answers
// parked fetches (DelayedProduce completes with NOT_LEADER_OR_FOLLOWER).
func (r *Replica) resignLeadership() {
	r.role = noRole
	r.lead.pendingISR = nil
	r.resignTxn()
	for len(r.lead.purgatory) > 0 {
		r.finishDelayed(r.lead.purgatory[0], ErrNotLeader)
	}
	for _, pf := range r.lead.parked {
		if !pf.done {
			pf.done = true
			r.b.send(pf.from, r.b.h.k.fetchResp, &fetchResp{tp: r.TP, err: ErrNotLeader, session: pf.req.session})
		}
	}
	r.lead.parked = nil
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

// ---- the replica as its broker hosts it (see seam.go) ----

// step handles a message of the ISR protocol or one of the replica's timers.
func (r *Replica) step(ev *sim.Event) {
	k := &r.b.h.k
	switch ev.Kind {
	case k.fetchResp:
		r.onFetchResp(ev.P.(*fetchResp))
	case k.epochReq:
		r.onEpochReq(sim.NodeID(ev.A), ev.P.(*epochReq))
	case k.epochResp:
		r.onEpochResp(ev.P.(*epochResp))
	case k.leaderAndIsr:
		r.onPartitionState(ev.P.(*partitionState))
	case r.b.h.txk.marker:
		if r.b.h.txk.known {
			r.onMarker(sim.NodeID(ev.A), ev.P.(*markerReq))
		}
	case r.b.h.txk.addPartsResp:
		if r.b.h.txk.known {
			r.onVerified(ev.P.(*addPartsResp))
		}
	case k.alterResp:
		r.onAlterResp(ev.P.(*alterPartitionResp))
	case k.tISRCheck:
		if r.role == leading {
			r.maybeShrinkISR()
		}
	case k.tHWCheckpoint:
		r.hwCkpt = r.HW
	case k.tProduceTimeout:
		r.onPurgatoryTimer()
	case k.tFetchWait:
		r.onParkTimer()
	case k.tFetchRetry:
		if session := ev.A >> 16; r.fetch.session == session {
			r.fetchAgain()
		}
	case k.tSocketTimeout:
		r.onSocketTimer()
	case k.tAlterTimeout:
		r.lead.pendingISR = nil
	}
}

// peerDown: a fetcher whose leader's process died backs off and retries
// (replica.fetch.backoff.ms) instead of waiting for its timeout.
func (r *Replica) peerDown(id int) {
	if r.role == following && r.leader == id {
		r.answered() // the RST is the answer: no timeout to wait for
		r.retryFetch()
	}
}

func (r *Replica) known() (knownState, bool) { return knownState{r.TP, r.epoch, r.pEpoch}, true }

// start recovers the replica when its process starts: the HW comes back
// from the checkpoint file, bounded by the recovered log
// (replication-offset-checkpoint); the producer state is rebuilt from the
// log; it knows no leader until the controller tells it.
func (r *Replica) start() {
	r.HW = min(r.hwCkpt, r.Log.LEO())
	r.role, r.lead.pendingISR = noRole, nil
	r.lead.purgatory, r.lead.parked = nil, nil
	r.lead.verifying, r.lead.markers, r.lead.tcWaits = nil, nil, nil
	r.dropTxnCoordinator()
	r.leader = -1
	r.epoch, r.pEpoch = -1, -1
	r.fetch.session = r.b.h.nextGen()
	r.rebuildPIDs()
}

// stop: the process died with its requests in purgatory.
func (r *Replica) stop() {
	r.role = noRole
	r.lead.purgatory, r.lead.parked = nil, nil
	r.lead.verifying, r.lead.markers, r.lead.tcWaits = nil, nil, nil
	r.dropTxnCoordinator()
}

// storageLost cuts the log to its durable prefix (power loss) or erases it
// (disk loss), with the HW and its checkpoint.
func (r *Replica) storageLost(disk bool) []*history.Batch {
	if disk {
		lost := r.Log.wipe()
		r.hwCkpt, r.HW = 0, 0
		return lost
	}
	lost := r.Log.powerCut()
	r.hwCkpt = min(r.hwCkpt, r.Log.LEO())
	r.HW = min(r.HW, r.Log.LEO())
	return lost
}

// flushAll: a clean shutdown flushes everything and checkpoints the HW.
func (r *Replica) flushAll() {
	r.Log.flushAll()
	r.hwCkpt = r.HW
}

func (r *Replica) partition() int       { return r.TP }
func (r *Replica) log() *Log            { return &r.Log }
func (r *Replica) highWatermark() int64 { return r.HW }
func (r *Replica) leads() bool          { return r.role == leading }
