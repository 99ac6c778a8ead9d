package check

import "acksim/history"

// InconsistentReads counts records a consumer read at an offset that holds
// something else (or nothing) in the final committed log: the HW moved back
// over consumed data.
func InconsistentReads(h *history.Run) int {
	if len(h.Processed) == 0 {
		return 0
	}
	final := make([][]history.RecordID, len(h.Partitions))
	for i, p := range h.Partitions {
		final[i] = flat(p.Committed, p.HW)
	}
	n := 0
	for _, p := range h.Processed {
		if p.TP >= len(final) {
			continue
		}
		f := final[p.TP]
		if p.Offset < 0 || p.Offset >= int64(len(f)) || f[p.Offset] != p.ID {
			n++
		}
	}
	return n
}
