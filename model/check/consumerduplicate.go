package check

import "acksim/model"

// ConsumerDuplicates counts extra processings: a record handed to the
// application more than once (at-least-once redelivery after a crash or
// rebalance).
func ConsumerDuplicates(h *model.History) int {
	seen := make([]bool, len(h.Records)+1)
	n := 0
	for _, p := range h.Processed {
		if p.ID <= 0 || int(p.ID) >= len(seen) {
			continue
		}
		if seen[p.ID] {
			n++
		}
		seen[p.ID] = true
	}
	return n
}
