package model

import (
	"fmt"
	"slices"

	"acksim/history"
	"acksim/sim"
)

// Kafka transactions (KIP-98; KIP-890 for transaction version 2). The
// protocol facts are in ../shared/replication-designs.md §1.1; each rule
// below cites its source there.
//
// The transaction coordinator (TC) runs on the controller's node, next to
// the group coordinator, and its state survives every fault, as acksim's
// group coordinator's does: Kafka keeps both in replicated internal topics
// (__transaction_state: 50 partitions, RF 3, min ISR 2, written with
// acks=-1), which acksim does not model yet. Transactions run on Kafka's
// ISR design only.

// txnKinds are the transaction protocol's message and timer kinds,
// registered only in runs with a transactional producer (so other runs
// keep their traces).
type txnKinds struct {
	known                                        bool
	initPid, initPidResp, addParts, addPartsResp sim.KindID
	endTxn, endTxnResp, marker, markerResp       sim.KindID
	tScan, tMarkerRetry, tProducerTxn            sim.KindID
}

func (h *host) registerTxnKinds() {
	t := &h.txk
	t.known = true
	for _, x := range []struct {
		p    *sim.KindID
		name string
	}{
		{&t.initPid, "init-producer-id"}, {&t.initPidResp, "init-producer-id-response"},
		{&t.addParts, "add-partitions-to-txn"}, {&t.addPartsResp, "add-partitions-to-txn-response"},
		{&t.endTxn, "end-txn"}, {&t.endTxnResp, "end-txn-response"},
		{&t.marker, "write-txn-markers"}, {&t.markerResp, "write-txn-markers-response"},
		{&t.tScan, "timer.txn-timeout-scan"}, {&t.tMarkerRetry, "timer.txn-marker-retry"}, {&t.tProducerTxn, "timer.producer-txn"},
	} {
		*x.p = h.E.Kind(x.name)
	}
}

// is reports whether kind is the registered transaction kind k.
func (t *txnKinds) is(kind, k sim.KindID) bool { return t.known && kind == k }

// ---- messages ----

type initPidReq struct {
	txnID   string
	timeout sim.Duration
	corr    int64
}

func (m *initPidReq) Describe() string { return fmt.Sprintf("InitProducerId %s", m.txnID) }

type initPidResp struct {
	corr  int64
	err   ErrCode
	pid   int64
	epoch int16
}

func (m *initPidResp) Describe() string {
	return fmt.Sprintf("InitProducerId response %s pid=%d epoch=%d", m.err, m.pid, m.epoch)
}

// addPartsReq is AddPartitionsToTxn: from a producer (broker 0, the
// classic protocol), or from a partition leader (broker id) that verifies
// a transactional batch (KIP-890 part 1, verifyOnly) or, with transaction
// version 2, adds its partition to the transaction.
type addPartsReq struct {
	txnID      string
	pid        int64
	epoch      int16
	tps        []int
	corr       int64
	verifyOnly bool
	broker     int
}

func (m *addPartsReq) Describe() string {
	what := "AddPartitionsToTxn"
	if m.verifyOnly {
		what += " (verify)"
	}
	return fmt.Sprintf("%s %s pid=%d epoch=%d partitions=%v", what, m.txnID, m.pid, m.epoch, m.tps)
}

type addPartsResp struct {
	corr int64
	err  ErrCode
	tp   int // for a partition leader: the partition whose batch waits
}

func (m *addPartsResp) Describe() string { return "AddPartitionsToTxn response " + m.err.String() }
func (m *addPartsResp) partition() int   { return m.tp }

type endTxnReq struct {
	txnID  string
	pid    int64
	epoch  int16
	commit bool
	corr   int64
	// sentAt is when the client sent it: not read by the protocol, only
	// by the coordinator's event that tells a delayed EndTxn apart.
	sentAt sim.Time
}

func (m *endTxnReq) Describe() string {
	return fmt.Sprintf("EndTxn(%s) %s pid=%d epoch=%d", map[bool]string{true: "commit", false: "abort"}[m.commit], m.txnID, m.pid, m.epoch)
}

type endTxnResp struct {
	corr  int64
	err   ErrCode
	epoch int16 // transaction version 2: the producer's next epoch
}

func (m *endTxnResp) Describe() string { return "EndTxn response " + m.err.String() }

// markerReq is WriteTxnMarkers for one partition: the leader appends a
// control batch and answers once it is committed (acks=-1; KafkaApis
// handleWriteTxnMarkersRequest).
type markerReq struct {
	tp     int
	pid    int64
	epoch  int16
	commit bool
	corr   int64
	txnID  string
}

func (m *markerReq) Describe() string {
	return fmt.Sprintf("WriteTxnMarkers %s tp=%d pid=%d epoch=%d", map[bool]string{true: "COMMIT", false: "ABORT"}[m.commit], m.tp, m.pid, m.epoch)
}
func (m *markerReq) partition() int { return m.tp }

type markerResp struct {
	tp   int
	corr int64
	err  ErrCode
}

func (m *markerResp) Describe() string { return "WriteTxnMarkers response " + m.err.String() }

// ---- the transaction coordinator ----

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

// txnMeta is the coordinator's record of one transactional.id.
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
	// The markers of the transaction being completed, by partition.
	commit      bool
	markerEpoch int16
	pending     map[int]int64    // partition -> correlation id of the marker in flight
	sentAt      map[int]sim.Time // partition -> when its marker was sent (0: due again)
	retryAt     sim.Time
}

type txnCoordinator struct {
	h     *host
	hid   sim.HandlerID
	metas []*txnMeta // in the order they were created: deterministic scans
	byID  map[string]*txnMeta
	corr  int64
	// producerTV2: by transactional.id, whether its producer runs
	// transaction version 2 (the client decides; 4.0+ clients on a
	// cluster whose transaction.version is 2).
	producerTV2 map[string]bool
	// leaderOf is a partition's leader in the cluster's metadata (-1 none).
	leaderOf func(tp int) int
}

func newTxnCoordinator(h *host, mux *nodeMux, producers []*Producer) *txnCoordinator {
	tc := &txnCoordinator{h: h, byID: map[string]*txnMeta{}, producerTV2: map[string]bool{}}
	for _, p := range producers {
		if p.Cfg.Transactional() {
			tc.producerTV2[p.Cfg.TransactionalID] = p.Cfg.TxnVersion >= 2
		}
	}
	tc.hid = h.E.Register(tc)
	t := &h.txk
	mux.route(tc, t.initPid, t.addParts, t.endTxn, t.markerResp)
	return tc
}

func (tc *txnCoordinator) start() {
	tc.h.E.After(tc.h.spec.Broker.TxnAbortInterval, sim.Event{H: tc.hid, Kind: tc.h.txk.tScan, Node: tc.h.ctlNode})
}

func (tc *txnCoordinator) to(m *txnMeta, s txnState) {
	if !slices.Contains(txnValidPrevious[s], m.state) {
		tc.h.violate("transaction coordinator: %s cannot go from %s to %s", m.id, m.state, s)
	}
	m.state = s
}

// Handle steps the coordinator on a request, a marker answer or a timer.
func (tc *txnCoordinator) Handle(e *sim.Engine, ev *sim.Event) {
	h := tc.h
	t := &h.txk
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
	case t.tMarkerRetry:
		if int(ev.A) < len(tc.metas) {
			tc.sendMarkers(tc.metas[ev.A], false)
		}
	case t.tScan:
		tc.abortTimedOut()
		h.E.After(h.spec.Broker.TxnAbortInterval, sim.Event{H: tc.hid, Kind: t.tScan, Node: h.ctlNode})
	}
}

func (tc *txnCoordinator) reply(to sim.NodeID, kind sim.KindID, p any) {
	tc.h.Net.Send(tc.h.ctlNode, to, kind, p)
}

// onInit is InitProducerId: the first call gets a producer id; every call
// bumps the epoch, fencing older instances, and a transaction the previous
// instance left open is aborted first (the client retries on
// CONCURRENT_TRANSACTIONS until it is).
func (tc *txnCoordinator) onInit(from sim.NodeID, m *initPidReq) {
	h := tc.h
	meta := tc.byID[m.txnID]
	if meta == nil {
		meta = &txnMeta{id: m.txnID, pid: h.nextPID(), epoch: -1, tv2: tc.producerTV2[m.txnID]}
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
	tc.reply(from, h.txk.initPidResp, &initPidResp{corr: m.corr, pid: meta.pid, epoch: meta.epoch})
}

// fenceAndAbort aborts meta's ongoing transaction under a bumped epoch
// (PrepareEpochFence, then PrepareAbort with epoch+1): its producer is
// fenced at its next request.
func (tc *txnCoordinator) fenceAndAbort(meta *txnMeta) {
	tc.to(meta, tsPrepareEpochFence)
	meta.epoch++
	meta.last = meta.epoch
	tc.prepare(meta, false, meta.epoch)
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
	default:
		if meta.state != tsOngoing {
			tc.to(meta, tsOngoing)
			meta.started, meta.parts = h.E.Now(), nil
		}
		for _, tp := range m.tps {
			if !slices.Contains(meta.parts, tp) {
				meta.parts = append(meta.parts, tp)
			}
		}
		slices.Sort(meta.parts)
		answer(ErrNone)
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
		tc.prepare(meta, m.commit, markerEpoch)
		answer(ErrNone, meta.epoch)
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

// prepare moves an ongoing transaction to PrepareCommit or PrepareAbort
// and writes its markers.
func (tc *txnCoordinator) prepare(meta *txnMeta, commit bool, markerEpoch int16) {
	h := tc.h
	if commit {
		tc.to(meta, tsPrepareCommit)
	} else {
		tc.to(meta, tsPrepareAbort)
	}
	meta.commit, meta.markerEpoch = commit, markerEpoch
	meta.pending, meta.sentAt = map[int]int64{}, map[int]sim.Time{}
	for _, tp := range meta.parts {
		meta.pending[tp] = 0
	}
	if !commit {
		// Commits are the routine (one a transaction); aborts are news.
		h.obs.emit(-1, -1, history.TxnEnd, "transaction coordinator: %s %s (pid %d), ABORT markers with epoch %d to partitions %v",
			meta.id, meta.state, meta.pid, markerEpoch, meta.parts)
	}
	if len(meta.parts) == 0 {
		tc.complete(meta)
		return
	}
	tc.sendMarkers(meta, true)
}

// markerTimeout bounds a marker request's wait before it is sent again
// (the coordinator's inter-broker request.timeout.ms, 30 s); an error
// answer is retried after markerBackoff.
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
		leader := tc.leaderOf(tp)
		if leader <= 0 {
			// No leader now: the coordinator's marker channel waits for
			// one; tried again after the backoff.
			meta.sentAt[tp] = 0
			next = earliest(next, now.Add(markerBackoff))
			continue
		}
		tc.corr++
		meta.pending[tp], meta.sentAt[tp] = tc.corr, now
		h.Net.Send(h.ctlNode, h.node(leader), h.txk.marker, &markerReq{tp: tp, pid: meta.pid, epoch: meta.markerEpoch, commit: meta.commit, corr: tc.corr, txnID: meta.id})
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
	idx := slices.Index(tc.metas, meta)
	tc.h.E.At(at, sim.Event{H: tc.hid, Kind: tc.h.txk.tMarkerRetry, Node: tc.h.ctlNode, A: int64(idx)})
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
	meta.pending, meta.sentAt, meta.parts = nil, nil, nil
}

// abortTimedOut aborts every transaction open longer than its
// transaction.timeout.ms, under a bumped epoch that fences its producer
// (TransactionCoordinator.abortTimedOutTransactions, run every
// transaction.abort.timed.out.transaction.cleanup.interval.ms).
func (tc *txnCoordinator) abortTimedOut() {
	now := tc.h.E.Now()
	for _, meta := range tc.metas {
		if meta.state == tsOngoing && now.Sub(meta.started) > meta.timeout {
			tc.h.obs.emit(-1, -1, history.TxnFence, "transaction coordinator aborts %s's transaction, open for %s (transaction.timeout.ms %s); epoch %d -> %d fences its producer",
				meta.id, now.Sub(meta.started), meta.timeout, meta.epoch, meta.epoch+1)
			tc.fenceAndAbort(meta)
		}
	}
}

// ---- the log's transactions: the last stable offset ----

// txnSpan is one transaction in a partition's log: its first batch, and
// its marker (-1 while open). Source: ProducerStateManager's ongoing
// transactions and the aborted-transaction index.
type txnSpan struct {
	pid           int64
	first, marker int64
	commit        bool
}

// txnIndex tracks the transactions of a log, on leaders and followers
// alike (it is a function of the log), so a new leader knows them.
type txnIndex struct {
	spans    []txnSpan     // in the order of their first batch
	open     map[int64]int // producer id -> its open span
	stable   int           // spans before it are decided below stableHW
	stableHW int64
}

func (x *txnIndex) track(b *history.Batch) {
	switch {
	case b.Txn == history.TxnData:
		if x.open == nil {
			x.open = map[int64]int{}
		}
		if _, ok := x.open[b.PID]; !ok {
			x.open[b.PID] = len(x.spans)
			x.spans = append(x.spans, txnSpan{pid: b.PID, first: b.Base, marker: -1})
		}
	case b.Control():
		if i, ok := x.open[b.PID]; ok {
			x.spans[i].marker, x.spans[i].commit = b.Base, b.Txn == history.TxnCommit
			delete(x.open, b.PID)
		}
	}
}

// rebuild recomputes the index from the log (after a truncation).
func (x *txnIndex) rebuild(l *Log) {
	*x = txnIndex{}
	for _, e := range l.entries {
		if e.b.Txn != history.NotTxn {
			x.track(e.b)
		}
	}
}

// LSO is the last stable offset for high watermark hw: the first offset
// of the earliest transaction not yet decided below hw (open, or its
// marker not yet committed), or hw (ConsumerConfig isolation.level:
// "one less than the offset of the first open transaction").
func (l *Log) LSO(hw int64) int64 {
	x := &l.txn
	if len(x.spans) == 0 {
		return hw
	}
	if hw < x.stableHW {
		x.stable = 0
	}
	for x.stable < len(x.spans) {
		if sp := x.spans[x.stable]; sp.marker >= 0 && sp.marker < hw {
			x.stable++
			continue
		}
		break
	}
	x.stableHW = hw
	if x.stable < len(x.spans) {
		return min(hw, x.spans[x.stable].first)
	}
	return hw
}

// aborted reports whether b, a batch of this log, belongs to a transaction
// its marker aborted (what the aborted-transaction index tells a
// read_committed consumer to skip).
func (l *Log) aborted(b *history.Batch) bool {
	if b.Txn != history.TxnData {
		return false
	}
	sp := l.txn.spans
	i := len(sp) - 1
	for i >= 0 && sp[i].first > b.Base {
		i--
	}
	for ; i >= 0; i-- {
		if sp[i].pid == b.PID {
			return sp[i].marker >= 0 && b.Base < sp[i].marker && !sp[i].commit
		}
	}
	return false
}

// ---- the partition leader ----

// verifyingProduce is a transactional produce that waits for the
// coordinator's answer before it is appended (KIP-890).
type verifyingProduce struct {
	corr int64
	from sim.NodeID
	req  *produceReq
}

// pendingMarker is a marker appended by the leader that is answered once
// committed (acks=-1).
type pendingMarker struct {
	from     sim.NodeID
	corr     int64
	required int64
}

// txnChecks applies the transaction rules to a transactional batch before
// produce appends it. It reports whether produce may go on; if not, it has
// answered the request or parked it for the coordinator's answer.
func (r *Replica) txnChecks(from sim.NodeID, m *produceReq) bool {
	pb := m.batch
	if !pb.txn {
		return true
	}
	b := r.b
	h := b.h
	// A producer epoch older than one the partition has seen is fenced
	// (ProducerAppendInfo.checkProducerEpoch).
	if e, ok := r.pids.epochOf(pb.pid); ok && pb.epoch < e {
		b.respondProduce(from, m, ErrInvalidProducerEpoch, -1)
		return false
	}
	if m.verified || !(pb.tv2 || r.cfg().TxnVerification) {
		return true
	}
	// KIP-890: the first batch of a transaction on this partition is
	// checked with the coordinator: part 1 (3.6+, verification) asks
	// whether the transaction is ongoing and holds the partition; part 2
	// (transaction version 2) adds the partition to it.
	if _, open := r.Log.txn.open[pb.pid]; open {
		if e, _ := r.pids.epochOf(pb.pid); e == pb.epoch {
			return true
		}
	}
	h.txnCorr++
	r.lead.verifying = append(r.lead.verifying, verifyingProduce{corr: h.txnCorr, from: from, req: m})
	h.Net.Send(b.Node, h.ctlNode, h.txk.addParts, &addPartsReq{txnID: pb.txnID, pid: pb.pid, epoch: pb.epoch, tps: []int{r.TP},
		corr: h.txnCorr, verifyOnly: !pb.tv2, broker: b.ID})
	return false
}

// onVerified resumes a produce the coordinator answered.
func (r *Replica) onVerified(m *addPartsResp) {
	i := slices.IndexFunc(r.lead.verifying, func(v verifyingProduce) bool { return v.corr == m.corr })
	if i < 0 {
		return
	}
	v := r.lead.verifying[i]
	r.lead.verifying = slices.Delete(r.lead.verifying, i, i+1)
	switch {
	case r.role != leading:
		r.b.respondProduce(v.from, v.req, ErrNotLeader, -1)
	case m.err != ErrNone:
		r.b.respondProduce(v.from, v.req, m.err, -1)
	default:
		v.req.verified = true
		r.produce(v.from, v.req)
	}
}

// onMarker appends a transaction marker (WriteTxnMarkers) and answers once
// it is committed.
func (r *Replica) onMarker(from sim.NodeID, m *markerReq) {
	b := r.b
	h := b.h
	answer := func(err ErrCode) {
		h.Net.Send(b.Node, from, h.txk.markerResp, &markerResp{tp: m.tp, corr: m.corr, err: err})
	}
	switch {
	case r.role != leading:
		answer(ErrNotLeader)
		return
	case len(r.lead.isr) < h.minISR():
		answer(ErrNotEnoughReplicas)
		return
	}
	if e, ok := r.pids.epochOf(m.pid); ok && m.epoch < e {
		answer(ErrInvalidProducerEpoch)
		return
	}
	mark := history.TxnAbort
	if m.commit {
		mark = history.TxnCommit
	}
	bt := h.pool.batch()
	*bt = history.Batch{Base: r.Log.LEO(), Epoch: r.epoch, PID: m.pid, PEpoch: m.epoch, Seq: -1, Producer: -1, Txn: mark}
	r.trackPID(bt)
	r.Log.append(bt, h.E.Now())
	r.lead.markers = append(r.lead.markers, pendingMarker{from: from, corr: m.corr, required: bt.End()})
	r.wakeParked()
	r.maybeAdvanceHW()
}

// completeMarkers answers the markers now below the HW.
func (r *Replica) completeMarkers() {
	if len(r.lead.markers) == 0 {
		return
	}
	h := r.b.h
	keep := r.lead.markers[:0]
	for _, pm := range r.lead.markers {
		if r.HW >= pm.required {
			h.Net.Send(r.b.Node, pm.from, h.txk.markerResp, &markerResp{tp: r.TP, corr: pm.corr, err: ErrNone})
			continue
		}
		keep = append(keep, pm)
	}
	r.lead.markers = keep
}

// resignTxn answers what waits on the leadership: markers and verifying
// produces get NOT_LEADER_OR_FOLLOWER.
func (r *Replica) resignTxn() {
	h := r.b.h
	for _, pm := range r.lead.markers {
		h.Net.Send(r.b.Node, pm.from, h.txk.markerResp, &markerResp{tp: r.TP, corr: pm.corr, err: ErrNotLeader})
	}
	for _, v := range r.lead.verifying {
		r.b.respondProduce(v.from, v.req, ErrNotLeader, -1)
	}
	r.lead.markers, r.lead.verifying = nil, nil
}

// fetchLimit is how far a fetch may read: followers to the log end,
// consumers to the HW, or with read_committed to the last stable offset.
func (r *Replica) fetchLimit(m *fetchReq) int64 {
	switch {
	case m.replica >= 0:
		return r.Log.LEO()
	case m.readCommitted:
		return r.Log.LSO(r.HW)
	}
	return r.HW
}

// ---- the transactional producer ----

// txnPhase is where a transactional producer is (TransactionManager's
// states, folded to what the model needs).
type txnPhase uint8

const (
	txnInit    txnPhase = iota // InitProducerId in flight (or waiting to be retried)
	txnReady                   // no transaction open
	txnOngoing                 // a transaction is open: records go into it
	txnEnding                  // commitTransaction or abortTransaction: flush, then EndTxn
)

// producerTxn is a transactional producer's transaction state.
type producerTxn struct {
	phase   txnPhase
	epoch   int16
	index   int32 // the open transaction in the history, -1 none
	records int   // records sent in it
	added   []bool
	adding  bool
	want    []int
	failed  bool // a batch of the transaction failed: the application aborts
	commit  bool // ending: commit (else abort)
	ending  bool // the EndTxn is in flight
	corr    int64
	kind    sim.KindID // the request in flight, resent if it times out
	req     any
	waitGen bool // the application waits to send its next record
}

// txnStart initialises a transactional producer (initTransactions).
func (p *Producer) txnStart() {
	p.tx = producerTxn{phase: txnInit, index: -1, added: make([]bool, p.h.spec.Partitions)}
	p.pid = -1
	p.txnSend(p.h.txk.initPid, &initPidReq{txnID: p.Cfg.TransactionalID, timeout: p.Cfg.TransactionTimeout})
}

// txnSend sends a request to the transaction coordinator, with its
// request timeout.
func (p *Producer) txnSend(kind sim.KindID, req any) {
	h := p.h
	h.txnCorr++
	p.tx.corr, p.tx.kind, p.tx.req = h.txnCorr, kind, req
	// Each send is its own message (a copy): a resend must not rewrite
	// one still in the network.
	var msg any
	switch m := req.(type) {
	case *initPidReq:
		c := *m
		c.corr = h.txnCorr
		msg = &c
	case *addPartsReq:
		c := *m
		c.corr = h.txnCorr
		msg = &c
	case *endTxnReq:
		c := *m
		c.corr, c.sentAt = h.txnCorr, h.E.Now()
		msg = &c
	}
	h.Net.Send(p.Node, h.ctlNode, kind, msg)
	p.timer(h.txk.tProducerTxn, h.E.Now().Add(p.Cfg.RequestTimeout), h.txnCorr, nil)
}

// txnRetry sends the request in flight again after retry.backoff.ms (the
// coordinator answered CONCURRENT_TRANSACTIONS).
func (p *Producer) txnRetry() {
	p.timer(p.h.txk.tProducerTxn, p.h.E.Now().Add(p.Cfg.RetryBackoff), p.tx.corr, nil)
}

// onTxnEvent handles the coordinator's answers and the producer's
// transaction timer; it reports whether ev was one.
func (p *Producer) onTxnEvent(ev *sim.Event) bool {
	t := &p.h.txk
	if !t.known || !p.Cfg.Transactional() {
		return false
	}
	switch ev.Kind {
	case t.tProducerTxn:
		if ev.B == p.inc && ev.A == p.tx.corr && p.tx.req != nil {
			// The request timed out (or waited out its backoff): the
			// client sends it again, on a new connection.
			p.txnSend(p.tx.kind, p.tx.req)
		}
	case t.initPidResp:
		m := ev.P.(*initPidResp)
		if m.corr != p.tx.corr || p.tx.phase != txnInit {
			return true
		}
		if m.err != ErrNone {
			p.txnRetry()
			return true
		}
		p.tx.req = nil
		p.pid, p.tx.epoch, p.tx.phase = m.pid, m.epoch, txnReady
		p.resetSequences()
		p.txnResume()
	case t.addPartsResp:
		m := ev.P.(*addPartsResp)
		if m.corr != p.tx.corr || !p.tx.adding {
			return true
		}
		switch m.err {
		case ErrNone:
			for _, tp := range p.tx.req.(*addPartsReq).tps {
				p.tx.added[tp] = true
			}
			p.tx.adding, p.tx.req = false, nil
			p.drain()
		case ErrConcurrentTransactions:
			// The previous transaction's markers are still being written:
			// retried after 20 ms, not retry.backoff.ms
			// (TransactionManager.ADD_PARTITIONS_RETRY_BACKOFF_MS, KAFKA-5477).
			p.timer(p.h.txk.tProducerTxn, p.h.E.Now().Add(20*sim.Millisecond), p.tx.corr, nil)
		default:
			p.txnFenced(m.err)
		}
	case t.endTxnResp:
		m := ev.P.(*endTxnResp)
		if m.corr != p.tx.corr || !p.tx.ending {
			return true
		}
		switch m.err {
		case ErrNone:
			outcome, why := history.TxnAborted, "abortTransaction returned"
			if p.tx.commit {
				outcome, why = history.TxnCommitted, "commitTransaction returned"
			}
			p.h.obs.txnEnded(p.tx.index, outcome, why)
			if p.Cfg.TxnVersion >= 2 && m.epoch != p.tx.epoch {
				// KIP-890 part 2: the next transaction runs under the
				// epoch EndTxn returned, its sequences from 0.
				p.tx.epoch = m.epoch
				p.resetSequences()
			}
			p.tx.phase, p.tx.ending, p.tx.req, p.tx.index = txnReady, false, nil, -1
			if p.tx.failed {
				// A batch failed, so the partitions' sequences are in doubt:
				// after the abort the client bumps its epoch with
				// InitProducerId and numbers from 0 again (KIP-360's
				// epochBumpRequired; before 2.5 the application creates a
				// new producer, which does the same).
				p.tx.phase, p.tx.failed = txnInit, false
				p.txnSend(p.h.txk.initPid, &initPidReq{txnID: p.Cfg.TransactionalID, timeout: p.Cfg.TransactionTimeout})
				return true
			}
			p.txnResume()
		case ErrConcurrentTransactions:
			p.txnRetry()
		default:
			p.txnFenced(m.err)
		}
	default:
		return false
	}
	return true
}

// resetSequences starts every partition's sequences at 0 (a new producer
// id or epoch).
func (p *Producer) resetSequences() {
	for tp := range p.nextSeq {
		p.nextSeq[tp], p.lastAcked[tp] = 0, -1
	}
}

// txnResume lets a waiting application go on.
func (p *Producer) txnResume() {
	if p.tx.waitGen && !p.done {
		p.tx.waitGen = false
		p.timer(p.h.k.tProduceNext, p.h.E.Now(), 0, nil)
	}
	p.drain()
}

// txnBeforeRecord is called by the application before it sends a record:
// it begins a transaction if none is open. It reports whether the record
// may be sent now; if not, the application waits (txnResume).
func (p *Producer) txnBeforeRecord() bool {
	switch p.tx.phase {
	case txnReady:
		p.tx.phase, p.tx.records, p.tx.failed = txnOngoing, 0, false
		clear(p.tx.added)
		p.tx.index = p.h.obs.txnBegan(p.Idx, p.pid, p.tx.epoch)
		return true
	case txnOngoing:
		return true
	}
	p.tx.waitGen = true
	return false
}

// txnAfterRecord counts a record into the open transaction, and commits
// the transaction once it holds acksim.transaction.records.
func (p *Producer) txnAfterRecord(id history.RecordID) {
	p.h.obs.txnRecord(id, p.tx.index)
	p.tx.records++
	if p.tx.records >= p.Cfg.TxnRecords {
		p.txnEnd(true)
	}
}

// txnEnd starts commitTransaction (or abortTransaction): the producer
// flushes what the transaction holds, then sends EndTxn. A transaction
// with a failed batch is aborted.
func (p *Producer) txnEnd(commit bool) {
	if p.tx.phase != txnOngoing {
		return
	}
	p.tx.phase, p.tx.commit = txnEnding, commit && !p.tx.failed
	p.txnMaybeSendEnd()
}

// txnMaybeSendEnd sends EndTxn once nothing of the transaction is in
// flight or buffered.
func (p *Producer) txnMaybeSendEnd() {
	if p.tx.phase != txnEnding || p.tx.ending || p.Pending() {
		return
	}
	p.tx.commit = p.tx.commit && !p.tx.failed
	p.tx.ending = true
	p.txnSend(p.h.txk.endTxn, &endTxnReq{txnID: p.Cfg.TransactionalID, pid: p.pid, epoch: p.tx.epoch, commit: p.tx.commit})
}

// txnHold reports whether a batch for tp must wait: nothing is sent
// outside a transaction, and with the classic protocol a partition is
// added to the transaction (AddPartitionsToTxn) before its first batch.
func (p *Producer) txnHold(tp int) bool {
	if !p.Cfg.Transactional() {
		return false
	}
	if p.tx.phase != txnOngoing && p.tx.phase != txnEnding {
		return true
	}
	if p.Cfg.TxnVersion >= 2 || p.tx.added[tp] {
		return false
	}
	if !p.tx.adding && !slices.Contains(p.tx.want, tp) {
		p.tx.want = append(p.tx.want, tp)
	}
	return true
}

// txnAddWanted sends AddPartitionsToTxn for the partitions drain held back.
func (p *Producer) txnAddWanted() {
	if len(p.tx.want) == 0 || p.tx.adding {
		return
	}
	tps := p.tx.want
	p.tx.want = nil
	slices.Sort(tps)
	p.tx.adding = true
	p.txnSend(p.h.txk.addParts, &addPartsReq{txnID: p.Cfg.TransactionalID, pid: p.pid, epoch: p.tx.epoch, tps: tps})
}

// txnFenced: the producer was fenced (a newer epoch, or a transaction the
// coordinator timed out) or met a fatal transaction error. The
// application closes it and starts a new one with the same
// transactional.id (initTransactions again); the open transaction is
// lost to it.
func (p *Producer) txnFenced(err ErrCode) {
	h := p.h
	h.obs.fenced++
	h.obs.emit(-1, -1, history.TxnFence, "producer %s fenced (%s): it closes and initialises again", p.Name, err)
	outcome := history.TxnAborted
	if p.tx.ending && p.tx.commit {
		outcome = history.TxnUnknown // the commit's answer never came
	}
	if p.tx.index >= 0 {
		h.obs.txnEnded(p.tx.index, outcome, "the producer was fenced ("+err.String()+")")
	}
	for _, b := range p.inflight {
		for _, id := range b.records {
			h.obs.finished(id, history.OutcomeUnknown, "producer fenced with the request in flight")
		}
	}
	for _, q := range p.queues {
		for _, b := range q {
			for _, id := range b.records {
				h.obs.finished(id, history.OutcomeNotWritten, "producer fenced with the record in its buffer")
			}
		}
	}
	p.inflight = nil
	for tp := range p.queues {
		p.queues[tp] = nil
	}
	clear(p.perBroker)
	p.buffered = 0
	h.E.Cancel(p.reqTimer)
	if p.Cfg.TxnOnFenced == "stop" {
		// A zombie exits: a newer instance has its transactional.id.
		p.tx = producerTxn{index: -1}
		p.done, p.up = true, false
		p.inc = h.nextGen()
		h.obs.emit(-1, -1, history.ProducerCrash, "producer %s stopped: fenced, it exits (acksim.transaction.on.fenced: stop)", p.Name)
		return
	}
	waiting := p.tx.waitGen || p.tx.phase == txnEnding
	p.txnStart()
	p.tx.waitGen = waiting
}

// txnCrashed records the open transaction's end when the producer process
// dies: aborted, unless a commit was in flight.
func (p *Producer) txnCrashed() {
	if !p.Cfg.Transactional() || p.tx.index < 0 {
		return
	}
	outcome := history.TxnAborted
	if p.tx.ending && p.tx.commit {
		outcome = history.TxnUnknown
	}
	p.h.obs.txnEnded(p.tx.index, outcome, "the producer crashed")
	p.tx.index = -1
}

// Pause stalls the producer's process (a GC pause, a stopped VM): it
// handles nothing until Resume; messages to it wait, and its timers fire
// late. The canonical zombie of a transactional application.
func (p *Producer) Pause() {
	if !p.up || p.paused {
		return
	}
	p.paused = true
	p.h.Net.Pause(p.Node)
	p.h.obs.emit(-1, -1, history.Pause, "producer %s paused", p.Name)
}

// Resume ends a pause: what waited runs now.
func (p *Producer) Resume() {
	if !p.paused {
		return
	}
	p.paused = false
	for _, ev := range p.deferred {
		p.h.E.At(p.h.E.Now(), ev)
	}
	p.deferred = nil
	p.h.Net.Resume(p.Node)
	p.h.obs.emit(-1, -1, history.Resume, "producer %s resumed", p.Name)
}

// txnSettled reports whether the producer's transactions are done with:
// none open or ending (recovery waits for the last commit).
func (p *Producer) txnSettled() bool {
	return !p.up || !p.Cfg.Transactional() || (p.tx.phase != txnOngoing && p.tx.phase != txnEnding)
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

// HoldNextMessage delays the next message of the named kind that the named
// producer sends by extra, out of its connection's order (the
// delay-message fault; sim.Network.HoldNext).
func (c *Cluster) HoldNextMessage(producer, message string, extra sim.Duration) {
	p := c.ProducerByName(producer)
	if p == nil {
		return
	}
	c.Net.HoldNext(p.Node, c.E.Kind(message), extra)
	c.h.obs.emit(-1, -1, history.Delay, "the next %s from producer %s will arrive %s late, after later messages", message, producer, extra)
}
