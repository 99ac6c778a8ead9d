package check

import (
	"sort"

	"acksim/history"
)

// Duplicates returns the records that occupy more than one offset of the
// final committed logs, in id order. The count of extra copies is the sum of
// (copies - 1).
func Duplicates(h *history.Run, ix *committedIndex) (ids []history.RecordID, extra int) {
	for id := range ix.more {
		ids = append(ids, id)
		extra += len(ix.more[id])
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, extra
}
