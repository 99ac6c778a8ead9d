package check

import "acksim/model"

// LostWrites returns the acknowledged records that are not in the final
// committed log: the producer was told they were written, and they are gone.
// (acks=0 records count as acknowledged: send() reported success.)
func LostWrites(h *model.History, ix *committedIndex) []model.RecordID {
	var out []model.RecordID
	for i := range h.Records {
		id := model.RecordID(i + 1)
		if h.Records[i].Outcome == model.OutcomeAcked && ix.copies(id) == 0 {
			out = append(out, id)
		}
	}
	return out
}
