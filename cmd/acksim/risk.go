package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"acksim/reports"
	"acksim/scenarios"
	"acksim/scenarios/risk"

	"github.com/spf13/cobra"
)

func newRisk() *cobra.Command {
	var out string
	var workers int
	var asJSON, quiet, resume bool
	var shardFlag string
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

Cells stream to --out/estimates.partial.jsonl as they finish: Ctrl-C stops the run
(exit 130) and --resume runs only the cells not saved. --shard i/n estimates a
slice of the cells; acksim merge combines the slices into the files of one run.

Exit codes: 0 done, 2 bad input, 3 a broken model invariant (a bug in acksim), 130 interrupted.`,
		Example: `  acksim risk --out risk
  acksim risk my-risk.yaml --out results --workers 2
  acksim risk my-risk.yaml --shard 0/2 --out r0   # then: acksim merge --out results r0 r1`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, name, err := readSpec(args, risk.DefaultSource(), "default risk spec")
			if err != nil {
				return err
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
			shard, shards, err := parseShard(shardFlag, 0)
			if err != nil {
				return err
			}
			// spec.yaml is the spec as it runs (the --seed override baked
			// in): --resume and merge compare it byte for byte.
			specText := append(append([]byte{}, raw...), []byte(fmt.Sprintf("\n# acksim risk: seed %d\n", spec.Seed))...)
			if err := claimOutDir(out, riskFiles); err != nil {
				return err
			}
			partial := filepath.Join(out, "estimates.partial.jsonl")
			var prior []risk.Estimate
			if resume {
				saved, err := os.ReadFile(filepath.Join(out, "spec.yaml"))
				if err != nil || string(saved) != string(specText) {
					return &scenarios.Error{File: filepath.Join(out, "spec.yaml"), Allowed: "--resume continues the estimate saved in --out, which must have been run with the same spec and seed"}
				}
				prior, err = loadEstimates(partial, true)
				if err != nil {
					return err
				}
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return &exitError{exitBadInput, fmt.Sprintf("--out %s: %v", out, err)}
			}
			if err := writeAtomic(filepath.Join(out, "spec.yaml"), specText); err != nil {
				return &exitError{exitBadInput, fmt.Sprintf("--out %s: %v", out, err)}
			}
			if err := writeEstimates(partial, prior); err != nil {
				return &exitError{exitBadInput, fmt.Sprintf("--out %s: %v", out, err)}
			}
			pf, err := os.OpenFile(partial, os.O_WRONLY|os.O_APPEND, 0o644)
			if err != nil {
				return &exitError{exitBadInput, fmt.Sprintf("--out %s: %v", out, err)}
			}
			defer pf.Close()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			var writeErr error
			onCell := func(e risk.Estimate) {
				line, _ := json.Marshal(e)
				if _, err := pf.Write(append(line, '\n')); err != nil && writeErr == nil {
					writeErr = err
				}
			}
			start := time.Now()
			progOut := cmd.ErrOrStderr()
			if quiet {
				progOut = io.Discard
			}
			prog := newProgress(progOut, 0)
			prog.label = "risk (at most)"
			ests, err := risk.RunWith(spec, risk.Options{Workers: workers, Shard: shard, Shards: shards, Prior: prior, OnCell: onCell, Progress: prog.update, Stop: ctx.Done()})
			prog.finish(errors.Is(err, risk.ErrStopped))
			if writeErr != nil {
				return &exitError{exitBadInput, fmt.Sprintf("writing %s: %v", partial, writeErr)}
			}
			var bug *risk.TrialBug
			if errors.As(err, &bug) {
				return &exitError{exitBug, "internal error, a bug in acksim and not a finding about Kafka: " + bug.Error()}
			}
			if errors.Is(err, risk.ErrStopped) {
				again := "acksim " + shellCommand(os.Args[1:])
				if !resume {
					again += " --resume"
				}
				return &exitError{exitInterrupted, fmt.Sprintf("interrupted: %d cell(s) saved in %s; continue with:\n  %s", len(ests), partial, again)}
			}
			if err != nil {
				return err
			}
			if shards > 1 {
				if err := writeEstimates(filepath.Join(out, "estimates.jsonl"), ests); err != nil {
					return err
				}
				os.Remove(partial)
				fmt.Fprintf(cmd.OutOrStdout(), "shard %d/%d: %d cell(s) in %s; written to %s/ (combine with: acksim merge --out DIR SHARD-DIRS...)\n", shard, shards, len(ests), time.Since(start).Round(time.Millisecond), out)
				return nil
			}
			md, js, err := writeRisk(out, spec, ests)
			if err != nil {
				return err
			}
			os.Remove(partial)
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
	fl.StringVar(&shardFlag, "shard", "", "estimate one slice i/n of the cells (i from 0); combine the slices with acksim merge")
	fl.BoolVar(&resume, "resume", false, "continue an interrupted estimate in --out: run only the cells not saved yet")
	fl.BoolVar(&quiet, "quiet", false, "print nothing but errors (no progress, no report); the files are written as usual")
	return cmd
}

// writeRisk writes a finished estimate's report, data and charts to out,
// and returns the report and risk.json.
func writeRisk(out string, spec *risk.Spec, ests []risk.Estimate) (md, js []byte, err error) {
	cells := reports.RiskCells(spec, ests)
	charts, err := reports.RiskCharts(spec.Axes(), cells)
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(filepath.Join(out, "charts"), 0o755); err != nil {
		return nil, nil, &exitError{exitBadInput, fmt.Sprintf("--out %s: %v", out, err)}
	}
	for _, c := range charts {
		for _, f := range []struct {
			ext  string
			data []byte
		}{{"svg", c.SVG}, {"png", c.PNG}} {
			if err := writeAtomic(filepath.Join(out, "charts", c.Name+"."+f.ext), f.data); err != nil {
				return nil, nil, &exitError{exitBadInput, fmt.Sprintf("--out %s: %v", out, err)}
			}
		}
	}
	md = reports.RiskMarkdown(spec, cells, charts)
	js = reports.RiskJSON(spec, cells)
	for _, f := range []struct {
		name string
		data []byte
	}{{"report.md", md}, {"risk.json", js}, {"risk.csv", reports.RiskCSV(spec.Axes(), cells)}, {"estimates.jsonl", estimatesJSONL(ests)}} {
		if err := writeAtomic(filepath.Join(out, f.name), f.data); err != nil {
			return nil, nil, &exitError{exitBadInput, fmt.Sprintf("--out %s: %v", out, err)}
		}
	}
	return md, js, nil
}

func estimatesJSONL(ests []risk.Estimate) []byte {
	var b []byte
	for _, e := range ests {
		line, _ := json.Marshal(e)
		b = append(append(b, line...), '\n')
	}
	return b
}

// writeEstimates writes estimates as JSON lines, replacing path (through a
// temporary file: an interrupted write never leaves half a file).
func writeEstimates(path string, ests []risk.Estimate) error {
	return writeAtomic(path, estimatesJSONL(ests))
}

// loadEstimates reads JSON lines of estimates; with torn, a last line cut
// short by a kill is dropped.
func loadEstimates(path string, torn bool) ([]risk.Estimate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if torn && errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, &scenarios.Error{File: path, Allowed: "cannot be read: " + err.Error()}
	}
	lines := strings.Split(string(data), "\n")
	if torn && len(lines) > 0 && !strings.HasSuffix(string(data), "\n") {
		lines = lines[:len(lines)-1]
	}
	var out []risk.Estimate
	for i, l := range lines {
		if l == "" {
			continue
		}
		var e risk.Estimate
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			return nil, &scenarios.Error{File: path, Line: i + 1, Allowed: "is not an estimate line: " + err.Error()}
		}
		out = append(out, e)
	}
	return out, nil
}

// isRiskDir reports whether dir holds a risk estimate (or one shard's).
func isRiskDir(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "estimates.jsonl"))
	return err == nil
}

// mergeRisk combines risk shards into the files of one run.
func mergeRisk(cmd *cobra.Command, out string, dirs []string) error {
	var raw []byte
	var spec *risk.Spec
	var parts [][]risk.Estimate
	for _, dir := range dirs {
		r, err := os.ReadFile(filepath.Join(dir, "spec.yaml"))
		if err != nil {
			return &scenarios.Error{File: dir, Allowed: "is not an acksim risk directory (no spec.yaml): " + err.Error()}
		}
		if spec == nil {
			raw = r
			text, seed, _ := strings.Cut(string(r), "\n# acksim risk: seed ")
			if spec, err = risk.Parse(filepath.Join(dir, "spec.yaml"), []byte(text)); err != nil {
				return err
			}
			fmt.Sscanf(seed, "%d", &spec.Seed)
		} else if string(r) != string(raw) {
			return &scenarios.Error{File: dir, Allowed: "holds a different spec.yaml from " + dirs[0] + ": shards of different estimates"}
		}
		ests, err := loadEstimates(filepath.Join(dir, "estimates.jsonl"), false)
		if err != nil {
			return err
		}
		parts = append(parts, ests)
	}
	all, err := risk.Merge(spec, parts...)
	if err != nil {
		return &exitError{exitBadInput, "merge: " + err.Error()}
	}
	if err := claimOutDir(out, riskFiles); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(out, "spec.yaml"), raw); err != nil {
		return err
	}
	md, _, err := writeRisk(out, spec, all)
	if err != nil {
		return err
	}
	cmd.OutOrStdout().Write(md)
	fmt.Fprintf(cmd.OutOrStdout(), "\nmerged %d shard(s), %d cells; written to %s/\n", len(dirs), len(all), out)
	return nil
}
