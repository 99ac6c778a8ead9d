package check

import "acksim/history"

// Divergence counts offsets at which two replicas of a partition disagree
// below both their high watermarks (log matching, after recovery).
func Divergence(h *history.Run) int {
	n := 0
	for _, p := range h.Partitions {
		logs := make([][]history.RecordID, len(p.Replicas))
		for i, r := range p.Replicas {
			logs[i] = flat(r.Batches, r.HW)
		}
		var limit int64
		for _, r := range p.Replicas {
			limit = max(limit, r.HW)
		}
		for off := int64(0); off < limit; off++ {
			var ref history.RecordID
			have := false
			for i, r := range p.Replicas {
				if off >= r.HW {
					continue
				}
				var id history.RecordID
				if off < int64(len(logs[i])) {
					id = logs[i][off]
				}
				if !have {
					ref, have = id, true
				} else if id != ref {
					n++
					break
				}
			}
		}
	}
	return n
}
