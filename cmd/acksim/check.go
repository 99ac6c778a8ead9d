package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"acksim/reports"
	"acksim/scenarios"
	"acksim/sim"

	"github.com/spf13/cobra"
	"pgregory.net/rapid"
)

// cliTB lets rapid run outside `go test`: it records failure instead of
// stopping a test goroutine.
type cliTB struct {
	failed bool
	msgs   []string
}

func (t *cliTB) Helper()      {}
func (t *cliTB) Name() string { return "acksim-check" }
func (t *cliTB) Logf(format string, args ...any) {
	t.msgs = append(t.msgs, fmt.Sprintf(format, args...))
}
func (t *cliTB) Log(args ...any)                  { t.msgs = append(t.msgs, fmt.Sprint(args...)) }
func (t *cliTB) Skipf(format string, args ...any) {}
func (t *cliTB) Skip(args ...any)                 {}
func (t *cliTB) SkipNow()                         {}
func (t *cliTB) Errorf(format string, args ...any) {
	t.failed = true
	t.Logf(format, args...)
}
func (t *cliTB) Error(args ...any)                 { t.failed = true; t.Log(args...) }
func (t *cliTB) Fatalf(format string, args ...any) { t.Errorf(format, args...) }
func (t *cliTB) Fatal(args ...any)                 { t.Error(args...) }
func (t *cliTB) FailNow()                          { t.failed = true }
func (t *cliTB) Fail()                             { t.failed = true }
func (t *cliTB) Failed() bool                      { return t.failed }

var rapidInit sync.Once

// configureRapid sets rapid's knobs through its own flag set (it reads
// them from the standard flag package), never exposing them as acksim flags.
func configureRapid(checks int, seed uint64) {
	rapidInit.Do(func() {
		testing.Init()
		flag.CommandLine.Parse(nil) // mark parsed; acksim's own flags live in cobra
	})
	flag.Set("rapid.checks", strconv.Itoa(checks))
	flag.Set("rapid.seed", strconv.FormatUint(seed, 10))
	flag.Set("rapid.nofailfile", "true")
	flag.Set("rapid.shrinktime", "30s")
}

type checkFlags struct {
	runFlags
	faults       string
	props        string
	maxDown      int
	maxPowerLoss int
	maxFaults    int
	checks       int
	budget       time.Duration
	out          string
}

// CheckReport is check's machine-readable result.
type CheckReport struct {
	Scenario   string         `json:"scenario"`
	Seed       string         `json:"seed"` // the search's seed (a string: 64-bit seeds lose digits as JSON numbers)
	Properties []string       `json:"properties"`
	Tried      int            `json:"schedules_tried"`
	SimulatedS float64        `json:"simulated_s"`
	Fired      map[string]int `json:"faults_fired"`
	NeverFired []string       `json:"faults_never_fired"`
	Found      bool           `json:"counterexample_found"`
	Broken     []string       `json:"broken,omitempty"`
	Steps      []string       `json:"schedule,omitempty"`
	File       string         `json:"file,omitempty"`
	Replay     string         `json:"replay,omitempty"`
	WallS      float64        `json:"wall_s"`
}

func newCheck() *cobra.Command {
	f := &checkFlags{}
	cmd := &cobra.Command{
		Use:   "check [SCENARIO|FILE]",
		Short: "Property-test a configuration: search fault schedules for a loss and shrink it",
		Long: `Search fault schedules for one that breaks a property (by default: no
acknowledged record is lost) on a base scenario (default healthy-cluster; its own
faults are replaced). When one is found it is shrunk to a minimal
schedule (fewer, earlier, shorter faults, simpler targets), printed in words
with the verdict and its explanations, and written as a scenario file that
'acksim run FILE' replays exactly; exit code 1. When none is found, check says
how many schedules it tried, how much it simulated and which fault kinds
actually fired; exit code 0.

Fault kinds (--faults; each starts at a drawn time on a drawn target and lasts
a drawn 'for'):
` + scenarios.FaultKindHelp(scenarios.CheckFaultKinds()) + `
Properties: ` + strings.Join(scenarios.Properties, ", ") + `.`,
		Example: `  acksim check --set acks=1                       # finds the acks=1 loss
  acksim check --set acks=all --set min.insync.replicas=2 --faults crash,partition --max-down 3
  acksim check --set log.flush.interval.messages=1 --faults power-loss --max-down 3 --max-power-loss 3
  acksim check my.yaml --property lost_write,duplicate,reorder --time 2m --out found.yaml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			arg := "healthy-cluster"
			if len(args) == 1 {
				arg = args[0]
			}
			f.seedSet = cmd.Flags().Changed("seed")
			s, err := loadWithOverrides(arg, &f.runFlags)
			if err != nil {
				return err
			}
			r, err := s.Resolve()
			if err != nil {
				return err
			}
			maxMem, err := parseSize("--max-memory", f.maxMemory)
			if err != nil {
				return err
			}
			cost := r.Cost(s)
			if err := cost.CheckMemory("each schedule's run", maxMem); err != nil {
				return err
			}
			limitHeap(maxMem, cost.Bytes)
			for _, fl := range []struct {
				name   string
				v, min int
			}{{"--checks", f.checks, 1}, {"--max-faults", f.maxFaults, 1}, {"--max-down", f.maxDown, 1}, {"--max-power-loss", f.maxPowerLoss, 0}} {
				if fl.v < fl.min || fl.v > 1_000_000 {
					return &scenarios.Error{File: fl.name, Value: fmt.Sprint(fl.v), Allowed: fmt.Sprintf("must be an integer from %d to 1000000", fl.min)}
				}
			}
			if f.budget < 0 {
				return &scenarios.Error{File: "--time", Value: f.budget.String(), Allowed: "must be a positive duration"}
			}
			o := scenarios.ExploreOptions{MaxDown: f.maxDown, MaxPowerLoss: f.maxPowerLoss, MaxFaults: f.maxFaults, CheckEveryEvent: f.checkEvery}
			if f.faults != "" {
				o.Faults = strings.Split(f.faults, ",")
			}
			if err := o.Validate(s); err != nil {
				return err
			}
			props := strings.Split(f.props, ",")
			for _, p := range props {
				found := false
				for _, q := range scenarios.Properties {
					found = found || p == q
				}
				if !found {
					return &scenarios.Error{File: "--property", Value: p, Allowed: "one of: " + strings.Join(scenarios.Properties, ", ")}
				}
				if why := s.PropertyMissing(p); why != "" {
					return &scenarios.Error{File: "--property", Value: p, Allowed: "a property the scenario can break: " + why}
				}
			}
			rep, ce, err := runCheck(s, o, props, f)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if f.quiet {
				out = io.Discard
			}
			if f.out == "-" {
				out = cmd.ErrOrStderr() // the scenario file is the output; the report goes to stderr
			}
			if ce != nil {
				name := s.Name + "-counterexample"
				desc := fmt.Sprintf("Found by: acksim check %s (seed %d). Broken: %s.", arg, s.Seed, strings.Join(ce.Broken, ", "))
				expect := map[string]string{}
				for _, p := range props {
					// The file asserts the property is broken, not the exact
					// count: a model refinement may move the count, and the
					// replay should still fail for the same reason.
					if v, _ := ce.Result.Verdict.Get(p); v > 0 {
						expect[p] = ">0"
					} else {
						expect[p] = "0"
					}
				}
				title := fmt.Sprintf("counterexample found by acksim check: %s", strings.Join(ce.Broken, ", "))
				data, err := ce.Scenario.Export(s.Raw, name, title, desc, expect)
				if err != nil {
					return err
				}
				if err := writeOutput(cmd, f.out, data); err != nil {
					return &exitError{exitBadInput, fmt.Sprintf("--out %s: %v", f.out, err)}
				}
				rep.File = f.out
				rep.Replay = "acksim run " + shellQuote(f.out)
				for _, fi := range ce.Result.Fired {
					rep.Steps = append(rep.Steps, fi.At.String()+": "+fi.Text)
				}
			}
			if f.json {
				b, _ := json.MarshalIndent(rep, "", "  ")
				fmt.Fprintln(out, string(b))
			} else if ce != nil {
				fmt.Fprintf(out, "counterexample: %s after %d schedule(s) tried, shrinking included (%.0f simulated seconds, %.1fs)\n", strings.Join(ce.Broken, ", "), rep.Tried, rep.SimulatedS, rep.WallS)
				fmt.Fprintf(out, "minimal schedule (%d step(s)):\n", len(ce.Scenario.Steps))
				for _, st := range ce.Scenario.Steps {
					fmt.Fprintf(out, "  %s\n", st.Describe())
				}
				fmt.Fprintf(out, "\n%s", reports.Verdict(ce.Result, rep.Replay))
				fmt.Fprintf(out, "\nwritten to %s\n", f.out)
			} else {
				fmt.Fprintf(out, "no counterexample: %d schedule(s) tried, %.0f simulated seconds, %.1fs; properties held: %s\n", rep.Tried, rep.SimulatedS, rep.WallS, strings.Join(props, ", "))
				fmt.Fprintf(out, "faults fired: %s\n", firedText(rep.Fired))
				if len(rep.NeverFired) > 0 {
					fmt.Fprintf(out, "never fired: %s (no schedule exercised them)\n", strings.Join(rep.NeverFired, ", "))
				}
			}
			if ce != nil {
				return &exitError{exitFinding, ""}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	scenarioFlags(fl, &f.runFlags, "seed of the search (and of the scenario)", "print the result as JSON")
	fl.StringVar(&f.faults, "faults", "crash,power-loss,partition", "fault kinds to draw, comma-separated")
	fl.StringVar(&f.props, "property", "lost_write", "properties that must hold (be zero), comma-separated")
	fl.IntVar(&f.maxDown, "max-down", 1, "at most this many brokers down, lossy or partitioned at once")
	fl.IntVar(&f.maxPowerLoss, "max-power-loss", 1, "at most this many power losses per schedule")
	fl.IntVar(&f.maxFaults, "max-faults", 4, "at most this many faults per schedule")
	fl.IntVar(&f.checks, "checks", 100, "schedules to try")
	fl.DurationVar(&f.budget, "time", 0, "search for this long instead of --checks (e.g. 2m)")
	fl.StringVar(&f.out, "out", "counterexample.yaml", "where to write a counterexample")
	return withCompletion(cmd)
}

func firedText(m map[string]int) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var parts []string
	for _, k := range ks {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func runCheck(s *scenarios.Scenario, o scenarios.ExploreOptions, props []string, f *checkFlags) (*CheckReport, *scenarios.Counterexample, error) {
	start := time.Now()
	stats := &scenarios.ExploreStats{Fired: map[string]int{}}
	var found *scenarios.Counterexample
	prop := scenarios.Explore(s, o, props, stats, &found)
	if f.budget > 0 {
		for batch := uint64(0); time.Since(start) < f.budget && found == nil && stats.Bug == nil; batch++ {
			configureRapid(20, sim.TrialSeed(f.seed, batch)|1)
			rapid.Check(&cliTB{}, prop)
		}
	} else {
		configureRapid(f.checks, f.seed)
		rapid.Check(&cliTB{}, prop)
	}
	if stats.Bug != nil {
		return nil, nil, checkBug(s, stats, f)
	}
	rep := &CheckReport{Scenario: s.Name, Seed: strconv.FormatUint(s.Seed, 10), Properties: props, Tried: stats.Tried, SimulatedS: stats.Simulated.Seconds(),
		Fired: stats.Fired, Found: found != nil, WallS: time.Since(start).Seconds()}
	faults := o.Faults
	if len(faults) == 0 {
		faults = []string{"crash", "power-loss", "partition"}
	}
	for _, k := range faults {
		if stats.Fired[scenarios.FaultAction(k)] == 0 {
			rep.NeverFired = append(rep.NeverFired, k)
		}
	}
	if found != nil {
		rep.Broken = found.Broken
	}
	return rep, found, nil
}

// checkBug reports a model invariant that broke during the search: a bug in
// acksim, never "no counterexample". The schedule that broke it is written
// to --out so that 'acksim run FILE' replays it; exit code 3.
func checkBug(s *scenarios.Scenario, stats *scenarios.ExploreStats, f *checkFlags) error {
	msg := fmt.Sprintf("internal error, a bug in acksim and not a finding about Kafka: %v, after %d schedule(s)", stats.Bug, stats.Tried)
	desc := fmt.Sprintf("A schedule on which acksim check (seed %d) broke a model invariant: %v.", f.seed, stats.Bug)
	data, err := stats.BugScenario.Export(s.Raw, s.Name+"-invariant", "a schedule that breaks a model invariant", desc, nil)
	if err == nil {
		err = writeAtomic(f.out, data)
	}
	if err != nil {
		return &exitError{exitBug, msg + fmt.Sprintf("; the schedule could not be written to %s: %v", f.out, err)}
	}
	return &exitError{exitBug, msg + "; replay: acksim run " + shellQuote(f.out) + "; please report it"}
}
