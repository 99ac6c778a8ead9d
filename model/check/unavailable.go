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
//
// Memory: 8 bytes for each record that waited, sorted; the starts are read
// in record order, which is send order (records are numbered as they are
// sent), so a run of 60 million records needs no edge list.
func Unavailable(h *history.Run) sim.Duration {
	nAcks, nGaveUp, inOrder := 0, 0, true
	var last sim.Time
	for i := range h.Records {
		r := &h.Records[i]
		end, ack := waitEnd(h, r)
		if end <= r.Sent {
			continue // acks=0: acknowledged when sent
		}
		if r.Sent < last {
			inOrder = false
		}
		last = r.Sent
		if ack {
			nAcks++
		} else {
			nGaveUp++
		}
	}
	var starts []sim.Time
	acks, gaveUp := make([]sim.Time, 0, nAcks), make([]sim.Time, 0, nGaveUp)
	for i := range h.Records {
		r := &h.Records[i]
		switch end, ack := waitEnd(h, r); {
		case end <= r.Sent:
		case ack:
			acks = append(acks, end)
		default:
			gaveUp = append(gaveUp, end)
		}
	}
	if !inOrder { // a hand-built history
		for i := range h.Records {
			if r := &h.Records[i]; func() bool { end, _ := waitEnd(h, r); return end > r.Sent }() {
				starts = append(starts, r.Sent)
			}
		}
		slices.Sort(starts)
	}
	slices.Sort(acks)
	slices.Sort(gaveUp)
	// Merge: a start before an end at the same instant; the order of ends
	// at one instant does not change the longest stretch.
	var longest sim.Duration
	waiting := 0
	var since sim.Time // start of the current stretch without an ack
	si, ri := 0, 0
	nextStart := func() (sim.Time, bool) {
		if !inOrder {
			if si < len(starts) {
				return starts[si], true
			}
			return 0, false
		}
		for ; ri < len(h.Records); ri++ {
			r := &h.Records[ri]
			if end, _ := waitEnd(h, r); end > r.Sent {
				return r.Sent, true
			}
		}
		return 0, false
	}
	for {
		st, ok := nextStart()
		var end sim.Time
		haveEnd, isAck := false, false
		switch {
		case len(acks) > 0 && (len(gaveUp) == 0 || acks[0] <= gaveUp[0]):
			end, haveEnd, isAck = acks[0], true, true
		case len(gaveUp) > 0:
			end, haveEnd = gaveUp[0], true
		}
		if ok && (!haveEnd || st <= end) {
			if waiting == 0 {
				since = st
			}
			waiting++
			si, ri = si+1, ri+1
			continue
		}
		if !haveEnd {
			return longest
		}
		longest = max(longest, end.Sub(since))
		waiting--
		if isAck {
			since = end
			acks = acks[1:]
		} else {
			gaveUp = gaveUp[1:]
		}
	}
}

// waitEnd is when record r stopped waiting, and whether because it was
// acknowledged.
func waitEnd(h *history.Run, r *history.Record) (sim.Time, bool) {
	switch {
	case r.Outcome == history.OutcomeAcked:
		return r.Done, true
	case r.Done > 0:
		return r.Done, false
	}
	return h.End, false
}
