package check

import "acksim/history"

// Reorders counts records that appear in a partition's final committed log
// after a record their producer sent later: per producer and partition, the
// log order must follow the send order. Only each record's first copy counts.
func Reorders(h *history.Run) int { return len(Reordered(h)) }

// Reordered lists the records Reorders counts, in log order.
func Reordered(h *history.Run) []history.RecordID {
	var out []history.RecordID
	seen := make([]bool, len(h.Records)+1)
	for _, p := range h.Partitions {
		maxSeq := map[int16]int32{}
		for _, b := range p.Committed {
			for _, id := range b.Records {
				if id <= 0 || int(id) >= len(seen) || seen[id] {
					continue
				}
				seen[id] = true
				r := &h.Records[id-1]
				if m, ok := maxSeq[r.Producer]; ok && r.Seq < m {
					out = append(out, id)
					continue
				}
				maxSeq[r.Producer] = r.Seq
			}
		}
	}
	return out
}
