package scenarios

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"
)

func scalar(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }

func quoted(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Value: v, Style: yaml.DoubleQuotedStyle}
}

func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }

// get returns the value under key in mapping m, creating an empty mapping
// when absent and create is set.
func get(m *yaml.Node, key string, create bool) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	if !create {
		return nil
	}
	v := mapping()
	m.Content = append(m.Content, scalar(key), v)
	return v
}

func put(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, scalar(key), v)
}

func targetNode(t Target) *yaml.Node {
	word := func(a Atom) *yaml.Node {
		switch a.Kind {
		case "id":
			return scalar(strconv.Itoa(a.ID))
		case "rack":
			return scalar("rack:" + a.Name)
		case "client":
			return scalar(a.Name)
		}
		return scalar(a.Kind)
	}
	if len(t) == 1 {
		return word(t[0])
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, a := range t {
		seq.Content = append(seq.Content, word(a))
	}
	return seq
}

// condNode renders a when condition as YAML.
func condNode(c Cond) *yaml.Node {
	m := mapping()
	m.Style = yaml.FlowStyle
	switch c.Kind {
	case "acked", "isr.size":
		put(m, c.Kind, scalar(strconv.FormatInt(c.N, 10)))
	case "leader.changed":
		put(m, c.Kind, scalar("true"))
	case "elected":
		put(m, c.Kind, scalar(strconv.Itoa(c.Broker)))
	case "leo", "hw":
		at := mapping()
		at.Style = yaml.FlowStyle
		put(at, "broker", scalar(strconv.Itoa(c.Broker)))
		put(at, "offset", scalar(strconv.FormatInt(c.N, 10)))
		put(m, c.Kind, at)
	}
	return m
}

// StepNode renders a step as YAML.
func StepNode(st Step) *yaml.Node {
	m := mapping()
	switch st.Trigger.Kind {
	case "at", "after":
		put(m, st.Trigger.Kind, scalar(st.Trigger.At.String()))
	case "when":
		put(m, "when", condNode(st.Trigger.Cond))
		if st.Trigger.Wait > 0 {
			put(m, "after", scalar(st.Trigger.Wait.String()))
		}
		if st.Trigger.Timeout > 0 {
			put(m, "timeout", scalar(st.Trigger.Timeout.String()))
		}
	}
	put(m, "action", scalar(st.Action))
	if len(st.Target) > 0 {
		put(m, "target", targetNode(st.Target))
	}
	if st.Partition > 0 {
		put(m, "partition", scalar(strconv.Itoa(st.Partition)))
	}
	if len(st.Groups) > 0 {
		gs := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, g := range st.Groups {
			n := targetNode(g)
			if n.Kind == yaml.ScalarNode {
				n = &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle, Content: []*yaml.Node{n}}
			}
			gs.Content = append(gs.Content, n)
		}
		put(m, "groups", gs)
	}
	if st.OneWay {
		put(m, "one-way", scalar("true"))
	}
	if st.Permanent {
		put(m, "permanent", scalar("true"))
	}
	if st.Message != "" {
		put(m, "message", scalar(st.Message))
	}
	if st.Extra > 0 {
		put(m, "extra", scalar(st.Extra.String()))
	}
	if st.For > 0 {
		put(m, "for", scalar(st.For.String()))
	}
	if st.Factor > 0 {
		put(m, "factor", scalar(strconv.FormatFloat(st.Factor, 'g', -1, 64)))
	}
	return m
}

// Export writes s as a scenario file: the original text (raw) with every
// --set override, the seed, the steps and the expectations baked in, so
// that `acksim run FILE` replays it exactly.
func (s *Scenario) Export(raw []byte, name, title, description string, expect map[string]string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil || len(doc.Content) == 0 {
		return nil, fmt.Errorf("re-reading %s: %v", s.File, err)
	}
	root := doc.Content[0]
	put(root, "name", scalar(name))
	if title != "" {
		put(root, "title", quoted(title))
	}
	if description != "" {
		put(root, "description", &yaml.Node{Kind: yaml.ScalarNode, Value: description, Style: yaml.LiteralStyle})
	}
	put(root, "kafka", quoted(s.Kafka))
	put(root, "seed", scalar(strconv.FormatUint(s.Seed, 10)))
	cl := get(root, "cluster", true)
	put(cl, "brokers", scalar(strconv.Itoa(s.Brokers)))
	put(cl, "partitions", scalar(strconv.Itoa(s.Partitions)))
	put(cl, "replication.factor", scalar(strconv.Itoa(s.RF)))
	if s.Replication != "" {
		put(cl, "replication", scalar(s.Replication))
	}
	run := get(root, "run", true)
	put(run, "duration", scalar(s.Duration.String()))
	put(run, "recovery", scalar(strconv.FormatBool(s.Recovery)))
	put(run, "recovery.timeout", scalar(s.RecoveryTimeout.String()))
	prods := get(root, "producers", false)
	for i, p := range s.Producers {
		if prods == nil || i >= len(prods.Content) {
			break
		}
		if slices.ContainsFunc(s.Consumers, func(c ConsumerDef) bool { return c.Output == p.Name }) {
			continue // a pipeline's producer: no workload of its own
		}
		wl := get(prods.Content[i], "workload", true)
		if p.Records > 0 {
			put(wl, "records", scalar(strconv.Itoa(p.Records)))
		}
		put(wl, "rate", scalar(strconv.FormatFloat(p.Rate, 'g', -1, 64)))
		put(wl, "keys", scalar(strconv.Itoa(p.Keys)))
		put(wl, "on.error", scalar(p.OnError))
		if p.OnRestart != "" {
			put(wl, "on.restart", scalar(p.OnRestart))
		}
	}
	// Settings from --set (no line) go where a file would put them.
	for _, st := range s.Settings {
		if st.Line != 0 {
			continue
		}
		switch st.Scope {
		case scopeBroker:
			put(get(cl, "config", true), st.Key, scalar(st.Value))
		case scopeOS:
			put(get(cl, "os", true), st.Key, scalar(st.Value))
		case scopeDisk:
			put(get(cl, "disk", true), st.Key, scalar(st.Value))
		case scopeNet:
			put(get(cl, "network", true), st.Key, scalar(st.Value))
		case scopeProducer, scopeConsumer:
			list := prods
			if st.Scope == scopeConsumer {
				list = get(root, "consumers", false)
			}
			if list == nil {
				continue
			}
			for i, item := range list.Content {
				if st.Owner < 0 || st.Owner == i {
					put(get(item, "config", true), st.Key, scalar(st.Value))
				}
			}
		}
	}
	faults := &yaml.Node{Kind: yaml.SequenceNode}
	for _, st := range s.Steps {
		faults.Content = append(faults.Content, StepNode(st))
	}
	put(root, "faults", faults)
	ex := mapping()
	for _, f := range slices.Sorted(maps.Keys(expect)) {
		put(ex, f, quoted(expect[f]))
	}
	put(root, "expect", ex)
	return yaml.Marshal(&doc)
}
