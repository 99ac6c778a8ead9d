package check

import "acksim/history"

// Divergence counts offsets at which two replicas of a partition disagree
// below both their high watermarks (log matching, after recovery).
//
// Memory: a cursor per replica over its batches, which a log keeps in
// offset order; a replica whose batches are not in order (a hand-built
// history) is flattened first.
func Divergence(h *history.Run) int {
	n := 0
	for _, p := range h.Partitions {
		curs := make([]logCursor, len(p.Replicas))
		for i, r := range p.Replicas {
			curs[i] = newLogCursor(r.Batches, r.HW)
		}
		var limit int64
		for _, r := range p.Replicas {
			limit = max(limit, r.HW)
		}
		for off := int64(0); off < limit; off++ {
			var ref history.RecordID
			have := false
			for i, r := range p.Replicas {
				if off >= r.HW {
					continue
				}
				id := curs[i].at(off)
				if !have {
					ref, have = id, true
				} else if id != ref {
					n++
					break
				}
			}
		}
	}
	return n
}

// logCursor reads a replica's log by increasing offset: the record id at
// each offset, 0 where a gap is.
type logCursor struct {
	batches []*history.Batch
	i       int
	flat    []history.RecordID // set when the batches are not in order
}

func newLogCursor(batches []*history.Batch, limit int64) logCursor {
	for i := 1; i < len(batches); i++ {
		if batches[i].Base < batches[i-1].End() {
			return logCursor{flat: flat(batches, limit)}
		}
	}
	return logCursor{batches: batches}
}

// at returns the id at offset off; offsets must not decrease between calls.
func (c *logCursor) at(off int64) history.RecordID {
	if c.batches == nil {
		if off < int64(len(c.flat)) {
			return c.flat[off]
		}
		return 0
	}
	for c.i < len(c.batches) && c.batches[c.i].End() <= off {
		c.i++
	}
	if c.i < len(c.batches) && c.batches[c.i].Base <= off {
		if b := c.batches[c.i]; off-b.Base < int64(len(b.Records)) {
			return b.Records[off-b.Base]
		}
	}
	return 0 // a gap, or a transaction marker (no record)
}
