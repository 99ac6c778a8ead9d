package reports

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"

	"acksim/scenarios/sweep"
)

// TrialsJSONL renders one JSON object per trial.
func TrialsJSONL(ts []sweep.Trial) []byte {
	var b bytes.Buffer
	for _, t := range ts {
		j, _ := json.Marshal(t)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// SummaryCSV renders the per-cell summary as CSV.
// The columns are the cell, one column per grid axis (named after it, so a
// data frame needs no string parsing), the settings string, and the
// figures under the names summary.json uses.
func SummaryCSV(axes []string, sums []sweep.Summary) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	head := append(append([]string{"cell"}, axes...), "settings", "trials", "trials_with_lost_write", "p_lost_write", "p_lost_write_lo95", "p_lost_write_hi95",
		"mean_lost_records", "max_lost_records", "trials_with_duplicate", "trials_with_consumer_loss", "mean_unavailable_ms", "median_p50_ms", "median_p99_ms",
		"fault_free_p50_ms", "fault_free_p99_ms", "pooled_p50_ms", "pooled_p99_ms", "trials_with_txn_anomaly")
	w.Write(head)
	for _, s := range sums {
		row := []string{fmt.Sprint(s.Cell)}
		for _, a := range axes {
			row = append(row, s.Values[a])
		}
		w.Write(append(row, s.Settings, fmt.Sprint(s.Trials), fmt.Sprint(s.LossTrials),
			f4(s.PLoss), f4(s.Lo95), f4(s.Hi95), f2(s.MeanLost), fmt.Sprint(s.MaxLost), fmt.Sprint(s.DupTrials), fmt.Sprint(s.ConsumerLossTrials),
			f2(s.MeanUnavailMs), f2(s.P50Ms), f2(s.P99Ms), f2(s.FaultFreeP50Ms), f2(s.FaultFreeP99Ms), f2(s.PooledP50Ms), f2(s.PooledP99Ms),
			fmt.Sprint(s.TxnAnomalyTrials)))
	}
	w.Flush()
	return b.Bytes()
}

// SummaryMeta identifies the sweep a summary.json describes, so that a
// reader (or a merge) can tell results of different sweeps or bases apart.
type SummaryMeta struct {
	Schema int    `json:"schema"` // 2: this layout (1 was the bare list of cells)
	Acksim string `json:"acksim"` // the version that wrote it
	Sweep  string `json:"sweep"`
	// SpecSHA256 is the hash of the spec.yaml saved with the results (which
	// itself holds the base scenario's hash).
	SpecSHA256 string `json:"spec_sha256"`
	Base       string `json:"base"`
	BaseSHA256 string `json:"base_sha256"`
	// Seed is a string: 64-bit seeds lose digits as JSON numbers in jq and
	// JavaScript.
	Seed          string `json:"seed"`
	TrialsPerCell int    `json:"trials_per_cell"`
}

// SummaryJSON renders the per-cell summary as JSON, under its metadata.
func SummaryJSON(meta SummaryMeta, sums []sweep.Summary) []byte {
	b, _ := json.MarshalIndent(struct {
		SummaryMeta
		Cells []sweep.Summary `json:"cells"`
	}{meta, sums}, "", "  ")
	return append(b, '\n')
}

func f4(x float64) string { return fmt.Sprintf("%.4f", x) }
func f2(x float64) string { return fmt.Sprintf("%.2f", x) }

// SweepMarkdown renders the report: one row per cell, the loss probability
// with its 95% interval, and the paired comparison.
func SweepMarkdown(name string, trials int, sums []sweep.Summary, paired []string, losing map[int][]int, byKind map[int][]sweep.KindStat, charts []Chart) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# acksim sweep: %s\n\n%d trials per cell; every cell faced the same fault schedules.\n\n", mdEscape(name), trials)
	b.WriteString("| settings | P(lost write) | 95% interval | mean lost | max lost | dup trials | p50 ms | p99 ms | pooled p99 ms | fault-free p99 ms |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range sums {
		interval := fmt.Sprintf("%.3f–%.3f", s.Lo95, s.Hi95)
		if s.LossTrials == 0 {
			interval = fmt.Sprintf("≤ %.3f (one-sided)", s.Hi95)
		}
		fmt.Fprintf(&b, "| %s | %.3f (%d/%d) | %s | %.1f | %d | %d | %.1f | %.1f | %.1f | %.1f |\n", mdEscape(s.Settings), s.PLoss, s.LossTrials, s.Trials, interval, s.MeanLost, s.MaxLost, s.DupTrials, s.P50Ms, s.P99Ms, s.PooledP99Ms, s.FaultFreeP99Ms)
	}
	if len(charts) > 0 {
		b.WriteString("\n## Charts\n\n")
		for _, c := range charts {
			fmt.Fprintf(&b, "![%s](charts/%s.svg)\n\n%s\n\n", c.Title, c.Name, c.Caption)
		}
	}
	if len(losing) > 0 {
		b.WriteString("\n## Losing trials (replay with --export CELL:TRIAL)\n\n")
		for _, s := range sums {
			if ts := losing[s.Cell]; len(ts) > 0 {
				var ids []string
				for _, t := range ts {
					ids = append(ids, fmt.Sprintf("`%d:%d`", s.Cell, t))
				}
				fmt.Fprintf(&b, "- %s: %s\n", mdEscape(s.Settings), strings.Join(ids, " "))
			}
		}
	}
	var txn []string
	for _, s := range sums {
		if s.TxnAnomalyTrials > 0 {
			txn = append(txn, fmt.Sprintf("- %s: %d of %d trials had an aborted read, a torn transaction or an exactly-once anomaly (eos_duplicate, eos_loss)\n", mdEscape(s.Settings), s.TxnAnomalyTrials, s.Trials))
		}
	}
	if len(txn) > 0 {
		b.WriteString("\n## Transaction anomalies\n\n")
		b.WriteString(strings.Join(txn, ""))
	}
	if why := lossByKind(sums, byKind); why != "" {
		b.WriteString("\n## Which faults the losing trials held\n\n")
		b.WriteString(why)
	}
	if len(paired) > 0 {
		b.WriteString("\n## Paired comparison\n\n")
		for _, p := range paired {
			fmt.Fprintf(&b, "- %s\n", mdEscape(p))
		}
	}
	b.WriteString("\nReplay any trial as a scenario file: `acksim sweep SPEC --export CELL:TRIAL` writes it; `acksim run` it for the explanation.\n")
	return b.String()
}

// mdEscape makes text that came from a user (a sweep's name, grid values)
// inert in Markdown and in the HTML a Markdown viewer makes of it: no table
// breaks, no links, no emphasis, no tags.
func mdEscape(s string) string {
	var b strings.Builder
	prev := rune(0)
	for _, r := range s {
		switch {
		case r == '\\' || r == '|' || r == '*' || r == '_' || r == '`' || r == '#' || r == '!' || r == '(' && prev == ']':
			// Brackets alone are plain text; "](" would make a link.
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case r == '\n' || r == '\r':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
		prev = r
	}
	return b.String()
}

// lossByKind says, per lossy cell, which fault kinds its losing trials held
// and the loss probability given each kind ("9 of 9 losing trials held a
// cluster-power-loss; P(loss | cluster-power-loss) = 9/11").
func lossByKind(sums []sweep.Summary, byKind map[int][]sweep.KindStat) string {
	var b strings.Builder
	for _, s := range sums {
		if s.LossTrials == 0 || len(byKind[s.Cell]) == 0 {
			continue
		}
		var held, given []string
		for _, k := range byKind[s.Cell] {
			if k.Lossy > 0 {
				held = append(held, fmt.Sprintf("%s %d", k.Kind, k.Lossy))
			}
			given = append(given, fmt.Sprintf("%s %d/%d", k.Kind, k.Lossy, k.Trials))
		}
		fmt.Fprintf(&b, "- %s: of %d losing trials, held %s; P(loss | kind): %s\n", mdEscape(s.Settings), s.LossTrials, strings.Join(held, ", "), strings.Join(given, ", "))
	}
	return b.String()
}
