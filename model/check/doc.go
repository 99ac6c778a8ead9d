// Package check turns the History of a run into a Verdict. Each checker is a
// pure function of the History, in its own file, so it can be tested against
// hand-built and deliberately mutated histories. Anomaly names follow
// Jepsen's Kafka checker.
package check

import "acksim/history"

// committedIndex records where each record id sits in the final committed
// logs (the final leader's log below its HW). Record ids are dense (1..n),
// so it is slices, not maps: linear time, a few bytes per record.
type committedIndex struct {
	count []uint8                    // copies, saturating at 255
	first []loc                      // the first copy
	more  map[history.RecordID][]loc // further copies (duplicates only)
}

type loc struct {
	tp  int
	off int64
}

func (ix *committedIndex) copies(id history.RecordID) int { return int(ix.count[id]) }

func (ix *committedIndex) locs(id history.RecordID) []loc {
	if ix.count[id] == 0 {
		return nil
	}
	return append([]loc{ix.first[id]}, ix.more[id]...)
}

func indexCommitted(h *history.Run) *committedIndex {
	n := len(h.Records) + 1
	ix := &committedIndex{count: make([]uint8, n), first: make([]loc, n), more: map[history.RecordID][]loc{}}
	for _, p := range h.Partitions {
		// A transaction's records count once its COMMIT marker is in the
		// committed log: what a read_committed consumer can read.
		vis := visibleTxnBatches(p.Committed)
		for bi, b := range p.Committed {
			if vis != nil && !vis[bi] {
				continue
			}
			for i, id := range b.Records {
				if int(id) >= n || id <= 0 {
					continue
				}
				l := loc{p.TP, b.Base + int64(i)}
				switch ix.count[id] {
				case 0:
					ix.first[id] = l
				default:
					ix.more[id] = append(ix.more[id], l)
				}
				if ix.count[id] < 255 {
					ix.count[id]++
				}
			}
		}
	}
	return ix
}

// flat returns a partition's committed log as record ids by offset
// (0 where a gap would be).
func flat(batches []*history.Batch, limit int64) []history.RecordID {
	var n int64
	for _, b := range batches {
		n = max(n, b.End())
	}
	n = min(n, limit)
	out := make([]history.RecordID, max(n, 0))
	for _, b := range batches {
		for i, id := range b.Records {
			if off := b.Base + int64(i); off < n {
				out[off] = id
			}
		}
	}
	return out
}
