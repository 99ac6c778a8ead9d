package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"acksim/reports"
	"acksim/scenarios"
	"acksim/scenarios/sweep"

	"github.com/spf13/cobra"
)

func newSweep() *cobra.Command {
	var out, export string
	var workers, trials int
	var seed uint64
	cmd := &cobra.Command{
		Use:   "sweep [SPEC.yaml]",
		Short: "Run a grid of settings against many random fault schedules: loss probabilities",
		Long: `Run every cell of a grid of settings against the same random fault schedules
(common random numbers: trial i of every cell faces the same faults and the
same workload), on all cores, and write to --out:

  trials.jsonl  one line per trial (cell, trial, seed, counts, latency)
  summary.csv   per cell: P(lost write) with a Wilson 95% interval (one-sided
  summary.json  upper bound when nothing was lost), mean/max lost, latency
  report.md     the table, losing trials, and a paired comparison

Results are identical whatever --workers. Without a spec, the embedded default
sweep runs (acks 0/1/all x min.insync.replicas 1/2 x flush never/every message
x unclean election off/on, under crashes, power losses and partitions).`,
		Example: `  acksim sweep                         # the default sweep, into ./out
  acksim sweep my-sweep.yaml --out results --workers 2
  acksim sweep --export 5:17 --out trial.yaml   # trial 17 of cell 5 as a scenario file`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var spec *sweep.Spec
			var err error
			if len(args) == 1 {
				b, rerr := os.ReadFile(args[0])
				if rerr != nil {
					return &scenarios.Error{File: args[0], Allowed: "cannot be read: " + rerr.Error()}
				}
				spec, err = sweep.Parse(args[0], b)
			} else {
				spec, err = sweep.Default()
			}
			if err != nil {
				return err
			}
			if trials > 0 {
				spec.Trials = trials
			}
			if cmd.Flags().Changed("seed") {
				spec.Seed = seed
			}
			cells := spec.Cells()
			if export != "" {
				c, t, ok := strings.Cut(export, ":")
				ci, e1 := strconv.Atoi(c)
				ti, e2 := strconv.Atoi(t)
				if !ok || e1 != nil || e2 != nil || ci < 0 || ci >= len(cells) || ti < 0 {
					return &scenarios.Error{File: "--export", Value: export, Allowed: fmt.Sprintf("must be CELL:TRIAL with CELL in 0..%d", len(cells)-1)}
				}
				sc, err := spec.TrialScenario(cells[ci], ti)
				if err != nil {
					return err
				}
				data, err := sc.Export(sc.Raw, fmt.Sprintf("%s-cell%d-trial%d", spec.Name, ci, ti), "sweep "+spec.Name+" trial "+export+": "+cells[ci].String(), "", map[string]string{})
				if err != nil {
					return err
				}
				path := out
				if !cmd.Flags().Changed("out") {
					path = fmt.Sprintf("trial-%d-%d.yaml", ci, ti)
				}
				if err := writeAtomic(path, data); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\nreplay: acksim run %s\n", path, path)
				return nil
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return &exitError{exitBadInput, fmt.Sprintf("--out %s: %v", out, err)}
			}
			start := time.Now()
			last := time.Now()
			progress := func(done, total int) {
				if time.Since(last) > 2*time.Second || done == total {
					last = time.Now()
					el := time.Since(start)
					eta := time.Duration(float64(el) / float64(done) * float64(total-done))
					fmt.Fprintf(cmd.ErrOrStderr(), "sweep: %d/%d trials, %s elapsed, ETA %s\n", done, total, el.Round(time.Second), eta.Round(time.Second))
				}
			}
			cells, ts, err := sweep.Run(spec, workers, progress)
			if err != nil {
				return err
			}
			sums := sweep.Summarize(cells, ts)
			paired := sweep.Paired(cells, ts, sums, spec.Trials)
			losing := map[int][]int{}
			for _, t := range ts {
				if t.LostWrite > 0 && len(losing[t.Cell]) < 3 {
					losing[t.Cell] = append(losing[t.Cell], t.Trial)
				}
			}
			md := reports.SweepMarkdown(spec.Name, spec.Trials, sums, paired, losing)
			for name, data := range map[string][]byte{
				"trials.jsonl": reports.TrialsJSONL(ts), "summary.csv": reports.SummaryCSV(sums),
				"summary.json": reports.SummaryJSON(sums), "report.md": []byte(md),
			} {
				if err := writeAtomic(filepath.Join(out, name), data); err != nil {
					return err
				}
			}
			wall := time.Since(start)
			fmt.Fprint(cmd.OutOrStdout(), md)
			fmt.Fprintf(cmd.OutOrStdout(), "\n%d trials in %s (%.0f trials/s, %d workers); written to %s/\n", len(ts), wall.Round(time.Millisecond), float64(len(ts))/wall.Seconds(), workers, out)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&out, "out", "out", "directory for the results (with --export: the scenario file)")
	fl.IntVar(&workers, "workers", runtime.GOMAXPROCS(0), "trials run in parallel")
	fl.IntVar(&trials, "trials", 0, "trials per cell (default: the spec's)")
	fl.Uint64Var(&seed, "seed", 1, "master seed (default: the spec's)")
	fl.StringVar(&export, "export", "", "write trial CELL:TRIAL as a scenario file instead of sweeping")
	return cmd
}
