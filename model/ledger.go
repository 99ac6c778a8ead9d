package model

import (
	"acksim/history"
	"slices"

	"acksim/sim"
)

// Ledger is the per-record account of a run.
type Ledger struct {
	recs      []history.Record
	why       map[history.RecordID]string
	latencies []sim.Duration
	processed []history.Processed
	commits   []history.Commit
	acked     int
	quorums   [][]int // interned quorum snapshots, so Record holds no pointers (cheap for the GC)
}

func (l *Ledger) internQuorum(isr []int) int32 {
	if n := len(l.quorums); n > 0 && slices.Equal(l.quorums[n-1], isr) {
		return int32(n - 1)
	}
	l.quorums = append(l.quorums, slices.Clone(isr))
	return int32(len(l.quorums) - 1)
}

// AckedCount is the number of acknowledged records so far (O(1)).
func (l *Ledger) AckedCount() int { return l.acked }

// Records returns the ledger (read-only).
func (l *Ledger) Records() []history.Record { return l.recs }

// Get returns record id.
func (l *Ledger) Get(id history.RecordID) *history.Record { return &l.recs[id-1] }

func (l *Ledger) newRecord(producer, seq, key int, now sim.Time) history.RecordID {
	l.recs = append(l.recs, history.Record{Producer: int16(producer), Seq: int32(seq), Key: int32(key), Sent: now, Sends: 1, Offset: -1, AckBroker: -1, AckQuorum: -1})
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
	q := l.internQuorum(quorum)
	for _, id := range bt.Records {
		rec := &l.recs[id-1]
		rec.AckBroker, rec.AckEpoch, rec.AckQuorum, rec.AckAcks, rec.AckAt = int16(broker), epoch, q, int8(acks), now
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
		rec.Acked = now
		if base >= 0 {
			rec.Offset = base + int64(i)
		}
		l.latencies = append(l.latencies, now.Sub(rec.Sent))
	}
}

func (l *Ledger) finish(id history.RecordID, o history.Outcome, why string, now sim.Time) {
	rec := &l.recs[id-1]
	if rec.Outcome == history.OutcomeAcked {
		return
	}
	rec.Outcome, rec.Ended = o, now
	if l.why == nil {
		l.why = map[history.RecordID]string{}
	}
	l.why[id] = why
}

func (l *Ledger) resent(id history.RecordID) {
	rec := &l.recs[id-1]
	if rec.Outcome != history.OutcomeAcked {
		rec.Outcome, rec.Ended = history.OutcomePending, 0
	}
	rec.Sends++
}

func (l *Ledger) process(p history.Processed) { l.processed = append(l.processed, p) }

func (l *Ledger) commit(c history.Commit) { l.commits = append(l.commits, c) }
