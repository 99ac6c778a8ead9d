package check

import "acksim/model"

// InconsistentReads counts records a consumer read at an offset that holds
// something else (or nothing) in the final committed log: the HW moved back
// over consumed data.
func InconsistentReads(h *model.History) int {
	final := make([]map[int64]model.RecordID, len(h.Partitions))
	for i, p := range h.Partitions {
		m := map[int64]model.RecordID{}
		for _, b := range p.Committed {
			for j, id := range b.Records {
				m[b.Base+int64(j)] = id
			}
		}
		final[i] = m
	}
	n := 0
	for _, p := range h.Processed {
		if p.TP < len(final) && final[p.TP][p.Offset] != p.ID {
			n++
		}
	}
	return n
}
