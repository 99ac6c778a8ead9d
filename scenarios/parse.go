package scenarios

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"acksim/model"
	"acksim/model/check"
	"acksim/sim"

	"go.yaml.in/yaml/v3"
)

type walker struct {
	file string
	errs Errors
}

func (w *walker) fail(n *yaml.Node, field, value, allowed string) {
	line := 0
	if n != nil {
		line = n.Line
	}
	w.errs = append(w.errs, &Error{File: w.file, Line: line, Field: field, Value: value, Allowed: allowed})
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return n.Value
	case yaml.AliasNode:
		return "an alias"
	}
	return "?"
}

// fields walks a mapping, rejecting unknown and repeated keys.
func (w *walker) fields(n *yaml.Node, field string, allowed []string, f func(key string, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		w.fail(n, field, kindName(n), "must be a mapping with keys: "+strings.Join(allowed, ", "))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := join(field, k.Value)
		if k.Kind != yaml.ScalarNode {
			w.fail(k, field, kindName(k), "keys must be plain words")
			continue
		}
		if seen[k.Value] {
			w.fail(k, name, k.Value, "is set twice")
			continue
		}
		seen[k.Value] = true
		if allowed != nil && !slices.Contains(allowed, k.Value) {
			w.fail(k, name, k.Value, "unknown field; allowed here: "+strings.Join(allowed, ", "))
			continue
		}
		f(k.Value, v)
	}
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

func (w *walker) scalar(n *yaml.Node, field string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		w.fail(n, field, kindName(n), "must be a single value")
		return "", false
	}
	switch n.Tag {
	case "", "!!str", "!!int", "!!float", "!!bool", "!!null":
	default:
		w.fail(n, field, n.Tag, "must be a plain value: tags such as !!binary are not accepted")
		return "", false
	}
	return n.Value, true
}

// name reads a name: printable, on one line, not empty.
func (w *walker) name(n *yaml.Node, field string) string {
	s, ok := w.scalar(n, field)
	if !ok {
		return ""
	}
	if s == "" || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		w.fail(n, field, s, "must be a non-empty name without control characters (newlines, escapes)")
		return ""
	}
	return s
}

// secondDocument returns the line of a second YAML document in data (0 if
// none).
func secondDocument(data []byte) int {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var first, second yaml.Node
	if dec.Decode(&first) != nil {
		return 0
	}
	if err := dec.Decode(&second); err != nil || len(second.Content) == 0 {
		return 0
	}
	return max(second.Line, 1)
}

func (w *walker) str(n *yaml.Node, field string) string {
	s, _ := w.scalar(n, field)
	return s
}

func (w *walker) int(n *yaml.Node, field string, lo, hi int) int {
	s, ok := w.scalar(n, field)
	if !ok {
		return 0
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		w.fail(n, field, s, fmt.Sprintf("must be an integer from %d to %d", lo, hi))
		return 0
	}
	return v
}

func (w *walker) float(n *yaml.Node, field string, lo, hi float64) float64 {
	s, ok := w.scalar(n, field)
	if !ok {
		return 0
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < lo || v > hi || math.IsNaN(v) {
		w.fail(n, field, s, fmt.Sprintf("must be a number from %g to %g", lo, hi))
		return 0
	}
	return v
}

func (w *walker) bool(n *yaml.Node, field string) bool {
	s, ok := w.scalar(n, field)
	if !ok {
		return false
	}
	b, ok := parseBool(s)
	if !ok {
		w.fail(n, field, s, "must be true or false")
	}
	return b
}

func (w *walker) dur(n *yaml.Node, field string) sim.Duration {
	s, ok := w.scalar(n, field)
	if !ok {
		return 0
	}
	v, ok := parseDuration(s)
	if !ok {
		w.fail(n, field, s, "must be a duration such as 30s, 5ms or 1m30s, at most 10 years")
	}
	return v
}

func (w *walker) list(n *yaml.Node, field string, f func(i int, v *yaml.Node)) {
	if n.Kind != yaml.SequenceNode {
		w.fail(n, field, kindName(n), "must be a list")
		return
	}
	for i, v := range n.Content {
		f(i, v)
	}
}

var topFields = []string{"name", "title", "description", "source", "kafka", "seed", "cluster", "producers", "consumers", "run", "faults", "expect"}

// Parse reads a scenario file. file names it in errors. Every problem is
// reported (as Errors), with its line.
func Parse(file string, data []byte) (s *Scenario, err error) {
	defer func() {
		// The YAML library is not ours; a panic in it is still bad input.
		if r := recover(); r != nil {
			s, err = nil, Errors{{File: file, Allowed: fmt.Sprintf("cannot be parsed as YAML (%v)", r)}}
		}
	}()
	w := &walker{file: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 0
		fmt.Sscanf(msg, "line %d:", &line)
		if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "line ") && i > 0 {
			msg = msg[i+2:]
		}
		return nil, Errors{{File: file, Line: line, Allowed: "is not valid YAML: " + msg}}
	}
	if len(doc.Content) == 0 {
		return nil, Errors{{File: file, Allowed: "is empty; a scenario needs at least name, cluster and producers"}}
	}
	if line := secondDocument(data); line > 0 {
		return nil, Errors{{File: file, Line: line, Allowed: "holds a second YAML document; a scenario file is one document"}}
	}
	root := doc.Content[0]
	s = &Scenario{File: file, Kafka: model.DefaultProfile, Seed: 1, Brokers: 3, Topic: "events", Partitions: 1, RF: 3,
		Duration: 10 * sim.Second, Recovery: true, RecoveryTimeout: 5 * sim.Minute, lines: map[string]int{}, Raw: data}
	var producersSeen bool
	w.fields(root, "", topFields, func(key string, v *yaml.Node) {
		s.lines[key] = v.Line
		switch key {
		case "name":
			s.Name = w.name(v, key)
		case "title":
			s.Title = w.str(v, key)
		case "description":
			s.Description = strings.TrimSpace(w.str(v, key))
		case "source":
			s.Source = strings.TrimSpace(w.str(v, key))
		case "kafka":
			k := w.str(v, key)
			if _, ok := model.LookupProfile(k); !ok {
				w.fail(v, key, k, "unknown version profile; one of: "+strings.Join(model.ProfileNames(), ", "))
			}
			s.Kafka = k
		case "seed":
			str := w.str(v, key)
			n, err := strconv.ParseUint(str, 10, 64)
			if err != nil {
				w.fail(v, key, str, "must be a non-negative integer")
			}
			s.Seed = n
		case "cluster":
			w.cluster(s, v)
		case "producers":
			producersSeen = true
			w.list(v, key, func(i int, pv *yaml.Node) { w.producer(s, i, pv) })
		case "consumers":
			w.list(v, key, func(i int, cv *yaml.Node) { w.consumer(s, i, cv) })
		case "run":
			w.fields(v, key, []string{"duration", "recovery", "recovery.timeout"}, func(k string, x *yaml.Node) {
				switch k {
				case "duration":
					s.Duration = w.dur(x, "run.duration")
					if s.Duration <= 0 {
						w.fail(x, "run.duration", x.Value, "must be positive")
					}
				case "recovery":
					s.Recovery = w.bool(x, "run.recovery")
				case "recovery.timeout":
					s.RecoveryTimeout = w.dur(x, "run.recovery.timeout")
				}
			})
		case "faults":
			w.list(v, key, func(i int, sv *yaml.Node) { w.step(s, i, sv) })
		case "expect":
			w.fields(v, key, check.Fields, func(k string, x *yaml.Node) { w.expect(s, k, x) })
		}
	})
	if s.Name == "" && len(w.errs) == 0 {
		w.fail(root, "name", "", "is required")
	}
	if (!producersSeen || len(s.Producers) == 0) && len(w.errs) == 0 {
		w.fail(root, "producers", "", "is required: at least one producer")
	}
	if err := w.errs.err(); err != nil {
		return nil, err
	}
	return s, nil
}

func (w *walker) cluster(s *Scenario, n *yaml.Node) {
	w.fields(n, "cluster", []string{"brokers", "racks", "topic", "partitions", "replication.factor", "replication", "config", "topic.config", "os", "disk", "network"}, func(k string, v *yaml.Node) {
		f := "cluster." + k
		s.lines[f] = v.Line
		switch k {
		case "brokers":
			s.Brokers = w.int(v, f, 1, 64)
		case "racks":
			s.Racks = nil
			w.list(v, f, func(i int, r *yaml.Node) { s.Racks = append(s.Racks, w.name(r, fmt.Sprintf("%s[%d]", f, i))) })
		case "topic":
			s.Topic = w.name(v, f)
		case "partitions":
			s.Partitions = w.int(v, f, 1, 1024)
		case "replication.factor":
			s.RF = w.int(v, f, 1, 64)
		case "replication":
			r := w.str(v, f)
			if allowed := checkReplication(r); allowed != "" {
				w.fail(v, f, r, allowed)
			}
			s.Replication = r
		case "config":
			w.settings(s, v, f, scopeBroker, -1)
		case "topic.config":
			w.fields(v, f, nil, func(k string, x *yaml.Node) {
				kf := f + "." + k
				if !isTopicKey(k) {
					w.fail(x, kf, k, "unknown topic config; known: "+topicKeyNames())
					return
				}
				if val, ok := w.scalar(x, kf); ok {
					s.Settings = append(s.Settings, Setting{Scope: scopeBroker, Owner: -1, Key: k, Value: val, Line: x.Line, Field: kf, Topic: true})
				}
			})
		case "os":
			w.settings(s, v, f, scopeOS, -1)
		case "disk":
			w.settings(s, v, f, scopeDisk, -1)
		case "network":
			w.settings(s, v, f, scopeNet, -1)
		}
	})
}

func (w *walker) settings(s *Scenario, n *yaml.Node, field string, sc scope, owner int) {
	w.fields(n, field, nil, func(k string, v *yaml.Node) {
		f := field + "." + k
		if findSetting(sc, k) == nil {
			w.fail(v, f, k, "unknown setting in "+scopeNames[sc]+"; known: "+namesIn(sc))
			return
		}
		val, ok := w.scalar(v, f)
		if ok {
			s.Settings = append(s.Settings, Setting{Scope: sc, Owner: owner, Key: k, Value: val, Line: v.Line, Field: f})
		}
	})
}

func (w *walker) producer(s *Scenario, i int, n *yaml.Node) {
	field := fmt.Sprintf("producers[%d]", i)
	p := ProducerDef{Name: fmt.Sprintf("p%d", i+1), Records: 0, Rate: 1000, RecordSize: 100, OnError: "give-up", Line: n.Line}
	w.fields(n, field, []string{"name", "config", "workload"}, func(k string, v *yaml.Node) {
		switch k {
		case "name":
			p.Name = w.name(v, field+".name")
		case "config":
			w.settings(s, v, field+".config", scopeProducer, i)
		case "workload":
			p.workloadLine = v.Line
			wf := field + ".workload"
			w.fields(v, wf, []string{"records", "duration", "rate", "arrival", "keys", "record.size", "on.error", "on.restart", "start"}, func(k string, x *yaml.Node) {
				f := wf + "." + k
				switch k {
				case "records":
					p.Records = w.int(x, f, 1, 100_000_000)
				case "duration":
					p.Duration = w.dur(x, f)
				case "rate":
					p.Rate = w.float(x, f, 0.001, 10_000_000)
				case "arrival":
					switch a := w.str(x, f); a {
					case "constant":
					case "poisson":
						p.Poisson = true
					default:
						w.fail(x, f, a, "must be constant or poisson")
					}
				case "keys":
					p.Keys = w.int(x, f, 0, 1_000_000)
				case "record.size":
					p.RecordSize = w.int(x, f, 1, 1<<24)
				case "on.error":
					p.OnError = w.str(x, f)
					if p.OnError != "give-up" && p.OnError != "resend" {
						w.fail(x, f, p.OnError, "must be give-up or resend")
					}
				case "on.restart":
					p.OnRestart = w.str(x, f)
					if p.OnRestart != "nothing" && p.OnRestart != "resend-unacked" {
						w.fail(x, f, p.OnRestart, "must be nothing or resend-unacked")
					}
				case "start":
					p.Start = w.dur(x, f)
				}
			})
		}
	})
	for _, q := range s.Producers {
		if q.Name == p.Name {
			w.fail(n, field+".name", p.Name, "is already the name of another producer")
		}
	}
	s.Producers = append(s.Producers, p)
}

func (w *walker) consumer(s *Scenario, i int, n *yaml.Node) {
	field := fmt.Sprintf("consumers[%d]", i)
	c := ConsumerDef{Name: fmt.Sprintf("c%d", i+1), ProcessingTime: 100 * sim.Microsecond, Line: n.Line}
	w.fields(n, field, []string{"name", "config", "processing"}, func(k string, v *yaml.Node) {
		switch k {
		case "name":
			c.Name = w.name(v, field+".name")
		case "config":
			w.settings(s, v, field+".config", scopeConsumer, i)
		case "processing":
			pf := field + ".processing"
			w.fields(v, pf, []string{"mode", "time.per.record", "commit", "output", "on.abort"}, func(k string, x *yaml.Node) {
				switch k {
				case "output":
					c.Output, c.outputLine = w.name(x, pf+".output"), x.Line
				case "on.abort":
					switch m := w.str(x, pf+".on.abort"); m {
					case "seek":
					case "continue":
						c.NoSeekOnAbort, c.onAbortLine = true, x.Line
					default:
						w.fail(x, pf+".on.abort", m, "must be seek (seek back to the committed offsets, as Kafka's docs advise) or continue (poll on from the position: KAFKA-17582)")
					}
				case "mode":
					switch m := w.str(x, pf+".mode"); m {
					case "sync":
					case "async":
						c.Async = true
					default:
						w.fail(x, pf+".mode", m, "must be sync (process, then poll again) or async (hand records to a worker and keep polling)")
					}
				case "time.per.record":
					c.ProcessingTime = w.dur(x, pf+".time.per.record")
				case "commit":
					switch m := w.str(x, pf+".commit"); m {
					case "after":
					case "before":
						c.CommitBefore = true
						c.commitLine = x.Line
					default:
						w.fail(x, pf+".commit", m, "must be after (commitSync of what was processed: at-least-once) or before (commitSync of what poll returned, then process: at-most-once)")
					}
				}
			})
		}
	})
	s.Consumers = append(s.Consumers, c)
}

func actionNames() string { return strings.Join(ActionNames(), ", ") }

var stepFields = []string{"at", "after", "when", "timeout", "action", "target", "partition", "for", "factor", "groups", "one-way", "extra", "permanent", "message"}

func (w *walker) step(s *Scenario, i int, n *yaml.Node) {
	field := fmt.Sprintf("faults[%d]", i)
	st := Step{Line: n.Line}
	triggers := 0
	var after, permanent *yaml.Node
	var actionNode *yaml.Node
	w.fields(n, field, stepFields, func(k string, v *yaml.Node) {
		f := field + "." + k
		switch k {
		case "at", "after":
			triggers++
			st.Trigger.Kind = k
			st.Trigger.At = w.dur(v, f)
			if k == "after" {
				after = v
			}
		case "when":
			triggers++
			st.Trigger.Kind = "when"
			st.Trigger.Cond = w.cond(v, f)
		case "timeout":
			st.Trigger.Timeout = w.dur(v, f)
		case "action":
			actionNode = v
			st.Action = w.str(v, f)
			if lookupAction(st.Action) == nil {
				w.fail(v, f, st.Action, "unknown action; one of: "+actionNames())
			}
		case "target":
			st.Target = w.target(v, f)
		case "partition":
			st.Partition = w.int(v, f, 0, 1023)
		case "for":
			st.For = w.dur(v, f)
		case "factor":
			st.Factor = w.float(v, f, 1, 1e6)
		case "groups":
			w.list(v, f, func(j int, g *yaml.Node) { st.Groups = append(st.Groups, w.target(g, fmt.Sprintf("%s[%d]", f, j))) })
		case "one-way":
			st.OneWay = w.bool(v, f)
		case "extra":
			st.Extra = w.dur(v, f)
		case "message":
			st.Message = w.str(v, f)
		case "permanent":
			st.Permanent = w.bool(v, f)
			if st.Permanent {
				permanent = v
			}
		}
	})
	if after != nil && st.Trigger.Cond.Kind != "" && triggers == 2 {
		// when + after: wait after the condition held, then act.
		triggers, st.Trigger.Kind = 1, "when"
		st.Trigger.Wait, st.Trigger.At = st.Trigger.At, 0
	}
	if triggers != 1 {
		w.fail(n, field, "", fmt.Sprintf("needs exactly one trigger (at, after or when, or when with after); found %d", triggers))
	}
	if actionNode == nil {
		w.fail(n, field+".action", "", "is required; one of: "+actionNames())
	}
	if permanent != nil && !slices.Contains(permanentActions, st.Action) {
		w.fail(permanent, field+".permanent", "true", "only "+strings.Join(permanentActions, ", ")+" can be permanent, not "+st.Action)
	}
	if a := lookupAction(st.Action); a != nil {
		if a.needs != nil {
			if f, missing := a.needs(&st); missing != "" {
				w.fail(n, field+f, "", missing)
			}
		}
		if a.target != noTarget && a.target != groupsTarget && len(st.Target) == 0 {
			w.fail(n, field+".target", "", "is required for "+st.Action)
		}
	}
	s.Steps = append(s.Steps, st)
}

var condKinds = []string{"acked", "leo", "hw", "isr.size", "leader.changed", "elected"}

func (w *walker) cond(n *yaml.Node, field string) Cond {
	var c Cond
	w.fields(n, field, condKinds, func(k string, v *yaml.Node) {
		f := field + "." + k
		if c.Kind != "" {
			w.fail(v, f, k, "a when trigger takes one condition")
			return
		}
		c.Kind = k
		switch k {
		case "acked":
			c.N = int64(w.int(v, f, 1, math.MaxInt32))
		case "isr.size":
			c.N = int64(w.int(v, f, 0, 64))
		case "leader.changed":
			if !w.bool(v, f) {
				w.fail(v, f, v.Value, "must be true")
			}
		case "elected":
			c.Broker = w.int(v, f, 1, 64)
		case "leo", "hw":
			w.fields(v, f, []string{"broker", "offset"}, func(k2 string, x *yaml.Node) {
				if k2 == "broker" {
					c.Broker = w.int(x, f+".broker", 1, 64)
				} else {
					c.N = int64(w.int(x, f+".offset", 0, math.MaxInt32))
				}
			})
			if c.Broker == 0 {
				w.fail(v, f+".broker", "", "is required")
			}
		}
	})
	if c.Kind == "" {
		w.fail(n, field, "", "needs one condition: "+strings.Join(condKinds, ", "))
	}
	return c
}

func (w *walker) target(n *yaml.Node, field string) Target {
	var t Target
	add := func(v *yaml.Node) {
		s, ok := w.scalar(v, field)
		if !ok {
			return
		}
		if id, err := strconv.Atoi(s); err == nil {
			if id < 1 {
				w.fail(v, field, s, "broker ids start at 1")
			}
			t = append(t, Atom{Kind: "id", ID: id})
			return
		}
		switch s {
		case "leader", "followers", "isr", "out-of-sync", "all", "controller", "clients":
			t = append(t, Atom{Kind: s})
		default:
			if strings.HasPrefix(s, "rack:") {
				t = append(t, Atom{Kind: "rack", Name: strings.TrimPrefix(s, "rack:")})
				return
			}
			t = append(t, Atom{Kind: "client", Name: s})
		}
	}
	if n.Kind == yaml.SequenceNode {
		for _, v := range n.Content {
			add(v)
		}
	} else {
		add(n)
	}
	return t
}

func (w *walker) expect(s *Scenario, field string, n *yaml.Node) {
	raw, ok := w.scalar(n, "expect."+field)
	if !ok {
		return
	}
	e := Expect{Field: field, Line: n.Line, Raw: raw}
	v := strings.TrimSpace(raw)
	for _, op := range []string{">=", "<=", ">", "<", "="} {
		if strings.HasPrefix(v, op) {
			e.Op = op
			v = strings.TrimSpace(v[len(op):])
			break
		}
	}
	if e.Op == "" {
		e.Op = "="
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil {
		w.fail(n, "expect."+field, raw, `must be a number, optionally after an operator: 0, ">0", ">=10", "<5"`)
		return
	}
	e.Value = x
	s.Expect = append(s.Expect, e)
}

// checkReplication says what is wrong with a replication design's name (""
// if nothing).
func checkReplication(r string) string {
	switch {
	case slices.Contains(Replications, r):
		return ""
	}
	return "unknown replication design; one of: " + strings.Join(Replications, ", ")
}
