package scenarios

import (
	"fmt"
	"strings"

	"acksim/sim"
)

// Scenario is a parsed scenario file.
type Scenario struct {
	File        string   // where it came from, for errors ("catalog:acks1-leader-crash" for built-ins)
	warnings    []string // from properties files: keys acksim does not model
	Name        string
	Title       string
	Description string
	Source      string
	Kafka       string
	Seed        uint64
	// Replication is cluster.replication: "kafka", "raft", or "" (not set:
	// kafka).
	Replication string

	Brokers    int
	Racks      []string
	Topic      string
	Partitions int
	RF         int
	Settings   []Setting

	Producers []ProducerDef
	Consumers []ConsumerDef

	Duration        sim.Duration
	Recovery        bool
	RecoveryTimeout sim.Duration

	Steps  []Step
	Expect []Expect

	lines map[string]int // field path -> line, for errors found after parsing
	Raw   []byte         // the file's text, for exporting variants
}

// Setting is one config key set in the file or with --set.
type Setting struct {
	Scope scope
	Owner int // producer or consumer index; -1 for all
	Key   string
	Value string
	Line  int
	Field string // where it was set, e.g. producers[0].config.acks
	File  string // the properties file it came from ("": the scenario, or --set when Line is 0)
	Topic bool   // a topic-level config (cluster.topic.config, --set topic.KEY): beats the broker's
}

// ProducerDef is a producer and its workload.
type ProducerDef struct {
	Name       string
	Records    int
	Duration   sim.Duration
	Rate       float64
	Poisson    bool
	Keys       int
	RecordSize int
	OnError    string
	OnRestart  string
	Start      sim.Duration
	Line       int
	// workloadLine is the line of its workload section (0: none).
	workloadLine int
}

// ConsumerDef is a member of the consumer group.
type ConsumerDef struct {
	Name           string
	Async          bool
	CommitBefore   bool // processing.commit: before
	ProcessingTime sim.Duration
	Line           int
	commitLine     int // line of processing.commit (errors)
	// Output (processing.output) names the transactional producer the
	// application writes its output with: consume-transform-produce.
	Output     string
	outputLine int
	// NoSeekOnAbort: processing.on.abort: continue (KAFKA-17582).
	NoSeekOnAbort bool
	onAbortLine   int
}

// Step is one fault-script step: a trigger and an action.
type Step struct {
	Line      int
	Trigger   Trigger
	Action    string
	Target    Target
	Partition int
	For       sim.Duration // pause, slow-disk, drop-responses: how long (0 = until healed/resumed)
	Factor    float64      // slow-disk
	Groups    []Target     // partition, delay
	OneWay    bool         // partition, delay: only links from the first group to the others
	Extra     sim.Duration // delay: added one-way latency
	Permanent bool         // crash, power-loss, disk-loss: the broker never comes back
	Message   string       // delay-message: which message
}

// Trigger says when a step fires.
type Trigger struct {
	Kind    string       // "at", "after" or "when"
	At      sim.Duration // at: absolute time; after: delay since the previous step
	Cond    Cond
	Timeout sim.Duration // when: give up after this (0: never)
	Wait    sim.Duration // when: act this long after the condition held (after: with when:)
}

// Cond is a condition for a `when` trigger.
type Cond struct {
	Kind   string // acked, leo, hw, isr.size, leader.changed, elected
	N      int64
	Broker int
}

func (c Cond) String() string {
	switch c.Kind {
	case "acked":
		return fmt.Sprintf("the producers have %d acked records", c.N)
	case "leo", "hw":
		return fmt.Sprintf("broker %d's %s reaches %d", c.Broker, strings.ToUpper(c.Kind), c.N)
	case "isr.size":
		return fmt.Sprintf("the ISR has %d member(s)", c.N)
	case "leader.changed":
		return "the leader changes"
	case "elected":
		return fmt.Sprintf("broker %d is elected leader", c.Broker)
	}
	return c.Kind
}

// Atom is one target word.
type Atom struct {
	Kind string // id, leader, followers, isr, out-of-sync, rack, all, controller, clients, client
	ID   int
	Name string
}

// Target is a list of atoms, resolved when the step fires.
type Target []Atom

func (t Target) String() string {
	var s []string
	for _, a := range t {
		switch a.Kind {
		case "id":
			s = append(s, fmt.Sprintf("broker %d", a.ID))
		case "rack":
			s = append(s, "rack "+a.Name)
		case "client":
			s = append(s, a.Name)
		default:
			s = append(s, a.Kind)
		}
	}
	return strings.Join(s, ", ")
}

// Describe says what a step does, in words.
func (s Step) Describe() string {
	var when string
	switch s.Trigger.Kind {
	case "at":
		when = "at " + s.Trigger.At.String()
	case "after":
		when = s.Trigger.At.String() + " later"
	case "when":
		when = "when " + s.Trigger.Cond.String()
		if s.Trigger.Wait > 0 {
			when += ", " + s.Trigger.Wait.String() + " later"
		}
	}
	what := s.Action
	switch s.Action {
	case "partition", "delay":
		var gs []string
		for _, g := range s.Groups {
			gs = append(gs, "{"+g.String()+"}")
		}
		sep := " | "
		if s.OneWay {
			sep = " -/-> "
		}
		what = "partition the network " + strings.Join(gs, sep)
		if s.Action == "delay" {
			what = fmt.Sprintf("delay by %s the links %s", s.Extra, strings.Join(gs, strings.ReplaceAll(sep, "/", "")))
		}
	case "heal":
		what = "heal the network"
	case "delay-message":
		what = fmt.Sprintf("delay by %s the next %s from %s", s.Extra, s.Message, s.Target.String())
	default:
		if len(s.Target) > 0 {
			what += " " + s.Target.String()
		}
	}
	if s.For > 0 {
		what += " for " + s.For.String()
	}
	if s.Factor > 0 {
		what += fmt.Sprintf(" (x%g)", s.Factor)
	}
	if s.Permanent {
		what += " (permanent)"
	}
	return when + ": " + what
}

// Expect is one assertion on the verdict.
type Expect struct {
	Field string
	Op    string // =, >, >=, <, <=
	Value float64
	Line  int
	Raw   string
}

// Holds reports whether v satisfies the expectation.
func (e Expect) Holds(v float64) bool {
	switch e.Op {
	case ">":
		return v > e.Value
	case ">=":
		return v >= e.Value
	case "<":
		return v < e.Value
	case "<=":
		return v <= e.Value
	}
	return v == e.Value
}

func (e Expect) String() string {
	if e.Op == "=" {
		return fmt.Sprintf("%s = %g", e.Field, e.Value)
	}
	return fmt.Sprintf("%s %s %g", e.Field, e.Op, e.Value)
}
