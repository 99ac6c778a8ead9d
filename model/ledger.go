package model

import (
	"slices"

	"acksim/sim"
)

// Outcome is what the producer learned of a record.
type Outcome uint8

// Outcomes (../shared/kafka-semantics.md §5).
const (
	OutcomePending    Outcome = iota // still buffered or in flight
	OutcomeAcked                     // the producer was told it is written
	OutcomeNotWritten                // a definite error: not written
	OutcomeUnknown                   // timed out or in flight at the end
)

func (o Outcome) String() string {
	return [...]string{"pending", "acked", "not-written", "unknown"}[o]
}

// Record is the life of one application message.
// Memory: about 100 bytes a record, independent of the number of events.
type Record struct {
	Producer int16
	TP       int32
	Key      int32
	Seq      int32 // position in the producer's send order
	Sends    int16 // application sends (1 + resends)
	Attempts int16 // produce requests that carried it
	Outcome  Outcome
	Sent     sim.Time
	Acked    sim.Time
	Offset   int64 // offset in the produce response (-1 for acks=0)
	// Where the leader appended and acknowledged it (for explanations).
	AckBroker int16
	AckAcks   int8
	AckEpoch  int32
	AckAt     sim.Time
	AckISR    int32 // index into History.ISRs (the ISR at the ack); -1 none
}

// Ledger is the per-record account of a run.
type Ledger struct {
	recs      []Record
	why       map[RecordID]string
	latencies []sim.Duration
	processed []Processed
	commits   []Commit
	acked     int
	isrs      [][]int // interned ISR snapshots, so Record holds no pointers (cheap for the GC)
}

func (l *Ledger) internISR(isr []int) int32 {
	if n := len(l.isrs); n > 0 && slices.Equal(l.isrs[n-1], isr) {
		return int32(n - 1)
	}
	l.isrs = append(l.isrs, slices.Clone(isr))
	return int32(len(l.isrs) - 1)
}

// AckedCount is the number of acknowledged records so far (O(1)).
func (l *Ledger) AckedCount() int { return l.acked }

// Processed is one record handed to the consumer application.
type Processed struct {
	Member int
	TP     int
	Offset int64
	ID     RecordID
	At     sim.Time
}

// Commit is one accepted offset commit.
type Commit struct {
	TP     int
	Offset int64
	At     sim.Time
	Member int
}

// Records returns the ledger (read-only).
func (l *Ledger) Records() []Record { return l.recs }

// Get returns record id.
func (l *Ledger) Get(id RecordID) *Record { return &l.recs[id-1] }

func (l *Ledger) newRecord(producer, seq, key int, now sim.Time) RecordID {
	l.recs = append(l.recs, Record{Producer: int16(producer), Seq: int32(seq), Key: int32(key), Sent: now, Sends: 1, Offset: -1, AckBroker: -1, AckISR: -1})
	return RecordID(len(l.recs))
}

func (l *Ledger) attempt(b *prodBatch) {
	for _, id := range b.records {
		l.recs[id-1].Attempts++
	}
}

// ackedAt records where a leader acknowledged a batch.
func (l *Ledger) ackedAt(bt *Batch, broker int, r *Replica, acks int) {
	if bt == nil {
		return
	}
	isr := l.internISR(r.isr)
	now := r.b.c.E.Now()
	for _, id := range bt.Records {
		rec := &l.recs[id-1]
		rec.AckBroker, rec.AckEpoch, rec.AckISR, rec.AckAcks, rec.AckAt = int16(broker), r.epoch, isr, int8(acks), now
	}
}

// ack records that the producer was told a batch is written.
func (l *Ledger) ack(b *prodBatch, base int64, now sim.Time) {
	for i, id := range b.records {
		rec := &l.recs[id-1]
		if rec.Outcome == OutcomeAcked {
			continue
		}
		rec.Outcome = OutcomeAcked
		l.acked++
		rec.Acked = now
		if base >= 0 {
			rec.Offset = base + int64(i)
		}
		l.latencies = append(l.latencies, now.Sub(rec.Sent))
	}
}

func (l *Ledger) finish(id RecordID, o Outcome, why string) {
	rec := &l.recs[id-1]
	if rec.Outcome == OutcomeAcked {
		return
	}
	rec.Outcome = o
	if l.why == nil {
		l.why = map[RecordID]string{}
	}
	l.why[id] = why
}

func (l *Ledger) resent(id RecordID) {
	rec := &l.recs[id-1]
	if rec.Outcome != OutcomeAcked {
		rec.Outcome = OutcomePending
	}
	rec.Sends++
}

func (l *Ledger) process(p Processed) { l.processed = append(l.processed, p) }

func (l *Ledger) commit(c Commit) { l.commits = append(l.commits, c) }
