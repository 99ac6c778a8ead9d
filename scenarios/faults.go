package scenarios

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"acksim/history"
	"acksim/sim"
)

// The fault table. Every fault-script action and every fault kind that
// `check` and `sweep` draw is defined once here: its name, what it takes,
// what it does, how it is applied and undone. The parser, the script
// runner, check's generator, the sweep's fault model, the command-line help
// and docs/scenarios.md (kept in step by a test) all read it.

// targetKind is what an action's target names.
type targetKind uint8

const (
	noTarget       targetKind = iota
	brokerTarget              // broker ids, leader, followers, isr, out-of-sync, rack:NAME, all
	clientTarget              // producer or consumer names
	producerTarget            // producer names
	consumerTarget            // consumer names
	groupsTarget              // partition: groups of targets
)

// action is one fault-script action.
type action struct {
	name   string
	fields string // what a step with this action takes (docs)
	effect string // what it does (docs, help)
	target targetKind
	// needs checks a step's fields beyond its target: "" when complete,
	// else the field (after "faults[i]") and what is missing.
	needs func(st *Step) (field, missing string)
	// onBroker applies the action to one target broker; onStep applies it
	// once per step (after onBroker ran for every target broker).
	onBroker func(sc *script, st *Step, id int)
	onStep   func(sc *script, st *Step, text string)
}

// permanentActions are the actions `permanent: true` applies to: the
// broker is not restarted, by a later step or by the recovery phase.
var permanentActions = []string{"crash", "power-loss", "disk-loss"}

// actions lists the fault-script actions (docs order).
var actions = []action{
	{name: "crash", fields: "target, optional `permanent`", target: brokerTarget,
		effect:   "kill -9: the process dies; the OS keeps the page cache and writes it back; peers see the sockets close",
		onBroker: func(sc *script, _ *Step, id int) { sc.c.BrokerByID(id).Crash() }},
	{name: "power-loss", fields: "target, optional `permanent`", target: brokerTarget,
		effect:   "the machine loses power: unflushed page cache is gone; no signal to peers",
		onBroker: func(sc *script, _ *Step, id int) { sc.c.BrokerByID(id).PowerLoss() }},
	{name: "restart", fields: "target", target: brokerTarget,
		effect:   "start stopped brokers (a new incarnation registers with the controller)",
		onBroker: func(sc *script, _ *Step, id int) { sc.c.BrokerByID(id).Restart() }},
	{name: "shutdown", fields: "target", target: brokerTarget,
		effect:   "controlled shutdown: leadership moves away, logs are flushed, the broker stops cleanly",
		onBroker: func(sc *script, _ *Step, id int) { sc.c.BrokerByID(id).Shutdown() }},
	{name: "disk-loss", fields: "target, optional `permanent`", target: brokerTarget,
		effect:   "the broker dies and its log directory is gone (it restarts empty in recovery); `permanent: true` (also on crash and power-loss): it never comes back, and recovery settles on the other brokers",
		onBroker: func(sc *script, _ *Step, id int) { sc.c.BrokerByID(id).DiskLoss() }},
	{name: "pause", fields: "target, optional `for`", target: brokerTarget,
		effect: "a GC or VM stall: no timers, messages wait; resumes after `for` (or on resume, or in recovery)",
		onBroker: func(sc *script, st *Step, id int) {
			sc.c.BrokerByID(id).Pause()
			if st.For > 0 {
				sc.c.E.After(st.For, sim.Event{H: sc.resumeHandler(), A: int64(id)})
			}
		}},
	{name: "resume", fields: "target", target: brokerTarget, effect: "end a pause",
		onBroker: func(sc *script, _ *Step, id int) { sc.c.BrokerByID(id).Resume() }},
	{name: "slow-disk", fields: "target, `factor`, `for`", target: brokerTarget,
		effect: "fsync takes `factor` times longer for `for`",
		needs: func(st *Step) (string, string) {
			if st.Factor == 0 || st.For == 0 {
				return "", "slow-disk needs factor (e.g. 20) and for (e.g. 30s)"
			}
			return "", ""
		},
		onBroker: func(sc *script, st *Step, id int) { sc.c.BrokerByID(id).SlowDisk(st.Factor, st.For) }},
	{name: "isolate", fields: "target", target: brokerTarget,
		effect: "cut every link to and from the brokers (controller and clients included)",
		onBroker: func(sc *script, _ *Step, id int) {
			sc.c.Net.Isolate(sc.c.Node(id))
			sc.c.Note(id, history.Isolate, fmt.Sprintf("broker %d isolated from every other node", id))
		}},
	{name: "partition", fields: "`groups`, optional `one-way`", target: groupsTarget,
		effect: "cut links between groups of targets; `one-way: true` cuts only from the first group to the others",
		needs: func(st *Step) (string, string) {
			if len(st.Groups) < 2 {
				return ".groups", "partition needs at least two groups, e.g. groups: [[leader], [followers]]"
			}
			return "", ""
		},
		onStep: func(sc *script, st *Step, text string) {
			var groups [][]sim.NodeID
			for _, g := range st.Groups {
				groups = append(groups, sc.nodes(g, st.Partition))
			}
			if st.OneWay {
				for _, g := range groups[1:] {
					sc.c.Net.PartitionOneWay(groups[0], g)
				}
			} else {
				sc.c.Net.Partition(groups)
			}
			sc.c.Note(-1, history.Partition, "network partitioned: "+text)
		}},
	{name: "delay", fields: "`groups`, `extra`, `for`, optional `one-way`", target: groupsTarget,
		effect: "messages on links between groups take `extra` longer for `for` (late, never lost; each link stays FIFO, so later messages queue behind them); `one-way: true` slows only links from the first group",
		needs: func(st *Step) (string, string) {
			switch {
			case len(st.Groups) < 2:
				return ".groups", "delay needs at least two groups, e.g. groups: [[3], [leader]]"
			case st.Extra <= 0:
				return ".extra", "delay needs the added one-way latency, e.g. extra: 10s"
			case st.For <= 0:
				return ".for", "delay needs how long links stay slow, e.g. for: 1s"
			}
			return "", ""
		},
		onStep: func(sc *script, st *Step, text string) {
			type pair struct{ from, to sim.NodeID }
			var links []pair
			groups := make([][]sim.NodeID, len(st.Groups))
			for i, g := range st.Groups {
				groups[i] = sc.nodes(g, st.Partition)
			}
			for gi, g := range groups {
				for gj, h := range groups {
					if gi == gj || (st.OneWay && gi != 0) {
						continue
					}
					for _, a := range g {
						for _, b := range h {
							if a != b {
								links = append(links, pair{a, b})
							}
						}
					}
				}
			}
			c := sc.c
			for _, l := range links {
				c.Net.Delay(l.from, l.to, st.Extra)
			}
			c.Note(-1, history.Delay, "links slowed: "+text)
			c.E.After(st.For, sim.Event{H: c.E.Register(sim.HandlerFunc(func(*sim.Engine, *sim.Event) {
				for _, l := range links {
					c.Net.Delay(l.from, l.to, 0)
				}
				c.Note(-1, history.Delay, "links fast again (messages already on them still arrive late)")
			}))})
		}},
	{name: "controller-outage", fields: "`for`", target: noTarget,
		effect: "the controller quorum (ZooKeeper in ZooKeeper profiles) is unreachable for `for`: no registration, fencing, election or ISR change; brokers keep serving with the metadata they have",
		needs: func(st *Step) (string, string) {
			if st.For <= 0 {
				return ".for", "controller-outage needs how long, e.g. for: 30s"
			}
			return "", ""
		},
		onStep: func(sc *script, st *Step, _ string) {
			c := sc.c
			c.ControllerOutage(true)
			c.E.After(st.For, sim.Event{H: c.E.Register(sim.HandlerFunc(func(*sim.Engine, *sim.Event) { c.ControllerOutage(false) }))})
		}},
	{name: "heal", fields: "", target: noTarget, effect: "restore every link (and end every delay)",
		onStep: func(sc *script, _ *Step, _ string) {
			sc.c.Net.Heal()
			sc.c.Note(-1, history.Heal, "network healed")
		}},
	{name: "drop-responses", fields: "target (clients), optional `for`", target: clientTarget,
		effect: "every broker's messages to these clients are lost; they flow again after `for`",
		onStep: func(sc *script, st *Step, _ string) {
			c := sc.c
			for _, n := range sc.nodes(st.Target, st.Partition) {
				for _, id := range c.BrokerIDs() {
					c.Net.Cut(c.Node(id), n)
				}
				if st.For > 0 {
					c.E.After(st.For, sim.Event{H: sc.restoreHandler(), A: int64(n)})
				}
			}
			c.Note(-1, history.DropResponses, "responses to "+st.Target.String()+" are lost")
		}},
	{name: "producer-crash", fields: "target (producers)", target: producerTarget,
		effect: "buffered and in-flight records are never acknowledged",
		onStep: forProducers(func(p interface{ Crash() }) { p.Crash() })},
	{name: "producer-restart", fields: "target (producers)", target: producerTarget,
		effect: "start again with a new producer id",
		onStep: forProducers(func(p interface{ Restart() }) { p.Restart() })},
	{name: "producer-pause", fields: "target (producers), optional `for`", target: producerTarget,
		effect: "the producer's process stalls (a GC pause, a stopped VM): it sends and handles nothing; resumed after `for` (0: until producer-resume or recovery)",
		onStep: func(sc *script, st *Step, _ string) {
			for _, a := range st.Target {
				if p := sc.c.ProducerByName(a.Name); p != nil {
					p.Pause()
					if st.For > 0 {
						sc.c.E.After(st.For, sim.Event{H: sc.c.E.Register(sim.HandlerFunc(func(*sim.Engine, *sim.Event) { p.Resume() }))})
					}
				}
			}
		}},
	{name: "producer-resume", fields: "target (producers)", target: producerTarget, effect: "end a producer's pause",
		onStep: forProducers(func(p interface{ Resume() }) { p.Resume() })},
	{name: "delay-message", fields: "target (producers), `message`, `extra`", target: producerTarget,
		effect: "the next `message` (" + strings.Join(DelayableMessages, ", ") + ") each target sends arrives `extra` late, out of its connection's order: a request the client gave up on, delivered after its retry on a new connection (KIP-890, KAFKA-17754)",
		needs: func(st *Step) (string, string) {
			if st.Extra <= 0 {
				return ".extra", "delay-message needs how late, e.g. extra: 40s"
			}
			if !slices.Contains(DelayableMessages, st.Message) {
				return ".message", "delay-message needs which message: one of " + strings.Join(DelayableMessages, ", ")
			}
			return "", ""
		},
		onStep: func(sc *script, st *Step, _ string) {
			for _, a := range st.Target {
				sc.c.HoldNextMessage(a.Name, st.Message, st.Extra)
			}
		}},
	{name: "consumer-crash", fields: "target (consumers)", target: consumerTarget,
		effect: "the member dies; the group reassigns after session.timeout.ms",
		onStep: forConsumers(func(m interface{ Crash() }) { m.Crash() })},
	{name: "consumer-restart", fields: "target (consumers)", target: consumerTarget,
		effect: "the member rejoins the group",
		onStep: forConsumers(func(m interface{ Restart() }) { m.Restart() })},
}

// DelayableMessages are the messages delay-message can hold back.
var DelayableMessages = []string{"produce", "end-txn", "add-partitions-to-txn", "init-producer-id"}

func forProducers[T any](f func(T)) func(*script, *Step, string) {
	return func(sc *script, st *Step, _ string) {
		for _, a := range st.Target {
			if p := sc.c.ProducerByName(a.Name); p != nil {
				f(any(p).(T))
			}
		}
	}
}

func forConsumers[T any](f func(T)) func(*script, *Step, string) {
	return func(sc *script, st *Step, _ string) {
		for _, a := range st.Target {
			if m := sc.c.ConsumerByName(a.Name); m != nil {
				f(any(m).(T))
			}
		}
	}
}

// lookupAction returns the action with that name, or nil.
func lookupAction(name string) *action {
	for i := range actions {
		if actions[i].name == name {
			return &actions[i]
		}
	}
	return nil
}

// ActionNames lists the fault-script actions.
func ActionNames() []string {
	var out []string
	for _, a := range actions {
		out = append(out, a.name)
	}
	return out
}

// faultKind is a fault `check` and `sweep` draw: an action on a drawn
// target, and for most the action that undoes it after the fault's
// duration.
type faultKind struct {
	name, help string
	// targets are the targets check may draw, simplest first.
	targets func(s *Scenario) []string
	// units is how many brokers the fault takes down, makes lossy or cuts
	// off (check's --max-down).
	units func(s *Scenario, target string) int
	// steps are the fault and its undo on target, the fault lasting dur.
	// A broker fault is undone by a restart: of every stopped broker with
	// restartAll (check: overlapping faults end together), else of the
	// target (the sweep).
	steps func(target string, dur sim.Duration, restartAll bool) (do, undo *Step)
	// powerLoss: it counts toward check's --max-power-loss.
	powerLoss bool
	// needs is what the base scenario must have ("racks", "consumers").
	needs string
	// check: check can draw it. sweep: its place in the sweep's draw order
	// (1-based; 0: not in the sweep's fault model; the order is part of a
	// trial's schedule, so new kinds go last). per: what its sweep rate
	// counts per ("broker", "rack", "consumer" or "cluster").
	check bool
	sweep int
	per   string
}

func step(action, target string) *Step {
	st := &Step{Action: action}
	if target != "" {
		st.Target = atomTarget(target)
	}
	return st
}

func brokerUnits(s *Scenario, target string) int {
	switch {
	case target == "all":
		return s.Brokers
	case target == "followers":
		return s.RF - 1
	case strings.HasPrefix(target, "rack:"):
		n := 0
		for _, r := range s.Racks {
			if "rack:"+r == target {
				n++
			}
		}
		return n
	}
	return 1
}

func noUnits(*Scenario, string) int { return 0 }

func brokerTargets(s *Scenario) []string {
	out := []string{"leader", "followers"}
	for id := 1; id <= s.Brokers; id++ {
		out = append(out, fmt.Sprint(id))
	}
	return append(out, "all")
}

func sides(*Scenario) []string { return []string{"leader", "followers"} } // the side cut from the rest

func producerNames(s *Scenario) []string {
	var ps []string
	for _, p := range s.Producers {
		ps = append(ps, p.Name)
	}
	return ps
}

func consumerNames(s *Scenario) []string {
	var cs []string
	for _, c := range s.Consumers {
		cs = append(cs, c.Name)
	}
	return cs
}

func rackTargets(s *Scenario) []string {
	var rs []string
	for _, r := range s.Racks {
		if !slices.Contains(rs, "rack:"+r) {
			rs = append(rs, "rack:"+r)
		}
	}
	sort.Strings(rs)
	return rs
}

// downThenRestart: the action, then a restart.
func downThenRestart(action string) func(string, sim.Duration, bool) (*Step, *Step) {
	return func(target string, _ sim.Duration, restartAll bool) (*Step, *Step) {
		if restartAll {
			return step(action, target), step("restart", "all")
		}
		return step(action, target), step("restart", target)
	}
}

func cutOff(oneWay bool) func(string, sim.Duration, bool) (*Step, *Step) {
	return func(target string, _ sim.Duration, _ bool) (*Step, *Step) {
		other := "followers"
		if target == "followers" {
			other = "leader"
		}
		return &Step{Action: "partition", Groups: []Target{atomTarget(target), atomTarget(other)}, OneWay: oneWay}, step("heal", "")
	}
}

// lasting: the action with `for`, undone by itself.
func lasting(action string, factor float64) func(string, sim.Duration, bool) (*Step, *Step) {
	return func(target string, dur sim.Duration, _ bool) (*Step, *Step) {
		st := step(action, target)
		st.For, st.Factor = dur, factor
		return st, nil
	}
}

func crashThenRestart(crash, restart string) func(string, sim.Duration, bool) (*Step, *Step) {
	return func(target string, _ sim.Duration, _ bool) (*Step, *Step) {
		return step(crash, target), step(restart, target)
	}
}

// faultKinds lists the drawn fault kinds, simplest first (check's order).
var faultKinds = []faultKind{
	{name: "crash", help: "kill -9 a broker, restart it after `for`", targets: brokerTargets, units: brokerUnits,
		steps: downThenRestart("crash"), check: true, sweep: 1, per: "broker"},
	{name: "power-loss", help: "a broker loses power (page cache gone), restarts after `for`", targets: brokerTargets, units: brokerUnits,
		steps: downThenRestart("power-loss"), powerLoss: true, check: true, sweep: 2, per: "broker"},
	{name: "partition", help: "the leader (or the followers) cut from the rest, healed after `for`", targets: sides,
		units: func(*Scenario, string) int { return 1 }, steps: cutOff(false), check: true, sweep: 4, per: "cluster"},
	{name: "one-way-partition", help: "as partition, but only messages from the cut side are lost", targets: sides,
		units: func(*Scenario, string) int { return 1 }, steps: cutOff(true), check: true},
	{name: "isolate", help: "a broker cut from every node, healed after `for`", targets: brokerTargets, units: brokerUnits,
		steps: func(target string, _ sim.Duration, _ bool) (*Step, *Step) {
			return step("isolate", target), step("heal", "")
		}, check: true},
	{name: "pause", help: "a broker stalls (GC or VM) for `for`", targets: brokerTargets, units: brokerUnits,
		steps: lasting("pause", 0), check: true, sweep: 5, per: "broker"},
	{name: "slow-disk", help: "a broker's fsync is 20 times slower for `for`", targets: brokerTargets, units: brokerUnits,
		steps: lasting("slow-disk", 20), check: true},
	{name: "drop-responses", help: "brokers' messages to a producer are lost for `for`", targets: producerNames, units: noUnits,
		steps: lasting("drop-responses", 0), check: true, sweep: 7, per: "cluster"},
	{name: "disk-loss", help: "a broker dies with its log directory, restarts empty after `for`", targets: brokerTargets, units: brokerUnits,
		steps: downThenRestart("disk-loss"), check: true, sweep: 6, per: "broker"},
	{name: "rack-power-loss", help: "every broker of a rack loses power, restarts after `for`", targets: rackTargets, units: brokerUnits,
		steps: downThenRestart("power-loss"), powerLoss: true, needs: "racks", check: true, sweep: 8, per: "rack"},
	{name: "producer-crash", help: "a producer dies, restarts after `for` with a new producer id", targets: producerNames, units: noUnits,
		steps: crashThenRestart("producer-crash", "producer-restart"), check: true},
	{name: "consumer-crash", help: "a consumer dies, rejoins after `for`", targets: consumerNames, units: noUnits,
		steps: crashThenRestart("consumer-crash", "consumer-restart"), needs: "consumers", check: true, sweep: 9, per: "consumer"},
	{name: "cluster-power-loss", help: "every broker loses power at once, restarts after `for`", targets: func(*Scenario) []string { return []string{"all"} },
		units: brokerUnits, steps: downThenRestart("power-loss"), powerLoss: true, sweep: 3, per: "cluster"},
	{name: "link-delay", help: "messages to and from the leader (or the followers) take `for` longer, for `for`", targets: sides,
		units: noUnits, steps: func(target string, dur sim.Duration, _ bool) (*Step, *Step) {
			other := "followers"
			if target == "followers" {
				other = "leader"
			}
			rest := append(atomTarget(other), Atom{Kind: "controller"}, Atom{Kind: "clients"})
			return &Step{Action: "delay", Groups: []Target{atomTarget(target), rest}, Extra: dur, For: dur}, nil
		}, check: true, sweep: 10, per: "cluster"},
	{name: "permanent-disk-loss", help: "a broker dies with its log directory and never comes back (recovery settles on the rest)",
		targets: func(s *Scenario) []string {
			out := []string{"leader"}
			for id := 1; id <= s.Brokers; id++ {
				out = append(out, fmt.Sprint(id))
			}
			return out
		},
		units: func(*Scenario, string) int { return 1 }, steps: func(target string, _ sim.Duration, _ bool) (*Step, *Step) {
			st := step("disk-loss", target)
			st.Permanent = true
			return st, nil
		}, check: true, sweep: 11, per: "broker"},
	{name: "controller-outage", help: "the controller quorum is unreachable for `for`", targets: func(*Scenario) []string { return []string{""} },
		units: noUnits, steps: func(_ string, dur sim.Duration, _ bool) (*Step, *Step) {
			return &Step{Action: "controller-outage", For: dur}, nil
		}, check: true, sweep: 12, per: "cluster"},
	{name: "producer-pause", help: "a producer's process stalls (GC or VM) for `for`", targets: producerNames, units: noUnits,
		steps: lasting("producer-pause", 0), check: true, sweep: 13, per: "cluster"},
	{name: "delayed-end-txn", help: "a transactional producer's next EndTxn arrives `for` late, after its retry (KAFKA-17754)",
		targets: transactionalNames, units: noUnits, steps: delayedMessage("end-txn"), needs: "transactions", check: true, sweep: 14, per: "cluster"},
	{name: "delayed-produce", help: "a transactional producer's next produce request arrives `for` late, after later requests (KIP-890: a hanging transaction, or a batch that joins the next transaction)",
		targets: transactionalNames, units: noUnits, steps: delayedMessage("produce"), needs: "transactions", check: true, sweep: 15, per: "cluster"},
}

// delayedMessage: the target's next message of the kind arrives `for`
// late, out of its link's order (delay-message).
func delayedMessage(message string) func(string, sim.Duration, bool) (*Step, *Step) {
	return func(target string, dur sim.Duration, _ bool) (*Step, *Step) {
		st := step("delay-message", target)
		st.Message, st.Extra = message, dur
		return st, nil
	}
}

// transactionalNames are the producers with a transactional.id.
func transactionalNames(s *Scenario) []string {
	var out []string
	for i, p := range s.Producers {
		for _, st := range s.Settings {
			if st.Scope == scopeProducer && st.Key == "transactional.id" && (st.Owner < 0 || st.Owner == i) {
				out = append(out, p.Name)
				break
			}
		}
	}
	return out
}

// FaultKind describes a drawn fault kind for another package.
type FaultKind struct {
	Name, Help string
	Per        string // what a sweep rate counts per
	// Needs is what the base scenario must have ("racks", "consumers", or "").
	Needs string
}

// CheckFaultKinds are the kinds `check` can draw, simplest first.
func CheckFaultKinds() []FaultKind {
	var out []FaultKind
	for _, f := range faultKinds {
		if f.check {
			out = append(out, FaultKind{f.name, f.help, f.per, f.needs})
		}
	}
	return out
}

// SweepFaultKinds are the kinds of the sweep's fault model, in draw order.
func SweepFaultKinds() []FaultKind {
	var ks []faultKind
	for _, f := range faultKinds {
		if f.sweep > 0 {
			ks = append(ks, f)
		}
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].sweep < ks[j].sweep })
	out := make([]FaultKind, len(ks))
	for i, f := range ks {
		out[i] = FaultKind{f.name, f.help, f.per, f.needs}
	}
	return out
}

func lookupFault(name string) *faultKind {
	for i := range faultKinds {
		if faultKinds[i].name == name {
			return &faultKinds[i]
		}
	}
	return nil
}

// FaultKindNames names kinds.
func FaultKindNames(ks []FaultKind) string { return strings.Join(Names(ks), ", ") }

// Names lists the kinds' names.
func Names(ks []FaultKind) []string {
	var n []string
	for _, k := range ks {
		n = append(n, k.Name)
	}
	return n
}

// FaultKindHelp is one line per kind: its name and what it does, for
// command-line help.
func FaultKindHelp(ks []FaultKind) string {
	var b strings.Builder
	for _, k := range ks {
		fmt.Fprintf(&b, "  %-19s %s\n", k.Name, k.Help)
	}
	return strings.TrimRight(b.String(), "\n")
}

// MissingFor says what the scenario lacks for fault kind name ("" if
// nothing): brokers with racks, or a consumer.
func (s *Scenario) MissingFor(name string) string {
	f := lookupFault(name)
	switch {
	case f == nil:
		return ""
	case f.needs == "racks" && len(s.Racks) == 0:
		return "the scenario's brokers have no racks (cluster.racks)"
	case f.needs == "consumers" && len(s.Consumers) == 0:
		return "the scenario has no consumers"
	case f.needs == "transactions" && len(transactionalNames(s)) == 0:
		return "the scenario has no transactional producer (transactional.id)"
	}
	return ""
}

// FaultAction is the action a drawn fault kind fires first (for reporting
// which kinds never fired).
func FaultAction(name string) string {
	f := lookupFault(name)
	if f == nil {
		return ""
	}
	do, _ := f.steps("1", sim.Second, true)
	return do.Action
}

// SweepSteps draws one fault of kind name for a sweep trial: its target
// (from rng, in the sweep's draw order) and its steps; the undo comes dur
// later. broker is the broker the trial drew for broker faults (always
// drawn, so the draws of later faults do not depend on the kind).
func SweepSteps(name string, sc *Scenario, rng *rand.Rand, broker string, dur sim.Duration) (do, undo *Step) {
	f := lookupFault(name)
	target := broker
	switch f.per {
	case "rack":
		racks := sc.UniqueRacks()
		target = "rack:" + racks[rng.IntN(len(racks))]
	case "consumer":
		target = sc.Consumers[rng.IntN(len(sc.Consumers))].Name
	case "cluster":
		switch name {
		case "cluster-power-loss":
			target = "all"
		case "partition", "link-delay":
			target = "leader"
		case "drop-responses":
			target = sc.Producers[0].Name
		case "producer-pause", "delayed-end-txn", "delayed-produce":
			// Drawn only for these kinds: the draws of specs without them
			// stay as they were.
			names := f.targets(sc)
			target = names[rng.IntN(len(names))]
		}
	}
	return f.steps(target, dur, false)
}

// UniqueRacks lists the brokers' racks once each, in the scenario's order.
func (s *Scenario) UniqueRacks() []string {
	var out []string
	for _, r := range s.Racks {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// FaultDocs renders the fault table as the two Markdown tables of
// docs/scenarios.md: the script's actions, and the kinds check and sweep
// draw.
func FaultDocs() string {
	var b strings.Builder
	b.WriteString("| action | fields | effect |\n|---|---|---|\n")
	for _, a := range actions {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", a.name, a.fields, a.effect)
	}
	b.WriteString("\nThe fault kinds `acksim check --faults` and a sweep's `faults:` model draw (each an action\n" +
		"on a drawn target, undone after a drawn or configured `for`):\n\n")
	b.WriteString("| kind | what happens | check | sweep rate per |\n|---|---|---|---|\n")
	for _, f := range faultKinds {
		chk, per := "", ""
		if f.check {
			chk = "yes"
		}
		if f.sweep > 0 {
			per = f.per
		}
		needs := ""
		if f.needs != "" {
			needs = " (needs " + f.needs + " in the base scenario)"
		}
		fmt.Fprintf(&b, "| `%s` | %s%s | %s | %s |\n", f.name, f.help, needs, chk, per)
	}
	return b.String()
}
