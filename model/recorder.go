package model

import (
	"fmt"

	"acksim/history"
	"acksim/sim"
)

// recorder is the one observer of a run. Nodes tell it what happened (a
// record sent, appended, acknowledged, removed; an election; a fault) and it
// keeps the ledger, the history and the monitors. Protocol code never writes
// the ledger or the history itself.
type recorder struct {
	e       *sim.Engine
	outTP0  int // the output topic's first partition (-1 none)
	ledger  Ledger
	events  []history.Event
	removed []history.Removal
	unclean int // unclean elections

	// nodeOf gives the trace node of an event's broker (the controller's
	// node for -1).
	nodeOf func(broker int) sim.NodeID
	// noteKinds are the trace kinds of events ("event.<kind>"), registered
	// with the engine the first time each kind happens.
	noteKinds [history.NumKinds]sim.KindID
	noted     [history.NumKinds]bool
	topic     string

	// Monitors, sampled every monitorTick (see Cluster.monitor).
	unavailable []sim.Duration // per partition: offline (see Cluster.monitor)
	underMinISR []sim.Duration // per partition
	atRisk      sim.Duration
	errors      map[string]int // produce errors by code
	ackedEnd    []int64        // per partition: end of the highest acknowledged offset
	// Transactions: each partition's LSO and its longest stall, and the
	// producer instances fenced.
	lso      []lsoWatch
	lsoStall []sim.Duration
	fenced   int
}

func newRecorder(e *sim.Engine, topic string, partitions, outTP0 int) *recorder {
	return &recorder{e: e, topic: topic, outTP0: outTP0, unavailable: make([]sim.Duration, partitions), underMinISR: make([]sim.Duration, partitions),
		ackedEnd: make([]int64, partitions), errors: map[string]int{}}
}

func (o *recorder) tpName(tp int) string {
	if tp >= len(o.unavailable) {
		return "__transaction_state-0" // the transaction log (txncoord.go)
	}
	if tp == groupTP {
		return "__consumer_offsets (the group's)"
	}
	return history.PartitionName(o.topic, tp, o.outTP0)
}

// emit records an event worth telling a user, in the history and the trace.
func (o *recorder) emit(broker, tp int, kind history.Kind, format string, args ...any) {
	text := fmt.Sprintf(format, args...)
	o.events = append(o.events, history.Event{At: o.e.Now(), Broker: broker, TP: tp, Kind: kind, Text: text})
	if !o.noted[kind] {
		o.noteKinds[kind], o.noted[kind] = o.e.Kind("event."+kind.String()), true
	}
	o.e.Note(o.nodeOf(broker), o.noteKinds[kind], int64(broker), int64(tp), text)
}

// removal records batches leaving a replica's log (verb: history.Truncated
// or history.Lost).
func (o *recorder) removal(broker, tp int, removed []*history.Batch, verb history.Kind, why string) {
	if len(removed) == 0 {
		return
	}
	from, to := removed[0].Base, removed[len(removed)-1].End()-1
	o.removed = append(o.removed, history.Removal{At: o.e.Now(), Broker: broker, TP: tp, Verb: verb, Why: why, From: from, To: to, Batches: removed})
	o.emit(broker, tp, verb, "broker %d %s offsets %d-%d of %s (%s)", broker, verb, from, to, o.tpName(tp), why)
}

// leaderAppended records a leader's append; with acks=0 the append is all
// the acknowledgement there is.
func (o *recorder) leaderAppended(bt *history.Batch, broker, tp int, epoch int32, quorum []int, acks int) {
	if acks == 0 {
		o.ledger.ackedAt(bt, broker, epoch, quorum, 0, o.e.Now())
		o.ackedEnd[tp] = max(o.ackedEnd[tp], bt.End())
	}
}

// leaderAcked records where a leader acknowledged a batch: its epoch and
// the quorum whose copies counted (Kafka: the ISR).
func (o *recorder) leaderAcked(bt *history.Batch, broker int, epoch int32, quorum []int, acks int) {
	o.ledger.ackedAt(bt, broker, epoch, quorum, acks, o.e.Now())
}

// producerAcked records that a producer was told a batch is written at base
// (-1: unknown, acks=0).
func (o *recorder) producerAcked(b *prodBatch, base int64) {
	if b.txn {
		// A transactional batch is written, not yet acknowledged to the
		// application: that is the commit's answer (txnEnded).
		o.ledger.txnWritten(b, base)
	} else {
		o.ledger.ack(b, base, o.e.Now())
	}
	if end := base + int64(len(b.records)); base >= 0 && end > o.ackedEnd[b.tp] {
		o.ackedEnd[b.tp] = end
	}
}

// recordSent records a new application record and returns its id.
func (o *recorder) recordSent(producer, seq, key int) history.RecordID {
	return o.ledger.newRecord(producer, seq, key, o.e.Now())
}

// partitioned records the partition a record was assigned to.
func (o *recorder) partitioned(id history.RecordID, tp int) { o.ledger.recs[id-1].TP = int32(tp) }

// key is a record's key (-1 none).
func (o *recorder) key(id history.RecordID) int { return int(o.ledger.recs[id-1].Key) }

func (o *recorder) attempted(b *prodBatch) { o.ledger.attempt(b) }

// finished records a record's end without an ack.
func (o *recorder) finished(id history.RecordID, out history.Outcome, why string) {
	o.ledger.finish(id, out, why, o.e.Now())
}

func (o *recorder) resent(id history.RecordID) { o.ledger.resent(id) }

func (o *recorder) processed(p history.Processed) { o.ledger.process(p) }

func (o *recorder) committed(c history.Commit) { o.ledger.commit(c) }

func (o *recorder) uncleanElection() { o.unclean++ }

// produceError counts a produce error a producer met (a response's error
// code, or a client-side failure such as a lost connection).
func (o *recorder) produceError(err ErrCode) { o.errors[err.String()]++ }

// txnOf is record id's transaction (-1 none), its outcome so far and when
// it ended.
func (o *recorder) txnOf(id history.RecordID) (int32, history.TxnOutcome, sim.Time) {
	l := &o.ledger
	if l.recTxn == nil || int(id) <= 0 || int(id) > len(l.recTxn) || l.recTxn[id-1] < 0 {
		return -1, 0, 0
	}
	t := l.recTxn[id-1]
	return t, l.txns[t].Outcome, l.txns[t].Ended
}

// derive records that output record out was made from input in.
func (o *recorder) derive(out history.RecordID, in history.Input) {
	if o.ledger.derived == nil {
		o.ledger.derived = map[history.RecordID]history.Input{}
	}
	o.ledger.derived[out] = in
}

// txnBegan records a new transaction and returns its index.
func (o *recorder) txnBegan(producer int, pid int64, epoch int16) int32 {
	o.ledger.txns = append(o.ledger.txns, history.Txn{Producer: producer, PID: pid, Epoch: epoch, Began: o.e.Now()})
	return int32(len(o.ledger.txns) - 1)
}

// txnRecord records that record id belongs to transaction txn.
func (o *recorder) txnRecord(id history.RecordID, txn int32) {
	l := &o.ledger
	if l.recTxn == nil {
		l.recTxn = make([]int32, len(l.recs), cap(l.recs))
		for i := range l.recTxn {
			l.recTxn[i] = -1
		}
	}
	l.recTxn[id-1] = txn
	l.txns[txn].Records = append(l.txns[txn].Records, id)
}

// txnEnded records how a transaction ended, as its application learned it:
// the records of a committed one are acknowledged now, those of an aborted
// one were not written, those of one whose commit got no answer are
// unknown.
func (o *recorder) txnEnded(txn int32, out history.TxnOutcome, why string) {
	l := &o.ledger
	t := &l.txns[txn]
	if t.Outcome != history.TxnOpen {
		return
	}
	now := o.e.Now()
	t.Outcome, t.Ended, t.Why = out, now, why
	for _, id := range t.Records {
		switch out {
		case history.TxnCommitted:
			l.ackTxn(id, now)
		case history.TxnAborted:
			l.finish(id, history.OutcomeNotWritten, "its transaction was aborted: "+why, now)
		default:
			l.finish(id, history.OutcomeUnknown, "its transaction's outcome is unknown: "+why, now)
		}
	}
}

// lsoTick follows a partition leader's last stable offset: how long it
// stays put below the high watermark.
func (o *recorder) lsoTick(tp int, lso, hw int64) {
	if o.lso == nil {
		o.lso = make([]lsoWatch, len(o.unavailable))
		o.lsoStall = make([]sim.Duration, len(o.unavailable))
	}
	w := &o.lso[tp]
	now := o.e.Now()
	if lso != w.at || hw <= lso {
		w.at, w.since = lso, now
		return
	}
	o.lsoStall[tp] = max(o.lsoStall[tp], now.Sub(w.since))
}

// lsoWatch is where a partition's LSO is, and since when.
type lsoWatch struct {
	at    int64
	since sim.Time
}
