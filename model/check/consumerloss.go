package check

import (
	"slices"

	"acksim/history"
)

// ConsumerLoss counts records in the final committed log below the group's
// committed offset that no member ever processed (poll-skip): the group
// moved past them without the application seeing them.
func ConsumerLoss(h *history.Run) int { return len(ConsumerLost(h)) }

// consumerLoc is a record's place in the final log.
type consumerLoc struct {
	id  history.RecordID
	tp  int
	off int64
}

// ConsumerLost lists the records ConsumerLoss counts, with their places.
func ConsumerLost(h *history.Run) []consumerLoc {
	done := make([]bool, len(h.Records)+1)
	for _, p := range h.Processed {
		if p.ID > 0 && int(p.ID) < len(done) {
			done[p.ID] = true
		}
	}
	readCommitted := slices.Contains(h.ReadCommitted, true)
	var out []consumerLoc
	for _, p := range h.Partitions {
		if p.Group < 0 {
			continue
		}
		// A read_committed group never sees the records of aborted (or
		// still open) transactions: skipping them is not a loss.
		var vis []bool
		if readCommitted {
			vis = visibleTxnBatches(p.Committed)
		}
		for bi, b := range p.Committed {
			if vis != nil && !vis[bi] {
				continue
			}
			for i, id := range b.Records {
				if off := b.Base + int64(i); off < p.Group && id > 0 && int(id) < len(done) && !done[id] {
					out = append(out, consumerLoc{id, p.TP, off})
				}
			}
		}
	}
	return out
}
