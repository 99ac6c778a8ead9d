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
// The transaction coordinator is in txncoord.go. Transactions run on
// Kafka's ISR design only.

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
	h.markBrokerTimers(t.tScan, t.tMarkerRetry)
}

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
	pc := &h.spec.Producers[pb.producer].Cfg
	tv2 := pc.TxnVersion >= 2
	if m.verified || !(tv2 || r.cfg().TxnVerification) {
		if _, open := r.Log.txn.open[pb.pid]; !open && !m.verified {
			r.lateTxnBatch(pb)
		}
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
	coord := h.leaderOf(h.txnTP)
	if coord <= 0 {
		// No coordinator to ask: retriable for the producer (KIP-890
		// answers older clients NOT_ENOUGH_REPLICAS).
		b.respondProduce(from, m, ErrNotEnoughReplicas, -1)
		return false
	}
	h.txnCorr++
	r.lead.verifying = append(r.lead.verifying, verifyingProduce{corr: h.txnCorr, from: from, req: m})
	b.send(h.node(coord), h.txk.addParts, &addPartsReq{txnID: pc.TransactionalID, pid: pb.pid, epoch: pb.epoch, tps: []int{r.TP},
		corr: h.txnCorr, verifyOnly: !tv2, broker: b.ID})
	return false
}

// lateTxnBatch tells, as ground truth for the story (the partition cannot
// know it), of a transactional batch that opens a transaction on the
// partition after its own transaction ended: unchecked (no verification,
// transaction version below 2), it is a hanging transaction, or it joins
// the producer's next transaction here (KIP-890's motivation).
func (r *Replica) lateTxnBatch(pb *prodBatch) {
	h := r.b.h
	t, _, _ := h.obs.txnOf(pb.records[0])
	if t < 0 {
		return
	}
	// The partition's last span of this producer, closed by a marker:
	// does it hold the same transaction?
	sp := r.Log.txn.spans
	i := len(sp) - 1
	for i >= 0 && sp[i].pid != pb.pid {
		i--
	}
	if i < 0 || sp[i].marker < 0 {
		return
	}
	if first, _, _ := h.obs.txnOf(r.Log.At(sp[i].first)); first != t {
		return
	}
	verdict := map[bool]string{true: "COMMIT", false: "ABORT"}[sp[i].commit]
	h.obs.emit(r.b.ID, r.TP, history.TxnEnd, "a late batch of transaction %d (pid %d, epoch %d) reaches %s after its %s marker, and opens a transaction there that the coordinator does not know: nothing checks it (transaction.partition.verification.enable off, transaction version %d), so it stays open until a marker of this producer closes it, with whatever transaction that marker ends",
		t, pb.pid, pb.epoch, h.tpName(r.TP), verdict, h.spec.Producers[pb.producer].Cfg.TxnVersion)
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
	case m.err == ErrNotCoordinator || m.err == ErrCoordinatorNotAvailable || m.err == ErrConcurrentTransactions:
		// The coordinator moved or is busy: retriable for the producer.
		r.b.respondProduce(v.from, v.req, ErrNotEnoughReplicas, -1)
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
	case len(r.lead.isr) < h.minISRFor(r.TP):
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
	r.lead.markers, r.lead.verifying, r.lead.tcWaits = nil, nil, nil
	r.dropTxnCoordinator()
}

// dropTxnCoordinator: r no longer leads the transaction log (resigned,
// stopped, restarted), so its broker is no longer the coordinator.
func (r *Replica) dropTxnCoordinator() {
	if r.b.tc != nil && r.b.tc.rep == r {
		r.b.tc.deactivate()
	}
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
	// waitCoord: the request waits for the coordinator's address.
	waitCoord bool
	// A consume-transform-produce application's offsets for this
	// transaction (sendOffsetsToTransaction, pipeline.go): added to it
	// (AddOffsetsToTxn), and committed in it (TxnOffsetCommit).
	offsets                   *txnOffsetCommitReq
	offsetsAdded, offsetsDone bool
	// abortOnly: the group refused the offsets (a rebalance moved the
	// member's partitions): the application aborts.
	abortOnly bool
}

// txnStart initialises a transactional producer (initTransactions).
func (p *Producer) txnStart() {
	p.tx = producerTxn{phase: txnInit, index: -1, added: make([]bool, p.h.parts)}
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
	case *txnOffsetCommitReq:
		// To the group coordinator, not the transaction coordinator.
		c := *m
		c.corr = h.txnCorr
		h.Net.Send(p.Node, h.ctlNode, kind, &c)
		p.timer(h.txk.tProducerTxn, h.E.Now().Add(p.Cfg.RequestTimeout), h.txnCorr, nil)
		return
	}
	if p.coord <= 0 {
		// No coordinator known (FindCoordinator): ask; the request goes
		// when the answer names one, or again after retry.backoff.ms.
		p.tx.waitCoord = true
		p.refreshMetadata()
		p.timer(h.txk.tProducerTxn, h.E.Now().Add(p.Cfg.RetryBackoff), h.txnCorr, nil)
		return
	}
	p.tx.waitCoord = false
	h.Net.Send(p.Node, h.node(p.coord), kind, msg)
	p.timer(h.txk.tProducerTxn, h.E.Now().Add(p.Cfg.RequestTimeout), h.txnCorr, txnRequestTimedOut)
}

// txnRequestTimedOut marks a transaction request's timeout (not a backoff):
// the coordinator may be gone, so the client looks it up again
// (TransactionManager: a disconnection or timeout re-enqueues the request
// with FindCoordinator first).
var txnRequestTimedOut = &struct{ name string }{"request timed out"}

// txnCoordinatorMoved: the coordinator answered NOT_COORDINATOR or
// COORDINATOR_NOT_AVAILABLE (or did not answer): find it again, and send
// the request again after retry.backoff.ms.
func (p *Producer) txnCoordinatorMoved() {
	p.coord = -1
	p.refreshMetadata()
	p.txnRetry()
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
	if p.h.pk.known && ev.Kind == p.h.pk.offCommitResp {
		p.onOffsetCommitResp(ev.P.(*txnOffsetCommitResp))
		return true
	}
	switch ev.Kind {
	case t.tProducerTxn:
		if ev.B == p.inc && ev.A == p.tx.corr && p.tx.req != nil {
			// The request timed out (or waited out its backoff): the
			// client sends it again, on a new connection; after a timeout,
			// to the coordinator it looks up again.
			if ev.P == txnRequestTimedOut {
				p.coord = -1
			}
			p.txnSend(p.tx.kind, p.tx.req)
		}
	case t.initPidResp:
		m := ev.P.(*initPidResp)
		if m.corr != p.tx.corr || p.tx.phase != txnInit {
			return true
		}
		if m.err == ErrNotCoordinator || m.err == ErrCoordinatorNotAvailable {
			p.txnCoordinatorMoved()
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
				if tp == groupTP {
					p.tx.offsetsAdded = true // AddOffsetsToTxn
					continue
				}
				p.tx.added[tp] = true
			}
			p.tx.adding, p.tx.req = false, nil
			p.drain()
		case ErrNotCoordinator, ErrCoordinatorNotAvailable:
			p.txnCoordinatorMoved()
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
			committed := p.tx.commit
			p.tx.abortOnly = false
			if p.tx.failed {
				// A batch failed, so the partitions' sequences are in doubt:
				// after the abort the client bumps its epoch with
				// InitProducerId and numbers from 0 again (KIP-360's
				// epochBumpRequired; before 2.5 the application creates a
				// new producer, which does the same).
				p.tx.phase, p.tx.failed = txnInit, false
				p.txnSend(p.h.txk.initPid, &initPidReq{txnID: p.Cfg.TransactionalID, timeout: p.Cfg.TransactionTimeout})
				if p.feed != nil {
					p.pipeTxnDone(false)
				}
				return true
			}
			if p.feed != nil {
				p.pipeTxnDone(committed)
			}
			p.txnResume()
		case ErrConcurrentTransactions:
			p.txnRetry()
		case ErrNotCoordinator, ErrCoordinatorNotAvailable:
			p.txnCoordinatorMoved()
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
	if p.tx.waitGen && p.feed != nil {
		p.tx.waitGen = false
		p.feed.pipeResume()
	}
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

// txnAddRecord counts a record into the open transaction.
func (p *Producer) txnAddRecord(id history.RecordID) {
	p.h.obs.txnRecord(id, p.tx.index)
	p.tx.records++
}

// txnMaybeCommit commits the transaction once it holds
// acksim.transaction.records, called after the last record is in the
// accumulator: the application's send() returns before its
// commitTransaction(), which flushes that record before EndTxn
// (KafkaProducer.commitTransaction: "flush any unsent records before
// actually committing the transaction").
func (p *Producer) txnMaybeCommit() {
	if p.Cfg.Transactional() && p.tx.phase == txnOngoing && p.tx.records >= p.Cfg.TxnRecords {
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
	if p.txnSendOffsets() {
		return // sendOffsetsToTransaction first
	}
	p.tx.commit = p.tx.commit && !p.tx.failed && !p.tx.abortOnly
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
		if p.feed != nil {
			p.feed.Crash() // the application exits
		}
		return
	}
	waiting := p.tx.waitGen || p.tx.phase == txnEnding
	p.txnStart()
	p.tx.waitGen = waiting
	if p.feed != nil {
		p.pipeTxnDone(false) // the application sees the transaction fail
	}
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
	p.hold(p.h, p.Node)
	if p.feed != nil {
		p.feed.pause() // one application process
		p.h.obs.emit(-1, -1, history.Pause, "producer %s paused, with consumer %s (one application process)", p.Name, p.feed.Name)
		return
	}
	p.h.obs.emit(-1, -1, history.Pause, "producer %s paused", p.Name)
}

// Resume ends a pause: what waited runs now.
func (p *Producer) Resume() {
	if !p.paused {
		return
	}
	p.release(p.h, p.Node)
	if p.feed != nil {
		p.feed.resume()
	}
	p.h.obs.emit(-1, -1, history.Resume, "producer %s resumed", p.Name)
}

// txnSettled reports whether the producer's transactions are done with:
// none open or ending (recovery waits for the last commit).
func (p *Producer) txnSettled() bool {
	return !p.up || !p.Cfg.Transactional() || (p.tx.phase != txnOngoing && p.tx.phase != txnEnding)
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
