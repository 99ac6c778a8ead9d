package check

import "acksim/model"

// Divergence counts offsets at which two replicas of a partition disagree
// below both their high watermarks (log matching, after recovery).
func Divergence(h *model.History) int {
	n := 0
	for _, p := range h.Partitions {
		logs := make([][]model.RecordID, len(p.Replicas))
		for i, r := range p.Replicas {
			logs[i] = flat(r.Batches, r.HW)
		}
		var limit int64
		for _, r := range p.Replicas {
			limit = max(limit, r.HW)
		}
		for off := int64(0); off < limit; off++ {
			var ref model.RecordID
			have := false
			for i, r := range p.Replicas {
				if off >= r.HW {
					continue
				}
				var id model.RecordID
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
