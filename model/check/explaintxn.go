package check

import (
	"fmt"
	"slices"

	"acksim/history"
)

// explainTxns tells the story of each transaction that broke atomicity
// (torn) or whose aborted records a read_committed consumer read: how it
// began and ended, what the coordinator and the faults did meanwhile, and
// how much of it the final logs show.
func explainTxns(h *history.Run, ix *committedIndex) []Explanation {
	if len(h.Txns) == 0 {
		return nil
	}
	read := map[int]int{} // transaction -> records a read_committed consumer processed
	seen := map[history.RecordID]bool{}
	for _, p := range h.Processed {
		if p.Member < len(h.ReadCommitted) && h.ReadCommitted[p.Member] && !seen[p.ID] {
			if t := h.TxnOf(p.ID); t >= 0 {
				seen[p.ID] = true
				read[t]++
			}
		}
	}
	var out []Explanation
	for i, t := range h.Txns {
		visible := 0
		for _, id := range t.Records {
			if ix.copies(id) > 0 {
				visible++
			}
		}
		torn := (t.Outcome == history.TxnAborted && visible > 0) || (t.Outcome != history.TxnAborted && visible > 0 && visible < len(t.Records))
		abortedRead := t.Outcome == history.TxnAborted && read[i] > 0
		if !torn && !abortedRead || len(t.Records) == 0 {
			continue
		}
		story := []string{fmt.Sprintf("transaction %d of producer p%d (pid %d, epoch %d) began at %s with %d record(s); %s at %s: %s",
			i, t.Producer+1, t.PID, t.Epoch, at(t.Began), len(t.Records), t.Outcome, at(t.Ended), t.Why)}
		for _, ev := range h.Events {
			switch {
			case ev.At > t.Ended:
			case ev.Kind == history.TxnEnd || ev.Kind == history.TxnFence:
				if ev.At >= t.Began {
					story = append(story, fmt.Sprintf("at %s %s", at(ev.At), ev.Text))
				}
			case ev.Kind == history.Delay || (ev.Kind.Fault() && ev.At >= t.Began):
				story = append(story, fmt.Sprintf("at %s %s", at(ev.At), ev.Text))
			}
		}
		story = append(story, fmt.Sprintf("%d of its %d record(s) are visible in the final logs (a COMMIT marker of its producer follows them)", visible, len(t.Records)))
		ids := slices.Clone(t.Records)
		if abortedRead {
			story = append(story, fmt.Sprintf("read_committed consumers processed %d of them, though the producer aborted the transaction", read[i]))
			out = append(out, Explanation{Anomaly: "aborted-read", Count: read[i], Records: rangeName(h, ids), Story: story})
		}
		if torn {
			if abortedRead {
				// The story is the aborted read's, just above.
				story = []string{fmt.Sprintf("transaction %d, told above: %d of its %d record(s) are visible though it was %s", i, visible, len(t.Records), t.Outcome)}
			}
			out = append(out, Explanation{Anomaly: "torn-transaction", Count: len(ids), Records: rangeName(h, ids), Story: story})
		}
	}
	return out
}
