package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"acksim/reports"
	"acksim/scenarios"
	"acksim/scenarios/risk"

	"github.com/spf13/cobra"
)

func newRisk() *cobra.Command {
	var out string
	var workers int
	var asJSON, quiet bool
	var seed uint64
	cmd := &cobra.Command{
		Use:   "risk [SPEC]",
		Short: "Estimate acknowledged data lost per year on real failure rates, and which failure is to blame",
		Long: `Estimate, for every cell of a grid (the sweep's syntax: base, set, grid), how often
acknowledged data is lost in a year on real failure rates: loss events per year with a
95% interval, records lost per year, P(at least one loss in a year), nines, the produce
latency without failures, and the failures to blame.

Loss events are far too rare at real rates for direct Monte Carlo, so acksim conditions
on fault patterns (each failure alone, each ordered pair within the window), estimates
each pattern's P(loss) by simulation, spends trials where they shrink the interval most,
and weighs the patterns by their Poisson rates. The failure model's defaults come from
published field data (Dean's LADIS 2009 list, Backblaze drive stats) or are labelled
assumptions; override them in the spec:

  failures:
    power-loss: {per_year: 0.2, for: 2h}
    pause: {per_year: 0}          # leave a kind out
  window: 30s                     # two failures this close interact
  target_error: 0.3               # aim for a 95% interval within ±30%
  pilot: 8                        # trials per pattern first
  budget: 700                     # then at most this many trials per cell

With no SPEC, the default grid: acks × min.insync.replicas × flush next to Raft and
RocketMQ. Writes report.md, risk.json, risk.csv and charts/ (loss events per year per
cell on a log scale, against fault-free p99 latency, and the attribution) to --out.

Exit codes: 0 done, 2 bad input, 3 a broken model invariant (a bug in acksim).`,
		Example: `  acksim risk --out risk
  acksim risk my-risk.yaml --out results --workers 2`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw := risk.DefaultSource()
			name := "default risk spec"
			if len(args) == 1 {
				b, rerr := os.ReadFile(args[0])
				if rerr != nil {
					return &scenarios.Error{File: args[0], Allowed: "cannot be read: " + rerr.Error()}
				}
				raw, name = b, args[0]
			}
			spec, err := risk.Parse(name, raw)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("seed") {
				spec.Seed = seed
			}
			if workers < 1 || workers > 1024 {
				return &scenarios.Error{File: "--workers", Value: fmt.Sprint(workers), Allowed: "from 1 to 1024"}
			}
			if err := spec.Check(); err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return &exitError{exitBadInput, fmt.Sprintf("--out %s: %v", out, err)}
			}
			start := time.Now()
			progOut := cmd.ErrOrStderr()
			if quiet {
				progOut = io.Discard
			}
			prog := newProgress(progOut, 0)
			ests, err := risk.Run(spec, workers, prog.update)
			prog.finish(false)
			if err != nil {
				return err
			}
			cells := reports.RiskCells(spec, ests)
			charts, err := reports.RiskCharts(cells)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Join(out, "charts"), 0o755); err != nil {
				return &exitError{exitBadInput, fmt.Sprintf("--out %s: %v", out, err)}
			}
			for _, c := range charts {
				for ext, data := range map[string][]byte{"svg": c.SVG, "png": c.PNG} {
					if err := writeAtomic(filepath.Join(out, "charts", c.Name+"."+ext), data); err != nil {
						return &exitError{exitBadInput, fmt.Sprintf("--out %s: %v", out, err)}
					}
				}
			}
			md := reports.RiskMarkdown(spec, cells, charts)
			js := reports.RiskJSON(spec, cells)
			for _, f := range []struct {
				name string
				data []byte
			}{{"report.md", md}, {"risk.json", js}, {"risk.csv", reports.RiskCSV(spec.Axes(), cells)}} {
				if err := writeAtomic(filepath.Join(out, f.name), f.data); err != nil {
					return &exitError{exitBadInput, fmt.Sprintf("--out %s: %v", out, err)}
				}
			}
			w := cmd.OutOrStdout()
			switch {
			case asJSON:
				w.Write(js)
				return nil
			case quiet:
				return nil
			}
			w.Write(md)
			trials := 0
			for _, e := range ests {
				trials += e.Trials
			}
			fmt.Fprintf(w, "\n%d trials in %s (%d workers); written to %s/\n", trials, time.Since(start).Round(time.Millisecond), workers, out)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&out, "out", "risk", "directory for report.md, risk.json and risk.csv")
	fl.IntVar(&workers, "workers", runtime.NumCPU(), "trials run at once")
	fl.Uint64Var(&seed, "seed", 0, "the estimate's seed (default: the spec's)")
	fl.BoolVar(&asJSON, "json", false, "print risk.json instead of the report")
	fl.BoolVar(&quiet, "quiet", false, "print nothing but errors (no progress, no report); the files are written as usual")
	return cmd
}
