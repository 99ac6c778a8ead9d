package check

import "acksim/history"

// LostWrites returns the acknowledged records that are not in the final
// committed log: the producer was told they were written, and they are gone.
// (acks=0 records count as acknowledged: send() reported success.)
func LostWrites(h *history.Run, ix *committedIndex) []history.RecordID {
	var out []history.RecordID
	for i := range h.Records {
		id := history.RecordID(i + 1)
		if h.Records[i].Outcome == history.OutcomeAcked && ix.copies(id) == 0 {
			out = append(out, id)
		}
	}
	return out
}
