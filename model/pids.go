package model

import "acksim/history"

type pidEntry struct {
	firstSeq, lastSeq int32
	base              int64
}

// pidState is the broker's producer state for one producer id on one
// partition: the last 5 batches, for de-duplication.
// Source: ProducerStateManager / ProducerAppendInfo (KIP-98); 5 batches
// (KAFKA-5494).
type pidState struct {
	last []pidEntry
	// epoch is the newest producer epoch seen (batches and transaction
	// markers): an older one is fenced, a newer one starts its sequences
	// afresh (ProducerAppendInfo.checkProducerEpoch).
	epoch int16
}

// pidTable is a partition replica's producer state, by producer id. Every
// design that takes idempotent producers keeps one, on leaders and
// followers alike, rebuilt from the log after a truncation or a restart.
type pidTable map[int64]*pidState

// track records an appended batch.
func (t *pidTable) track(bt *history.Batch) {
	if bt.PID < 0 {
		return
	}
	if *t == nil {
		*t = pidTable{}
	}
	st := (*t)[bt.PID]
	if st == nil {
		st = &pidState{epoch: bt.PEpoch}
		(*t)[bt.PID] = st
	}
	if bt.PEpoch > st.epoch {
		st.epoch, st.last = bt.PEpoch, st.last[:0]
	}
	if bt.Control() {
		return // a marker carries no sequence
	}
	e := pidEntry{bt.Seq, bt.Seq + int32(len(bt.Records)) - 1, bt.Base}
	if len(st.last) < 5 {
		st.last = append(st.last, e)
	} else { // a sliding window of the last 5, in place
		copy(st.last, st.last[1:])
		st.last[4] = e
	}
}

// rebuild recomputes the table from the log.
func (t *pidTable) rebuild(l *Log) {
	*t = nil
	for _, e := range l.entries {
		t.track(e.b)
	}
}

// dedupe classifies a batch of producer id pid starting at sequence seq:
// a duplicate of one of the last 5 (with the original's base offset and
// end), or out of order (a gap after the last), or neither.
// Source: ProducerAppendInfo.checkSequence, duplicate detection (KIP-98).
func (t pidTable) dedupe(pid int64, seq int32) (dup bool, base, end int64, outOfOrder bool) {
	st := t[pid]
	if st == nil {
		return false, 0, 0, false
	}
	return st.dedupe(seq)
}

func (st *pidState) dedupe(seq int32) (dup bool, base, end int64, outOfOrder bool) {
	for _, x := range st.last {
		if x.firstSeq == seq {
			return true, x.base, x.base + int64(x.lastSeq-x.firstSeq) + 1, false
		}
	}
	n := len(st.last)
	if n == 0 {
		// Known, with no batch of its epoch yet (a transaction marker
		// bumped the epoch, transaction version 2): the epoch's first batch
		// starts at 0 (ProducerAppendInfo.checkSequence: the last sequence
		// is NO_SEQUENCE, and only 0 follows it).
		return false, 0, 0, seq != 0
	}
	return false, 0, 0, seq != st.last[n-1].lastSeq+1
}

// epochOf is the newest producer epoch the table knows for pid, and
// whether it knows pid.
func (t pidTable) epochOf(pid int64) (int16, bool) {
	if st := t[pid]; st != nil {
		return st.epoch, true
	}
	return 0, false
}

// dedupeEpoch is dedupe for a batch of producer epoch epoch: a newer epoch
// than the table's starts its sequences afresh (at 0, or it is out of
// order).
func (t pidTable) dedupeEpoch(pid int64, epoch int16, seq int32) (dup bool, base, end int64, outOfOrder bool) {
	st := t[pid]
	if st == nil {
		return false, 0, 0, false
	}
	if epoch > st.epoch {
		return false, 0, 0, seq != 0
	}
	return st.dedupe(seq)
}
