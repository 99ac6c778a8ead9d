package check

import (
	"sort"

	"acksim/model"
)

// Duplicates returns the records that occupy more than one offset of the
// final committed logs, in id order. The count of extra copies is the sum of
// (copies - 1).
func Duplicates(h *model.History, ix *committedIndex) (ids []model.RecordID, extra int) {
	for id, locs := range ix.at {
		if len(locs) > 1 {
			ids = append(ids, id)
			extra += len(locs) - 1
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, extra
}
