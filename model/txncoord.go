package model

import (
	"slices"
	"strings"

	"acksim/history"
	"acksim/sim"
)

// The transaction coordinator (TC) of a transactional.id is the leader of
// its __transaction_state partition (../shared/replication-designs.md §1.1:
// "the active TC" is the leader of a transaction-log partition). acksim
// gives the topic one partition (Kafka's default is 50; every id hashes to
// one of them, and one is what a scenario's few producers need), replicated
// by the same ISR design as the user's partitions, with
// transaction.state.log.replication.factor replicas (3) and
// transaction.state.log.min.isr (2), so the coordinator's durability
// depends on the same faults and flush settings. Every state change is
// written to that log with acks=-1 (TransactionLog.EnforcedRequiredAcks)
// and acted on once committed; a new leader loads the coordinator's state
// from its log (TransactionStateManager.loadTransactionsForTxnTopicPartition)
// and completes what was being completed.

// txnState is a transaction's state at the coordinator
// (TransactionMetadata.scala, apache/kafka@1eb7644, lines 79-162).
type txnState uint8

const (
	tsEmpty txnState = iota
	tsOngoing
	tsPrepareCommit
	tsPrepareAbort
	tsCompleteCommit
	tsCompleteAbort
	tsPrepareEpochFence
)

var txnStateNames = [...]string{"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "PrepareEpochFence"}

func (s txnState) String() string { return txnStateNames[s] }

// txnValidPrevious is the table of valid previous states
// (TransactionMetadata.scala; ../shared/replication-designs.md §1.1).
var txnValidPrevious = map[txnState][]txnState{
	tsEmpty:             {tsEmpty, tsCompleteCommit, tsCompleteAbort},
	tsOngoing:           {tsOngoing, tsEmpty, tsCompleteCommit, tsCompleteAbort},
	tsPrepareCommit:     {tsOngoing},
	tsPrepareAbort:      {tsOngoing, tsPrepareEpochFence},
	tsCompleteCommit:    {tsPrepareCommit},
	tsCompleteAbort:     {tsPrepareAbort},
	tsPrepareEpochFence: {tsOngoing},
}

// txnMeta is the coordinator's record of one transactional.id: what its
// log entries hold (TransactionLogValue), and the markers in flight.
type txnMeta struct {
	id      string
	pid     int64
	epoch   int16
	last    int16 // transaction version 2: the epoch before the last bump (retries of EndTxn carry it)
	state   txnState
	parts   []int
	started sim.Time // when the first partition was added (the timeout counts from then)
	timeout sim.Duration
	tv2     bool // the producer runs transaction version 2
	// The transaction being completed.
	commit      bool
	markerEpoch int16
	// Not logged: the markers in flight, by partition.
	pending map[int]int64    // partition -> correlation id of the marker in flight
	sentAt  map[int]sim.Time // partition -> when its marker was sent (0: due again)
	retryAt sim.Time
}

// logged is the part of m its log entry holds.
func (m *txnMeta) logged() txnMeta {
	return txnMeta{id: m.id, pid: m.pid, epoch: m.epoch, last: m.last, state: m.state, parts: slices.Clone(m.parts),
		started: m.started, timeout: m.timeout, tv2: m.tv2, commit: m.commit, markerEpoch: m.markerEpoch}
}

// txnCoordinator is the coordinator while broker b leads the transaction
// log partition (rep is its replica there).
type txnCoordinator struct {
	h     *host
	b     *Broker
	rep   *Replica
	metas []*txnMeta // in the order they were created: deterministic scans
	byID  map[string]*txnMeta
	corr  int64
}

// activateTxnCoordinator starts the coordinator on r's broker, r having
// become the transaction log's leader: it loads the state from r's log and
// completes the transactions that were being completed.
func activateTxnCoordinator(r *Replica) {
	h := r.b.h
	tc := &txnCoordinator{h: h, b: r.b, rep: r, byID: map[string]*txnMeta{}}
	for _, e := range r.Log.entries {
		for _, id := range e.b.Records {
			if id >= 0 {
				continue
			}
			st := h.txnStates[-id-1]
			meta := tc.byID[st.id]
			if meta == nil {
				meta = &txnMeta{}
				tc.byID[st.id] = meta
				tc.metas = append(tc.metas, meta)
			}
			*meta = st
			meta.parts = slices.Clone(st.parts)
		}
	}
	r.b.tc = tc
	if len(tc.metas) > 0 {
		h.obs.emit(r.b.ID, -1, history.TxnEnd, "broker %d is the transaction coordinator (leader of %s): it loaded %d transactional id(s) from its log", r.b.ID, h.tpName(r.TP), len(tc.metas))
	}
	for _, meta := range tc.metas {
		if meta.state == tsPrepareCommit || meta.state == tsPrepareAbort {
			tc.startMarkers(meta)
		}
	}
	r.b.timer(h.txk.tScan, h.spec.Broker.TxnAbortInterval, 0, tc)
}

// deactivate: the broker no longer leads the transaction log.
func (tc *txnCoordinator) deactivate() {
	if tc.b.tc == tc {
		tc.b.tc = nil
	}
}

func (tc *txnCoordinator) to(m *txnMeta, s txnState) {
	if !slices.Contains(txnValidPrevious[s], m.state) {
		tc.h.violate("transaction coordinator: %s cannot go from %s to %s", m.id, m.state, s)
	}
	m.state = s
}

// writable reports whether the log can take a write: it leads, with an ISR
// of at least transaction.state.log.min.isr (acks=-1 writes refused below
// it, as any topic's; the coordinator answers COORDINATOR_NOT_AVAILABLE).
func (tc *txnCoordinator) writable() bool {
	r := tc.rep
	return r.role == leading && len(r.lead.isr) >= tc.h.spec.Broker.TxnStateMinISR
}

// write appends meta's state to the transaction log and runs then once it
// is committed (below the HW). If the leadership goes first, then never
// runs: the next coordinator loads what the log kept.
func (tc *txnCoordinator) write(meta *txnMeta, then func()) {
	h := tc.h
	r := tc.rep
	h.txnStates = append(h.txnStates, meta.logged())
	bt := h.pool.batch()
	*bt = history.Batch{Base: r.Log.LEO(), Epoch: r.epoch, PID: -1, Seq: -1, Producer: -1, Records: []history.RecordID{history.RecordID(-len(h.txnStates))}}
	r.Log.append(bt, h.E.Now())
	r.lead.tcWaits = append(r.lead.tcWaits, tcWait{required: bt.End(), then: then})
	if n := r.cfg().FlushIntervalMessages; n > 0 && r.Log.unflushed >= n {
		r.fsync(func() { r.wakeParked(); r.maybeAdvanceHW() })
		return
	}
	r.wakeParked()
	r.maybeAdvanceHW()
}

// tcWait is a coordinator's action waiting for its log entry to commit.
type tcWait struct {
	required int64
	then     func()
}

// completeTCWaits runs the coordinator's actions whose entries the HW now
// covers.
func (r *Replica) completeTCWaits() {
	for len(r.lead.tcWaits) > 0 && r.HW >= r.lead.tcWaits[0].required {
		w := r.lead.tcWaits[0]
		r.lead.tcWaits = r.lead.tcWaits[1:]
		if w.then != nil {
			w.then()
		}
	}
}

// onMessage handles a request to the coordinator, or a marker's answer.
func (tc *txnCoordinator) onMessage(ev *sim.Event) {
	t := &tc.h.txk
	from := sim.NodeID(ev.A)
	switch ev.Kind {
	case t.initPid:
		tc.onInit(from, ev.P.(*initPidReq))
	case t.addParts:
		tc.onAdd(from, ev.P.(*addPartsReq))
	case t.endTxn:
		tc.onEnd(from, ev.P.(*endTxnReq))
	case t.markerResp:
		tc.onMarkerResp(ev.P.(*markerResp))
	}
}

// onTimer handles the timeout scan and the markers' retries.
func (tc *txnCoordinator) onTimer(ev *sim.Event) {
	h := tc.h
	switch ev.Kind {
	case h.txk.tScan:
		tc.abortTimedOut()
		tc.b.timer(h.txk.tScan, h.spec.Broker.TxnAbortInterval, 0, tc)
	case h.txk.tMarkerRetry:
		if int(ev.A) < len(tc.metas) {
			tc.sendMarkers(tc.metas[ev.A], false)
		}
	}
}

// notCoordinator answers a request that reached a broker that is not the
// coordinator (any more, or not yet): the client finds it again.
func (b *Broker) notCoordinator(ev *sim.Event, err ErrCode) {
	t := &b.h.txk
	from := sim.NodeID(ev.A)
	switch m := ev.P.(type) {
	case *initPidReq:
		b.send(from, t.initPidResp, &initPidResp{corr: m.corr, err: err})
	case *addPartsReq:
		tp := -1
		if len(m.tps) > 0 {
			tp = m.tps[0]
		}
		b.send(from, t.addPartsResp, &addPartsResp{corr: m.corr, err: err, tp: tp})
	case *endTxnReq:
		b.send(from, t.endTxnResp, &endTxnResp{corr: m.corr, err: err})
	}
}

func (tc *txnCoordinator) reply(to sim.NodeID, kind sim.KindID, p any) { tc.b.send(to, kind, p) }

// onInit is InitProducerId: the first call gets a producer id; every call
// bumps the epoch, fencing older instances, and a transaction the previous
// instance left open is aborted first (the client retries on
// CONCURRENT_TRANSACTIONS until it is). Source: ../shared/replication-designs.md
// §1.1, "Message flow" 1 (TransactionCoordinator.handleInitProducerId).
func (tc *txnCoordinator) onInit(from sim.NodeID, m *initPidReq) {
	h := tc.h
	if !tc.writable() {
		tc.reply(from, h.txk.initPidResp, &initPidResp{corr: m.corr, err: ErrCoordinatorNotAvailable})
		return
	}
	meta := tc.byID[m.txnID]
	if meta == nil {
		meta = &txnMeta{id: m.txnID, pid: h.nextPID(), epoch: -1, tv2: h.txnTV2[m.txnID]}
		tc.byID[m.txnID] = meta
		tc.metas = append(tc.metas, meta)
	}
	meta.timeout = m.timeout
	switch meta.state {
	case tsPrepareCommit, tsPrepareAbort, tsPrepareEpochFence:
		tc.reply(from, h.txk.initPidResp, &initPidResp{corr: m.corr, err: ErrConcurrentTransactions})
		return
	case tsOngoing:
		h.obs.emit(-1, -1, history.TxnFence, "transaction coordinator fenced %s: a new instance initialised; aborting its open transaction (epoch %d -> %d)", meta.id, meta.epoch, meta.epoch+1)
		tc.fenceAndAbort(meta)
		tc.reply(from, h.txk.initPidResp, &initPidResp{corr: m.corr, err: ErrConcurrentTransactions})
		return
	}
	meta.epoch++
	meta.last = meta.epoch
	meta.parts = nil
	pid, epoch := meta.pid, meta.epoch
	tc.write(meta, func() {
		tc.reply(from, h.txk.initPidResp, &initPidResp{corr: m.corr, pid: pid, epoch: epoch})
	})
}

// fenceAndAbort aborts meta's ongoing transaction under a bumped epoch
// (PrepareEpochFence, then PrepareAbort with epoch+1): its producer is
// fenced at its next request (TransactionMetadata.prepareFenceProducerEpoch;
// the state table of ../shared/replication-designs.md §1.1).
func (tc *txnCoordinator) fenceAndAbort(meta *txnMeta) {
	tc.to(meta, tsPrepareEpochFence)
	meta.epoch++
	meta.last = meta.epoch
	tc.prepare(meta, false, meta.epoch, nil)
}

// onAdd is AddPartitionsToTxn, from a producer (add) or a partition
// leader (verify, or add under transaction version 2).
func (tc *txnCoordinator) onAdd(from sim.NodeID, m *addPartsReq) {
	h := tc.h
	answer := func(err ErrCode) {
		tp := -1
		if len(m.tps) > 0 {
			tp = m.tps[0]
		}
		tc.reply(from, h.txk.addPartsResp, &addPartsResp{corr: m.corr, err: err, tp: tp})
	}
	meta := tc.byID[m.txnID]
	fenced := ErrProducerFenced
	if m.broker > 0 {
		fenced = ErrInvalidProducerEpoch // a leader's verification (AddPartitionsToTxnManager)
	}
	switch {
	case meta == nil || meta.pid != m.pid:
		answer(ErrInvalidTxnState)
	case m.epoch != meta.epoch:
		answer(fenced)
	case meta.state == tsPrepareCommit || meta.state == tsPrepareAbort || meta.state == tsPrepareEpochFence:
		answer(ErrConcurrentTransactions)
	case m.verifyOnly:
		// KIP-890 part 1: the batch must belong to the ongoing
		// transaction, which must already hold the partition.
		ok := meta.state == tsOngoing
		for _, tp := range m.tps {
			ok = ok && slices.Contains(meta.parts, tp)
		}
		if !ok {
			answer(ErrInvalidTxnState)
			return
		}
		answer(ErrNone)
	case !tc.writable():
		answer(ErrCoordinatorNotAvailable)
	default:
		added := false
		if meta.state != tsOngoing {
			tc.to(meta, tsOngoing)
			meta.started, meta.parts, added = h.E.Now(), nil, true
		}
		for _, tp := range m.tps {
			if !slices.Contains(meta.parts, tp) {
				meta.parts = append(meta.parts, tp)
				added = true
			}
		}
		if !added {
			answer(ErrNone) // a retry: nothing new to log
			return
		}
		slices.Sort(meta.parts)
		tc.write(meta, func() { answer(ErrNone) })
	}
}

// onEnd is EndTxn. The coordinator answers once PrepareCommit (or
// PrepareAbort) is logged, before the markers are written.
func (tc *txnCoordinator) onEnd(from sim.NodeID, m *endTxnReq) {
	h := tc.h
	answer := func(err ErrCode, epoch int16) {
		tc.reply(from, h.txk.endTxnResp, &endTxnResp{corr: m.corr, err: err, epoch: epoch})
	}
	meta := tc.byID[m.txnID]
	done := func(commit bool) bool {
		return (commit && meta.state == tsCompleteCommit) || (!commit && meta.state == tsCompleteAbort)
	}
	switch {
	case meta == nil || meta.pid != m.pid:
		answer(ErrInvalidTxnState, 0)
	case meta.tv2 && m.epoch == meta.last && m.epoch+1 == meta.epoch && done(m.commit):
		// Transaction version 2: a retry of the EndTxn that ended the last
		// transaction (it carries the epoch before the bump).
		answer(ErrNone, meta.epoch)
	case m.epoch != meta.epoch:
		answer(ErrProducerFenced, 0)
	case meta.state == tsOngoing && !tc.writable():
		answer(ErrCoordinatorNotAvailable, 0)
	case meta.state == tsOngoing:
		markerEpoch := m.epoch
		if meta.tv2 {
			// KIP-890 part 2: the epoch is bumped on every commit or
			// abort, and the markers carry the new epoch.
			meta.last = meta.epoch
			meta.epoch++
			markerEpoch = meta.epoch
		}
		if m.sentAt < meta.started {
			// Ground truth for the story, not the protocol's knowledge:
			// this EndTxn was sent before the transaction it ends began.
			h.obs.emit(-1, -1, history.TxnEnd, "transaction coordinator: an EndTxn(%s) that %s sent at %s, before its open transaction began (at %s), ends that transaction: the epoch (%d) is the same",
				map[bool]string{true: "commit", false: "abort"}[m.commit], meta.id, m.sentAt.Short(), meta.started.Short(), m.epoch)
		}
		epoch := meta.epoch
		tc.prepare(meta, m.commit, markerEpoch, func() { answer(ErrNone, epoch) })
	case !meta.tv2 && done(m.commit):
		// The classic protocol: a retry of an EndTxn that completed is
		// answered as a success. So is a delayed EndTxn of an earlier
		// transaction with the same epoch, if the state matches: the
		// protocol cannot tell them apart (KAFKA-17754).
		h.obs.emit(-1, -1, history.TxnEnd, "transaction coordinator: EndTxn(%s) from %s (pid %d, epoch %d) finds it %s: answered as a retry, no markers written",
			map[bool]string{true: "commit", false: "abort"}[m.commit], meta.id, meta.pid, m.epoch, meta.state)
		answer(ErrNone, meta.epoch)
	case meta.state == tsPrepareCommit || meta.state == tsPrepareAbort || meta.state == tsPrepareEpochFence:
		answer(ErrConcurrentTransactions, 0)
	default:
		answer(ErrInvalidTxnState, 0)
	}
}

// prepare moves an ongoing transaction to PrepareCommit or PrepareAbort,
// logs it, and once that is committed answers (then) and writes the
// markers.
func (tc *txnCoordinator) prepare(meta *txnMeta, commit bool, markerEpoch int16, then func()) {
	h := tc.h
	if commit {
		tc.to(meta, tsPrepareCommit)
	} else {
		tc.to(meta, tsPrepareAbort)
	}
	meta.commit, meta.markerEpoch = commit, markerEpoch
	if !commit {
		// Commits are the routine (one a transaction); aborts are news.
		names := make([]string, len(meta.parts))
		for i, tp := range meta.parts {
			names[i] = h.tpName(tp)
		}
		h.obs.emit(-1, -1, history.TxnEnd, "transaction coordinator: %s %s (pid %d), ABORT markers with epoch %d to %s",
			meta.id, meta.state, meta.pid, markerEpoch, strings.Join(names, ", "))
	}
	tc.write(meta, func() {
		if then != nil {
			then()
		}
		tc.startMarkers(meta)
	})
}

// startMarkers writes the markers of the transaction meta completes.
func (tc *txnCoordinator) startMarkers(meta *txnMeta) {
	meta.pending, meta.sentAt = map[int]int64{}, map[int]sim.Time{}
	for _, tp := range meta.parts {
		meta.pending[tp] = 0
	}
	if len(meta.parts) == 0 {
		tc.complete(meta)
		return
	}
	tc.sendMarkers(meta, true)
}

// markerTimeout bounds a marker request's wait before it is sent again
// (the coordinator's inter-broker request.timeout.ms, 30 s); an error
// answer, or no leader, is retried after markerBackoff.
const (
	markerTimeout = 30 * sim.Second
	markerBackoff = 100 * sim.Millisecond
)

// sendMarkers sends the markers not yet written that are due: all of them
// at first, then those whose request timed out, failed, or found no
// leader; and arms the retry for the next one due.
func (tc *txnCoordinator) sendMarkers(meta *txnMeta, first bool) {
	h := tc.h
	now := h.E.Now()
	if meta.pending == nil || (!first && now < meta.retryAt) {
		return
	}
	next := sim.Time(-1)
	for _, tp := range meta.parts {
		if _, ok := meta.pending[tp]; !ok {
			continue
		}
		if at := meta.sentAt[tp]; at > 0 && now < at.Add(markerTimeout) {
			next = earliest(next, at.Add(markerTimeout)) // in flight, not due
			continue
		}
		dest := h.ctlNode // the group's offsets: to the group coordinator
		if tp != groupTP {
			leader := h.leaderOf(tp)
			if leader <= 0 {
				// No leader now: the coordinator's marker channel waits for
				// one; tried again after the backoff.
				meta.sentAt[tp] = 0
				next = earliest(next, now.Add(markerBackoff))
				continue
			}
			dest = h.node(leader)
		}
		tc.corr++
		meta.pending[tp], meta.sentAt[tp] = tc.corr, now
		tc.b.send(dest, h.txk.marker, &markerReq{tp: tp, pid: meta.pid, epoch: meta.markerEpoch, commit: meta.commit, corr: tc.corr, txnID: meta.id})
		next = earliest(next, now.Add(markerTimeout))
	}
	if next >= 0 {
		tc.armRetry(meta, next)
	}
}

func earliest(a, b sim.Time) sim.Time {
	if a < 0 || b < a {
		return b
	}
	return a
}

func (tc *txnCoordinator) armRetry(meta *txnMeta, at sim.Time) {
	meta.retryAt = at
	tc.b.timer(tc.h.txk.tMarkerRetry, at.Sub(tc.h.E.Now()), int64(slices.Index(tc.metas, meta)), tc)
}

func (tc *txnCoordinator) onMarkerResp(m *markerResp) {
	for _, meta := range tc.metas {
		corr, ok := meta.pending[m.tp]
		if !ok || corr != m.corr {
			continue
		}
		switch m.err {
		case ErrNone, ErrInvalidProducerEpoch:
			// Written; or refused for a stale epoch, which nothing can
			// change: the coordinator moves on (TransactionMarkerRequestCompletionHandler).
			delete(meta.pending, m.tp)
			if len(meta.pending) == 0 {
				tc.complete(meta)
			}
		default:
			meta.sentAt[m.tp] = 0 // due again after the backoff
			if at := tc.h.E.Now().Add(markerBackoff); at < meta.retryAt {
				tc.armRetry(meta, at)
			}
		}
		return
	}
}

// complete writes CompleteCommit or CompleteAbort once every marker is
// written.
func (tc *txnCoordinator) complete(meta *txnMeta) {
	if meta.state == tsPrepareCommit {
		tc.to(meta, tsCompleteCommit)
	} else {
		tc.to(meta, tsCompleteAbort)
	}
	meta.pending, meta.sentAt = nil, nil
	if tc.writable() {
		tc.write(meta, nil)
	}
	meta.parts = nil
}

// abortTimedOut aborts every transaction open longer than its
// transaction.timeout.ms, under a bumped epoch that fences its producer
// (TransactionCoordinator.abortTimedOutTransactions, run every
// transaction.abort.timed.out.transaction.cleanup.interval.ms).
func (tc *txnCoordinator) abortTimedOut() {
	now := tc.h.E.Now()
	for _, meta := range tc.metas {
		if meta.state == tsOngoing && now.Sub(meta.started) > meta.timeout && tc.writable() {
			tc.h.obs.emit(-1, -1, history.TxnFence, "transaction coordinator aborts %s's transaction, open for %s (transaction.timeout.ms %s); epoch %d -> %d fences its producer",
				meta.id, now.Sub(meta.started), meta.timeout, meta.epoch, meta.epoch+1)
			tc.fenceAndAbort(meta)
		}
	}
}

// settled reports whether the coordinator has no transaction completing
// (markers still to be written).
func (tc *txnCoordinator) settled() bool {
	for _, m := range tc.metas {
		if m.state == tsPrepareCommit || m.state == tsPrepareAbort || m.state == tsPrepareEpochFence {
			return false
		}
	}
	return true
}
