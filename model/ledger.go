package model

import (
	"encoding/binary"
	"slices"

	"acksim/history"

	"acksim/sim"
)

// Ledger is the per-record account of a run.
type Ledger struct {
	recs      []history.Record
	why       map[history.RecordID]string
	processed []history.Processed
	commits   []history.Commit
	acked     int
	sites     []history.AckSite                  // one per acknowledged batch, shared by its records
	quorums   [][]int                            // interned quorum snapshots, so Record holds no pointers (cheap for the GC)
	quorumIx  map[string]int32                   // quorums by their bytes
	key       []byte                             // scratch for quorumIx lookups
	txns      []history.Txn                      // transactions, in the order they began
	recTxn    []int32                            // by record: its transaction (nil: no transactional producer)
	derived   map[history.RecordID]history.Input // output record -> its input record (pipelines)
}

// internQuorum returns the index of the snapshot equal to isr, adding it
// the first time: partitions whose ISRs differ take turns acknowledging, so
// a last-one cache would copy the ISR on nearly every ack.
func (l *Ledger) internQuorum(isr []int) int32 {
	if n := len(l.quorums); n > 0 && slices.Equal(l.quorums[n-1], isr) {
		return int32(n - 1)
	}
	l.key = l.key[:0]
	for _, b := range isr {
		l.key = binary.AppendVarint(l.key, int64(b))
	}
	if i, ok := l.quorumIx[string(l.key)]; ok {
		return i
	}
	if l.quorumIx == nil {
		l.quorumIx = map[string]int32{}
	}
	i := int32(len(l.quorums))
	l.quorums = append(l.quorums, slices.Clone(isr))
	l.quorumIx[string(l.key)] = i
	return i
}

// AckedCount is the number of acknowledged records so far (O(1)).
func (l *Ledger) AckedCount() int { return l.acked }

// Records returns the ledger (read-only).
func (l *Ledger) Records() []history.Record { return l.recs }

// Get returns record id.
func (l *Ledger) Get(id history.RecordID) *history.Record { return &l.recs[id-1] }

func (l *Ledger) newRecord(producer, seq, key int, now sim.Time) history.RecordID {
	l.recs = append(l.recs, history.Record{Producer: int16(producer), Seq: int32(seq), Key: int32(key), Sent: now, Sends: 1, Offset: -1, AckSite: -1})
	if l.recTxn != nil {
		l.recTxn = append(l.recTxn, -1)
	}
	return history.RecordID(len(l.recs))
}

func (l *Ledger) attempt(b *prodBatch) {
	for _, id := range b.records {
		l.recs[id-1].Attempts++
	}
}

// ackedAt records where a leader acknowledged a batch.
func (l *Ledger) ackedAt(bt *history.Batch, broker int, epoch int32, quorum []int, acks int, now sim.Time) {
	if bt == nil {
		return
	}
	l.sites = append(l.sites, history.AckSite{At: now, Epoch: epoch, Quorum: l.internQuorum(quorum), Broker: int16(broker), Acks: int8(acks)})
	site := int32(len(l.sites) - 1)
	for _, id := range bt.Records {
		l.recs[id-1].AckSite = site
	}
}

// ack records that the producer was told a batch is written.
func (l *Ledger) ack(b *prodBatch, base int64, now sim.Time) {
	for i, id := range b.records {
		rec := &l.recs[id-1]
		if rec.Outcome == history.OutcomeAcked {
			continue
		}
		rec.Outcome = history.OutcomeAcked
		l.acked++
		rec.Done = now
		if base >= 0 {
			rec.Offset = base + int64(i)
		}
	}
}

func (l *Ledger) finish(id history.RecordID, o history.Outcome, why string, now sim.Time) {
	rec := &l.recs[id-1]
	if rec.Outcome == history.OutcomeAcked {
		return
	}
	rec.Outcome, rec.Done = o, now
	if l.why == nil {
		l.why = map[history.RecordID]string{}
	}
	l.why[id] = why
}

func (l *Ledger) resent(id history.RecordID) {
	rec := &l.recs[id-1]
	if rec.Outcome != history.OutcomeAcked {
		rec.Outcome, rec.Done = history.OutcomePending, 0
	}
	rec.Sends++
}

func (l *Ledger) process(p history.Processed) { l.processed = append(l.processed, p) }

func (l *Ledger) commit(c history.Commit) { l.commits = append(l.commits, c) }

// txnWritten records the offsets of a transactional batch the broker
// acknowledged; its records stay pending until the transaction ends.
func (l *Ledger) txnWritten(b *prodBatch, base int64) {
	if base < 0 {
		return
	}
	for i, id := range b.records {
		l.recs[id-1].Offset = base + int64(i)
	}
}

// ackTxn acknowledges a record of a committed transaction.
func (l *Ledger) ackTxn(id history.RecordID, now sim.Time) {
	rec := &l.recs[id-1]
	if rec.Outcome == history.OutcomeAcked || rec.Outcome == history.OutcomeNotWritten {
		return // a batch that failed is not written, whatever the commit says
	}
	rec.Outcome, rec.Done = history.OutcomeAcked, now
	l.acked++
}
