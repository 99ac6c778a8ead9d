package scenarios

import (
	"fmt"
	"slices"
	"strings"

	"acksim/history"
	"acksim/model"
	"acksim/model/check"
	"acksim/sim"
)

// Options change how a scenario runs.
type Options struct {
	Tracer sim.Tracer // receives every trace line; nil: only the hash is kept
	// RecordMessages keeps every network message for a space-time diagram
	// (Result.Recording); the run is otherwise identical.
	RecordMessages bool
	// CheckEveryEvent checks the model's invariants after every event
	// (model.Spec.CheckEveryEvent); the run is otherwise identical.
	CheckEveryEvent bool
	// Progress, when set, is told how far the faulty phase has run, in
	// simulated time, a few hundred times; the run is otherwise identical.
	Progress func(done, total sim.Time)
}

// checkAll makes every run check invariants after every event; this
// package's tests set it.
var checkAll bool

// TestHookStart, when set (by tests only), runs on every cluster just
// after it starts: tests plant faults in the model through it.
var TestHookStart func(c *model.Cluster)

// Fired is a fault step as it happened.
type Fired struct {
	Step    int      `json:"step"`
	At      sim.Time `json:"t_ns"`
	Text    string   `json:"text"`
	Skipped bool     `json:"skipped,omitempty"`
}

// Result is a finished run.
type Result struct {
	Scenario *Scenario
	Spec     model.Spec
	Verdict  *check.Verdict
	History  *history.Run
	Fired    []Fired
	Failed   []Expect // expectations the verdict contradicts
	Warnings []string
	// Recording is the run's nodes and, with Options.RecordMessages, its
	// messages, for a space-time diagram.
	Recording *history.Recording
}

// Run resolves and runs a scenario. Errors are bad input; data loss is in
// the verdict.
func Run(s *Scenario, opt Options) (*Result, error) {
	r, err := s.Resolve()
	if err != nil {
		return nil, err
	}
	return RunSpec(s, r, opt), nil
}

// RunSpec runs a resolved scenario.
func RunSpec(s *Scenario, r *Resolved, opt Options) *Result {
	spec := r.Spec
	spec.CheckEveryEvent = spec.CheckEveryEvent || opt.CheckEveryEvent || checkAll
	c := model.New(spec)
	if opt.Tracer != nil {
		c.E.SetTracer(opt.Tracer)
	}
	if opt.RecordMessages {
		c.RecordMessages()
	}
	sc := &script{s: s, c: c, cur: -1}
	sc.h = c.E.Register(sc)
	sc.kind = c.E.Kind("fault")
	c.Start()
	if TestHookStart != nil {
		TestHookStart(c)
	}
	sc.arm(0)
	end := sim.Time(s.Duration)
	if opt.Progress == nil {
		c.E.RunUntil(end)
	} else {
		// Running to the end in steps is the same run: nothing is scheduled
		// between them.
		step := max(end/200, sim.Time(sim.Second))
		for t := min(step, end); ; t = min(t+step, end) {
			c.E.RunUntil(t)
			opt.Progress(t, end)
			if t == end {
				break
			}
		}
	}
	c.E.SetHook(nil)
	for i := sc.cur; i >= 0 && i < len(s.Steps); i++ {
		sc.fired = append(sc.fired, Fired{Step: i, At: end, Text: "not reached before run.duration: " + s.Steps[i].Describe(), Skipped: true})
	}
	sc.cur = len(s.Steps)
	converged := false
	if s.Recovery {
		c.BeginRecovery()
		limit := c.E.Now().Add(s.RecoveryTimeout)
		for c.E.Now() < limit {
			if converged = c.Converged(); converged {
				break
			}
			c.E.RunUntil(c.E.Now().Add(100 * sim.Millisecond))
		}
		converged = converged || c.Converged()
	} else {
		c.StopWorkload()
	}
	h := c.History(converged)
	v := check.Run(h)
	v.Scenario, v.Seed, v.Kafka = s.Name, s.Seed, s.Kafka
	if prof, ok := model.LookupProfile(s.Kafka); ok && h.Design == "kafka" {
		v.Rules = prof.RuleNames()
	}
	if h.Design == "rocketmq" {
		v.Rules = r.Spec.Broker.RocketMQ.RuleNames()
	}
	v.TraceHash = sim.HashString(c.E.Hash())
	v.Steps = c.E.Steps()
	res := &Result{Scenario: s, Spec: r.Spec, Verdict: v, History: h, Fired: sc.fired, Warnings: r.Warnings, Recording: c.Recording()}
	for _, e := range s.Expect {
		got, _ := v.Get(e.Field)
		if !e.Holds(got) {
			res.Failed = append(res.Failed, e)
		}
	}
	return res
}

// script steps through the fault script: one step armed at a time.
type script struct {
	s    *Scenario
	c    *model.Cluster
	h    sim.HandlerID
	kind sim.KindID
	cur  int // the armed step
	// waiting: the armed `when` step's condition held and its `after`
	// wait runs (its timeout no longer applies).
	waiting bool
	base    int // leader when a leader.changed trigger was armed
	fired   []Fired
}

func (sc *script) arm(i int) {
	sc.cur, sc.waiting = i, false
	if i >= len(sc.s.Steps) {
		return
	}
	st := sc.s.Steps[i]
	e := sc.c.E
	ev := sim.Event{H: sc.h, Kind: sc.kind, A: int64(i)}
	switch st.Trigger.Kind {
	case "at":
		e.At(sim.Time(st.Trigger.At), ev)
	case "after":
		e.After(st.Trigger.At, ev)
	case "when":
		sc.base = sc.c.Leader(st.Partition)
		e.SetHook(func() {
			if sc.cur == i && sc.holds(st) {
				e.SetHook(nil)
				if st.Trigger.Wait > 0 {
					// when + after: the condition held; act later (a
					// timeout no longer applies).
					sc.waiting = true
					e.After(st.Trigger.Wait, sim.Event{H: sc.h, Kind: sc.kind, A: int64(i), B: 2})
					return
				}
				sc.fire(i)
			}
		})
		if st.Trigger.Timeout > 0 {
			ev.B = 1
			e.After(st.Trigger.Timeout, ev)
		}
	}
}

// Handle fires a timed step, or gives up on a `when` step that timed out.
func (sc *script) Handle(e *sim.Engine, ev *sim.Event) {
	i := int(ev.A)
	if sc.cur != i || (ev.B == 1 && sc.waiting) {
		return
	}
	if ev.B == 1 {
		e.SetHook(nil)
		st := sc.s.Steps[i]
		sc.fired = append(sc.fired, Fired{Step: i, At: e.Now(), Text: "timed out waiting: " + st.Describe(), Skipped: true})
		sc.c.Note(-1, history.FaultTimeout, fmt.Sprintf("fault step %d gave up after %s: %s", i+1, st.Trigger.Timeout, st.Describe()))
		sc.arm(i + 1)
		return
	}
	sc.fire(i)
}

func (sc *script) holds(st Step) bool {
	c := sc.c
	cond := st.Trigger.Cond
	tp := st.Partition
	switch cond.Kind {
	case "acked":
		return int64(c.Acked()) >= cond.N
	case "leo", "hw":
		leo, hw, ok := c.BrokerByID(cond.Broker).LogEnd(tp)
		if !ok {
			return false
		}
		if cond.Kind == "leo" {
			return leo >= cond.N
		}
		return hw >= cond.N
	case "isr.size":
		return int64(c.ISRSize(tp)) == cond.N
	case "leader.changed":
		return c.Leader(tp) != sc.base
	case "elected":
		return c.Leader(tp) == cond.Broker
	}
	return false
}

// brokers resolves a target to broker ids, in ascending order.
func (sc *script) brokers(t Target, tp int) []int {
	c := sc.c
	var out []int
	leader := c.Leader(tp)
	for _, a := range t {
		switch a.Kind {
		case "id":
			out = append(out, a.ID)
		case "leader":
			if leader > 0 {
				out = append(out, leader)
			}
		case "followers":
			for _, id := range c.Replicas(tp) {
				if id != leader {
					out = append(out, id)
				}
			}
		case "isr":
			out = append(out, c.ISR(tp)...)
		case "out-of-sync":
			for _, id := range c.Replicas(tp) {
				if !slices.Contains(c.ISR(tp), id) {
					out = append(out, id)
				}
			}
		case "all":
			out = append(out, c.BrokerIDs()...)
		case "rack":
			for _, id := range c.BrokerIDs() {
				if c.BrokerByID(id).Rack == a.Name {
					out = append(out, id)
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (sc *script) nodes(t Target, tp int) []sim.NodeID {
	c := sc.c
	var out []sim.NodeID
	for _, id := range sc.brokers(t, tp) {
		out = append(out, c.Node(id))
	}
	for _, a := range t {
		switch a.Kind {
		case "controller":
			out = append(out, c.ControllerNode())
		case "clients":
			out = append(out, c.ClientNodes()...)
		case "client":
			if p := c.ProducerByName(a.Name); p != nil {
				out = append(out, p.Node)
			}
			if m := c.ConsumerByName(a.Name); m != nil {
				out = append(out, m.Node)
			}
		}
	}
	return out
}

func idList(ids []int) string {
	var s []string
	for _, id := range ids {
		s = append(s, fmt.Sprint(id))
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ",")
}

func (sc *script) fire(i int) {
	c := sc.c
	e := c.E
	st := sc.s.Steps[i]
	a := lookupAction(st.Action)
	text := st.Describe()
	var ids []int
	if a.target == brokerTarget {
		ids = sc.brokers(st.Target, st.Partition)
		text += " -> brokers " + idList(ids)
	}
	sc.fired = append(sc.fired, Fired{Step: i, At: e.Now(), Text: text})
	e.Note(c.ControllerNode(), sc.kind, int64(i), 0, text)
	if a.onBroker != nil {
		for _, id := range ids {
			a.onBroker(sc, &st, id)
			if st.Permanent {
				c.BrokerByID(id).Retire()
			}
		}
	}
	if a.onStep != nil {
		a.onStep(sc, &st, text)
	}
	sc.arm(i + 1)
}

func (sc *script) resumeHandler() sim.HandlerID {
	return sc.c.E.Register(sim.HandlerFunc(func(e *sim.Engine, ev *sim.Event) {
		sc.c.BrokerByID(int(ev.A)).Resume()
	}))
}

func (sc *script) restoreHandler() sim.HandlerID {
	return sc.c.E.Register(sim.HandlerFunc(func(e *sim.Engine, ev *sim.Event) {
		n := sim.NodeID(ev.A)
		for _, id := range sc.c.BrokerIDs() {
			sc.c.Net.Restore(sc.c.Node(id), n)
		}
		sc.c.Note(-1, history.Heal, "responses flow again")
	}))
}
