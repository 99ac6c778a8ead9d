package check

import "acksim/history"

// ConsumerLoss counts records in the final committed log below the group's
// committed offset that no member ever processed (poll-skip): the group
// moved past them without the application seeing them.
func ConsumerLoss(h *history.Run) int {
	done := make([]bool, len(h.Records)+1)
	for _, p := range h.Processed {
		if p.ID > 0 && int(p.ID) < len(done) {
			done[p.ID] = true
		}
	}
	n := 0
	for _, p := range h.Partitions {
		if p.Group < 0 {
			continue
		}
		for _, b := range p.Committed {
			for i, id := range b.Records {
				if b.Base+int64(i) < p.Group && id > 0 && int(id) < len(done) && !done[id] {
					n++
				}
			}
		}
	}
	return n
}
