// Package reports turns results into text, tables and charts. It builds
// values (strings, byte slices); the command line decides where they go.
package reports

import (
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
	fmt.Fprintf(&b, "latency     p50 %s, p99 %s, p99.9 %s (send to ack)\n", ms(v.LatencyMs.P50), ms(v.LatencyMs.P99), ms(v.LatencyMs.P999))
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

// Timeline renders the model's history one event per line. Columns: time
// since start, broker (- when none), event kind, what happened. With
// around > 0, only events within that distance of a lost record's removal
// or acknowledgement are shown.
func Timeline(h *history.Run, around sim.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-14s %-6s %-16s %s\n", "TIME", "BROKER", "EVENT", "WHAT")
	var marks []sim.Time
	if around > 0 {
		for _, rm := range h.Removals {
			marks = append(marks, rm.At)
		}
	}
	near := func(t sim.Time) bool {
		if around <= 0 {
			return true
		}
		for _, m := range marks {
			if t >= m.Add(-around) && t <= m.Add(around) {
				return true
			}
		}
		return false
	}
	for _, e := range h.Events {
		if !near(e.At) {
			continue
		}
		br := "-"
		if e.Broker > 0 {
			br = fmt.Sprint(e.Broker)
		}
		fmt.Fprintf(&b, "%-14s %-6s %-16s %s\n", e.At.Short(), br, e.Kind, e.Text)
	}
	return b.String()
}

func joinInts(ids []int) string {
	var s []string
	for _, id := range ids {
		s = append(s, fmt.Sprint(id))
	}
	return strings.Join(s, ", ")
}
