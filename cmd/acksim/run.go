package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"

	"acksim/model"
	"acksim/reports"
	"acksim/scenarios"
	"acksim/sim"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

type runFlags struct {
	maxMemory  string
	seed       uint64
	seedSet    bool
	kafka      string
	sets       []string
	props      []string
	json       bool
	quiet      bool // print nothing but errors; the exit code still tells
	trace      string
	timeline   bool
	checkEvery bool
	html       string
	htmlWindow string
	around     string
}

// loadWithOverrides loads a scenario and applies --seed, --kafka and --set.
func loadWithOverrides(arg string, f *runFlags) (*scenarios.Scenario, error) {
	s, err := loadScenario(arg)
	if err != nil {
		return nil, err
	}
	if f.kafka != "" {
		if err := s.Set("kafka=" + f.kafka); err != nil {
			return nil, err
		}
	}
	for _, p := range f.props {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, &scenarios.Error{File: p, Allowed: "cannot be read: " + err.Error()}
		}
		s.ApplyProperties(p, data) // unmodelled keys become the run's warnings
	}
	for _, kv := range f.sets {
		if err := s.Set(kv); err != nil {
			return nil, err
		}
	}
	if f.seedSet {
		s.Seed = f.seed
	}
	return s, nil
}

// maxStdinScenario bounds a scenario read from standard input.
const maxStdinScenario = 16 << 20

// loadScenario loads a built-in, a file, or with "-" a scenario read from
// standard input (named <stdin> in errors).
func loadScenario(arg string) (*scenarios.Scenario, error) {
	if arg != "-" {
		return scenarios.Load(arg)
	}
	data, err := io.ReadAll(io.LimitReader(os.Stdin, maxStdinScenario+1))
	if err != nil {
		return nil, &scenarios.Error{File: "<stdin>", Allowed: "cannot be read: " + err.Error()}
	}
	if len(data) > maxStdinScenario {
		return nil, &scenarios.Error{File: "<stdin>", Value: "more than 16 MiB", Allowed: "a scenario file of at most 16 MiB"}
	}
	return scenarios.Parse("<stdin>", data)
}

// replayLine is the command that reproduces a run exactly.
func replayLine(arg string, s *scenarios.Scenario, f *runFlags) string {
	parts := []string{"acksim run", shellQuote(arg), fmt.Sprintf("--seed %d", s.Seed)}
	if f.kafka != "" {
		parts = append(parts, "--kafka "+shellQuote(f.kafka))
	}
	for _, p := range f.props {
		parts = append(parts, "--properties "+shellQuote(p))
	}
	for _, kv := range f.sets {
		parts = append(parts, "--set "+shellQuote(kv))
	}
	return strings.Join(parts, " ")
}

// shellQuote quotes an argument for a POSIX shell when it needs it, so a
// printed command can be pasted as it is.
func shellQuote(a string) string {
	if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,+@%") == "" {
		return a
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}

// shellCommand joins a command's arguments, quoting those that need it.
func shellCommand(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

func newRun() *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run NAME|FILE|-",
		Short: "Run a scenario and explain what was lost",
		Long: `Run a built-in scenario (by name), a scenario file, or one read from standard
input ("-"), then print the verdict in
plain words: what was acknowledged, what was lost and the chain of events that
lost it, and the command that replays the run exactly.

Exit codes: 0 the run matched its expectations (or declared none); 1 the
verdict contradicts an expectation in the file; 2 bad input (nothing ran).

--timeline prints one line per model event (columns: TIME since start,
BROKER, EVENT kind, WHAT happened). --trace writes every kernel event as JSON
Lines (step, t_ns, node, kind, a, b, text). --html writes a self-contained
page with the verdict, the timeline and a space-time diagram (nodes as lanes,
messages as arrows, faults marked, the messages that carried lost records in
red).`,
		Example: `  acksim run acks1-leader-crash
  acksim run acks1-leader-crash --set acks=all --set min.insync.replicas=2
  acksim run cluster-power-loss-no-flush --kafka 2.8 --timeline
  acksim run my.yaml --seed 7 --json --trace run.jsonl
  acksim run acks1-leader-crash --html run.html`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f.seedSet = cmd.Flags().Changed("seed")
			s, err := loadWithOverrides(args[0], f)
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
			if err := cost.CheckMemory("the run", maxMem); err != nil {
				return err
			}
			limitHeap(maxMem, cost.Bytes)
			var around sim.Duration
			if f.around != "" {
				d, err := parseFlagDuration("--timeline-around", f.around)
				if err != nil {
					return err
				}
				around = d
				f.timeline = true
			}
			var windows []reports.Window
			if f.htmlWindow != "" {
				a, b, ok := strings.Cut(f.htmlWindow, ":")
				from, e1 := parseFlagDuration("--html-window", a)
				to, e2 := parseFlagDuration("--html-window", b)
				if !ok || e1 != nil || e2 != nil || to <= from {
					return &exitError{exitBadInput, fmt.Sprintf("--html-window %q: must be FROM:TO, two durations since the start with FROM < TO, e.g. 9s:14s", f.htmlWindow)}
				}
				windows = []reports.Window{{From: sim.Time(from), To: sim.Time(to), Why: "chosen with --html-window"}}
				if f.html == "" {
					return &exitError{exitBadInput, "--html-window needs --html FILE"}
				}
			}
			opt := scenarios.Options{RecordMessages: f.html != "", CheckEveryEvent: f.checkEvery}
			if cost := r.Cost(s); cost.Events > 20_000_000 && isTerminal(cmd.ErrOrStderr()) {
				opt.Progress = runProgress(cmd.ErrOrStderr()) // a long run (several seconds)
			}
			var tmp *os.File
			var bw *bufio.Writer
			var jt *sim.JSONTracer
			if f.trace != "" {
				// Ctrl-C or SIGTERM during a long traced run removes the
				// temporary trace (a defer does not run when a signal kills
				// the process); the handler is in place before the file is.
				sig := make(chan os.Signal, 1)
				signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
				defer func() { signal.Stop(sig); close(sig) }()
				tmp, err = os.CreateTemp(filepath.Dir(f.trace), "."+filepath.Base(f.trace)+".tmp-*")
				if err != nil {
					return &exitError{exitBadInput, fmt.Sprintf("--trace %s: %v", f.trace, err)}
				}
				defer os.Remove(tmp.Name())
				go func(name string) {
					if _, ok := <-sig; ok {
						os.Remove(name)
						fmt.Fprintln(os.Stderr, "acksim: interrupted; no trace written")
						os.Exit(exitInterrupted)
					}
				}(tmp.Name())
				bw = bufio.NewWriterSize(tmp, 1<<20)
				jt = &sim.JSONTracer{W: bw}
				opt.Tracer = jt
			}
			res := scenarios.RunSpec(s, r, opt)
			if tmp != nil {
				if err := bw.Flush(); err == nil && jt.Err == nil {
					tmp.Close()
					// The same permissions as every other output (CreateTemp
					// makes the file 0600).
					if err := os.Chmod(tmp.Name(), 0o644); err != nil {
						return err
					}
					if err := os.Rename(tmp.Name(), f.trace); err != nil {
						return err
					}
				} else {
					tmp.Close()
					return fmt.Errorf("writing trace: %v %v", err, jt.Err)
				}
			}
			out := cmd.OutOrStdout()
			if f.quiet {
				out = io.Discard
			}
			if f.html == "-" {
				out = cmd.ErrOrStderr() // the page is the output; the verdict goes to stderr
			}
			replay := replayLine(args[0], s, f)
			if f.html != "" {
				if windows == nil {
					windows = reports.AutoWindows(res)
				}
				page, err := reports.RunHTML(res, replay, windows)
				if err != nil {
					return err
				}
				if err := writeOutput(cmd, f.html, page); err != nil {
					return &exitError{exitBadInput, fmt.Sprintf("--html %s: %v", f.html, err)}
				}
				if f.html != "-" {
					fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s (%d space-time diagram(s))\n", f.html, len(windows))
				}
			}
			if f.json {
				b, _ := json.MarshalIndent(res.Verdict, "", "  ")
				fmt.Fprintln(out, string(b))
			} else {
				if f.timeline {
					fmt.Fprintln(out, reports.Timeline(res.History, res.Verdict.Lost, around))
				}
				fmt.Fprint(out, reports.Verdict(res, replay))
			}
			if len(res.Failed) > 0 {
				var ex []string
				for _, e := range res.Failed {
					got, _ := res.Verdict.Get(e.Field)
					ex = append(ex, fmt.Sprintf("%s (got %g)", e, got))
				}
				return &exitError{exitFinding, "verdict contradicts the scenario's expectations: " + strings.Join(ex, "; ") + "\nreplay: " + replay}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	scenarioFlags(fl, f, "random seed (default: the scenario's seed)", "print the verdict as JSON")
	fl.StringVar(&f.trace, "trace", "", "write every kernel event to this file as JSON Lines")
	fl.BoolVar(&f.timeline, "timeline", false, "print the model's timeline (faults, elections, ISR changes, truncations)")
	fl.StringVar(&f.around, "timeline-around", "", "print only timeline events within this duration of a loss (e.g. 2s)")
	fl.StringVar(&f.html, "html", "", "write an HTML report with a space-time diagram to this file")
	fl.StringVar(&f.htmlWindow, "html-window", "", "the diagram's stretch of time, FROM:TO (default: around the first fault and the loss)")
	return withCompletion(cmd)
}

// scenarioFlags registers the flags run and check share: which scenario
// variant to use, and JSON output.
func scenarioFlags(fl *pflag.FlagSet, f *runFlags, seedHelp, jsonHelp string) {
	fl.Uint64Var(&f.seed, "seed", 1, seedHelp)
	fl.StringVar(&f.kafka, "kafka", "", "Kafka version profile: "+strings.Join(model.ProfileNames(), ", "))
	fl.StringArrayVar(&f.sets, "set", nil, "override a field or config, key=value (repeatable), e.g. --set acks=all")
	fl.StringArrayVar(&f.props, "properties", nil, "apply a Kafka properties file (server.properties, producer.properties, consumer.properties; repeatable, before --set); keys acksim does not model are listed as warnings")
	fl.BoolVar(&f.json, "json", false, jsonHelp)
	fl.BoolVar(&f.quiet, "quiet", false, "print nothing but errors; the exit code still tells the outcome, and files are written as usual")
	fl.BoolVar(&f.checkEvery, "check-every-event", false, "check the model's invariants after every event, not every 10 ms (about 10% slower)")
	fl.StringVar(&f.maxMemory, "max-memory", "4GiB", "refuse a run estimated to need more memory than this (bytes, or with KiB, MiB, GiB)")
}

// limitHeap gives Go's collector the memory --max-memory allows, as a soft
// limit (a heap that nears it is collected more often; it never fails a
// run), and paces it for the run's size: main's lazy GOGC=400 lets garbage
// reach four times the live heap, which is cheap for the megabytes of most
// runs but not for one estimated at gigabytes, whose live heap is mostly
// the pointer-free ledger and cheap to collect around (a 10-minute run at
// 100,000 records/s, on one build: 7.3 GB peak at 400, 6.3 GB at 25, and
// no slower).
func limitHeap(max, need int64) {
	debug.SetMemoryLimit(max)
	if need > 1<<30 {
		debug.SetGCPercent(25)
	}
}

// parseSize reads a size in bytes: a number, optionally with KiB, MiB or
// GiB (or K, M, G).
func parseSize(flag, v string) (int64, error) {
	mult := int64(1)
	num := strings.TrimSpace(v)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}} {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.m
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 1 || n > math.MaxInt64/mult {
		return 0, &scenarios.Error{File: flag, Value: v, Allowed: "must be a positive size such as 8GiB, 512MiB or 1073741824"}
	}
	return n * mult, nil
}

func parseFlagDuration(flag, v string) (sim.Duration, error) {
	s := &scenarios.Scenario{}
	if err := s.Set("run.duration=" + v); err != nil {
		return 0, &exitError{exitBadInput, fmt.Sprintf("%s %q: must be a duration such as 2s", flag, v)}
	}
	return s.Duration, nil
}
