package check

import (
	"slices"

	"acksim/history"
	"acksim/sim"
)

// Unavailable is availability as a producer sees it: the longest stretch of
// time during which some record was waiting (sent, neither acknowledged nor
// given up on) and no record was acknowledged. A zombie or cut-off leader
// counts, though the controller still names it; a record waits from its
// send to its acknowledgement, or to when the producer gave up on it, or to
// the end of the run.
func Unavailable(h *history.Run) sim.Duration {
	type edge struct {
		at    sim.Time
		delta int  // +1 a record starts waiting, -1 it stops
		ack   bool // it stops because it was acknowledged
	}
	edges := make([]edge, 0, 2*len(h.Records))
	for i := range h.Records {
		r := &h.Records[i]
		end, ack := h.End, false
		switch {
		case r.Outcome == history.OutcomeAcked:
			end, ack = r.Acked, true
		case r.Ended > 0:
			end = r.Ended
		}
		if end <= r.Sent {
			continue // acks=0: acknowledged when sent
		}
		edges = append(edges, edge{r.Sent, +1, false}, edge{end, -1, ack})
	}
	slices.SortStableFunc(edges, func(a, b edge) int {
		if a.at != b.at {
			return cmpTime(a.at, b.at)
		}
		return b.delta - a.delta // a start before an end at the same instant
	})
	var longest sim.Duration
	waiting := 0
	var since sim.Time // start of the current stretch without an ack
	for _, e := range edges {
		switch {
		case e.delta > 0:
			if waiting == 0 {
				since = e.at
			}
			waiting++
		default:
			longest = max(longest, e.at.Sub(since))
			waiting--
			if e.ack {
				since = e.at
			}
		}
	}
	return longest
}
