package reports

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"acksim/scenarios/risk"
)

// RiskCell is one cell of a risk estimate as risk.json and risk.csv give
// it: rates per year with 95% intervals, P(loss within a year), nines, the
// fault-free latency and the attribution.
type RiskCell struct {
	Cell       int               `json:"cell"`
	Settings   string            `json:"settings"`
	Values     map[string]string `json:"values"`
	LossEvents float64           `json:"loss_events_per_year"`
	Lo95       float64           `json:"loss_events_per_year_lo95"`
	Hi95       float64           `json:"loss_events_per_year_hi95"`
	Records    float64           `json:"records_lost_per_year"`
	PYear      float64           `json:"p_loss_within_a_year"`
	Nines      *float64          `json:"nines"` // from the point estimate; null: no loss seen
	// NinesAtLeast is -log10 P(loss in a year) at the interval's upper
	// bound: what the trials show for sure.
	NinesAtLeast   float64            `json:"nines_at_least"`
	WithinTarget   bool               `json:"within_target_error"`
	Truncated      float64            `json:"left_out_patterns_per_year"`
	Trials         int                `json:"trials"`
	FaultFreeP50   float64            `json:"fault_free_p50_ms"`
	FaultFreeP99   float64            `json:"fault_free_p99_ms"`
	FaultFreeP999  float64            `json:"fault_free_p999_ms"`
	Attribution    []risk.Attribution `json:"attribution"`
	PatternsTrials []RiskPattern      `json:"patterns"`
}

// RiskPattern is one pattern's figures.
type RiskPattern struct {
	Pattern string  `json:"pattern"`
	Rate    float64 `json:"per_year"`
	Trials  int     `json:"trials"`
	Losses  int     `json:"losing_trials"`
}

// RiskCells turns estimates into report values.
func RiskCells(s *risk.Spec, ests []risk.Estimate) []RiskCell {
	axes := s.Axes()
	out := make([]RiskCell, len(ests))
	for i, e := range ests {
		rc := RiskCell{Cell: e.Cell.Index, Settings: e.Cell.String(), Values: map[string]string{}, LossEvents: e.LossRate, Lo95: e.Lo95, Hi95: e.Hi95,
			Records: e.RecordsPerYear, PYear: e.PYear, WithinTarget: e.Done(s.TargetError), Truncated: e.Truncated, Trials: e.Trials,
			FaultFreeP50: e.P50, FaultFreeP99: e.P99, FaultFreeP999: e.P999, Attribution: e.Attribution()}
		if n := e.Nines(); !math.IsInf(n, 1) {
			rc.Nines = &n
		}
		rc.NinesAtLeast = -math.Log10(-math.Expm1(-e.Hi95))
		if rc.Attribution == nil {
			rc.Attribution = []risk.Attribution{}
		}
		for _, a := range axes {
			if v := e.Cell.Value(a); v != "" {
				rc.Values[a] = v
			}
		}
		for _, p := range e.Patterns {
			rc.PatternsTrials = append(rc.PatternsTrials, RiskPattern{p.String(), p.Rate, p.Trials, p.Losses})
		}
		out[i] = rc
	}
	return out
}

// RiskJSON renders risk.json: the spec's name, the failure model and the
// cells.
func RiskJSON(s *risk.Spec, cells []RiskCell) []byte {
	type failure struct {
		Kind    string  `json:"kind"`
		Per     string  `json:"per"`
		PerYear float64 `json:"per_year"`
		For     string  `json:"for"`
		Source  string  `json:"source"`
	}
	var fs []failure
	for _, f := range s.FailureModel() {
		fs = append(fs, failure{f.Name, f.Per, f.Default.PerYear, f.Default.For, f.Source})
	}
	b, _ := json.MarshalIndent(struct {
		Schema   int        `json:"schema"`
		Name     string     `json:"name"`
		Seed     string     `json:"seed"`
		Window   string     `json:"window"`
		Target   float64    `json:"target_error"`
		Failures []failure  `json:"failures"`
		Cells    []RiskCell `json:"cells"`
	}{1, s.Name, fmt.Sprint(s.Seed), s.WindowDuration().String(), s.TargetError, fs, cells}, "", "  ")
	return append(b, '\n')
}

// RiskCSV renders risk.csv: a row per cell, a column per grid axis.
func RiskCSV(axes []string, cells []RiskCell) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(append(append([]string{"cell"}, axes...), "settings", "loss_events_per_year", "loss_events_per_year_lo95", "loss_events_per_year_hi95",
		"records_lost_per_year", "p_loss_within_a_year", "within_target_error", "trials", "fault_free_p50_ms", "fault_free_p99_ms", "fault_free_p999_ms", "top_pattern", "top_share"))
	for _, c := range cells {
		row := []string{fmt.Sprint(c.Cell)}
		for _, a := range axes {
			row = append(row, c.Values[a])
		}
		top, share := "", ""
		if len(c.Attribution) > 0 {
			top, share = c.Attribution[0].Pattern, f4(c.Attribution[0].Share)
		}
		w.Write(append(row, c.Settings, g3(c.LossEvents), g3(c.Lo95), g3(c.Hi95), g3(c.Records), g3(c.PYear), fmt.Sprint(c.WithinTarget), fmt.Sprint(c.Trials),
			f2(c.FaultFreeP50), f2(c.FaultFreeP99), f2(c.FaultFreeP999), top, share))
	}
	w.Flush()
	return b.Bytes()
}

func g3(x float64) string { return fmt.Sprintf("%.3g", x) }

// RiskMarkdown renders report.md: the table, the attribution of every
// lossy cell, and the method.
func RiskMarkdown(s *risk.Spec, cells []RiskCell, charts []Chart) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# acksim risk: %s\n\n", mdEscape(s.Name))
	b.WriteString("Acknowledged data lost per year on the failure rates below (a 3-broker cluster's own). ")
	b.WriteString("Loss events per year with a 95% interval; P(loss within a year) = 1 - exp(-rate); latency from a run without failures.\n\n")
	b.WriteString("| # | settings | loss events / year | 95% interval | records lost / year | P(loss in a year) | nines, at least | fault-free p50 / p99 ms | mostly from |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range cells {
		nines := fmt.Sprintf("%.1f", c.NinesAtLeast)
		iv := fmt.Sprintf("%s – %s", g3(c.Lo95), g3(c.Hi95))
		if !c.WithinTarget {
			iv += " (wide)"
		}
		top := "—"
		if len(c.Attribution) > 0 {
			top = fmt.Sprintf("%s (%.0f%%)", c.Attribution[0].Pattern, 100*c.Attribution[0].Share)
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s | %.1f / %.1f | %s |\n", c.Cell, mdEscape(c.Settings), g3(c.LossEvents), iv, g3(c.Records), g3(c.PYear), nines,
			c.FaultFreeP50, c.FaultFreeP99, top)
	}
	b.WriteString("\n\"(wide)\": the interval is wider than the target error; raise `budget`. A cell that lost nothing in every trial gets its upper bound from the trials it had. \"nines, at least\" is -log10 P(loss in a year) at the interval's upper bound: what the trials show.\n")
	if len(charts) > 0 {
		b.WriteString("\n## Charts\n\n")
		for _, c := range charts {
			fmt.Fprintf(&b, "![%s](charts/%s.svg)\n\n%s\n\n", c.Title, c.Name, c.Caption)
		}
	}
	b.WriteString("\n## Which failures are to blame\n\n")
	for _, c := range cells {
		if len(c.Attribution) == 0 {
			continue
		}
		var parts []string
		for i, a := range c.Attribution {
			if i == 4 || a.Share < 0.01 {
				break
			}
			parts = append(parts, fmt.Sprintf("%.0f%% %s", 100*a.Share, a.Pattern))
		}
		fmt.Fprintf(&b, "- %s: %s\n", mdEscape(c.Settings), strings.Join(parts, "; "))
	}
	b.WriteString("\n## Failure model\n\n| failure | per | per year | lasts | source |\n|---|---|---|---|---|\n")
	for _, f := range s.FailureModel() {
		fmt.Fprintf(&b, "| %s | %s | %g | %s | %s |\n", f.Name, f.Per, f.Default.PerYear, f.Default.For, mdEscape(f.Source))
	}
	fmt.Fprintf(&b, "\n## Method\n\nPatterns: each failure alone, and each ordered pair within %s (rate λa·λb·window). ", s.WindowDuration())
	b.WriteString("Each pattern's P(loss) is estimated by simulation with the pattern at a random position in the workload, random targets and random timing; ")
	fmt.Fprintf(&b, "%d pilot trials each, then trials go where they shrink the variance of the total most, until the 95%% interval is within ±%.0f%% or %d trials a cell are spent. ", s.Pilot, 100*s.TargetError, s.Budget)
	fmt.Fprintf(&b, "The interval is the normal approximation of a sum of independent binomial estimates (variances Laplace-smoothed). Outages are simulated at most %s long. ", risk.MaxOutage)
	b.WriteString("Patterns of three or more failures within the window are left out; their rate (at most the loss events they could add) is in risk.json as left_out_patterns_per_year.\n")
	return []byte(b.String())
}
