package check

import "acksim/model"

// Divergence counts offsets at which two replicas of a partition disagree
// below both their high watermarks (log matching, after recovery).
func Divergence(h *model.History) int {
	n := 0
	for _, p := range h.Partitions {
		logs := make([]map[int64]model.RecordID, len(p.Replicas))
		for i, r := range p.Replicas {
			m := map[int64]model.RecordID{}
			for _, b := range r.Batches {
				for j, id := range b.Records {
					if off := b.Base + int64(j); off < r.HW {
						m[off] = id
					}
				}
			}
			logs[i] = m
		}
		bad := map[int64]bool{}
		for i := range p.Replicas {
			for j := i + 1; j < len(p.Replicas); j++ {
				limit := min(p.Replicas[i].HW, p.Replicas[j].HW)
				for off := int64(0); off < limit; off++ {
					if logs[i][off] != logs[j][off] {
						bad[off] = true
					}
				}
			}
		}
		n += len(bad)
	}
	return n
}
