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
type pidState struct{ last []pidEntry }

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
		st = &pidState{}
		(*t)[bt.PID] = st
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
	for _, x := range st.last {
		if x.firstSeq == seq {
			return true, x.base, x.base + int64(x.lastSeq-x.firstSeq) + 1, false
		}
	}
	n := len(st.last)
	return false, 0, 0, n > 0 && seq != st.last[n-1].lastSeq+1
}
