package check

import (
	"fmt"
	"slices"

	"acksim/history"
)

// EOSVerdict is what a consume-transform-produce application's
// exactly-once promise came to: each input record the group committed
// past should have exactly one output record in the committed output
// topic, as a read_committed reader sees it (present only with such an
// application).
type EOSVerdict struct {
	// Inputs counts input records below the group's committed offsets:
	// those the application claims to have processed.
	Inputs int `json:"inputs"`
	// Duplicate counts input records whose output a read_committed reader
	// of the output topic sees more than once.
	Duplicate int `json:"eos_duplicate"`
	// Loss counts input records below the group's committed offsets whose
	// output it never sees.
	Loss int `json:"eos_loss"`
}

// eosRecord is an input record that broke exactly-once.
type eosRecord struct {
	id      history.RecordID
	tp      int
	off     int64
	outputs int
}

// eosCheck counts each input record's outputs in the committed output
// topic and finds the input records with more than one, or none below the
// group's offset.
func eosCheck(h *history.Run) (*EOSVerdict, []eosRecord, []eosRecord) {
	if h.OutputFrom <= 0 {
		return nil, nil, nil
	}
	outputs := map[history.Input]int{} // by input record and where it was read
	for _, p := range h.Partitions {
		if p.TP < h.OutputFrom {
			continue
		}
		vis := visibleTxnBatches(p.Committed)
		for bi, b := range p.Committed {
			if b.Control() || (vis != nil && !vis[bi]) {
				continue
			}
			for _, id := range b.Records {
				if in, ok := h.Derived[id]; ok {
					outputs[in]++
				}
			}
		}
	}
	readCommitted := slices.Contains(h.ReadCommitted, true)
	v := &EOSVerdict{}
	var dups, lost []eosRecord
	for _, p := range h.Partitions {
		if p.TP >= h.OutputFrom {
			continue
		}
		var vis []bool
		if readCommitted {
			vis = visibleTxnBatches(p.Committed)
		}
		for bi, b := range p.Committed {
			if b.Control() || (vis != nil && !vis[bi]) {
				continue
			}
			for i, id := range b.Records {
				off := b.Base + int64(i)
				n := outputs[history.Input{ID: id, TP: int32(p.TP), Offset: off}]
				if n > 1 {
					dups = append(dups, eosRecord{id, p.TP, off, n})
				}
				if off >= p.Group {
					continue
				}
				v.Inputs++
				if n == 0 {
					lost = append(lost, eosRecord{id, p.TP, off, 0})
				}
			}
		}
	}
	v.Duplicate, v.Loss = len(dups), len(lost)
	return v, dups, lost
}

// explainEOS tells, for the first input record of each partition that broke
// exactly-once, what became of its output: the transactions that wrote it
// and how they ended, and what the application did meanwhile.
func explainEOS(h *history.Run, dups, lost []eosRecord) []Explanation {
	if len(dups) == 0 && len(lost) == 0 {
		return nil
	}
	made := map[history.Input][]history.RecordID{} // input -> its output records
	for out, in := range h.Derived {
		made[in] = append(made[in], out)
	}
	var out []Explanation
	tell := func(anomaly string, recs []eosRecord, what string) {
		for tp := range len(h.Partitions) {
			var ids []history.RecordID
			first := -1
			for i, r := range recs {
				if r.tp == tp {
					if first < 0 {
						first = i
					}
					ids = append(ids, r.id)
				}
			}
			if first < 0 {
				continue
			}
			r := recs[first]
			story := []string{fmt.Sprintf("input record %s at %s offset %d: %s", recName(h, r.id), h.TPName(r.tp), r.off, what)}
			outs := made[history.Input{ID: r.id, TP: int32(r.tp), Offset: r.off}]
			slices.Sort(outs)
			if len(outs) == 0 {
				story = append(story, "the application never wrote an output for it: it was never processed in a transaction")
			}
			for _, o := range outs {
				line := fmt.Sprintf("output record %s", recName(h, o))
				if t := h.TxnOf(o); t >= 0 {
					x := h.Txns[t]
					line += fmt.Sprintf(" was written in transaction %d (began %s), %s at %s: %s", t, at(x.Began), x.Outcome, at(x.Ended), x.Why)
				}
				story = append(story, line)
			}
			for _, ev := range h.Events {
				if ev.Kind == history.OffsetReset || ev.Kind == history.TxnFence || ev.Kind == history.Group || (ev.Kind == history.TxnEnd && ev.TP < 0 && ev.Broker < 0) || ev.Kind.Fault() {
					story = append(story, fmt.Sprintf("at %s %s", at(ev.At), ev.Text))
				}
				if len(story) > 14 {
					story = append(story, "…")
					break
				}
			}
			if p := h.Partitions[tp]; p.Group >= 0 {
				story = append(story, fmt.Sprintf("the group's committed offset on %s ends at %d", h.TPName(tp), p.Group))
			}
			out = append(out, Explanation{Anomaly: anomaly, Partition: h.TPName(tp), Count: len(ids), Records: rangeName(h, ids), Story: story})
		}
	}
	tell("eos-loss", lost, "the group committed past it, and no committed output record comes from it")
	tell("eos-duplicate", dups, "more than one committed output record comes from it")
	return out
}
