package check

import (
	"slices"

	"acksim/history"
)

// TxnVerdict is what a run's transactions came to (present only when a
// producer is transactional).
type TxnVerdict struct {
	Committed int `json:"committed"`
	Aborted   int `json:"aborted"`
	Unknown   int `json:"unknown"` // the commit's answer never came
	Open      int `json:"open"`    // still open at the end of the run
	// AbortedRead counts records a read_committed consumer processed from
	// a transaction its producer aborted (Adya's G1a).
	AbortedRead int `json:"aborted_read"`
	// TornTransaction counts transactions only partly visible in the
	// final committed logs (committed, unknown), or visible at all
	// (aborted): atomicity broken.
	TornTransaction int `json:"torn_transaction"`
	// LSOStallMs is the longest time a partition's last stable offset
	// stayed put below its high watermark: an open or hanging transaction
	// holding read_committed consumers back.
	LSOStallMs float64 `json:"lso_stall_ms"`
	// Fenced counts producer instances fenced by a newer epoch.
	Fenced int `json:"fenced"`
}

// visibleTxnBatches marks, in a partition's committed log (in offset
// order), the transactional batches a read_committed consumer sees: those
// whose transaction's next marker in the log is a COMMIT. Batches of an
// aborted transaction, or of one with no marker yet, are not visible.
// Non-transactional batches are always visible (nil: every batch is).
func visibleTxnBatches(batches []*history.Batch) []bool {
	has := false
	for _, b := range batches {
		if b.Txn != history.NotTxn {
			has = true
			break
		}
	}
	if !has {
		return nil
	}
	vis := make([]bool, len(batches))
	open := map[int64][]int{} // producer id -> its batches awaiting a marker
	for i, b := range batches {
		switch {
		case b.Txn == history.NotTxn:
			vis[i] = true
		case b.Txn == history.TxnData:
			open[b.PID] = append(open[b.PID], i)
		default: // a marker decides the producer's open batches
			for _, j := range open[b.PID] {
				vis[j] = b.Txn == history.TxnCommit
			}
			delete(open, b.PID)
		}
	}
	return vis
}

// txnVerdict checks the transactions: how each ended, reads of aborted
// data by read_committed consumers, and atomicity in the final logs.
func txnVerdict(h *history.Run, ix *committedIndex) *TxnVerdict {
	if len(h.Txns) == 0 {
		return nil
	}
	v := &TxnVerdict{Fenced: h.Fenced}
	for _, t := range h.Txns {
		switch t.Outcome {
		case history.TxnCommitted:
			v.Committed++
		case history.TxnAborted:
			v.Aborted++
		case history.TxnUnknown:
			v.Unknown++
		default:
			v.Open++
		}
		seen := 0
		for _, id := range t.Records {
			if ix.copies(id) > 0 {
				seen++
			}
		}
		switch {
		case t.Outcome == history.TxnAborted && seen > 0:
			v.TornTransaction++
		case t.Outcome != history.TxnAborted && seen > 0 && seen < len(t.Records):
			v.TornTransaction++
		}
	}
	v.AbortedRead = AbortedReads(h)
	if len(h.LSOStall) > 0 {
		v.LSOStallMs = slices.Max(h.LSOStall).Milliseconds()
	}
	return v
}

// AbortedReads counts records that a read_committed consumer processed
// from a transaction whose producer aborted it.
func AbortedReads(h *history.Run) int {
	n := 0
	for _, p := range h.Processed {
		if p.Member >= len(h.ReadCommitted) || !h.ReadCommitted[p.Member] {
			continue
		}
		if t := h.TxnOf(p.ID); t >= 0 && h.Txns[t].Outcome == history.TxnAborted {
			n++
		}
	}
	return n
}
