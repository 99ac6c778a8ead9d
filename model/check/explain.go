package check

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"acksim/history"
	"acksim/sim"
)

// Explanation tells, in words, why a group of records was lost or
// duplicated: the chain of model events that did it.
type Explanation struct {
	Anomaly   string   `json:"anomaly"`
	Partition string   `json:"partition,omitempty"`
	Count     int      `json:"count"`
	Records   string   `json:"records"` // e.g. "p1#1040..p1#1088"
	Story     []string `json:"story"`
}

func at(t sim.Time) string { return t.Short() }

func ackLine(h *history.Run, r *history.Record) string {
	a := h.AckOf(r)
	if a == nil || a.Broker < 0 {
		return "acknowledged to the producer (acks=0) but never appended by any leader"
	}
	acks := map[int8]string{0: "0", 1: "1", -1: "all"}[a.Acks]
	var isr []int
	if a.Quorum >= 0 && int(a.Quorum) < len(h.Quorums) {
		isr = h.Quorums[a.Quorum]
	}
	if h.Design == "raft" {
		return fmt.Sprintf("appended by leader broker %d in term %d and acknowledged (acks=%s) once brokers %v held it", a.Broker, a.Epoch, acks, isr)
	}
	return fmt.Sprintf("appended by leader broker %d in epoch %d with ISR %v and acknowledged (acks=%s)", a.Broker, a.Epoch, isr, acks)
}

func recName(h *history.Run, id history.RecordID) string {
	r := &h.Records[id-1]
	return fmt.Sprintf("p%d#%d", r.Producer+1, r.Seq)
}

func rangeName(h *history.Run, ids []history.RecordID) string {
	if len(ids) == 1 {
		return recName(h, ids[0])
	}
	return recName(h, ids[0]) + ".." + recName(h, ids[len(ids)-1])
}

// explainLost groups lost records that share a story.
func explainLost(h *history.Run, lost []history.RecordID) []Explanation {
	if len(lost) == 0 {
		return nil
	}
	isLost := make(map[history.RecordID]bool, len(lost))
	for _, id := range lost {
		isLost[id] = true
	}
	removedBy := map[history.RecordID][]int{}
	for i, rm := range h.Removals {
		for _, b := range rm.Batches {
			for _, id := range b.Records {
				if isLost[id] {
					removedBy[id] = append(removedBy[id], i)
				}
			}
		}
	}
	type group struct {
		ids   []history.RecordID
		first sim.Time
		last  sim.Time
		story []string
		tp    int
	}
	var groups []*group
	byKey := map[string]*group{}
	// A record's story depends only on its signature: how it was
	// acknowledged, which removals took it, and which events fall between
	// its ack and the last removal. Thousands of lost records share a few
	// signatures, so each story is written once.
	type signature struct {
		tp, broker, epoch, isr int32
		acks                   int8
		lo, hi                 int
		removals               string
	}
	bySig := map[signature]*group{}
	events := h.Events // in time order
	for _, id := range lost {
		r := &h.Records[id-1]
		lastRemoval := sim.Time(0)
		var rmKey strings.Builder
		for _, i := range removedBy[id] {
			lastRemoval = max(lastRemoval, h.Removals[i].At)
			rmKey.WriteString(strconv.Itoa(i))
			rmKey.WriteByte(',')
		}
		site := history.AckSite{Broker: -1, Quorum: -1}
		if a := h.AckOf(r); a != nil {
			site = *a
		}
		lo := sort.Search(len(events), func(i int) bool { return events[i].At >= site.At })
		hi := len(events)
		if lastRemoval > 0 {
			// A removal can come before the ack (a replica lost the record
			// before another acknowledged it): then no events are between.
			hi = max(lo, sort.Search(len(events), func(i int) bool { return events[i].At > lastRemoval }))
		}
		sg := signature{r.TP, int32(site.Broker), site.Epoch, site.Quorum, site.Acks, lo, hi, rmKey.String()}
		if g := bySig[sg]; g != nil {
			g.ids = append(g.ids, id)
			g.last = r.Done
			continue
		}
		full := lostStory(h, r, removedBy[id], events[lo:hi])
		key := strings.Join(full, "|") + fmt.Sprint(r.TP)
		g := byKey[key]
		if g == nil {
			g = &group{first: r.Done, story: full, tp: int(r.TP)}
			byKey[key] = g
			groups = append(groups, g)
		}
		bySig[sg] = g
		g.ids = append(g.ids, id)
		g.last = r.Done
	}
	var out []Explanation
	for _, g := range groups {
		story := slices.Clone(g.story)
		story[0] = fmt.Sprintf("%d record(s) acknowledged to the producer between %s and %s: %s", len(g.ids), at(g.first), at(g.last), story[0])
		out = append(out, Explanation{Anomaly: "lost-write", Partition: h.TPName(g.tp), Count: len(g.ids), Records: rangeName(h, g.ids), Story: story})
	}
	return out
}

// lostStory tells how record r was lost: how it was acknowledged, the
// removals (indexes into h.Removals) that took it, the faults and changes
// of its partition between (events in time order), and its absence after
// recovery.
func lostStory(h *history.Run, r *history.Record, removals []int, between []history.Event) []string {
	var lines []timed
	for _, i := range removals {
		rm := h.Removals[i]
		lines = append(lines, timed{rm.At, 1, fmt.Sprintf("at %s broker %d %s offsets %d-%d (%s)", at(rm.At), rm.Broker, rm.Verb, rm.From, rm.To, rm.Why)})
	}
	// Faults, ISR changes and elections of this partition between the
	// ack and the last removal.
	for _, ev := range between {
		switch {
		case ev.Kind.PartitionChange():
			if ev.TP != int(r.TP) {
				continue
			}
		case ev.Kind.Fault():
		default:
			continue
		}
		lines = append(lines, timed{ev.At, 0, fmt.Sprintf("at %s %s", at(ev.At), ev.Text)})
	}
	slices.SortStableFunc(lines, func(a, b timed) int {
		if a.t != b.t {
			return cmpTime(a.t, b.t)
		}
		return a.order - b.order
	})
	p := h.Partitions[r.TP]
	final := fmt.Sprintf("after recovery it is not in the committed log of %s (leader broker %d, HW %d)", h.TPName(int(r.TP)), p.Leader, p.HW)
	if p.Leader < 0 {
		final = fmt.Sprintf("after recovery %s has no leader: offline", h.TPName(int(r.TP)))
	} else if len(removals) == 0 {
		final = fmt.Sprintf("it never reached broker %d, which leads %s after recovery; ", p.Leader, h.TPName(int(r.TP))) + final
	}
	full := []string{ackLine(h, r)}
	for _, l := range lines {
		full = append(full, l.s)
	}
	full = append(dedupe(full), final)
	return full
}

type timed struct {
	t     sim.Time
	order int // events before removals at the same instant
	s     string
}

func cmpTime(a, b sim.Time) int {
	if a < b {
		return -1
	}
	return 1
}

func dedupe(s []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func explainDuplicates(h *history.Run, ix *committedIndex, dups []history.RecordID) []Explanation {
	if len(dups) == 0 {
		return nil
	}
	type group struct {
		ids   []history.RecordID
		story []string
		tp    int
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, id := range dups {
		r := &h.Records[id-1]
		var story []string
		switch {
		case r.Sends > 1:
			story = append(story, fmt.Sprintf("the application sent the record %d times (after send() failed, or again after a producer restart); the earlier copy had been written (idempotence cannot help: each send is a new record)", r.Sends))
		default:
			story = append(story, fmt.Sprintf("the producer sent it in %d requests: a request whose response was lost or late timed out, and the retry appended it again (no idempotence, or a new producer id)", r.Attempts))
		}
		if why, ok := h.Why[id]; ok {
			story = append(story, "producer: "+why)
		}
		key := strings.Join(story, "|")
		g := byKey[key]
		if g == nil {
			g = &group{story: story, tp: int(r.TP)}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.ids = append(g.ids, id)
	}
	var out []Explanation
	for _, g := range groups {
		locs := ix.locs(g.ids[0])
		var offs []string
		for _, l := range locs {
			offs = append(offs, fmt.Sprint(l.off))
		}
		story := append([]string{fmt.Sprintf("%d record(s) appear more than once in %s (the first at offsets %s)", len(g.ids), h.TPName(g.tp), strings.Join(offs, " and "))}, g.story...)
		out = append(out, Explanation{Anomaly: "duplicate", Partition: h.TPName(g.tp), Count: len(g.ids), Records: rangeName(h, g.ids), Story: story})
	}
	return out
}

func explainConsumer(h *history.Run, v *Verdict) []Explanation {
	var events []string
	for _, ev := range h.Events {
		switch ev.Kind {
		case history.ConsumerCrash, history.ConsumerRestart, history.Group, history.OffsetReset:
			events = append(events, fmt.Sprintf("at %s %s", at(ev.At), ev.Text))
		}
	}
	var out []Explanation
	if lost := ConsumerLost(h); len(lost) > 0 {
		first := lost[0]
		story := []string{fmt.Sprintf("%d record(s) below the group's committed offset were never processed (the first: %s at offset %d of %s)",
			len(lost), recName(h, first.id), first.off, h.TPName(first.tp))}
		// The commit that first moved past it, and whether its member had
		// processed it by then.
		for _, c := range h.Commits {
			if c.TP == first.tp && c.Offset > first.off {
				story = append(story, fmt.Sprintf("at %s member %d committed offset %d of %s, past it, though no member had processed it (auto-commit, or a commit before processing, commits what poll returned)",
					at(c.At), c.Member, c.Offset, h.TPName(c.TP)))
				break
			}
		}
		ids := make([]history.RecordID, len(lost))
		for i, l := range lost {
			ids[i] = l.id
		}
		out = append(out, Explanation{Anomaly: "consumer-loss", Partition: h.TPName(first.tp), Count: len(lost), Records: rangeName(h, ids),
			Story: append(story, events...)})
	}
	if v.Anomalies.ConsumerDuplicate > 0 {
		first := map[history.RecordID]history.Processed{}
		var again []history.Processed
		var ids []history.RecordID
		for _, p := range h.Processed {
			if _, ok := first[p.ID]; ok {
				again = append(again, p)
				ids = append(ids, p.ID)
				continue
			}
			first[p.ID] = p
		}
		var story []string
		if len(again) > 0 {
			a := again[0]
			f := first[a.ID]
			committed := int64(-1)
			for _, c := range h.Commits {
				if c.TP == a.TP && c.At <= a.At && c.Offset > committed {
					committed = c.Offset
				}
			}
			story = append(story, fmt.Sprintf("%s (offset %d of %s) was processed by member %d at %s and again by member %d at %s: the group's committed offset was still %d when processing resumed, so everything processed after that commit was handed over again",
				recName(h, a.ID), a.Offset, h.TPName(a.TP), f.Member, at(f.At), a.Member, at(a.At), committed))
		}
		slices.Sort(ids)
		if h.OutputFrom > 0 {
			story = append(story, "in a consume-transform-produce application processing again is how exactly-once recovers (the outputs of the first processing were aborted, or belong to an instance the group fenced); what counts is eos_duplicate, the outputs a read_committed reader sees twice")
		}
		out = append(out, Explanation{Anomaly: "consumer-duplicate", Count: v.Anomalies.ConsumerDuplicate, Records: rangeName(h, slices.Compact(ids)),
			Story: append(story, events...)})
	}
	return out
}

// explainReorders tells, per producer and partition, which records landed
// after ones their producer sent later, and why: a request retried after
// later ones were appended.
func explainReorders(h *history.Run, ids []history.RecordID) []Explanation {
	type key struct {
		producer int16
		tp       int32
	}
	groups := map[key][]history.RecordID{}
	var order []key
	for _, id := range ids {
		r := &h.Records[id-1]
		k := key{r.Producer, r.TP}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], id)
	}
	var out []Explanation
	for _, k := range order {
		g := groups[k]
		r := &h.Records[g[0]-1]
		story := []string{fmt.Sprintf("%d record(s) sit in %s after records their producer sent later (the first: %s, sent at %s)", len(g), h.TPName(int(k.tp)), recName(h, g[0]), at(r.Sent))}
		if r.Attempts > 1 {
			story = append(story, fmt.Sprintf("it took %d produce requests: the first failed or timed out, and requests sent after it (max.in.flight.requests.per.connection > 1 without idempotence) were appended before the retry", r.Attempts))
		} else {
			story = append(story, "a retried request carrying later records was appended first, or a truncation removed the first copy of an earlier batch and its retry landed later")
		}
		if why, ok := h.Why[g[0]]; ok {
			story = append(story, "producer: "+why)
		}
		slices.Sort(g)
		out = append(out, Explanation{Anomaly: "reorder", Partition: h.TPName(int(k.tp)), Count: len(g), Records: rangeName(h, g), Story: story})
	}
	return out
}
