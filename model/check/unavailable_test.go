package check

import (
	"math/rand/v2"
	"slices"
	"testing"

	"acksim/history"
	"acksim/sim"
)

// unavailableByEdges is the plain definition: every wait as a start and an
// end edge, sorted (starts first at one instant), swept once.
func unavailableByEdges(h *history.Run) sim.Duration {
	type edge struct {
		at    sim.Time
		delta int
		ack   bool
	}
	var edges []edge
	for i := range h.Records {
		r := &h.Records[i]
		end, ack := waitEnd(h, r)
		if end <= r.Sent {
			continue
		}
		edges = append(edges, edge{r.Sent, +1, false}, edge{end, -1, ack})
	}
	slices.SortStableFunc(edges, func(a, b edge) int {
		if a.at != b.at {
			return cmpTime(a.at, b.at)
		}
		return b.delta - a.delta
	})
	var longest sim.Duration
	var since sim.Time
	waiting := 0
	for _, e := range edges {
		if e.delta > 0 {
			if waiting == 0 {
				since = e.at
			}
			waiting++
			continue
		}
		longest = max(longest, e.at.Sub(since))
		waiting--
		if e.ack {
			since = e.at
		}
	}
	return longest
}

// Unavailable's merge (no edge list) agrees with the plain definition, for
// histories in send order (as the model writes them) and out of it. Times
// are drawn from a small range so that starts and ends often coincide.
func TestUnavailableMatchesEdgeSweep(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 20000; trial++ {
		n, ordered := rng.IntN(30), rng.IntN(2) == 0
		h := &history.Run{End: 200}
		var sent sim.Time
		for i := 0; i < n; i++ {
			if ordered {
				sent += sim.Time(rng.IntN(4))
			} else {
				sent = sim.Time(rng.IntN(60))
			}
			r := history.Record{Sent: sent}
			switch rng.IntN(4) {
			case 0: // acknowledged (at once with acks=0)
				r.Outcome, r.Done = history.OutcomeAcked, sent+sim.Time(rng.IntN(7))
			case 1: // given up on
				r.Outcome, r.Done = history.OutcomeUnknown, sent+1+sim.Time(rng.IntN(6))
			default: // still waiting at the end
			}
			h.Records = append(h.Records, r)
		}
		if got, want := Unavailable(h), unavailableByEdges(h); got != want {
			t.Fatalf("trial %d: Unavailable = %v, the edge sweep says %v, for %+v", trial, got, want, h.Records)
		}
	}
}
