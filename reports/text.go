// Package reports turns results into text, tables and charts. It builds
// values (strings, byte slices); the command line decides where they go.
package reports

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"acksim/history"
	"acksim/scenarios"
	"acksim/sim"
)

func ms(v float64) string {
	d := sim.Duration(v * float64(sim.Millisecond))
	return round(d, roundFor(d)).String()
}

func roundFor(d sim.Duration) sim.Duration {
	switch {
	case d >= sim.Second:
		return sim.Millisecond
	case d >= sim.Millisecond:
		return 10 * sim.Microsecond
	}
	return sim.Microsecond
}

// Round rounds d to a multiple of m.
func round(d, m sim.Duration) sim.Duration { return (d + m/2) / m * m }

// Verdict renders a run's verdict in plain words: what happened, what was
// acknowledged, what was lost and why, and the command that replays it.
func Verdict(res *scenarios.Result, replay string) string {
	s, v := res.Scenario, res.Verdict
	var b strings.Builder
	title := s.Title
	if title == "" {
		title = s.Name
	}
	fmt.Fprintf(&b, "%s: %s\n", s.Name, title)
	rec := "no recovery phase"
	if s.Recovery {
		rec = "then recovery"
		if v.Converged {
			rec += fmt.Sprintf(" (converged, run ended at %s)", ms(v.SimulatedMs))
		} else {
			rec += fmt.Sprintf(" (DID NOT converge within %s)", s.RecoveryTimeout)
		}
	}
	fmt.Fprintf(&b, "kafka %s, seed %d, %s simulated, %s; %d events, trace %s\n", v.Kafka, v.Seed, s.Duration, rec, v.Steps, v.TraceHash)
	if len(v.Rules) > 0 {
		fmt.Fprintf(&b, "rules: %s\n", strings.Join(v.Rules, ", "))
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	if len(res.Fired) > 0 {
		b.WriteString("\nfaults\n")
		for _, f := range res.Fired {
			mark := ""
			if f.Skipped {
				mark = " (skipped)"
			}
			fmt.Fprintf(&b, "  %-12s %s%s\n", f.At.Short(), f.Text, mark)
		}
	}
	r := v.Records
	fmt.Fprintf(&b, "\nrecords     %d sent, %d acked, %d not written, %d unknown\n", r.Sent, r.Acked, r.NotWritten, r.Unknown)
	a := v.Anomalies
	if a.LostWrite > 0 {
		fmt.Fprintf(&b, "LOST        %d acknowledged record(s) are gone (lost-write)\n", a.LostWrite)
	} else if v.Stranded > 0 {
		fmt.Fprintf(&b, "lost        none: every acknowledged record is in the final log or still on a replica\n")
	} else {
		fmt.Fprintf(&b, "lost        none: every acknowledged record is in the final log\n")
	}
	if v.Stranded > 0 {
		fmt.Fprintf(&b, "stranded    %d acknowledged record(s) on a partition that ended offline, held by a replica that may not lead (not lost; see why)\n", v.Stranded)
	}
	if len(v.Gone) > 0 {
		fmt.Fprintf(&b, "gone        broker(s) %s never came back (a permanent fault); recovery settled on the rest\n", joinInts(v.Gone))
	}
	var other []string
	for _, x := range []struct {
		n    int
		name string
	}{{a.UnackedLost, "unacked-lost (never acked, informational)"}, {a.Duplicate, "duplicate"}, {a.Reorder, "reorder"},
		{a.ConsumerLoss, "consumer-loss"}, {a.ConsumerDuplicate, "consumer-duplicate"}, {a.Divergence, "divergence"},
		{a.InconsistentRead, "inconsistent-read"}} {
		if x.n > 0 {
			other = append(other, fmt.Sprintf("%d %s", x.n, x.name))
		}
	}
	if len(other) > 0 {
		fmt.Fprintf(&b, "anomalies   %s\n", strings.Join(other, ", "))
	}
	if tx := v.Transactions; tx != nil {
		fmt.Fprintf(&b, "transactions %d committed, %d aborted, %d unknown, %d open; %d aborted-read, %d torn; LSO stalled up to %s; %d producer instance(s) fenced\n",
			tx.Committed, tx.Aborted, tx.Unknown, tx.Open, tx.AbortedRead, tx.TornTransaction, ms(tx.LSOStallMs), tx.Fenced)
	}
	if e := v.ExactlyOnce; e != nil {
		fmt.Fprintf(&b, "exactly-once %d input record(s) committed past by the group: %d with a duplicated output, %d with none (eos_duplicate, eos_loss)\n",
			e.Inputs, e.Duplicate, e.Loss)
	}
	latencyOf := "send to ack"
	if v.Transactions != nil {
		latencyOf = "send to ack; a transaction's records are acknowledged by its commit"
	}
	fmt.Fprintf(&b, "latency     p50 %s, p99 %s, p99.9 %s (%s)\n", ms(v.LatencyMs.P50), ms(v.LatencyMs.P99), ms(v.LatencyMs.P999), latencyOf)
	fmt.Fprintf(&b, "unavailable %s (longest wait with no acknowledgement); offline %s (no live leader, per the controller); acked data on no disk for %s\n", ms(v.UnavailableMs), ms(v.OfflineMs), ms(v.AtRiskMs))
	if v.UnderMinISRMs > 0 {
		fmt.Fprintf(&b, "under min ISR %s (longest per partition)\n", ms(v.UnderMinISRMs))
	}
	if len(v.ProduceErrors) > 0 {
		var errs []string
		for _, k := range slices.Sorted(maps.Keys(v.ProduceErrors)) {
			errs = append(errs, fmt.Sprintf("%s %d", k, v.ProduceErrors[k]))
		}
		fmt.Fprintf(&b, "errors      %s (produce responses and client-side failures)\n", strings.Join(errs, ", "))
	}
	if len(v.Explanations) > 0 {
		b.WriteString("\nwhy\n")
		for _, e := range v.Explanations {
			fmt.Fprintf(&b, "  %s: %d record(s) %s", e.Anomaly, e.Count, e.Records)
			if e.Partition != "" {
				fmt.Fprintf(&b, " on %s", e.Partition)
			}
			b.WriteString("\n")
			for _, line := range e.Story {
				fmt.Fprintf(&b, "    - %s\n", line)
			}
		}
	}
	if len(s.Expect) > 0 {
		b.WriteString("\nexpectations\n")
		for _, e := range s.Expect {
			got, _ := v.Get(e.Field)
			status := "ok"
			if !e.Holds(got) {
				status = "FAILED"
			}
			fmt.Fprintf(&b, "  %-6s %s (got %g)\n", status, e, got)
		}
	}
	fmt.Fprintf(&b, "\nreplay: %s\n", replay)
	return b.String()
}

// Timeline lists the run's model events in time order, with a row where
// records later lost were acknowledged (event "acked": one row for each
// burst of them). With around > 0 it keeps what explains the losses: the
// events within around of those acknowledgements and of the removals that
// took the records, and, between the first such acknowledgement and the
// last such removal, every fault and leadership change, however far
// apart (the 9 s between a crash and the election that truncates are the
// story). A run that lost nothing keeps the events near any removal.
func Timeline(h *history.Run, lost []history.RecordID, around sim.Duration) string {
	type row struct {
		at          sim.Time
		broker, ev  string
		text        string
		ackRowOrder int // acked rows sort after the events at the same instant
	}
	bursts := lostAckBursts(h, lost, max(around, sim.Second))
	isLost := make(map[history.RecordID]bool, len(lost))
	for _, id := range lost {
		isLost[id] = true
	}
	type span struct{ from, to sim.Time }
	var near []span
	chainFrom, chainTo := sim.Time(-1), sim.Time(-1)
	for _, bu := range bursts {
		near = append(near, span{bu.first.Add(-around), bu.last.Add(around)})
		if chainFrom < 0 || bu.first < chainFrom {
			chainFrom = bu.first
		}
	}
	for _, rm := range h.Removals {
		if len(lost) > 0 && !removesAny(rm, isLost) {
			continue
		}
		near = append(near, span{rm.At.Add(-around), rm.At.Add(around)})
		if len(lost) > 0 {
			chainTo = max(chainTo, rm.At)
		}
	}
	keep := func(e history.Event) bool {
		if around <= 0 {
			return true
		}
		if chainFrom >= 0 && e.At >= chainFrom && e.At <= chainTo && (e.Kind.Fault() || e.Kind.Down() || e.Kind.PartitionChange()) {
			return true
		}
		for _, sp := range near {
			if e.At >= sp.from && e.At <= sp.to {
				return true
			}
		}
		return false
	}
	var rows []row
	for _, e := range h.Events {
		if !keep(e) {
			continue
		}
		br := "-"
		if e.Broker > 0 {
			br = fmt.Sprint(e.Broker)
		}
		rows = append(rows, row{at: e.At, broker: br, ev: e.Kind.String(), text: e.Text})
	}
	for _, bu := range bursts {
		between := ""
		if bu.last > bu.first {
			between = " between " + bu.first.Short() + " and " + bu.last.Short()
		}
		rows = append(rows, row{at: bu.first, broker: bu.brokers, ev: "acked", ackRowOrder: 1,
			text: fmt.Sprintf("%d record(s) later lost acknowledged to the producer%s (%s)", bu.n, between, bu.how)})
	}
	slices.SortStableFunc(rows, func(a, b row) int {
		if a.at != b.at {
			return cmp.Compare(a.at, b.at)
		}
		return a.ackRowOrder - b.ackRowOrder
	})
	var b strings.Builder
	fmt.Fprintf(&b, "%-14s %-6s %-16s %s\n", "TIME", "BROKER", "EVENT", "WHAT")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-14s %-6s %-16s %s\n", r.at.Short(), r.broker, r.ev, r.text)
	}
	return b.String()
}

// ackBurst is lost records acknowledged close together.
type ackBurst struct {
	first, last sim.Time
	n           int
	brokers     string // the acknowledging leaders
	how         string
}

// lostAckBursts groups the acknowledgements of lost records: times less
// than gap apart are one burst.
func lostAckBursts(h *history.Run, lost []history.RecordID, gap sim.Duration) []ackBurst {
	type ack struct {
		at   sim.Time
		site *history.AckSite
	}
	var acks []ack
	for _, id := range lost {
		r := &h.Records[id-1]
		a := h.AckOf(r)
		at := r.Done // acks=0: acknowledged when sent, never appended
		if a != nil {
			at = a.At
		}
		acks = append(acks, ack{at, a})
	}
	slices.SortStableFunc(acks, func(a, b ack) int { return cmp.Compare(a.at, b.at) })
	var out []ackBurst
	var brokers map[int]bool
	var epochs map[int32]bool
	flush := func() {
		bu := &out[len(out)-1]
		ids := slices.Sorted(maps.Keys(brokers))
		bu.brokers = "-"
		if len(ids) > 0 {
			bu.brokers = joinInts(ids)
		}
		switch {
		case len(ids) == 0:
			bu.how = "acks=0, never appended"
		default:
			es := slices.Sorted(maps.Keys(epochs))
			var ss []string
			for _, e := range es {
				ss = append(ss, fmt.Sprint(e))
			}
			epoch := "epoch"
			if h.Design == "raft" {
				epoch = "term"
			}
			bu.how = fmt.Sprintf("by leader broker %s in %s %s", joinInts(ids), epoch, strings.Join(ss, ", "))
		}
	}
	for _, a := range acks {
		if len(out) == 0 || a.at.Sub(out[len(out)-1].last) > gap {
			if len(out) > 0 {
				flush()
			}
			out = append(out, ackBurst{first: a.at})
			brokers, epochs = map[int]bool{}, map[int32]bool{}
		}
		bu := &out[len(out)-1]
		bu.last = a.at
		bu.n++
		if a.site != nil && a.site.Broker >= 0 {
			brokers[int(a.site.Broker)] = true
			epochs[a.site.Epoch] = true
		}
	}
	if len(out) > 0 {
		flush()
	}
	return out
}

func joinInts(ids []int) string {
	var s []string
	for _, id := range ids {
		s = append(s, fmt.Sprint(id))
	}
	return strings.Join(s, ", ")
}
