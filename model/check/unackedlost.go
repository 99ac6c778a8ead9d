package check

import "acksim/history"

// UnackedLost counts records that were sent, never acknowledged, and are not
// in the final log. Informational: the producer was never told they were safe.
func UnackedLost(h *history.Run, ix *committedIndex) int {
	n := 0
	for i := range h.Records {
		if h.Records[i].Outcome != history.OutcomeAcked && ix.copies(history.RecordID(i+1)) == 0 {
			n++
		}
	}
	return n
}
