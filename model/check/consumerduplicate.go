package check

import "acksim/history"

// ConsumerDuplicates counts extra processings: a record handed to the
// application more than once (at-least-once redelivery after a crash or
// rebalance).
func ConsumerDuplicates(h *history.Run) int {
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
