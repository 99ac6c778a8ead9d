// Package check turns the History of a run into a Verdict. Each checker is a
// pure function of the History, in its own file, so it can be tested against
// hand-built and deliberately mutated histories. Anomaly names follow
// Jepsen's Kafka checker.
package check

import "acksim/model"

// committedIndex maps each record id to the offsets it occupies in the final
// committed logs (the final leader's log below its HW), per partition.
type committedIndex struct {
	at map[model.RecordID][]loc
}

type loc struct {
	tp  int
	off int64
}

func indexCommitted(h *model.History) *committedIndex {
	ix := &committedIndex{at: map[model.RecordID][]loc{}}
	for _, p := range h.Partitions {
		for _, b := range p.Committed {
			for i, id := range b.Records {
				ix.at[id] = append(ix.at[id], loc{p.TP, b.Base + int64(i)})
			}
		}
	}
	return ix
}
