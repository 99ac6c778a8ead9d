package check

import "acksim/model"

// ConsumerLoss counts records in the final committed log below the group's
// committed offset that no member ever processed (poll-skip): the group
// moved past them without the application seeing them.
func ConsumerLoss(h *model.History) int {
	done := map[model.RecordID]bool{}
	for _, p := range h.Processed {
		done[p.ID] = true
	}
	n := 0
	for _, p := range h.Partitions {
		if p.Group < 0 {
			continue
		}
		for _, b := range p.Committed {
			for i, id := range b.Records {
				if b.Base+int64(i) < p.Group && !done[id] {
					n++
				}
			}
		}
	}
	return n
}

// ConsumerDuplicates counts extra processings: a record handed to the
// application more than once (at-least-once redelivery after a crash or
// rebalance).
func ConsumerDuplicates(h *model.History) int {
	seen := map[model.RecordID]int{}
	n := 0
	for _, p := range h.Processed {
		seen[p.ID]++
		if seen[p.ID] > 1 {
			n++
		}
	}
	return n
}
