// Package sweep runs a grid of configurations against many random fault
// schedules and summarises how often each loses acknowledged data.
//
// Trial i of every cell faces the same fault schedule and the same
// workload, network and disk draws (common random numbers): its seed is
// derived from (master seed, i) only, so cells are compared on the same bad
// luck, and results do not depend on the number of workers.
package sweep

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"acksim/model"
	"acksim/scenarios"
	"acksim/sim"

	"go.yaml.in/yaml/v3"
	"gonum.org/v1/gonum/stat/distuv"
)

// Spec is a sweep file.
type Spec struct {
	Name   string              `yaml:"name"`
	Base   string              `yaml:"base"`   // built-in name or file
	Trials int                 `yaml:"trials"` // per cell
	Seed   uint64              `yaml:"seed"`
	Set    []string            `yaml:"set"`  // overrides applied to every cell
	Grid   map[string][]string `yaml:"grid"` // key -> values (any --set key)
	Faults FaultModel          `yaml:"faults"`
	Charts ChartSpec           `yaml:"charts"`
	// BaseHash identifies the text of the base scenario the sweep ran on
	// (SHA-256, hex). acksim sets it in the spec.yaml it saves, so that
	// --resume and merge refuse results made on a base that changed since.
	BaseHash string `yaml:"base_sha256,omitempty"`

	// file and lines place the spec's set and grid entries, for errors
	// ("set:KEY=VALUE", "grid.KEY" and "grid.KEY=VALUE" to a line).
	file  string
	lines map[string]int
}

// Canonical is the spec as it runs, to save with its results: every field
// explicit (the seed and trials after command-line overrides) and the hash
// of the base scenario's text, in one fixed layout, so that a resume or a
// merge can compare saved specs byte for byte, whatever the original file's
// style.
func (s *Spec) Canonical() ([]byte, error) {
	sc, err := scenarios.Load(s.Base)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(sc.Raw)
	c := *s
	c.BaseHash = hex.EncodeToString(sum[:])
	b, err := yaml.Marshal(&c)
	if err != nil {
		return nil, err
	}
	return append([]byte("# the sweep as it ran (acksim writes this file; --resume and merge compare it)\n"), b...), nil
}

// ChartSpec chooses the grid axes the report's charts use. Every field is
// optional: by default the heatmap is acks x min.insync.replicas when both
// are in the grid (else the first two axes), the line chart's x axis is the
// first axis with at least two numeric values (flush settings first), and
// its lines are the values of acks (else the first other axis).
type ChartSpec struct {
	Heatmap []string `yaml:"heatmap"` // two grid keys: columns, rows
	X       string   `yaml:"x"`       // a grid key with numeric values
	Lines   string   `yaml:"lines"`   // a grid key: one line per value
}

// FaultModel gives fault kinds a rate and a duration, keyed by kind (the
// sweep kinds of the scenarios fault table). Rates are events per hour:
// per broker for broker faults, per rack for rack-power-loss, per consumer
// for consumer-crash, else for the cluster. A trial of run.duration draws a
// Poisson number of each; start times are uniform over the first 80% of
// the run.
type FaultModel map[string]Rate

// Rate is how often a fault happens and how long it lasts.
type Rate struct {
	PerHour float64 `yaml:"per_hour"`
	For     string  `yaml:"for"` // Go duration; default 5s
}

// Limits on a sweep spec, refused with the figures rather than run until
// the machine gives out.
const (
	MaxTrials      = 10_000_000 // trials per cell
	MaxCells       = 100_000    // grid cells
	MaxTrialsTotal = 10_000_000 // cells x trials
	MaxPerHour     = 1_000_000  // fault rate, events per hour
)

// Parse reads a sweep spec, rejecting unknown fields.
func Parse(file string, data []byte) (*Spec, error) {
	var s Spec
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, &scenarios.Error{File: file, Allowed: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	s.file, s.lines = file, specLines(data)
	if s.Base == "" {
		s.Base = "healthy-cluster"
	}
	if s.Trials <= 0 || s.Trials > MaxTrials {
		return nil, &scenarios.Error{File: file, Field: "trials", Value: fmt.Sprint(s.Trials), Allowed: fmt.Sprintf("must be an integer from 1 to %d", MaxTrials)}
	}
	cells := 1
	for _, k := range s.Axes() {
		if len(s.Grid[k]) == 0 {
			return nil, &scenarios.Error{File: file, Field: "grid." + k, Value: "[]", Allowed: "must list at least one value"}
		}
		cells *= len(s.Grid[k])
		if cells > MaxCells {
			return nil, &scenarios.Error{File: file, Field: "grid", Value: fmt.Sprintf("more than %d cells", MaxCells), Allowed: fmt.Sprintf("at most %d cells (the product of the axes' value counts)", MaxCells)}
		}
	}
	if total := int64(cells) * int64(s.Trials); total > MaxTrialsTotal {
		return nil, &scenarios.Error{File: file, Field: "trials", Value: fmt.Sprintf("%d cells x %d trials = %d", cells, s.Trials, total),
			Allowed: fmt.Sprintf("at most %d trials in all (a sweep keeps one result line per trial); split it with --shard", MaxTrialsTotal)}
	}
	if s.Seed == 0 {
		s.Seed = 1
	}
	if err := s.checkCharts(file); err != nil {
		return nil, err
	}
	for k := range s.Faults {
		if !slices.Contains(scenarios.Names(scenarios.SweepFaultKinds()), k) {
			return nil, &scenarios.Error{File: file, Field: "faults." + k, Value: k, Allowed: "unknown fault kind; one of: " + scenarios.FaultKindNames(scenarios.SweepFaultKinds())}
		}
	}
	for _, r := range s.Faults.all() {
		if !(r.rate.PerHour >= 0 && r.rate.PerHour <= MaxPerHour) { // also refuses NaN and infinities
			return nil, &scenarios.Error{File: file, Field: "faults." + r.kind + ".per_hour", Value: fmt.Sprint(r.rate.PerHour), Allowed: fmt.Sprintf("must be a number from 0 to %d", MaxPerHour)}
		}
		if r.rate.For != "" {
			if _, err := parseDur(r.rate.For); err != nil {
				return nil, &scenarios.Error{File: file, Field: "faults." + r.kind + ".for", Value: r.rate.For, Allowed: "must be a duration such as 5s"}
			}
		}
	}
	return &s, nil
}

func (s *Spec) checkCharts(file string) error {
	axes := strings.Join(s.Axes(), ", ")
	bad := func(field, v, why string) error {
		return &scenarios.Error{File: file, Field: "charts." + field, Value: v, Allowed: why}
	}
	if n := len(s.Charts.Heatmap); n != 0 && n != 2 {
		return bad("heatmap", strings.Join(s.Charts.Heatmap, ","), "must name two grid keys ("+axes+")")
	}
	for _, k := range s.Charts.Heatmap {
		if _, ok := s.Grid[k]; !ok {
			return bad("heatmap", k, "must be a grid key ("+axes+")")
		}
	}
	if k := s.Charts.X; k != "" {
		if _, ok := s.Grid[k]; !ok {
			return bad("x", k, "must be a grid key ("+axes+")")
		}
		if len(NumericValues(s.Grid[k])) < 2 {
			return bad("x", k, "must be a grid key with at least two numeric values")
		}
	}
	if k := s.Charts.Lines; k != "" {
		if _, ok := s.Grid[k]; !ok || k == s.Charts.X {
			return bad("lines", k, "must be a grid key other than charts.x ("+axes+")")
		}
	}
	return nil
}

// Axes are the grid keys in the order cells are expanded (sorted).
func (s *Spec) Axes() []string {
	keys := make([]string, 0, len(s.Grid))
	for k := range s.Grid {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// NumericValues returns the values of vs that are numbers (durations count,
// in milliseconds), keyed by value; "never" and other words are left out.
func NumericValues(vs []string) map[string]float64 {
	out := map[string]float64{}
	for _, v := range vs {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			out[v] = f
		} else if d, err := parseDur(v); err == nil && v != "never" {
			out[v] = float64(d) / float64(sim.Millisecond)
		}
	}
	return out
}

type kindRate struct {
	kind string
	rate Rate
}

// all lists the model's kinds in the sweep's draw order (part of every
// trial's schedule: the fault table puts new kinds last).
func (f FaultModel) all() []kindRate {
	var out []kindRate
	for _, k := range scenarios.SweepFaultKinds() {
		out = append(out, kindRate{k.Name, f[k.Name]})
	}
	return out
}

func parseDur(s string) (sim.Duration, error) {
	sc := &scenarios.Scenario{}
	if err := sc.Set("run.duration=" + s); err != nil {
		return 0, err
	}
	return sc.Duration, nil
}

// Cell is one point of the grid.
type Cell struct {
	Index    int
	Settings []string // key=value, in key order
}

func (c Cell) String() string { return strings.Join(c.Settings, " ") }

// Value is the cell's value for grid key k ("" if k is not an axis).
func (c Cell) Value(k string) string {
	for _, kv := range c.Settings {
		if key, v, _ := strings.Cut(kv, "="); key == k {
			return v
		}
	}
	return ""
}

// ReplicationAxis is the grid key whose values are replication designs,
// each optionally with settings of its own ("raft write.caching=true"). Its
// cells are sparse: a design's cells take only the axes that apply to it
// (min.insync.replicas is Kafka's; RocketMQ has no acks), so Kafka's grid
// and the other designs' face the same fault schedules in one sweep.
const ReplicationAxis = "replication"

// Cells expands the grid in a fixed order (keys sorted, values as given;
// with a replication axis, design by design).
func (s *Spec) Cells() []Cell {
	keys := s.Axes()
	var cells []Cell
	if designs, ok := s.Grid[ReplicationAxis]; ok {
		for _, d := range designs {
			design, _, _ := strings.Cut(d, " ")
			var axes []string
			for _, k := range keys {
				if k == ReplicationAxis || scenarios.AppliesTo(k, design) {
					axes = append(axes, k)
				}
			}
			cells = append(cells, s.product(axes, map[string][]string{ReplicationAxis: {d}})...)
		}
	} else {
		cells = s.product(keys, nil)
	}
	for i := range cells {
		cells[i].Index = i
	}
	return cells
}

// CellSettings is what cell c runs with: the spec's set entries, then the
// cell's own. With a replication axis, a set entry that belongs to another
// design than the cell's (a Kafka server.properties' min.insync.replicas on
// a Raft cell) is left out of that cell; Check refuses an entry that
// applies to no design of the grid.
func (s *Spec) CellSettings(c Cell) []string {
	var out []string
	design := c.Design()
	for _, kv := range s.Set {
		if k, _, _ := strings.Cut(kv, "="); design == "" || scenarios.AppliesTo(k, design) {
			out = append(out, kv)
		}
	}
	return append(out, c.Settings...)
}

// Design is the cell's replication design when the grid has a replication
// axis ("" otherwise).
func (c Cell) Design() string {
	d, _, _ := strings.Cut(c.Value(ReplicationAxis), " ")
	return d
}

// product is the cells of the given axes' values (override replaces an
// axis's values).
func (s *Spec) product(keys []string, override map[string][]string) []Cell {
	cells := []Cell{{}}
	for _, k := range keys {
		vals := s.Grid[k]
		if o, ok := override[k]; ok {
			vals = o
		}
		var next []Cell
		for _, c := range cells {
			for _, v := range vals {
				next = append(next, Cell{Settings: append(append([]string(nil), c.Settings...), k+"="+v)})
			}
		}
		cells = next
	}
	return cells
}

// schedule draws trial i's faults from its own "faults" stream: the same
// for every cell.
func (s *Spec) schedule(sc *scenarios.Scenario, trial int) []scenarios.Step {
	steps, _ := s.draw(sc, trial)
	return steps
}

// FaultKinds says, for each trial of cell c, which fault kinds it drew
// (each once, in the sweep's draw order): a schedule is a function of the
// seed and the trial, so it is recomputed rather than stored.
func (s *Spec) FaultKinds(c Cell) ([][]string, error) {
	sc, err := scenarios.Load(s.Base)
	if err != nil {
		return nil, err
	}
	if err := applySettings(sc, s.CellSettings(c)); err != nil {
		return nil, err
	}
	out := make([][]string, s.Trials)
	for t := range out {
		_, out[t] = s.draw(sc, t)
	}
	return out, nil
}

// KindStat is, for one cell and one fault kind, how many trials drew the
// kind and how many of those lost acknowledged data.
type KindStat struct {
	Kind          string
	Trials, Lossy int
}

// LossByKind counts, per cell, the trials that drew each fault kind and
// those of them that lost data (P(loss | the trial held kind K)), in the
// sweep's draw order.
func (s *Spec) LossByKind(cells []Cell, ts []Trial) (map[int][]KindStat, error) {
	lossy := map[[2]int]bool{}
	for _, t := range ts {
		lossy[[2]int{t.Cell, t.Trial}] = t.LostWrite > 0
	}
	out := map[int][]KindStat{}
	for _, c := range cells {
		kinds, err := s.FaultKinds(c)
		if err != nil {
			return nil, err
		}
		stat := map[string]*KindStat{}
		for t, ks := range kinds {
			for _, k := range ks {
				if stat[k] == nil {
					stat[k] = &KindStat{Kind: k}
				}
				stat[k].Trials++
				if lossy[[2]int{c.Index, t}] {
					stat[k].Lossy++
				}
			}
		}
		for _, k := range scenarios.Names(scenarios.SweepFaultKinds()) {
			if st := stat[k]; st != nil {
				out[c.Index] = append(out[c.Index], *st)
			}
		}
	}
	return out, nil
}

// draw draws trial i's fault schedule and says which kinds it holds.
func (s *Spec) draw(sc *scenarios.Scenario, trial int) ([]scenarios.Step, []string) {
	var drawn []string
	rng := sim.Streams{Master: s.Seed, Trial: uint64(trial)}.Stream("faults")
	hours := sc.Duration.Seconds() / 3600
	type ev struct {
		at   sim.Duration
		step scenarios.Step
	}
	var evs []ev
	at := func() sim.Duration { return sim.Duration(rng.Float64() * float64(sc.Duration) * 0.8) }
	kinds := scenarios.SweepFaultKinds()
	for i, kr := range s.Faults.all() {
		per := kr.rate.PerHour * hours
		switch kinds[i].Per {
		case "rack":
			per *= float64(len(sc.UniqueRacks()))
		case "consumer":
			per *= float64(len(sc.Consumers))
		case "broker":
			per *= float64(sc.Brokers)
		}
		d := 5 * sim.Second
		if kr.rate.For != "" {
			d, _ = parseDur(kr.rate.For)
		}
		if n := poisson(rng, per); n > 0 {
			drawn = append(drawn, kr.kind)
			s.drawSteps(sc, rng, kr.kind, d, n, at, func(t sim.Duration, st scenarios.Step) { evs = append(evs, ev{t, st}) })
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at < evs[j].at })
	out := make([]scenarios.Step, len(evs))
	for i, e := range evs {
		e.step.Trigger = scenarios.Trigger{Kind: "at", At: e.at}
		out[i] = e.step
	}
	return out, drawn
}

// drawSteps draws n faults of one kind (their start times, targets and
// undo steps), in the draw order every trial's schedule depends on.
func (s *Spec) drawSteps(sc *scenarios.Scenario, rng *rand.Rand, kind string, d sim.Duration, n int, at func() sim.Duration, add func(sim.Duration, scenarios.Step)) {
	for ; n > 0; n-- {
		t := at()
		broker := fmt.Sprint(1 + rng.IntN(sc.Brokers))
		do, undo := scenarios.SweepSteps(kind, sc, rng, broker, d)
		add(t, *do)
		if undo != nil {
			add(t+d, *undo)
		}
	}
}

// checkBase rejects fault kinds the base scenario cannot have.
func (s *Spec) checkBase(sc *scenarios.Scenario) error {
	for _, k := range scenarios.SweepFaultKinds() {
		r := s.Faults[k.Name]
		if r.PerHour <= 0 {
			continue
		}
		switch missing := sc.MissingFor(k.Name); {
		case missing == "":
		case k.Needs == "racks":
			return &scenarios.Error{File: s.Name, Field: "faults." + k.Name, Value: fmt.Sprint(r.PerHour),
				Allowed: "needs brokers with racks in the base scenario (cluster.racks in its file)"}
		default:
			return &scenarios.Error{File: s.Name, Field: "faults." + k.Name, Value: fmt.Sprint(r.PerHour),
				Allowed: "needs a consumer in the base scenario (" + s.Base + " has none)"}
		}
	}
	return nil
}

// poisson draws from Poisson(mean) by counting exponential gaps.
func poisson(r *rand.Rand, mean float64) int {
	if mean <= 0 {
		return 0
	}
	n, t := 0, r.ExpFloat64()
	for t < mean {
		n++
		t += r.ExpFloat64()
	}
	return n
}

// Trial is one run of one cell.
type Trial struct {
	Cell   int      `json:"cell"`
	Trial  int      `json:"trial"`
	Seed   JSONSeed `json:"seed"`
	Faults int      `json:"faults"`
	// Settings are the cell's settings and FaultKinds the kinds the
	// trial's schedule drew (each once, in draw order), so trials.jsonl
	// reads without the spec.
	Settings     string   `json:"settings"`
	FaultKinds   []string `json:"fault_kinds"`
	Acked        int      `json:"acked"`
	LostWrite    int      `json:"lost_write"`
	Duplicate    int      `json:"duplicate"`
	Reorder      int      `json:"reorder"`
	ConsumerLoss int      `json:"consumer_loss"`
	// Transactions (absent without a transactional producer): records a
	// read_committed consumer read from aborted transactions, and torn
	// transactions.
	AbortedRead int `json:"aborted_read,omitempty"`
	TornTxn     int `json:"torn_transaction,omitempty"`
	// Consume-transform-produce: input records with two outputs, or none.
	EOSDuplicate int     `json:"eos_duplicate,omitempty"`
	EOSLoss      int     `json:"eos_loss,omitempty"`
	UnavailMs    float64 `json:"unavailable_ms"`
	P50Ms        float64 `json:"p50_ms"`
	P99Ms        float64 `json:"p99_ms"`
	// LatencyHist is the histogram of the trial's produce latencies
	// (histogram's buckets), pooled across trials in the summary.
	LatencyHist []int  `json:"latency_hist,omitempty"`
	Converged   bool   `json:"converged"`
	TraceHash   string `json:"trace_hash"`
}

// JSONSeed is a 64-bit seed written as a JSON string ("14155185538047482906"):
// as a number it loses digits in jq and JavaScript. It reads either form,
// so trials.jsonl files written before still resume.
type JSONSeed uint64

// MarshalJSON writes the seed as a string.
func (s JSONSeed) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatUint(uint64(s), 10) + `"`), nil
}

// UnmarshalJSON reads a seed written as a string or a number.
func (s *JSONSeed) UnmarshalJSON(b []byte) error {
	n, err := strconv.ParseUint(strings.Trim(string(b), `"`), 10, 64)
	if err != nil {
		return fmt.Errorf("seed %s: %w", b, err)
	}
	*s = JSONSeed(n)
	return nil
}

// CellScenario returns the base with cell c's settings, no faults and no
// expectations (for estimators that draw their own fault patterns).
func (s *Spec) CellScenario(c Cell) (*scenarios.Scenario, error) {
	sc, err := scenarios.Load(s.Base)
	if err != nil {
		return nil, err
	}
	if err := applySettings(sc, s.CellSettings(c)); err != nil {
		return nil, s.locate(err)
	}
	sc.Expect, sc.Steps = nil, nil
	return sc, nil
}

// TrialScenario returns the scenario trial t of cell c ran: the base with
// the cell's settings, the trial's seed and its fault schedule.
func (s *Spec) TrialScenario(c Cell, t int) (*scenarios.Scenario, error) {
	sc, err := scenarios.Load(s.Base)
	if err != nil {
		return nil, err
	}
	if err := applySettings(sc, s.CellSettings(c)); err != nil {
		return nil, err
	}
	sc.Expect = nil
	sc.Seed = sim.TrialSeed(s.Seed, uint64(t))
	sc.Steps = s.schedule(sc, t)
	return sc, nil
}

// SetAxis is the grid key whose values are groups of settings, applied
// together: a cell of `set: ["replication=raft write.caching=true"]` sets
// both. It is how one grid compares designs whose settings do not mix
// (Kafka's min.insync.replicas has no meaning on Raft).
const SetAxis = "set"

// applySettings applies key=value settings to sc; a value of the set axis
// is split into its settings (separated by spaces).
// specLines maps the set and grid entries of a spec to their lines.
func specLines(data []byte) map[string]int {
	lines := map[string]int{}
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return lines
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		switch k.Value {
		case "set":
			for _, e := range v.Content {
				lines["set:"+e.Value] = e.Line
			}
		case "grid":
			for j := 0; j+1 < len(v.Content); j += 2 {
				gk, gv := v.Content[j], v.Content[j+1]
				lines["grid."+gk.Value] = gk.Line
				for _, e := range gv.Content {
					lines["grid."+gk.Value+"="+e.Value] = e.Line
				}
			}
		}
	}
	return lines
}

// locate turns the --set errors of a cell's settings into errors at the
// spec's line that gave the setting (a grid value, or a set entry).
func (s *Spec) locate(err error) error {
	var list scenarios.Errors
	switch e := err.(type) {
	case scenarios.Errors:
		list = e
	case *scenarios.Error:
		list = scenarios.Errors{e}
	default:
		return err
	}
	out := make(scenarios.Errors, len(list))
	for i, e := range list {
		c := *e
		if c.File == "--set" {
			kv := c.Field + "=" + c.Value
			switch {
			case s.lines["grid."+kv] > 0:
				c.File, c.Line, c.Field = s.file, s.lines["grid."+kv], "grid."+c.Field
			case s.lines["set:"+kv] > 0:
				c.File, c.Line, c.Field = s.file, s.lines["set:"+kv], "set: "+c.Field
			case s.lines["grid."+c.Field] > 0:
				c.File, c.Line, c.Field = s.file, s.lines["grid."+c.Field], "grid."+c.Field
			}
		}
		out[i] = &c
	}
	return out
}

func applySettings(sc *scenarios.Scenario, kvs []string) error {
	for _, kv := range kvs {
		if group, ok := strings.CutPrefix(kv, SetAxis+"="); ok {
			if err := applySettings(sc, strings.Fields(group)); err != nil {
				return err
			}
			continue
		}
		if design, ok := strings.CutPrefix(kv, ReplicationAxis+"="); ok && strings.Contains(design, " ") {
			// A design with its own settings: "raft write.caching=true".
			f := strings.Fields(design)
			if err := applySettings(sc, append([]string{ReplicationAxis + "=" + f[0]}, f[1:]...)); err != nil {
				return err
			}
			continue
		}
		if err := sc.Set(kv); err != nil {
			return err
		}
	}
	return nil
}

// Check resolves every cell's scenario (base, set, the cell's settings)
// and checks the fault model against it: a sweep that would fail does so
// before anything is written.
func (s *Spec) Check() error {
	if designs, ok := s.Grid[ReplicationAxis]; ok {
		for _, kv := range s.Set {
			k, _, _ := strings.Cut(kv, "=")
			applies := false
			for _, d := range designs {
				design, _, _ := strings.Cut(d, " ")
				applies = applies || scenarios.AppliesTo(k, design)
			}
			if !applies {
				return s.locate(&scenarios.Error{File: "--set", Field: k, Value: strings.TrimPrefix(kv, k+"="),
					Allowed: "belongs to no replication design of the grid: " + strings.Join(designs, ", ")})
			}
		}
	}
	_, err := s.bases(s.Cells())
	return err
}

// TrialCost is the largest cost of one trial over the cells.
func (s *Spec) TrialCost() (scenarios.Cost, error) {
	bases, err := s.bases(s.Cells())
	if err != nil {
		return scenarios.Cost{}, err
	}
	var worst scenarios.Cost
	for _, sc := range bases {
		r, err := sc.Resolve()
		if err != nil {
			return worst, err
		}
		if c := r.Cost(sc); c.Bytes > worst.Bytes {
			worst = c
		}
	}
	return worst, nil
}

// bytesPerTrialResult is what a finished trial's result holds in memory
// until the sweep is written.
const bytesPerTrialResult = 512

// CheckMemory refuses a sweep whose trials running at once on workers,
// plus every trial's result, would need more than max bytes.
func (s *Spec) CheckMemory(workers int, max int64) error {
	c, err := s.TrialCost()
	if err != nil {
		return err
	}
	total := int64(len(s.Cells())) * int64(s.Trials)
	need := int64(workers)*c.Bytes + total*bytesPerTrialResult
	if need > max {
		return &scenarios.LimitError{What: fmt.Sprintf("the sweep (%d trials, %d at once of up to %d records)", total, workers, c.Records),
			Need: need, Limit: max, Flag: "--max-memory (or fewer --workers)"}
	}
	return nil
}

// bases is each cell's scenario, resolved and checked.
func (s *Spec) bases(cells []Cell) ([]*scenarios.Scenario, error) {
	bases := make([]*scenarios.Scenario, len(cells))
	for i, c := range cells {
		sc, err := scenarios.Load(s.Base)
		if err != nil {
			return nil, err
		}
		if err := applySettings(sc, s.CellSettings(c)); err != nil {
			return nil, s.locate(err)
		}
		sc.Expect = nil
		if _, err := sc.Resolve(); err != nil {
			return nil, s.locate(err)
		}
		if err := s.checkBase(sc); err != nil {
			return nil, err
		}
		bases[i] = sc
	}
	return bases, nil
}

// Run runs every trial of every cell on `workers` goroutines (one trial per
// goroutine at a time; a trial itself is single-threaded). Results come back
// in (cell, trial) order whatever the worker count.
func Run(s *Spec, workers int, progress func(done, total int)) ([]Cell, []Trial, error) {
	return RunWith(s, Options{Workers: workers, Progress: progress})
}

// RunShard runs the trials t with t % n == shard, for every cell (so each
// shard holds whole paired comparisons). Merging all n shards gives exactly
// the trials of Run.
func RunShard(s *Spec, workers, shard, n int, progress func(done, total int)) ([]Cell, []Trial, error) {
	return RunWith(s, Options{Workers: workers, Shard: shard, Shards: n, Progress: progress})
}

// Options controls a sweep run.
type Options struct {
	Workers       int // goroutines; <1 means 1
	Shard, Shards int // run slice Shard of Shards (Shards 0 or 1: everything)
	// Prior are trials already run (an interrupted sweep being resumed):
	// they are kept and not run again.
	Prior []Trial
	// OnTrial is called, one call at a time, as each trial finishes (to
	// stream results to disk).
	OnTrial  func(Trial)
	Progress func(done, total int)
	// Stop, when closed, starts no more trials; those running finish.
	Stop <-chan struct{}
	// CheckEveryEvent checks the model's invariants after every event.
	CheckEveryEvent bool
}

// ErrStopped reports a run that Stop cut short: the trials returned are
// the ones that finished (with Prior).
var ErrStopped = errors.New("sweep stopped before every trial ran")

// RunWith runs a sweep (or one shard of it) with options. It returns the
// shard's trials in (cell, trial) order; with ErrStopped, only those done.
func RunWith(s *Spec, o Options) ([]Cell, []Trial, error) {
	shard, n := o.Shard, max(o.Shards, 1)
	cells := s.Cells()
	bases, err := s.bases(cells)
	if err != nil {
		return nil, nil, err
	}
	out := make([]Trial, len(cells)*s.Trials)
	have := make([]bool, len(out))
	for _, t := range o.Prior {
		if t.Cell < 0 || t.Cell >= len(cells) || t.Trial < 0 || t.Trial >= s.Trials || t.Trial%n != shard {
			return nil, nil, fmt.Errorf("prior trial %d of cell %d is not part of this sweep or shard", t.Trial, t.Cell)
		}
		j := t.Cell*s.Trials + t.Trial
		out[j], have[j] = t, true
	}
	var mine, todo []int
	for j := range out {
		if (j%s.Trials)%n == shard {
			mine = append(mine, j)
			if !have[j] {
				todo = append(todo, j)
			}
		}
	}
	total := len(mine)
	done := total - len(todo)
	jobs := make(chan int)
	var failed error // a trial broke a model invariant
	var wg sync.WaitGroup
	var mu sync.Mutex
	for w := 0; w < max(o.Workers, 1); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				t, err := s.safeTrial(bases[j/s.Trials], j/s.Trials, j%s.Trials, o.CheckEveryEvent)
				t.Settings = cells[j/s.Trials].String()
				mu.Lock()
				if err != nil {
					if failed == nil {
						failed = err
					}
					mu.Unlock()
					continue
				}
				out[j], have[j] = t, true
				done++
				if o.OnTrial != nil {
					o.OnTrial(t)
				}
				if o.Progress != nil {
					o.Progress(done, total)
				}
				mu.Unlock()
			}
		}()
	}
	stopped := false
feed:
	for _, j := range todo {
		select {
		case <-o.Stop:
			stopped = true
			break feed
		default:
		}
		select {
		case jobs <- j:
		case <-o.Stop:
			stopped = true
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if failed != nil {
		return cells, nil, failed
	}
	shardOut := make([]Trial, 0, total)
	for _, j := range mine {
		if have[j] {
			shardOut = append(shardOut, out[j])
		}
	}
	if stopped && len(shardOut) < total {
		return cells, shardOut, ErrStopped
	}
	return cells, shardOut, nil
}

// safeTrial runs a trial and turns a broken model invariant (a bug in
// acksim) into an error naming the trial, instead of a crash of every
// worker.
func (s *Spec) safeTrial(base *scenarios.Scenario, ci, ti int, every bool) (t Trial, err error) {
	defer func() {
		if r := recover(); r != nil {
			ie, ok := r.(*model.InvariantError)
			if !ok {
				panic(r)
			}
			err = &TrialBug{Cell: ci, Trial: ti, Err: ie}
		}
	}()
	return s.runTrial(base, ci, ti, every), nil
}

// TrialBug is a trial that broke a model invariant: a bug in acksim.
type TrialBug struct {
	Cell, Trial int
	Err         *model.InvariantError
}

func (e *TrialBug) Error() string {
	return fmt.Sprintf("trial %d of cell %d: %v (replay it with --export %d:%d)", e.Trial, e.Cell, e.Err, e.Cell, e.Trial)
}

// runTrial runs trial ti of cell ci from the cell's resolved base.
func (s *Spec) runTrial(base *scenarios.Scenario, ci, ti int, every bool) Trial {
	sc := *base
	sc.Seed = sim.TrialSeed(s.Seed, uint64(ti))
	var kinds []string
	sc.Steps, kinds = s.draw(&sc, ti)
	if kinds == nil {
		kinds = []string{} // "fault_kinds": [] rather than null
	}
	r, _ := sc.Resolve()
	res := scenarios.RunSpec(&sc, r, scenarios.Options{CheckEveryEvent: every})
	v := res.Verdict
	var abortedRead, torn int
	if tx := v.Transactions; tx != nil {
		abortedRead, torn = tx.AbortedRead, tx.TornTransaction
	}
	var eosDup, eosLoss int
	if e := v.ExactlyOnce; e != nil {
		eosDup, eosLoss = e.Duplicate, e.Loss
	}
	return Trial{AbortedRead: abortedRead, TornTxn: torn, EOSDuplicate: eosDup, EOSLoss: eosLoss, Cell: ci, Trial: ti, Seed: JSONSeed(sc.Seed), Faults: len(sc.Steps), FaultKinds: kinds, Acked: v.Records.Acked,
		LostWrite: v.Anomalies.LostWrite, Duplicate: v.Anomalies.Duplicate, Reorder: v.Anomalies.Reorder,
		ConsumerLoss: v.Anomalies.ConsumerLoss, UnavailMs: v.UnavailableMs, P50Ms: v.LatencyMs.P50,
		P99Ms: v.LatencyMs.P99, LatencyHist: histogram(res.History.Latencies()), Converged: v.Converged, TraceHash: v.TraceHash}
}

// Latency histograms: bucket i counts latencies below histBase·histStep^i
// (bucket 0: below 0.1 ms); 90 buckets reach past an hour. Pooling the
// trials' histograms gives the latency percentiles of every record of a
// cell, next to the median of per-trial percentiles.
const (
	histBase    = 0.1 // ms
	histStep    = 1.25
	histBuckets = 90
)

// histogram buckets latencies (sim.Duration) into histBuckets counts,
// trailing zeros trimmed.
func histogram(lat []sim.Duration) []int {
	h := make([]int, histBuckets)
	for _, d := range lat {
		ms := float64(d) / float64(sim.Millisecond)
		i := 0
		if ms >= histBase {
			i = min(histBuckets-1, 1+int(math.Floor(math.Log(ms/histBase)/math.Log(histStep))))
		}
		h[i]++
	}
	n := len(h)
	for n > 0 && h[n-1] == 0 {
		n--
	}
	return h[:n]
}

// histQuantile is the q quantile of a pooled histogram, in ms: the upper
// edge of the bucket that holds it (0 for an empty histogram).
func histQuantile(h []int, q float64) float64 {
	total := 0
	for _, c := range h {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(total)))
	seen := 0
	for i, c := range h {
		seen += c
		if seen >= rank {
			return histBase * math.Pow(histStep, float64(i))
		}
	}
	return histBase * math.Pow(histStep, float64(len(h)-1))
}

// Merge checks that trials (from any number of shards) hold every trial of
// every cell exactly once, and returns them in (cell, trial) order.
func Merge(s *Spec, parts ...[]Trial) ([]Trial, error) {
	cells := len(s.Cells())
	seen := make([]bool, cells*s.Trials)
	out := make([]Trial, cells*s.Trials)
	for _, p := range parts {
		for _, t := range p {
			if t.Cell < 0 || t.Cell >= cells || t.Trial < 0 || t.Trial >= s.Trials {
				return nil, fmt.Errorf("trial %d of cell %d is outside the spec (%d cells x %d trials)", t.Trial, t.Cell, cells, s.Trials)
			}
			j := t.Cell*s.Trials + t.Trial
			if seen[j] {
				return nil, fmt.Errorf("trial %d of cell %d appears twice", t.Trial, t.Cell)
			}
			seen[j] = true
			out[j] = t
		}
	}
	var missing []string
	for j, ok := range seen {
		if !ok && len(missing) < 5 {
			missing = append(missing, fmt.Sprintf("%d:%d", j/s.Trials, j%s.Trials))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("trials missing, e.g. %s (cell:trial): a shard did not finish or was not given", strings.Join(missing, ", "))
	}
	return out, nil
}

// Summary is one cell's statistics.
type Summary struct {
	Cell     int    `json:"cell"`
	Settings string `json:"settings"`
	// Values is the cell's value of each grid axis, by axis name (the
	// columns of summary.csv).
	Values             map[string]string `json:"values"`
	Trials             int               `json:"trials"`
	LossTrials         int               `json:"trials_with_lost_write"`
	PLoss              float64           `json:"p_lost_write"`
	Lo95               float64           `json:"p_lost_write_lo95"`
	Hi95               float64           `json:"p_lost_write_hi95"`
	MeanLost           float64           `json:"mean_lost_records"`
	MaxLost            int               `json:"max_lost_records"`
	DupTrials          int               `json:"trials_with_duplicate"`
	ConsumerLossTrials int               `json:"trials_with_consumer_loss"`
	// TxnAnomalyTrials counts trials with an aborted read, a torn
	// transaction, or an input record of a consume-transform-produce
	// application with two outputs or none (0 without transactional
	// producers).
	TxnAnomalyTrials int     `json:"trials_with_txn_anomaly"`
	MeanUnavailMs    float64 `json:"mean_unavailable_ms"`
	P50Ms            float64 `json:"median_p50_ms"`
	P99Ms            float64 `json:"median_p99_ms"`
	// FaultFreeP50Ms and FaultFreeP99Ms are the produce latency of one run
	// of the cell without faults: the price of the settings themselves,
	// which failover waits drown in P50Ms and P99Ms.
	FaultFreeP50Ms float64 `json:"fault_free_p50_ms"`
	FaultFreeP99Ms float64 `json:"fault_free_p99_ms"`
	// PooledP50Ms and PooledP99Ms are the percentiles of every record's
	// latency over all the cell's trials (from their pooled histograms, to
	// 25%: a bucket's upper edge).
	PooledP50Ms float64 `json:"pooled_p50_ms"`
	PooledP99Ms float64 `json:"pooled_p99_ms"`
}

// AddFaultFree runs each cell once without faults (the trials' duration,
// a seed of its own) and records its produce latency in sums.
func (s *Spec) AddFaultFree(cells []Cell, sums []Summary) error {
	for i, c := range cells {
		sc, err := s.CellScenario(c)
		if err != nil {
			return err
		}
		sc.Seed = sim.TrialSeed(s.Seed, 1<<62)
		r, err := sc.Resolve()
		if err != nil {
			return s.locate(err)
		}
		v := scenarios.RunSpec(sc, r, scenarios.Options{}).Verdict
		sums[i].FaultFreeP50Ms, sums[i].FaultFreeP99Ms = v.LatencyMs.P50, v.LatencyMs.P99
	}
	return nil
}

// z95 is the two-sided 95% normal quantile, Φ⁻¹(0.975) ≈ 1.96.
var z95 = distuv.UnitNormal.Quantile(0.975)

// Wilson returns the Wilson score 95% interval for k successes in n trials
// (Wilson 1927; Brown, Cai & DasGupta 2001 recommend it for small n). With
// k = 0 the upper bound is the exact one-sided 95% Clopper-Pearson bound,
// the 0.95 quantile of Beta(1, n), which is 1-0.05^(1/n) ("rule of three":
// about 3/n).
func Wilson(k, n int) (lo, hi float64) {
	if n == 0 {
		return 0, 1
	}
	if k == 0 {
		return 0, distuv.Beta{Alpha: 1, Beta: float64(n)}.Quantile(0.95)
	}
	z := z95
	p := float64(k) / float64(n)
	nn := float64(n)
	den := 1 + z*z/nn
	centre := (p + z*z/(2*nn)) / den
	half := z * math.Sqrt(p*(1-p)/nn+z*z/(4*nn*nn)) / den
	return max(0, centre-half), min(1, centre+half)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// Summarize aggregates trials per cell.
func Summarize(cells []Cell, trials []Trial) []Summary {
	out := make([]Summary, len(cells))
	p50s := make([][]float64, len(cells))
	p99s := make([][]float64, len(cells))
	hists := make([][]int, len(cells))
	for i, c := range cells {
		out[i] = Summary{Cell: i, Settings: c.String(), Values: map[string]string{}}
		for _, kv := range c.Settings {
			k, v, _ := strings.Cut(kv, "=")
			out[i].Values[k] = v
		}
	}
	for _, t := range trials {
		s := &out[t.Cell]
		s.Trials++
		if t.LostWrite > 0 {
			s.LossTrials++
		}
		s.MeanLost += float64(t.LostWrite)
		s.MaxLost = max(s.MaxLost, t.LostWrite)
		if t.Duplicate > 0 {
			s.DupTrials++
		}
		if t.ConsumerLoss > 0 {
			s.ConsumerLossTrials++
		}
		if t.AbortedRead > 0 || t.TornTxn > 0 || t.EOSDuplicate > 0 || t.EOSLoss > 0 {
			s.TxnAnomalyTrials++
		}
		s.MeanUnavailMs += t.UnavailMs
		p50s[t.Cell] = append(p50s[t.Cell], t.P50Ms)
		p99s[t.Cell] = append(p99s[t.Cell], t.P99Ms)
		for len(hists[t.Cell]) < len(t.LatencyHist) {
			hists[t.Cell] = append(hists[t.Cell], 0)
		}
		for i, c := range t.LatencyHist {
			hists[t.Cell][i] += c
		}
	}
	for i := range out {
		s := &out[i]
		if s.Trials > 0 {
			s.PLoss = float64(s.LossTrials) / float64(s.Trials)
			s.MeanLost /= float64(s.Trials)
			s.MeanUnavailMs /= float64(s.Trials)
		}
		s.Lo95, s.Hi95 = Wilson(s.LossTrials, s.Trials)
		s.P50Ms, s.P99Ms = median(p50s[i]), median(p99s[i])
		s.PooledP50Ms, s.PooledP99Ms = histQuantile(hists[i], 0.5), histQuantile(hists[i], 0.99)
	}
	return out
}

// McNemar is the exact two-sided McNemar test of paired binary outcomes: b
// pairs where only the first lost, c where only the second did; under the
// hypothesis that both lose equally often, b is Binomial(b+c, 1/2), and the
// p-value is twice the smaller tail, at most 1.
func McNemar(b, c int) float64 {
	n, k := b+c, min(b, c)
	if n == 0 {
		return 1
	}
	tail := 0.0
	for i := 0; i <= k; i++ {
		lg1, _ := math.Lgamma(float64(n + 1))
		lg2, _ := math.Lgamma(float64(i + 1))
		lg3, _ := math.Lgamma(float64(n - i + 1))
		tail += math.Exp(lg1 - lg2 - lg3 - float64(n)*math.Ln2)
	}
	return math.Min(1, 2*tail)
}

// Paired compares cells on the same schedules: for each lossy cell, on how
// many of its losing trials the safest cell lost nothing, with the exact
// McNemar test of the two cells' paired outcomes.
func Paired(cells []Cell, trials []Trial, sums []Summary, perCell int) []string {
	best := 0
	for i, s := range sums {
		if s.LossTrials < sums[best].LossTrials {
			best = i
		}
	}
	lost := func(c, t int) bool { return trials[c*perCell+t].LostWrite > 0 }
	var out []string
	for i, s := range sums {
		if i == best || s.LossTrials == 0 {
			continue
		}
		safe, worse := 0, 0
		for t := 0; t < perCell; t++ {
			switch {
			case lost(i, t) && !lost(best, t):
				safe++
			case !lost(i, t) && lost(best, t):
				worse++
			}
		}
		out = append(out, fmt.Sprintf("on the %d schedules where [%s] lost data, [%s] lost none on %d (and lost where it did not on %d; exact McNemar p = %.2g)",
			s.LossTrials, cells[i], cells[best], safe, worse, McNemar(safe, worse)))
	}
	return out
}

// Default returns the embedded default sweep spec.
func Default() (*Spec, error) { return Parse("default sweep", defaultSpec) }
