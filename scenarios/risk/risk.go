// Package risk estimates acknowledged data lost per year on real failure
// rates: for each cell of a grid (the sweep's syntax), the rate of loss
// events, the records lost per year, P(at least one loss in a year), and
// which failure is to blame.
//
// Real loss events are rare, so direct Monte Carlo at real rates would need
// millions of simulated years. The estimator conditions on fault patterns
// instead: each single failure, and each ordered pair of failures close
// enough in time to interact (the second within Window of the first). A
// pattern's annual rate follows from the Poisson model; its probability of
// losing acknowledged data is estimated by simulation, with the pattern at
// a random position in the workload, random targets and random relative
// timing; trials go where they reduce the variance of the total most. The
// total is the sum over patterns of rate x probability.
//
// Assumptions, stated in the report: failures are independent Poisson
// processes; failures further apart than Window do not interact; a
// failure's effect on durability is decided within MaxOutage of it, so
// longer outages are simulated as MaxOutage long; patterns of three or more
// failures within Window are left out, and their total rate (an upper bound
// on what that leaves out) is reported.
package risk

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"acksim/scenarios"
	"acksim/scenarios/sweep"
	"acksim/sim"
)

// Year is a year of simulated time.
const Year = 365 * 24 * sim.Hour

// MaxOutage caps a simulated outage: every Kafka timer that decides what an
// outage does to durability (replica.lag.time.max.ms 30 s, session
// timeouts 9-18 s, writeback 30 s) has run by then, so a longer outage only
// lengthens the wait for the same outcome.
const MaxOutage = 30 * sim.Second

// Failure is one kind of failure's rate and duration.
type Failure struct {
	PerYear float64 `yaml:"per_year"` // per component (broker, rack) or per cluster
	For     string  `yaml:"for"`      // how long it lasts (simulated up to MaxOutage)
}

// Kind is a failure kind the estimator knows: the sweep fault it simulates,
// what one event takes (per broker, rack or cluster), and its default rate
// with the source of that figure.
type Kind struct {
	Name    string
	Per     string // "broker", "rack" or "cluster"
	Default Failure
	Source  string
}

// Kinds are the failure kinds, with documented defaults. The figures are
// for one machine (or cluster) of a typical datacenter; override them with
// your own in the spec's failures section.
var Kinds = []Kind{
	{"crash", "broker", Failure{2, "30s"},
		"assumption: a broker process killed (OOM, bug, operator) twice a year; no public field study gives this rate"},
	{"power-loss", "broker", Failure{0.5, "1h"},
		"Jeff Dean, LADIS 2009 keynote, \"typical first year for a new cluster\": ~1000 individual machine failures in a cluster of a few thousand machines"},
	{"rack-power-loss", "rack", Failure{0.67, "3h"},
		"Dean, LADIS 2009: ~20 rack failures a year (40-80 machines, 1-6 hours) in a cluster of ~30 racks"},
	{"cluster-power-loss", "cluster", Failure{1.5, "6h"},
		"Dean, LADIS 2009: ~1 PDU failure (500-1000 machines suddenly disappear, ~6 hours) and ~0.5 overheating (most machines down in <5 min) a year"},
	{"disk-loss", "broker", Failure{0.0157, "1h"},
		"Backblaze Drive Stats 2024: annualized failure rate 1.57% over ~300,000 drives"},
	{"partition", "cluster", Failure{4, "30m"},
		"Dean, LADIS 2009: ~8 network maintenances a year, 4 of which cause ~30-minute random connectivity losses"},
	{"pause", "broker", Failure{12, "10s"},
		"assumption: a GC or VM stall long enough to miss heartbeats once a month"},
}

func kindOf(name string) *Kind {
	for i := range Kinds {
		if Kinds[i].Name == name {
			return &Kinds[i]
		}
	}
	return nil
}

// Spec is a risk spec: the sweep's base, set and grid, the failure rates,
// and the estimator's knobs.
type Spec struct {
	Name     string              `yaml:"name"`
	Base     string              `yaml:"base"`
	Seed     uint64              `yaml:"seed"`
	Set      []string            `yaml:"set"`
	Grid     map[string][]string `yaml:"grid"`
	Failures map[string]Failure  `yaml:"failures"` // overrides of Kinds' defaults; per_year 0 leaves a kind out
	// Window: two failures this close interact (default 30s).
	Window string `yaml:"window"`
	// TargetError: the relative half-width of the 95% interval the
	// estimator aims at for each cell (default 0.3).
	TargetError float64 `yaml:"target_error"`
	// Pilot trials per pattern, then at most Budget trials per cell.
	Pilot  int `yaml:"pilot"`
	Budget int `yaml:"budget"`

	window sim.Duration
	sweep  *sweep.Spec
	file   string
}

// Limits refused with the figures.
const (
	MaxBudget      = 1_000_000
	MaxPerYear     = 1e6
	MaxTrialsTotal = 10_000_000 // cells x budget
)

// Parse reads a risk spec, rejecting unknown fields and values out of range
// with the file, field and what is allowed.
func Parse(file string, data []byte) (*Spec, error) {
	var s Spec
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, &scenarios.Error{File: file, Allowed: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	s.file = file
	bad := func(field string, v any, allowed string) error {
		return &scenarios.Error{File: file, Field: field, Value: fmt.Sprint(v), Allowed: allowed}
	}
	if s.Base == "" {
		s.Base = "baseline"
	}
	if s.Seed == 0 {
		s.Seed = 1
	}
	s.window = 30 * sim.Second
	if s.Window != "" {
		d, err := parseDur(s.Window)
		if err != nil || d < sim.Second || d > 10*sim.Minute {
			return nil, bad("window", s.Window, "a duration from 1s to 10m")
		}
		s.window = d
	}
	if s.TargetError == 0 {
		s.TargetError = 0.3
	}
	if !(s.TargetError >= 0.01 && s.TargetError <= 1) {
		return nil, bad("target_error", s.TargetError, "a relative error from 0.01 to 1")
	}
	if s.Pilot == 0 {
		s.Pilot = 8
	}
	if s.Pilot < 2 || s.Pilot > 10_000 {
		return nil, bad("pilot", s.Pilot, "from 2 to 10000 trials per pattern")
	}
	if s.Budget == 0 {
		s.Budget = 700
	}
	if s.Budget < 1 || s.Budget > MaxBudget {
		return nil, bad("budget", s.Budget, fmt.Sprintf("from 1 to %d trials per cell", MaxBudget))
	}
	for k, f := range s.Failures {
		if kindOf(k) == nil {
			return nil, bad("failures."+k, k, "a failure kind: "+strings.Join(kindNames(), ", "))
		}
		if !(f.PerYear >= 0 && f.PerYear <= MaxPerYear) {
			return nil, bad("failures."+k+".per_year", f.PerYear, fmt.Sprintf("a rate from 0 to %g events a year", MaxPerYear))
		}
		if f.For != "" {
			if d, err := parseDur(f.For); err != nil || d <= 0 {
				return nil, bad("failures."+k+".for", f.For, "a positive Go duration such as 30s or 6h, at most 10 years")
			}
		}
	}
	positive := false
	for i := range Kinds {
		per, _ := s.rate(&Kinds[i])
		positive = positive || per > 0
	}
	if !positive {
		return nil, bad("failures", "every per_year 0", "at least one failure kind with a positive per_year: with none, nothing can fail")
	}
	// The grid, set and base are the sweep's: reuse its parser and checks.
	sw := sweep.Spec{Name: s.Name, Base: s.Base, Trials: 1, Seed: s.Seed, Set: s.Set, Grid: s.Grid}
	raw, err := yaml.Marshal(&sw)
	if err != nil {
		return nil, err
	}
	if s.sweep, err = sweep.Parse(file, raw); err != nil {
		return nil, err
	}
	if total := int64(len(s.sweep.Cells())) * int64(s.Budget); total > MaxTrialsTotal {
		return nil, bad("budget", fmt.Sprintf("%d cells x %d trials = %d", len(s.sweep.Cells()), s.Budget, total),
			fmt.Sprintf("at most %d trials in all (cells x budget); lower the budget or the grid", MaxTrialsTotal))
	}
	return &s, nil
}

func parseDur(v string) (sim.Duration, error) {
	sc := &scenarios.Scenario{}
	if err := sc.Set("run.duration=" + v); err != nil {
		return 0, err
	}
	return sc.Duration, nil
}

func kindNames() []string {
	var out []string
	for _, k := range Kinds {
		out = append(out, k.Name)
	}
	return out
}

// Axes are the grid's axes.
func (s *Spec) Axes() []string { return s.sweep.Axes() }

// WindowDuration is the window within which two failures interact.
func (s *Spec) WindowDuration() sim.Duration { return s.window }

// FailureModel lists the kinds with this spec's rates (defaults and
// overrides), Default holding the rate in effect.
func (s *Spec) FailureModel() []Kind {
	var out []Kind
	for i := range Kinds {
		k := Kinds[i]
		per, _ := s.rate(&k)
		k.Default.PerYear = per
		if o, ok := s.Failures[k.Name]; ok && o.For != "" {
			k.Default.For = o.For
		}
		if o, ok := s.Failures[k.Name]; ok && (o.PerYear != Kinds[i].Default.PerYear || o.For != "") {
			k.Source = "this spec"
		}
		out = append(out, k)
	}
	return out
}

// Cells are the grid's cells (the sweep's, replication axis included).
func (s *Spec) Cells() []sweep.Cell { return s.sweep.Cells() }

// Check resolves every cell before anything runs.
func (s *Spec) Check() error { return s.sweep.Check() }

// rate is kind k's rate and duration in this spec.
func (s *Spec) rate(k *Kind) (perYear float64, dur sim.Duration) {
	f := k.Default
	if o, ok := s.Failures[k.Name]; ok {
		f.PerYear = o.PerYear
		if o.For != "" {
			f.For = o.For
		}
	}
	d, _ := parseDur(f.For)
	return f.PerYear, d
}

// Pattern is one failure, or an ordered pair of failures within the window.
type Pattern struct {
	Kinds []string
	// Rate is the pattern's occurrences per year on this cluster.
	Rate float64
}

func (p Pattern) String() string { return strings.Join(p.Kinds, " then ") }

// components is how many of a kind's components the cluster has.
func components(k *Kind, sc *scenarios.Scenario) int {
	switch k.Per {
	case "broker":
		return sc.Brokers
	case "rack":
		return len(sc.UniqueRacks())
	}
	return 1
}

// Patterns enumerates the patterns of a cell's cluster: every kind with a
// positive rate, and every ordered pair of them (rate λa·λb·window), and
// returns the total rate of the patterns left out (three or more failures
// within the window: at most Λ³·window²/2, Λ the total rate).
func (s *Spec) Patterns(sc *scenarios.Scenario) ([]Pattern, float64) {
	type kr struct {
		name string
		rate float64
	}
	var ks []kr
	total := 0.0
	for i := range Kinds {
		k := &Kinds[i]
		per, _ := s.rate(k)
		n := components(k, sc)
		if per <= 0 || n == 0 {
			continue
		}
		ks = append(ks, kr{k.Name, per * float64(n)})
		total += per * float64(n)
	}
	w := s.window.Seconds() / Year.Seconds()
	var out []Pattern
	for _, a := range ks {
		out = append(out, Pattern{Kinds: []string{a.name}, Rate: a.rate})
	}
	for _, a := range ks {
		for _, b := range ks {
			out = append(out, Pattern{Kinds: []string{a.name, b.name}, Rate: a.rate * b.rate * w})
		}
	}
	return out, total * total * total * w * w / 2
}

// warmup is when the first failure may come, at the earliest; the first
// failure falls uniformly in [warmup, 2·warmup): a random position in the
// workload.
const warmup = 5 * sim.Second

// trialScenario is trial t of pattern p in cell c: the cell's scenario
// with the pattern's failures at random times on random targets.
func (s *Spec) trialScenario(base *scenarios.Scenario, p Pattern, cell, pat, t int) *scenarios.Scenario {
	sc := *base
	sc.Seed = sim.TrialSeed(s.Seed, uint64(cell)<<40|uint64(pat)<<24|uint64(t))
	rng := sim.Streams{Master: sc.Seed, Trial: 0}.Stream("risk")
	at := warmup + sim.Duration(rng.Int64N(int64(warmup)))
	var steps []scenarios.Step
	type timed struct {
		at sim.Duration
		st scenarios.Step
	}
	var ts []timed
	end := at
	for i, name := range p.Kinds {
		if i > 0 {
			at += sim.Duration(rng.Int64N(int64(s.window)))
		}
		k := kindOf(name)
		_, d := s.rate(k)
		d = min(d, MaxOutage)
		broker := fmt.Sprint(1 + rng.IntN(sc.Brokers))
		do, undo := scenarios.SweepSteps(name, &sc, rng, broker, d)
		ts = append(ts, timed{at, *do})
		if undo != nil {
			ts = append(ts, timed{at + d, *undo})
		}
		end = max(end, at+d)
	}
	slices.SortStableFunc(ts, func(a, b timed) int { return int(a.at - b.at) })
	for _, x := range ts {
		st := x.st
		st.Trigger = scenarios.Trigger{Kind: "at", At: x.at}
		steps = append(steps, st)
	}
	sc.Steps = steps
	sc.Duration = end + 10*sim.Second
	sc.Producers = slices.Clone(base.Producers)
	for i := range sc.Producers {
		sc.Producers[i].Duration = 0 // send for the whole run
	}
	return &sc
}

// Estimate is one cell's result.
type Estimate struct {
	Cell     sweep.Cell
	Patterns []PatternEstimate
	// LossRate: loss events per year, with a 95% interval; RecordsPerYear
	// the expected acknowledged records lost per year.
	LossRate, Lo95, Hi95 float64
	RecordsPerYear       float64
	// PYear is P(at least one loss event in a year) = 1 - exp(-LossRate).
	PYear float64
	// Truncated is the total rate of the patterns left out (an upper bound
	// on the loss events a year they could add).
	Truncated float64
	Trials    int
	// SimSeconds is the simulated time the cell's trials took.
	SimSeconds float64
	// Fault-free produce latency, ms (a run of the cell without failures).
	P50, P99, P999 float64
}

// PatternEstimate is one pattern's share of a cell's estimate.
type PatternEstimate struct {
	Pattern
	Trials, Losses int
	LostRecords    int // over the trials
}

// p is the pattern's estimated P(loss); ps its Laplace-smoothed value,
// used for variances so that a pattern never seen losing still draws
// trials.
func (e *PatternEstimate) p() float64 {
	if e.Trials == 0 {
		return 0
	}
	return float64(e.Losses) / float64(e.Trials)
}
func (e *PatternEstimate) ps() float64 { return (float64(e.Losses) + 1) / (float64(e.Trials) + 2) }

// contribution is the pattern's loss events per year.
func (e *PatternEstimate) contribution() float64 { return e.Rate * e.p() }

// variance of the contribution's estimate.
func (e *PatternEstimate) variance() float64 {
	if e.Trials == 0 {
		return math.Inf(1)
	}
	q := e.ps()
	return e.Rate * e.Rate * q * (1 - q) / float64(e.Trials)
}

// combine fills the cell's totals: the rate as the sum of the patterns'
// contributions, its 95% interval from the normal approximation of that sum
// of independent binomial estimates (Laplace-smoothed variances, so a
// pattern never seen losing still widens it), clamped at 0.
func (e *Estimate) combine() {
	e.LossRate, e.RecordsPerYear, e.Trials = 0, 0, 0
	v := 0.0
	for i := range e.Patterns {
		pe := &e.Patterns[i]
		e.LossRate += pe.contribution()
		if pe.Trials > 0 {
			e.RecordsPerYear += pe.Rate * float64(pe.LostRecords) / float64(pe.Trials)
		}
		v += pe.variance()
		e.Trials += pe.Trials
	}
	half := 1.96 * math.Sqrt(v)
	e.Lo95, e.Hi95 = math.Max(0, e.LossRate-half), e.LossRate+half
	e.PYear = 1 - math.Exp(-e.LossRate)
}

// Done reports whether the interval's half-width is within the target
// relative error.
func (e *Estimate) Done(target float64) bool {
	return e.LossRate > 0 && (e.Hi95-e.Lo95)/2 <= target*e.LossRate
}

// Attribution is a pattern's share of the expected loss events.
type Attribution struct {
	Pattern string
	Share   float64
}

// Attribution lists the patterns that contribute, largest first.
func (e *Estimate) Attribution() []Attribution {
	var out []Attribution
	for _, pe := range e.Patterns {
		if c := pe.contribution(); c > 0 {
			out = append(out, Attribution{pe.String(), c / e.LossRate})
		}
	}
	slices.SortStableFunc(out, func(a, b Attribution) int {
		if a.Share > b.Share {
			return -1
		}
		if a.Share < b.Share {
			return 1
		}
		return 0
	})
	return out
}

// Nines is -log10 P(loss within a year) (+Inf when no loss was seen).
func (e *Estimate) Nines() float64 {
	if e.PYear <= 0 {
		return math.Inf(1)
	}
	return -math.Log10(e.PYear)
}
