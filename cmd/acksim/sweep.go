package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"acksim/reports"
	"acksim/scenarios"
	"acksim/scenarios/sweep"

	"github.com/spf13/cobra"
)

func newSweep() *cobra.Command {
	var out, export, shardFlag string
	var resume, checkEvery, asJSON, quiet bool
	var props []string
	var workers, trials, shardsFlag int
	var maxMemory string
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
  report.md     the table, charts, losing trials, and a paired comparison
  report.html   the same, self-contained, with replay commands
  charts/       loss-by-cell, heatmap, loss-vs-x, pareto (SVG and PNG)

Trials stream to trials.partial.jsonl as they finish: Ctrl-C stops with them
saved (exit 130) and --resume runs only the rest.

Results are identical whatever --workers. Without a spec, the embedded default
sweep runs (acks 0/1/all x min.insync.replicas 1/2 x flush never/every message
x unclean election off/on, under crashes, power losses and partitions).

Fault model kinds (faults: KIND: {per_hour: N, for: DURATION}; for defaults
to 5s):
` + scenarios.FaultKindHelp(scenarios.SweepFaultKinds()),
		Example: `  acksim sweep                         # the default sweep, into ./out
  acksim sweep my-sweep.yaml --out results --workers 2
  acksim sweep --export 5:17 --out trial.yaml   # trial 17 of cell 5 as a scenario file`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, name, err := readSpec(args, sweep.DefaultSource(), "default sweep")
			if err != nil {
				return err
			}
			spec, err := sweep.Parse(name, raw)
			if err != nil {
				return err
			}
			shard, shards, err := parseShard(shardFlag, shardsFlag)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("trials") {
				if trials < 1 || trials > sweep.MaxTrials {
					return &scenarios.Error{File: "--trials", Value: fmt.Sprint(trials), Allowed: fmt.Sprintf("must be an integer from 1 to %d", sweep.MaxTrials)}
				}
				if total := int64(len(spec.Cells())) * int64(trials); total > sweep.MaxTrialsTotal {
					return &scenarios.Error{File: "--trials", Value: fmt.Sprintf("%d cells x %d trials = %d", len(spec.Cells()), trials, total),
						Allowed: fmt.Sprintf("at most %d trials in all; split the sweep with --shard", sweep.MaxTrialsTotal)}
				}
				spec.Trials = trials
			}
			// --properties: checked against the base with file:line errors,
			// then applied as the first of the spec's set pairs (saved in
			// spec.yaml with the results, so resume and merge see them).
			var propSets []string
			for _, pf := range props {
				data, rerr := os.ReadFile(pf)
				if rerr != nil {
					return &scenarios.Error{File: pf, Allowed: "cannot be read: " + rerr.Error()}
				}
				base, lerr := scenarios.Load(spec.Base)
				if lerr != nil {
					return lerr
				}
				for _, w := range base.ApplyProperties(pf, data) {
					fmt.Fprintln(cmd.ErrOrStderr(), "warning: "+w)
				}
				base.Expect = nil
				if _, rerr := base.Resolve(); rerr != nil {
					return rerr
				}
				sets, _ := scenarios.PropertiesSets(pf, data)
				propSets = append(propSets, sets...)
			}
			spec.Set = append(propSets, spec.Set...)
			if workers < 1 || workers > 1024 {
				return &scenarios.Error{File: "--workers", Value: fmt.Sprint(workers), Allowed: "must be an integer from 1 to 1024"}
			}
			if cmd.Flags().Changed("seed") {
				if seed == 0 {
					return &scenarios.Error{File: "--seed", Value: "0", Allowed: "must be a positive integer (0 means unset in a spec)"}
				}
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
				desc := fmt.Sprintf("Trial %d of cell %d of sweep %s: the base scenario %s with %s,\nseed %d, and the fault schedule the sweep's fault model drew for this trial.\n", ti, ci, spec.Name, spec.Base, cells[ci], sc.Seed)
				data, err := sc.Export(sc.Raw, fmt.Sprintf("%s-cell%d-trial%d", spec.Name, ci, ti), "sweep "+spec.Name+" trial "+export+": "+cells[ci].String(), desc, map[string]string{})
				if err != nil {
					return err
				}
				path := out
				if !cmd.Flags().Changed("out") {
					path = fmt.Sprintf("trial-%d-%d.yaml", ci, ti)
				}
				if err := writeOutput(cmd, path, data); err != nil {
					return err
				}
				if path != "-" {
					fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\nreplay: acksim run %s\n", path, shellQuote(path))
				}
				return nil
			}
			// Validate every cell, and the memory the sweep needs, before
			// touching --out: a rejected sweep leaves an existing results
			// directory as it was.
			if err := spec.Check(); err != nil {
				return err
			}
			maxMem, err := parseSize("--max-memory", maxMemory)
			if err != nil {
				return err
			}
			if err := spec.CheckMemory(workers, maxMem); err != nil {
				return err
			}
			limitHeap(maxMem, 0) // many small runs: GOGC=400 pays
			if err := claimOutDir(out, sweepFiles); err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return &exitError{exitBadInput, fmt.Sprintf("--out %s: %v", out, err)}
			}
			// Save the spec as it runs (overrides applied, the base's hash),
			// not as it was written: report and merge re-read it, and resume
			// and merge compare it.
			raw, err = spec.Canonical()
			if err != nil {
				return err
			}
			partial := filepath.Join(out, "trials.partial.jsonl")
			var prior []sweep.Trial
			if resume {
				prior, err = loadPartial(out, raw)
				if err != nil {
					return err
				}
			} else if err := writeAtomic(filepath.Join(out, "spec.yaml"), raw); err != nil {
				return err
			}
			// Results stream to the partial file as trials finish, so an
			// interrupted sweep keeps what it did (--resume reads it back).
			// Never write through a symlink at the final path, nor truncate
			// what is there: a fresh sweep renames a new empty file over it
			// (a hard link's other name keeps its data), and a resumed one
			// appends to the file loadPartial read as this sweep's trials.
			if fi, err := os.Lstat(partial); err == nil && !fi.Mode().IsRegular() {
				return &scenarios.Error{File: partial, Allowed: "is not a regular file (a symbolic link, a pipe, a device); acksim writes its partial results only to a file of its own"}
			}
			if !resume {
				if err := writeAtomic(partial, nil); err != nil {
					return &exitError{exitBadInput, fmt.Sprintf("--out %s: %v", out, err)}
				}
			}
			pf, err := openPartial(partial, os.O_WRONLY|os.O_APPEND)
			if err != nil {
				return &exitError{exitBadInput, fmt.Sprintf("--out %s: %v", out, err)}
			}
			defer pf.Close()
			sigCtx, stopSignals := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stopSignals()
			ctx, cancel := context.WithCancel(sigCtx)
			defer cancel()
			var writeErr error
			onTrial := func(t sweep.Trial) {
				line, _ := json.Marshal(t)
				if _, err := pf.Write(append(line, '\n')); err != nil && writeErr == nil {
					// A full disk: stop at once, keeping what was written,
					// rather than run every trial for nothing.
					writeErr = err
					cancel()
				}
			}
			start := time.Now()
			progOut := cmd.ErrOrStderr()
			if quiet {
				progOut = io.Discard
			}
			prog := newProgress(progOut, len(prior))
			cells, ts, err := sweep.RunWith(spec, sweep.Options{Workers: workers, Shard: shard, Shards: shards,
				Prior: prior, OnTrial: onTrial, Progress: prog.update, Stop: ctx.Done(), CheckEveryEvent: checkEvery})
			prog.finish(errors.Is(err, sweep.ErrStopped))
			if writeErr != nil {
				return &exitError{exitBadInput, fmt.Sprintf("writing %s: %v; the sweep stopped, %d trial(s) finished (those written are kept; --resume continues once there is room)", partial, writeErr, len(ts))}
			}
			var bug *sweep.TrialBug
			if errors.As(err, &bug) {
				return &exitError{exitBug, "internal error, a bug in acksim and not a finding about Kafka: " + bug.Error()}
			}
			if errors.Is(err, sweep.ErrStopped) {
				again := "acksim " + shellCommand(os.Args[1:])
				if !resume {
					again += " --resume"
				}
				return &exitError{exitInterrupted, fmt.Sprintf("interrupted: %d trials saved in %s (%d ran before); continue with:\n  %s", len(ts), partial, len(prior), again)}
			}
			if err != nil {
				return err
			}
			wall := time.Since(start)
			if shards > 1 {
				if err := writeAtomic(filepath.Join(out, "trials.jsonl"), reports.TrialsJSONL(ts)); err != nil {
					return err
				}
				os.Remove(partial)
				fmt.Fprintf(cmd.OutOrStdout(), "shard %d/%d: %d trials in %s; written to %s/ (combine with: acksim merge --out DIR SHARD-DIRS...)\n", shard, shards, len(ts), wall.Round(time.Millisecond), out)
				return nil
			}
			md, err := writeSweep(out, spec, raw, cells, ts)
			if err != nil {
				return err
			}
			os.Remove(partial)
			switch {
			case asJSON:
				data, err := os.ReadFile(filepath.Join(out, "summary.json"))
				if err != nil {
					return err
				}
				cmd.OutOrStdout().Write(data)
				return nil
			case quiet:
				return nil
			}
			fmt.Fprint(cmd.OutOrStdout(), md)
			ran := len(ts) - len(prior)
			resumed := ""
			if len(prior) > 0 {
				resumed = fmt.Sprintf(" (and %d saved before the interruption)", len(prior))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "\n%d trials in %s%s (%.0f trials/s, %d workers); written to %s/\n", ran, wall.Round(time.Millisecond), resumed, float64(ran)/wall.Seconds(), workers, out)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&out, "out", "out", "directory for the results (with --export: the scenario file)")
	fl.IntVar(&workers, "workers", runtime.GOMAXPROCS(0), "trials run in parallel")
	fl.StringVar(&maxMemory, "max-memory", "4GiB", "refuse a sweep estimated to need more memory than this (bytes, or with KiB, MiB, GiB)")
	fl.IntVar(&trials, "trials", 0, "trials per cell (default: the spec's)")
	fl.Uint64Var(&seed, "seed", 1, "master seed (default: the spec's)")
	fl.StringVar(&export, "export", "", "write trial CELL:TRIAL as a scenario file instead of sweeping")
	fl.StringVar(&shardFlag, "shard", "", "run one slice i/n of the trials (i from 0); results are combined with acksim merge")
	fl.IntVar(&shardsFlag, "shards", 0, "run one of n slices, i taken from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID")
	fl.BoolVar(&resume, "resume", false, "continue an interrupted sweep in --out: run only the trials not saved yet")
	fl.BoolVar(&asJSON, "json", false, "print summary.json (the metadata block and every cell) instead of the report")
	fl.BoolVar(&quiet, "quiet", false, "print nothing but errors (no progress, no report); the files are written as usual")
	fl.StringArrayVar(&props, "properties", nil, "apply a Kafka properties file to the base scenario (repeatable, before the spec's set list); keys acksim does not model are listed as warnings")
	fl.BoolVar(&checkEvery, "check-every-event", false, "check the model's invariants after every event, not every 10 ms (about 10% slower)")
	return cmd
}

// openPartial opens the partial results file (tests put a full disk here).
var openPartial = func(path string, flag int) (io.WriteCloser, error) { return os.OpenFile(path, flag, 0o644) }

// loadPartial reads the trials an interrupted sweep saved in dir, after
// checking it was the same sweep (same spec, same overrides). A last line
// cut short by a kill is ignored: that trial runs again.
func loadPartial(dir string, raw []byte) ([]sweep.Trial, error) {
	saved, err := os.ReadFile(filepath.Join(dir, "spec.yaml"))
	if err != nil {
		return nil, &scenarios.Error{File: dir, Allowed: "has no interrupted sweep to resume (no spec.yaml): " + err.Error()}
	}
	if string(saved) != string(raw) {
		return nil, &scenarios.Error{File: filepath.Join(dir, "spec.yaml"), Allowed: "is a different sweep (the spec, its base scenario's text, --trials or --seed differ): --resume must repeat the interrupted command on the same files"}
	}
	path := filepath.Join(dir, "trials.partial.jsonl")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &scenarios.Error{File: dir, Allowed: "has no trials.partial.jsonl to resume from (the sweep finished, or never started): " + err.Error()}
	}
	ts, err := parseTrials(path, data, true)
	if err != nil {
		return nil, err
	}
	// Cut a torn last line off before this run appends to the file:
	// otherwise the next record is glued onto the fragment and every later
	// resume fails.
	if keep := strings.LastIndexByte(string(data), '\n') + 1; keep < len(data) {
		if err := os.Truncate(path, int64(keep)); err != nil {
			return nil, &scenarios.Error{File: path, Allowed: "cannot cut its torn last line: " + err.Error()}
		}
	}
	return ts, nil
}

// parseTrials reads JSON Lines of trials. With tornTail, a last line that
// does not parse (a write a kill cut short) is dropped: that trial runs
// again.
func parseTrials(path string, data []byte, tornTail bool) ([]sweep.Trial, error) {
	var ts []sweep.Trial
	lines := strings.Split(string(data), "\n")
	for i, line := range lines {
		if line == "" {
			continue
		}
		var t sweep.Trial
		if err := json.Unmarshal([]byte(line), &t); err != nil {
			if tornTail && i == len(lines)-1 {
				break
			}
			return nil, &scenarios.Error{File: path, Line: i + 1, Allowed: "is not a trial record: " + err.Error()}
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// parseShard reads --shard i/n, or --shards n with i from the environment
// (a Kubernetes Indexed Job or a Slurm array).
func parseShard(flag string, n int) (int, int, error) {
	bad := func(v, why string) error { return &scenarios.Error{File: "--shard", Value: v, Allowed: why} }
	if flag != "" && n != 0 {
		return 0, 0, bad(flag, "give --shard i/n or --shards n, not both")
	}
	if n < 0 {
		return 0, 0, &scenarios.Error{File: "--shards", Value: fmt.Sprint(n), Allowed: "must be a positive number of slices"}
	}
	if flag != "" {
		a, b, ok := strings.Cut(flag, "/")
		i, e1 := strconv.Atoi(a)
		m, e2 := strconv.Atoi(b)
		if !ok || e1 != nil || e2 != nil || m < 1 || i < 0 || i >= m {
			return 0, 0, bad(flag, "must be i/n with 0 <= i < n, e.g. 2/8")
		}
		return i, m, nil
	}
	if n <= 0 {
		return 0, 1, nil
	}
	for _, env := range []string{"JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"} {
		if v := os.Getenv(env); v != "" {
			i, err := strconv.Atoi(v)
			if err != nil || i < 0 || i >= n {
				return 0, 0, bad(env+"="+v, fmt.Sprintf("must be an index from 0 to %d", n-1))
			}
			return i, n, nil
		}
	}
	return 0, 0, bad(fmt.Sprint(n), "--shards needs JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID in the environment (or use --shard i/n)")
}

// writeSweep writes the results of a whole sweep (summary, report, trials)
// and returns the Markdown report. sweep, merge and report all end here, so
// a merged or rebuilt report is byte for byte the one a single run writes.
func writeSweep(out string, spec *sweep.Spec, raw []byte, cells []sweep.Cell, ts []sweep.Trial) (string, error) {
	sums := sweep.Summarize(cells, ts)
	if err := spec.AddFaultFree(cells, sums); err != nil {
		return "", err
	}
	paired := sweep.Paired(cells, ts, sums, spec.Trials)
	losing := map[int][]int{}
	for _, t := range ts {
		if t.LostWrite > 0 && len(losing[t.Cell]) < 3 {
			losing[t.Cell] = append(losing[t.Cell], t.Trial)
		}
	}
	charts, err := reports.SweepCharts(spec, cells, sums)
	if err != nil {
		return "", err
	}
	byKind, err := spec.LossByKind(cells, ts)
	if err != nil {
		return "", err
	}
	md := reports.SweepMarkdown(spec.Name, spec.Trials, sums, paired, losing, byKind, charts)
	page, err := reports.SweepHTML(reports.SweepReport{Spec: spec, SpecText: string(raw),
		Cells: cells, Sums: sums, Paired: paired, Losing: losing, Charts: charts})
	if err != nil {
		return "", err
	}
	type file struct {
		name string
		data []byte
	}
	files := []file{{"trials.jsonl", reports.TrialsJSONL(ts)}, {"summary.csv", reports.SummaryCSV(spec.Axes(), sums)},
		{"summary.json", reports.SummaryJSON(summaryMeta(spec, raw), sums)}, {"report.md", []byte(md)}, {"report.html", page}}
	for _, c := range charts {
		files = append(files, file{"charts/" + c.Name + ".svg", c.SVG}, file{"charts/" + c.Name + ".png", c.PNG})
	}
	if err := os.MkdirAll(filepath.Join(out, "charts"), 0o755); err != nil {
		return "", err
	}
	written := map[string]bool{}
	for _, f := range files {
		if err := writeAtomic(filepath.Join(out, f.name), f.data); err != nil {
			return "", err
		}
		written[f.name] = true
	}
	// A reused --out keeps no chart of an earlier sweep: the report would
	// not mention it, but a reader of the folder would take it for this one's.
	old, _ := filepath.Glob(filepath.Join(out, "charts", "*"))
	for _, p := range old {
		if ext := filepath.Ext(p); (ext == ".svg" || ext == ".png") && !written["charts/"+filepath.Base(p)] {
			os.Remove(p)
		}
	}
	return md, nil
}

// readSpec reads the spec file named by args, or returns the embedded
// default when there is none.
func readSpec(args []string, def []byte, defName string) (raw []byte, name string, err error) {
	if len(args) == 0 {
		return def, defName, nil
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		return nil, "", &scenarios.Error{File: args[0], Allowed: "cannot be read: " + err.Error()}
	}
	return b, args[0], nil
}

// loadResults reads a results directory: its spec and its trials.
func loadResults(dir string) (*sweep.Spec, []byte, []sweep.Trial, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "spec.yaml"))
	if err != nil {
		return nil, nil, nil, &scenarios.Error{File: dir, Allowed: "is not an acksim sweep directory (no spec.yaml): " + err.Error()}
	}
	spec, err := sweep.Parse(filepath.Join(dir, "spec.yaml"), raw)
	if err != nil {
		return nil, nil, nil, err
	}
	path := filepath.Join(dir, "trials.jsonl")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, nil, &scenarios.Error{File: dir, Allowed: "has no trials.jsonl: " + err.Error()}
	}
	ts, err := parseTrials(path, data, false)
	return spec, raw, ts, err
}

func newMerge() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "merge --out DIR SHARD-DIR...",
		Short: "Combine sweep (or risk) shards into one result, checking every trial (cell) appears exactly once",
		Long: `Combine the results of sweep shards (each run with --shard i/n or --shards n) into
one directory, with the same files a single run writes. Every trial must appear
exactly once, and every shard must hold the same spec.yaml (the same spec, seed,
trials and base scenario text). Shards of acksim risk (--shard i/n) merge the same
way, cell by cell.

Exit codes: 0 merged, 2 bad input (a missing or duplicated trial, shards of
different sweeps, an unreadable directory).`,
		Example: `  acksim sweep my.yaml --shard 0/2 --out s0
  acksim sweep my.yaml --shard 1/2 --out s1
  acksim merge --out results s0 s1`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if isRiskDir(args[0]) {
				return mergeRisk(cmd, out, args)
			}
			var spec *sweep.Spec
			var raw []byte
			var parts [][]sweep.Trial
			for _, dir := range args {
				s, r, ts, err := loadResults(dir)
				if err != nil {
					return err
				}
				if spec == nil {
					spec, raw = s, r
				} else if string(r) != string(raw) {
					return &scenarios.Error{File: dir, Allowed: "holds a different spec.yaml from " + args[0] + ": shards of different sweeps"}
				}
				parts = append(parts, ts)
			}
			all, err := sweep.Merge(spec, parts...)
			if err != nil {
				return &exitError{exitBadInput, "merge: " + err.Error()}
			}
			if err := claimOutDir(out, sweepFiles); err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			if err := writeAtomic(filepath.Join(out, "spec.yaml"), raw); err != nil {
				return err
			}
			md, err := writeSweep(out, spec, raw, spec.Cells(), all)
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), md)
			fmt.Fprintf(cmd.OutOrStdout(), "\nmerged %d shard(s), %d trials; written to %s/\n", len(args), len(all), out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "out", "directory for the merged results")
	return cmd
}

func newReport() *cobra.Command {
	return &cobra.Command{
		Use:   "report DIR",
		Short: "Rebuild a sweep's summary and report from its saved trials, without rerunning",
		Long: `Rebuild summary.csv, summary.json, report.md, report.html and the charts of a
sweep's results directory from its spec.yaml and trials.jsonl, without running a
trial (after an upgrade of acksim's reports, or to regenerate deleted files).

Exit codes: 0 written, 2 bad input (no spec.yaml or trials.jsonl, trials missing).`,
		Example: `  acksim report out
  acksim report results        # a merged directory`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec, raw, ts, err := loadResults(args[0])
			if err != nil {
				return err
			}
			all, err := sweep.Merge(spec, ts)
			if err != nil {
				return &exitError{exitBadInput, "report: " + err.Error()}
			}
			md, err := writeSweep(args[0], spec, raw, spec.Cells(), all)
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), md)
			return nil
		},
	}
}

// summaryMeta describes the sweep for summary.json: its spec.yaml's hash
// and the base scenario's, the seed and the trials.
func summaryMeta(spec *sweep.Spec, raw []byte) reports.SummaryMeta {
	sum := sha256.Sum256(raw)
	base := spec.BaseHash
	if saved, err := sweep.Parse("spec.yaml", raw); err == nil && saved.BaseHash != "" {
		base = saved.BaseHash // raw is the canonical spec.yaml, which holds it
	}
	return reports.SummaryMeta{Schema: 2, Acksim: Version, Sweep: spec.Name, SpecSHA256: hex.EncodeToString(sum[:]),
		Base: spec.Base, BaseSHA256: base, Seed: strconv.FormatUint(spec.Seed, 10), TrialsPerCell: spec.Trials}
}
