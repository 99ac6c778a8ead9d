package scenarios

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"acksim/model"
	"acksim/sim"

	"go.yaml.in/yaml/v3"
	"pgregory.net/rapid"
)

// ExploreOptions bound the fault schedules a property test draws.
type ExploreOptions struct {
	Faults       []string     // allowed kinds (default: crash, power-loss, partition)
	MaxFaults    int          // faults per schedule (default 4)
	MaxDown      int          // brokers down, lossy or partitioned at once (default 1)
	MaxPowerLoss int          // power losses in total (default 1)
	Gap          sim.Duration // minimum time between one fault's end and the next one's start
	Horizon      sim.Duration // faults start before 80% of this (default: the scenario's run.duration)
	MaxFor       sim.Duration // longest fault (default 15s)
	// CheckEveryEvent checks the model's invariants after every event.
	CheckEveryEvent bool
}

func (o *ExploreOptions) defaults(s *Scenario) {
	if len(o.Faults) == 0 {
		o.Faults = []string{"crash", "power-loss", "partition"}
	}
	if o.MaxFaults == 0 {
		o.MaxFaults = 4
	}
	if o.MaxDown == 0 {
		o.MaxDown = 1
	}
	if o.Horizon == 0 {
		o.Horizon = s.Duration
	}
	if o.MaxFor == 0 {
		o.MaxFor = 15 * sim.Second
	}
}

// Validate checks the options against the scenario.
func (o *ExploreOptions) Validate(s *Scenario) error {
	for _, f := range o.Faults {
		if k := lookupFault(f); k == nil || !k.check {
			return &Error{File: "--faults", Value: f, Allowed: "unknown fault kind; one of: " + FaultKindNames(CheckFaultKinds())}
		}
		if missing := s.MissingFor(f); missing != "" {
			return &Error{File: "--faults", Value: f, Allowed: missing}
		}
	}
	return nil
}

// fault is one drawn fault: an action now and its undo later.
type fault struct {
	kind   string
	target string
	at     sim.Duration
	dur    sim.Duration
}

func (s *Scenario) targetsFor(kind string) []string { return lookupFault(kind).targets(s) }

// units is how many brokers a fault takes down, makes lossy or cuts off.
func (s *Scenario) units(f fault) int { return lookupFault(f.kind).units(s, f.target) }

// drawSchedule draws a fault schedule within the limits. Draws are labelled
// with the words users read (fault, target, at, for); shrinking makes
// schedules shorter, earlier, briefer and their targets simpler.
func drawSchedule(t *rapid.T, s *Scenario, o ExploreOptions) []fault {
	n := rapid.IntRange(1, o.MaxFaults).Draw(t, "faults")
	horizonMs := int64(o.Horizon*8/10) / int64(sim.Millisecond)
	var drawn []fault
	for i := 0; i < n; i++ {
		kind := rapid.SampledFrom(o.Faults).Draw(t, "fault")
		target := rapid.SampledFrom(s.targetsFor(kind)).Draw(t, "target")
		at := sim.Duration(rapid.Int64Range(0, max(horizonMs, 1)).Draw(t, "at")) * sim.Millisecond
		dur := sim.Duration(rapid.Int64Range(100, int64(o.MaxFor/sim.Millisecond)).Draw(t, "for")) * sim.Millisecond
		drawn = append(drawn, fault{kind, target, at, dur})
	}
	sort.SliceStable(drawn, func(i, j int) bool { return drawn[i].at < drawn[j].at })
	// Enforce the limits by dropping faults that would break them.
	var out []fault
	power := 0
	for _, f := range drawn {
		u := s.units(f)
		if u > o.MaxDown {
			continue
		}
		if lookupFault(f.kind).powerLoss {
			if power >= o.MaxPowerLoss {
				continue
			}
		}
		busy := 0
		ok := true
		for _, g := range out {
			if s.units(g) == 0 || u == 0 {
				continue
			}
			if g.at+g.dur+o.Gap > f.at {
				busy += s.units(g)
				if o.Gap > 0 {
					ok = false
				}
			}
		}
		if !ok || busy+u > o.MaxDown {
			continue
		}
		if lookupFault(f.kind).powerLoss {
			power++
		}
		out = append(out, f)
	}
	return out
}

func atomTarget(name string) Target {
	w := &walker{}
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: name}
	return w.target(n, "target")
}

// steps turns faults into script steps, in time order: each fault and the
// step that undoes it (restart every stopped broker, heal, restart the client).
func steps(fs []fault) []Step {
	type timed struct {
		at sim.Duration
		st Step
	}
	var ts []timed
	add := func(at sim.Duration, st Step) {
		st.Trigger = Trigger{Kind: "at", At: at}
		ts = append(ts, timed{at, st})
	}
	for _, f := range fs {
		do, undo := lookupFault(f.kind).steps(f.target, f.dur, true)
		add(f.at, *do)
		if undo != nil {
			add(f.at+f.dur, *undo)
		}
	}
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].at < ts[j].at })
	// Overlapping faults end together: the first `restart all` (or `heal`)
	// undoes every fault before it, so a later one with no new fault of
	// its kind in between would do nothing; leave it out of the schedule.
	var out []Step
	pending := map[string]bool{}
	for _, t := range ts {
		undo := ""
		switch {
		case t.st.Action == "restart" && t.st.Target.String() == atomTarget("all").String():
			undo = "restart"
		case t.st.Action == "heal":
			undo = "heal"
		}
		if undo != "" {
			if !pending[undo] {
				continue
			}
			pending[undo] = false
		}
		switch t.st.Action {
		case "crash", "power-loss", "disk-loss", "shutdown":
			pending["restart"] = true
		case "partition", "isolate":
			pending["heal"] = true
		}
		out = append(out, t.st)
	}
	return out
}

// Property names a verdict field that must be zero.
var Properties = []string{"lost_write", "duplicate", "reorder", "consumer_loss", "divergence", "inconsistent_read", "aborted_read", "torn_transaction", "eos_duplicate", "eos_loss", "unconverged"}

// PropertyMissing says why the scenario cannot show property p ("" if it
// can): a property that cannot fail is not searched for.
func (s *Scenario) PropertyMissing(p string) string {
	switch p {
	case "aborted_read", "torn_transaction":
		if len(transactionalNames(s)) == 0 {
			return "the scenario has no transactional producer (transactional.id): nothing can be aborted or torn"
		}
	case "eos_duplicate", "eos_loss":
		if !slices.ContainsFunc(s.Consumers, func(c ConsumerDef) bool { return c.Output != "" }) {
			return "the scenario has no consume-transform-produce application (a consumer with processing.output)"
		}
	case "consumer_loss":
		if len(s.Consumers) == 0 {
			return "the scenario has no consumers"
		}
	case "unconverged":
		if !s.Recovery {
			return "the scenario has no recovery (run.recovery: false), so it never converges"
		}
	}
	return ""
}

// ExploreStats say what a search did.
type ExploreStats struct {
	Tried     int
	Simulated sim.Duration
	Fired     map[string]int // fault actions that fired, by action
	// Bug is a broken model invariant (a bug in acksim, not a finding),
	// and BugScenario the schedule that broke it (after shrinking, the
	// smallest found); nil if none broke.
	Bug         *model.InvariantError
	BugScenario *Scenario
}

// Counterexample is a schedule that broke a property.
type Counterexample struct {
	Scenario *Scenario
	Result   *Result
	Broken   []string // properties that failed
}

// Explore is one rapid property: for each drawn schedule, run the scenario
// and require every property to be zero. It records what it tried and the
// last failing schedule (after shrinking, the minimal one).
func Explore(base *Scenario, o ExploreOptions, props []string, stats *ExploreStats, found **Counterexample) func(*rapid.T) {
	o.defaults(base)
	return func(t *rapid.T) {
		fs := drawSchedule(t, base, o)
		s := *base
		s.Steps = steps(fs)
		s.Expect = nil
		r, err := s.Resolve()
		if err != nil {
			t.Fatalf("generated an invalid scenario: %v", err)
		}
		res, bug := runGuarded(&s, r, Options{CheckEveryEvent: o.CheckEveryEvent})
		stats.Tried++
		if bug != nil {
			stats.Bug, stats.BugScenario = bug, &s
			t.Fatalf("model invariant broken: %v", bug)
		}
		stats.Simulated += sim.Duration(res.History.End)
		for _, f := range res.Fired {
			if !f.Skipped {
				stats.Fired[s.Steps[f.Step].Action]++
			}
		}
		var broken []string
		for _, p := range props {
			if v, _ := res.Verdict.Get(p); v > 0 {
				broken = append(broken, fmt.Sprintf("%s=%g", p, v))
			}
		}
		if len(broken) > 0 {
			*found = &Counterexample{Scenario: &s, Result: res, Broken: broken}
			t.Fatalf("%s", strings.Join(broken, ", "))
		}
	}
}

// runGuarded runs a scenario and returns a broken model invariant instead
// of panicking with it.
func runGuarded(s *Scenario, r *Resolved, opt Options) (res *Result, bug *model.InvariantError) {
	defer func() {
		if p := recover(); p != nil {
			ie, ok := p.(*model.InvariantError)
			if !ok {
				panic(p)
			}
			bug = ie
		}
	}()
	return RunSpec(s, r, opt), nil
}

// DrawConfig draws a Kafka configuration as --set pairs; each draw is
// labelled with its config name, so a shrunk counterexample reads as
// settings. Combinations Kafka rejects (explicit idempotence without
// acks=all, or with 5 in flight on 0.11) are not drawn.
func DrawConfig(t *rapid.T) []string {
	kafka := rapid.SampledFrom([]string{"3.9", "4.1", "3.6", "2.8", "0.11"}).Draw(t, "kafka")
	acks := rapid.SampledFrom([]string{"all", "1", "0"}).Draw(t, "acks")
	minISR := rapid.SampledFrom([]string{"2", "1", "3"}).Draw(t, "min.insync.replicas")
	flush := rapid.SampledFrom([]string{"1", "never"}).Draw(t, "log.flush.interval.messages")
	unclean := rapid.SampledFrom([]string{"false", "true"}).Draw(t, "unclean.leader.election.enable")
	idem := "false"
	if prof, _ := model.LookupProfile(kafka); acks == "all" && prof.Features.IdempotentInFlight >= model.DefaultProducer(prof).MaxInFlight {
		idem = rapid.SampledFrom([]string{"true", "false"}).Draw(t, "enable.idempotence")
	}
	return []string{"kafka=" + kafka, "acks=" + acks, "min.insync.replicas=" + minISR,
		"log.flush.interval.messages=" + flush, "unclean.leader.election.enable=" + unclean, "enable.idempotence=" + idem}
}

// SafeByRule reports whether a configuration drawn by DrawConfig should
// never lose an acknowledged record under crashes, power losses, pauses
// and partitions (no disk loss): acks=all, min.insync.replicas >= 2, fsync
// on every message, clean elections only, leader-epoch truncation.
func SafeByRule(sets []string) bool {
	m := map[string]string{}
	for _, kv := range sets {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m["acks"] == "all" && m["min.insync.replicas"] != "1" && m["log.flush.interval.messages"] == "1" && m["unclean.leader.election.enable"] == "false"
}
