package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"acksim/model"
	"acksim/sim"
)

// Resolved is a scenario turned into a model spec.
type Resolved struct {
	Spec     model.Spec
	Warnings []string
}

// Set applies one --set key=value override. Keys are scenario fields
// (kafka, seed, cluster.brokers, cluster.partitions,
// cluster.replication.factor, run.duration, run.recovery,
// workload.records, workload.rate, workload.keys, workload.on.error) or any
// config key, optionally prefixed by its section (broker., producer.,
// consumer., os., disk., network.).
func (s *Scenario) Set(kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	k, v = strings.TrimSpace(k), strings.TrimSpace(v)
	bad := func(allowed string) error {
		return Errors{{File: "--set", Field: k, Value: v, Allowed: allowed}}
	}
	if !ok || k == "" {
		return Errors{{File: "--set", Value: kv, Allowed: "must be key=value, e.g. acks=all or cluster.brokers=5"}}
	}
	switch k {
	case "kafka":
		if _, ok := model.LookupProfile(v); !ok {
			return bad("unknown version profile; one of: " + strings.Join(model.ProfileNames(), ", "))
		}
		s.Kafka = v
		return nil
	case "replication", "cluster.replication":
		if allowed := checkReplication(v); allowed != "" {
			return bad(allowed)
		}
		s.Replication = v
		return nil
	case "seed":
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return bad("must be a non-negative integer")
		}
		s.Seed = n
		return nil
	case "cluster.brokers", "brokers", "cluster.partitions", "partitions", "cluster.replication.factor", "replication.factor":
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1024 {
			return bad("must be a positive integer")
		}
		switch strings.TrimPrefix(k, "cluster.") {
		case "brokers":
			s.Brokers = n
		case "partitions":
			s.Partitions = n
		default:
			s.RF = n
		}
		return nil
	case "run.duration":
		d, ok := parseDuration(v)
		if !ok || d <= 0 {
			return bad("must be a positive duration such as 30s")
		}
		s.Duration = d
		return nil
	case "run.recovery":
		b, ok := parseBool(v)
		if !ok {
			return bad("true or false")
		}
		s.Recovery = b
		return nil
	case "workload.records", "workload.rate", "workload.keys", "workload.on.error":
		for i := range s.Producers {
			p := &s.Producers[i]
			switch k {
			case "workload.records":
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 {
					return bad("must be a positive integer")
				}
				p.Records = n
			case "workload.rate":
				f, err := strconv.ParseFloat(v, 64)
				if err != nil || !(f >= 0.001 && f <= 10_000_000) { // also refuses NaN and infinities
					return bad("must be a number of records per second from 0.001 to 10000000")
				}
				p.Rate = f
			case "workload.keys":
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 {
					return bad("must be a non-negative integer")
				}
				p.Keys = n
			case "workload.on.error":
				if v != "give-up" && v != "resend" {
					return bad("give-up or resend")
				}
				p.OnError = v
			}
		}
		return nil
	}
	if k == "processing.on.abort" {
		if v != "seek" && v != "continue" {
			return bad("seek or continue")
		}
		for i := range s.Consumers {
			s.Consumers[i].NoSeekOnAbort = v == "continue"
		}
		return nil
	}
	if rest, ok := strings.CutPrefix(k, "topic."); ok && isTopicKey(rest) {
		s.Settings = append(s.Settings, Setting{Scope: scopeBroker, Owner: -1, Key: rest, Value: v, Field: k, Topic: true})
		return nil
	}
	prefixes := map[string]scope{"broker.": scopeBroker, "producer.": scopeProducer, "consumer.": scopeConsumer,
		"os.": scopeOS, "disk.": scopeDisk, "network.": scopeNet}
	for p, sc := range prefixes {
		if rest, ok := strings.CutPrefix(k, p); ok && findSetting(sc, rest) != nil {
			s.Settings = append(s.Settings, Setting{Scope: sc, Owner: -1, Key: rest, Value: v, Field: k})
			return nil
		}
	}
	for _, sc := range []scope{scopeBroker, scopeProducer, scopeConsumer, scopeOS, scopeDisk, scopeNet} {
		if findSetting(sc, k) != nil {
			s.Settings = append(s.Settings, Setting{Scope: sc, Owner: -1, Key: k, Value: v, Field: k})
			return nil
		}
	}
	return bad("unknown key; use a scenario field (" + strings.Join(setFields, ", ") + ") or a config name such as acks, min.insync.replicas, log.flush.interval.messages")
}

func (s *Scenario) errAt(field string, value any, allowed string) *Error {
	return &Error{File: s.File, Line: s.lines[field], Field: field, Value: fmt.Sprint(value), Allowed: allowed}
}

// Resolve applies the version profile's defaults, then every setting, and
// checks combinations that cannot work.
func (s *Scenario) Resolve() (*Resolved, error) {
	prof, _ := model.LookupProfile(s.Kafka)
	var errs Errors
	r := &Resolved{Warnings: slices.Clone(s.warnings)}
	replication := s.Replication
	if replication == "" {
		replication = "kafka"
	}
	spec := model.Spec{
		Profile: prof, Replication: replication, Brokers: s.Brokers, Racks: s.Racks, Topic: s.Topic, Partitions: s.Partitions, RF: s.RF,
		Broker: model.DefaultBroker(prof), OS: model.DefaultOS(),
		Disk: model.DiskConfig{Fsync: 2e6, FsyncJitter: 1e6}, Net: model.NetConfig{Latency: 500e3, Jitter: 200e3},
		Seed: s.Seed, Horizon: s.Duration,
	}
	if replication == "rocketmq" {
		// RocketMQ's own defaults where acksim's broker config shares a
		// field with Kafka's: the controller's heartbeat timeout
		// (controllerHeartBeatTimeoutMills, 10 s) and the broker's
		// heartbeat (brokerHeartbeatInterval, 1 s); no unclean election
		// (enableElectUncleanMaster, false); and none of Kafka's rules
		// (ELR, KIP-903, KIP-380: RocketMQ's controller sees every
		// re-registration).
		b := &spec.Broker
		b.SessionTimeout, b.HeartbeatInterval, b.UncleanElection = 10*sim.Second, sim.Second, false
		b.Rules.ELR, b.Rules.IneligibleStaleEpoch, b.Rules.BounceDetected = false, false, true
	}
	if s.RF > s.Brokers {
		errs = append(errs, s.errAt("cluster.replication.factor", s.RF, fmt.Sprintf("cannot be larger than cluster.brokers (%d)", s.Brokers)))
	}
	if len(s.Racks) > 0 && len(s.Racks) != s.Brokers {
		errs = append(errs, s.errAt("cluster.racks", strings.Join(s.Racks, ","), fmt.Sprintf("needs one rack per broker (%d)", s.Brokers)))
	}
	pcs := make([]model.ProducerConfig, len(s.Producers))
	psets := make([]map[string]bool, len(s.Producers))
	for i := range pcs {
		pcs[i] = model.DefaultProducer(prof)
		psets[i] = map[string]bool{}
	}
	ccs := make([]model.ConsumerConfig, len(s.Consumers))
	csets := make([]map[string]bool, len(s.Consumers))
	for i := range ccs {
		ccs[i] = model.DefaultConsumer(prof)
		csets[i] = map[string]bool{}
	}
	minISRLine, minISRField, minISRFile := 0, "", ""
	flushMsSet := false
	settings, terrs := topicLast(s, replication)
	errs = append(errs, terrs...)
	for _, st := range settings {
		set := findSetting(st.Scope, st.Key)
		var targets []*target
		base := target{prof: prof, b: &spec.Broker, os: &spec.OS, disk: &spec.Disk, net: &spec.Net, rf: s.RF}
		switch st.Scope {
		case scopeProducer:
			for i := range pcs {
				if st.Owner < 0 || st.Owner == i {
					t := base
					t.p, t.pset = &pcs[i], psets[i]
					targets = append(targets, &t)
				}
			}
		case scopeConsumer:
			for i := range ccs {
				if st.Owner < 0 || st.Owner == i {
					t := base
					t.c = &ccs[i]
					targets = append(targets, &t)
					csets[i][st.Key] = true
				}
			}
		default:
			targets = []*target{&base}
		}
		file := s.File
		switch {
		case st.File != "":
			file = st.File
		case st.Line == 0:
			file = "--set"
		}
		if len(targets) == 0 {
			who := map[scope]string{scopeProducer: "producers", scopeConsumer: "consumers"}[st.Scope]
			errs = append(errs, &Error{File: file, Line: st.Line, Field: st.Field, Value: st.Value,
				Allowed: "has nothing to apply to: this scenario has no " + who})
			continue
		}
		if d := designOf[st.Key]; (st.Scope == scopeBroker || st.Scope == scopeProducer) && d != "" && d != replication {
			errs = append(errs, &Error{File: file, Line: st.Line, Field: st.Field, Value: st.Value,
				Allowed: fmt.Sprintf("is a setting of the %s design; this cluster's replication is %s (cluster.replication)", d, replication)})
			continue
		}
		for _, t := range targets {
			if ok, allowed := set.apply(t, st.Value); !ok {
				errs = append(errs, &Error{File: file, Line: st.Line, Field: st.Field, Value: st.Value, Allowed: allowed})
				break
			}
			if t.pset != nil {
				t.pset[st.Key] = true
			}
		}
		if st.Key == "min.insync.replicas" {
			minISRLine, minISRField, minISRFile = st.Line, st.Field, st.File
		}
		if st.Key == "log.flush.interval.ms" {
			flushMsSet = true
		}
	}
	// Checked once every setting is in, whatever their order.
	if replication == "rocketmq" {
		errs = append(errs, rocketmqKeys(s, settings, &spec.Broker.RocketMQ)...)
		if spec.Broker.RocketMQ.DLedger {
			spec.Broker.Raft = model.DLedgerRaft()
			if s.RF < 3 {
				errs = append(errs, s.errAt("cluster.replication.factor", s.RF, "DLedger mode (enableDLegerCommitLog) needs at least 3 replicas (docs/en/dledger/deploy_guide.md)"))
			}
		}
	}
	if flushMsSet && spec.Broker.FlushSchedulerInterval == 0 {
		r.Warnings = append(r.Warnings, "log.flush.interval.ms has no effect while log.flush.scheduler.interval.ms is never (Kafka's default since 0.8.1): set both")
	}
	if spec.Broker.MinISR > s.RF {
		file := s.File
		switch {
		case minISRFile != "":
			file = minISRFile
		case minISRLine == 0:
			file = "--set"
		}
		errs = append(errs, &Error{File: file, Line: minISRLine, Field: minISRField, Value: fmt.Sprint(spec.Broker.MinISR),
			Allowed: fmt.Sprintf("min.insync.replicas cannot be larger than the replication factor (%d): every acks=all write would be refused", s.RF)})
	}
	if !prof.Features.MinISR && spec.Broker.MinISR > 1 {
		errs = append(errs, s.errAt("cluster.config.min.insync.replicas", spec.Broker.MinISR, "min.insync.replicas does not exist in profile "+prof.Name))
	}
	for i, pd := range s.Producers {
		pc := &pcs[i]
		f := fmt.Sprintf("producers[%d].config", i)
		at := &Error{File: s.File, Line: pd.Line, Field: f + ".enable.idempotence"}
		// KafkaProducer (3.0+): idempotence needs acks=all, retries > 0 and
		// max.in.flight <= 5; set explicitly, a conflict is a ConfigException,
		// left to the default, idempotence is quietly disabled.
		if replication == "rocketmq" {
			errs = append(errs, rocketmqProducer(s, pd.Line, f, pc, psets[i])...)
		}
		if pc.Transactional() {
			errs = append(errs, transactionalProducer(s, pd.Line, f, pc, psets[i], replication, &spec.Broker, prof)...)
		}
		conflict := ""
		switch {
		case pc.Acks != -1:
			conflict = "acks=all"
		case pc.Retries == 0:
			conflict = "retries > 0"
		case pc.MaxInFlight > 5:
			conflict = "max.in.flight.requests.per.connection <= 5"
		case pc.MaxInFlight > prof.Features.IdempotentInFlight:
			conflict = fmt.Sprintf("max.in.flight.requests.per.connection <= %d in Kafka %s (KAFKA-5494 raised it from 1 to 5 in 1.0)", prof.Features.IdempotentInFlight, prof.Name)
		}
		if pc.Idempotence && conflict != "" {
			if prof.Features.StrictIdempotence && pc.MaxInFlight > 5 && !psets[i]["enable.idempotence"] {
				// 4.0: ProducerConfig.postProcessAndValidateIdempotenceConfigs
				// rejects in-flight > 5 with idempotence on, set or
				// defaulted (3.0.1 to 3.9 turned defaulted idempotence off,
				// KAFKA-13673).
				at.Field = f + ".max.in.flight.requests.per.connection"
				at.Value = fmt.Sprint(pc.MaxInFlight)
				at.Allowed = fmt.Sprintf("at most 5 with idempotence, which Kafka %s enables by default and no longer turns off quietly; set enable.idempotence: false to send more", prof.Name)
				errs = append(errs, at)
			} else if psets[i]["enable.idempotence"] || pc.Transactional() {
				at.Value, at.Allowed = "true", "enable.idempotence=true requires "+conflict+" (Kafka ConfigException)"
				if pc.Transactional() {
					at.Field, at.Value = f+".transactional.id", pc.TransactionalID
					at.Allowed = "a transactional producer is idempotent, which requires " + conflict + " (Kafka ConfigException)"
				}
				errs = append(errs, at)
			} else {
				pc.Idempotence = false
				r.Warnings = append(r.Warnings, fmt.Sprintf("%s: idempotence (the profile's default) is off, as the Kafka client turns it off silently: it needs %s", f, conflict))
			}
		}
		if pc.DeliveryTimeout < pc.Linger+pc.RequestTimeout {
			if psets[i]["delivery.timeout.ms"] {
				errs = append(errs, &Error{File: s.File, Line: pd.Line, Field: f + ".delivery.timeout.ms", Value: pc.DeliveryTimeout.String(),
					Allowed: fmt.Sprintf("must be at least linger.ms + request.timeout.ms (%s)", pc.Linger+pc.RequestTimeout)})
			} else {
				pc.DeliveryTimeout = pc.Linger + pc.RequestTimeout
			}
		}
		if pd.Records == 0 && pd.Duration == 0 {
			pd.Duration = s.Duration
		}
		spec.Producers = append(spec.Producers, model.ProducerSpec{Name: pd.Name, Cfg: *pc, WL: model.Workload{
			Records: pd.Records, Duration: pd.Duration, Rate: pd.Rate, Poisson: pd.Poisson, Keys: pd.Keys,
			RecordSize: pd.RecordSize, OnError: pd.OnError, OnRestart: pd.OnRestart, Start: pd.Start}})
	}
	if slices.ContainsFunc(spec.Producers, func(p model.ProducerSpec) bool { return p.Cfg.Transactional() }) && replication == "kafka" {
		errs = append(errs, txnStateLog(s, &spec.Broker)...)
	}
	errs = append(errs, pipelines(s, spec.Producers, psets, ccs, csets)...)
	for i, cd := range s.Consumers {
		cc := ccs[i]
		cc.Async = cd.Async
		cc.ProcessingTime = cd.ProcessingTime
		cc.CommitBefore = cd.CommitBefore
		cc.SeekOnAbort = !cd.NoSeekOnAbort
		if cc.ReadCommitted && replication != "kafka" {
			errs = append(errs, &Error{File: s.File, Line: cd.Line, Field: fmt.Sprintf("consumers[%d].config.isolation.level", i), Value: "read_committed",
				Allowed: "read_uncommitted: transactions are modelled on Kafka's ISR design only (cluster.replication: kafka)"})
		}
		if cd.CommitBefore && cc.AutoCommit {
			errs = append(errs, &Error{File: s.File, Line: cd.commitLine, Field: fmt.Sprintf("consumers[%d].processing.commit", i), Value: "before",
				Allowed: "the application commits only with enable.auto.commit: false (auto-commit already commits what poll returned)"})
		}
		spec.Consumers = append(spec.Consumers, model.ConsumerSpec{Name: cd.Name, Cfg: cc, Output: cd.Output})
	}
	errs = append(errs, s.checkSteps()...)
	if err := errs.err(); err != nil {
		return nil, err
	}
	r.Spec = spec
	return r, nil
}

func (s *Scenario) checkSteps() Errors {
	var errs Errors
	producers := map[string]bool{}
	consumers := map[string]bool{}
	for _, p := range s.Producers {
		producers[p.Name] = true
	}
	for _, c := range s.Consumers {
		consumers[c.Name] = true
	}
	for i, st := range s.Steps {
		f := fmt.Sprintf("faults[%d]", i)
		bad := func(field string, v any, allowed string) {
			errs = append(errs, &Error{File: s.File, Line: st.Line, Field: f + "." + field, Value: fmt.Sprint(v), Allowed: allowed})
		}
		if st.Partition >= s.Partitions {
			bad("partition", st.Partition, fmt.Sprintf("the topic has partitions 0..%d", s.Partitions-1))
		}
		if fk := lookupAction(st.Action); fk != nil {
			// A field the action does not read is refused, never ignored
			// (a partition with for: would otherwise never heal by itself).
			takes := fk.fields
			if takes == "" {
				takes = "no fields"
			}
			for _, u := range []struct {
				name string
				set  bool
				v    any
			}{{"for", st.For != 0, st.For}, {"factor", st.Factor != 0, st.Factor}, {"extra", st.Extra != 0, st.Extra},
				{"one-way", st.OneWay, true}, {"permanent", st.Permanent, true}, {"message", st.Message != "", st.Message}, {"groups", len(st.Groups) > 0, "(groups)"}} {
				if u.set && !strings.Contains(fk.fields, "`"+u.name+"`") {
					allowed := fmt.Sprintf("not a field of %s (it takes: %s)", st.Action, takes)
					if st.Action == "partition" && u.name == "for" {
						allowed += "; to end a partition, add a later step with action: heal"
					}
					bad(u.name, u.v, allowed)
				}
			}
		}
		if st.Trigger.Kind == "when" {
			c := st.Trigger.Cond
			if c.Broker > s.Brokers {
				bad("when", c.Broker, fmt.Sprintf("no such broker; brokers are 1..%d", s.Brokers))
			}
		}
		clientAction := strings.HasPrefix(st.Action, "producer-") || strings.HasPrefix(st.Action, "consumer-") || st.Action == "drop-responses" || st.Action == "delay-message"
		check := func(t Target, field string, inGroup bool) {
			for _, a := range t {
				switch a.Kind {
				case "id":
					if a.ID > s.Brokers || clientAction {
						bad(field, a.ID, fmt.Sprintf("no such broker; brokers are 1..%d", s.Brokers))
					}
				case "rack":
					if !slices.Contains(s.Racks, a.Name) {
						bad(field, "rack:"+a.Name, "no broker has this rack; racks: "+strings.Join(s.Racks, ", "))
					}
				case "client":
					switch {
					case (strings.HasPrefix(st.Action, "producer-") || st.Action == "delay-message") && !producers[a.Name]:
						bad(field, a.Name, "no such producer")
					case strings.HasPrefix(st.Action, "consumer-") && !consumers[a.Name]:
						bad(field, a.Name, "no such consumer")
					case !producers[a.Name] && !consumers[a.Name]:
						bad(field, a.Name, "unknown target: a broker id, leader, followers, isr, out-of-sync, rack:NAME, all, or a client name")
					case !inGroup && !clientAction:
						bad(field, a.Name, st.Action+" applies to brokers, not to client "+a.Name)
					}
				case "controller", "clients":
					if !inGroup {
						bad(field, a.Kind, "controller and clients are only allowed inside partition groups")
					}
				default:
					if clientAction {
						bad(field, a.Kind, st.Action+" targets clients by name")
					}
				}
			}
		}
		check(st.Target, "target", false)
		for j, g := range st.Groups {
			check(g, fmt.Sprintf("groups[%d]", j), true)
		}
	}
	return errs
}

// topicLast returns the settings with the topic-level ones translated to
// the broker setting they override (per design) and moved after every
// other, so that a topic's value wins whatever the order.
func topicLast(s *Scenario, design string) ([]Setting, Errors) {
	var out, topic []Setting
	var errs Errors
	for _, st := range s.Settings {
		if !st.Topic {
			out = append(out, st)
			continue
		}
		key := topicKeys[design][st.Key]
		if key == "" {
			file := s.File
			if st.Line == 0 {
				file = "--set"
			}
			errs = append(errs, &Error{File: file, Line: st.Line, Field: st.Field, Value: st.Value,
				Allowed: topicAllowed(design)})
			continue
		}
		st.Key = key
		topic = append(topic, st)
	}
	return append(out, topic...), errs
}

func topicAllowed(design string) string {
	if len(topicKeys[design]) == 0 {
		return fmt.Sprintf("the %s design has no topic configs (cluster.replication); set cluster.config", design)
	}
	return fmt.Sprintf("not a topic config of the %s design (cluster.replication); its topic configs: %s", design, strings.Join(sortedKeys(topicKeys[design]), ", "))
}

// rocketmqProducer fits a producer to RocketMQ's client: a synchronous send
// has no acks (the broker answers once what flushDiskType and brokerRole
// require is done) and no idempotence; the timeout and retries default to
// DefaultMQProducer's sendMsgTimeout (3 s) and retryTimesWhenSendFailed (2).
func rocketmqProducer(s *Scenario, line int, f string, pc *model.ProducerConfig, set map[string]bool) Errors {
	var errs Errors
	if set["acks"] {
		errs = append(errs, &Error{File: s.File, Line: line, Field: f + ".acks", Value: fmt.Sprint(pc.Acks),
			Allowed: "not a RocketMQ setting: a send is answered once what flushDiskType and brokerRole require is done (cluster.replication: rocketmq)"})
	}
	if set["enable.idempotence"] && pc.Idempotence {
		errs = append(errs, &Error{File: s.File, Line: line, Field: f + ".enable.idempotence", Value: "true",
			Allowed: "RocketMQ's producer has no idempotence (cluster.replication: rocketmq)"})
	}
	pc.Acks, pc.Idempotence = -1, false
	if !set["request.timeout.ms"] {
		pc.RequestTimeout = 3 * sim.Second
	}
	if !set["retries"] {
		pc.Retries = 2
	}
	return errs
}

// rocketmqControllerKeys are the settings of RocketMQ's controller mode.
var rocketmqControllerKeys = []string{"minInSyncReplicas", "allAckInSyncStateSet", "haMaxTimeSlaveNotCatchup",
	"enableElectUncleanMaster", "controllerHeartBeatTimeoutMills", "brokerHeartbeatInterval"}

// rocketmqKeys refuses the settings the chosen RocketMQ version or mode
// does not have: inSyncReplicas and controller mode came with 5.0 (RIP-34,
// RIP-44), 4.9.8's haSlaveFallbehindMax is 5.x's haMaxGapNotInSync, and the
// controller's settings mean nothing without enableControllerMode.
func rocketmqKeys(s *Scenario, settings []Setting, cfg *model.RocketMQConfig) Errors {
	var errs Errors
	version := cfg.Version
	for _, st := range settings {
		allowed := ""
		switch {
		case version == 4 && st.Key == "inSyncReplicas":
			allowed = "inSyncReplicas came with RocketMQ 5.0 (RIP-34); acksim.rocketmq.version is 4, whose SYNC_MASTER waits for any one slave"
		case version == 4 && st.Key == "haMaxGapNotInSync":
			allowed = "named haSlaveFallbehindMax in RocketMQ 4.9.8 (acksim.rocketmq.version 4)"
		case version == 5 && st.Key == "haSlaveFallbehindMax":
			allowed = "named haMaxGapNotInSync in RocketMQ 5 (acksim.rocketmq.version 5)"
		case version == 4 && (st.Key == "enableControllerMode" || slices.Contains(rocketmqControllerKeys, st.Key)):
			allowed = "controller mode came with RocketMQ 5.0 (RIP-44); acksim.rocketmq.version is 4"
		case !cfg.ControllerMode && slices.Contains(rocketmqControllerKeys, st.Key):
			allowed = "a setting of RocketMQ's controller mode: set enableControllerMode: true"
		case cfg.DLedger && st.Key != "enableDLegerCommitLog" && st.Key != "acksim.rocketmq.version" && designOf[st.Key] == "rocketmq" && st.Scope == scopeBroker:
			allowed = "not a setting of DLedger mode (enableDLegerCommitLog): DLedger replaces the CommitLog, its flush and its master-slave replication"
		case cfg.DLedger && cfg.ControllerMode && st.Key == "enableControllerMode":
			allowed = "DLedger mode and controller mode exclude each other"
		case cfg.ControllerMode && st.Key == "brokerRole":
			allowed = "controller mode makes every master SYNC_MASTER (RIP-44); set inSyncReplicas or allAckInSyncStateSet instead"
		default:
			continue
		}
		file := s.File
		switch {
		case st.File != "":
			file = st.File
		case st.Line == 0:
			file = "--set"
		}
		errs = append(errs, &Error{File: file, Line: st.Line, Field: st.Field, Value: st.Value, Allowed: allowed})
	}
	return errs
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// transactionalProducer checks a producer with a transactional.id: Kafka's
// ISR design only; idempotence implied (KafkaProducer enables it, and an
// explicit enable.idempotence=false is a ConfigException);
// transaction.timeout.ms within the brokers' transaction.max.timeout.ms
// (else InitProducerId fails with InvalidTxnTimeoutException); the
// transaction protocol the cluster's transaction.version names.
func transactionalProducer(s *Scenario, line int, f string, pc *model.ProducerConfig, set map[string]bool, replication string, b *model.BrokerConfig, prof model.Profile) Errors {
	var errs Errors
	at := func(field, value, allowed string) {
		errs = append(errs, &Error{File: s.File, Line: line, Field: f + "." + field, Value: value, Allowed: allowed})
	}
	if replication != "kafka" {
		at("transactional.id", pc.TransactionalID, "no transactional.id: transactions are modelled on Kafka's ISR design only (cluster.replication: kafka)")
		return errs
	}
	if set["enable.idempotence"] && !pc.Idempotence {
		at("enable.idempotence", "false", "true: a transactional producer is idempotent (Kafka ConfigException)")
	}
	pc.Idempotence = true
	// What the user did not set, idempotence sets (KafkaProducer since
	// 0.11: acks=all, retries MAX_INT, max.in.flight within the
	// idempotent limit); what the user set against it is refused below.
	if !set["acks"] {
		pc.Acks = -1
	}
	if !set["retries"] && pc.Retries == 0 {
		pc.Retries = 1<<31 - 1
	}
	if !set["max.in.flight.requests.per.connection"] && pc.MaxInFlight > prof.Features.IdempotentInFlight {
		pc.MaxInFlight = prof.Features.IdempotentInFlight
	}
	if pc.TransactionTimeout > b.TxnMaxTimeout {
		at("transaction.timeout.ms", pc.TransactionTimeout.String(), fmt.Sprintf("at most the brokers' transaction.max.timeout.ms (%s): InitProducerId fails with InvalidTxnTimeoutException", b.TxnMaxTimeout))
	}
	pc.TxnVersion = b.TxnVersion
	return errs
}

// txnStateLog checks the coordinator's log, __transaction_state, once a
// producer is transactional.
func txnStateLog(s *Scenario, b *model.BrokerConfig) Errors {
	switch {
	case b.TxnStateRF > s.Brokers:
		return Errors{s.errAt("cluster.config.transaction.state.log.replication.factor", b.TxnStateRF,
			fmt.Sprintf("at most the brokers (%d): Kafka cannot create __transaction_state and every InitProducerId fails (COORDINATOR_NOT_AVAILABLE); set it to %d or fewer", s.Brokers, s.Brokers))}
	case b.TxnStateMinISR > b.TxnStateRF:
		return Errors{s.errAt("cluster.config.transaction.state.log.min.isr", b.TxnStateMinISR,
			fmt.Sprintf("at most transaction.state.log.replication.factor (%d): the coordinator could never write its log", b.TxnStateRF))}
	}
	return nil
}

// pipelines checks consume-transform-produce applications
// (processing.output): the output producer exists, is transactional, has
// no workload of its own and serves one member; the member commits only
// through the transaction (no auto-commit, no commit before processing,
// processing in the poll loop); and every member of the group is such an
// application (one group: the application's instances).
func pipelines(s *Scenario, producers []model.ProducerSpec, psets []map[string]bool, ccs []model.ConsumerConfig, csets []map[string]bool) Errors {
	var errs Errors
	if !slices.ContainsFunc(s.Consumers, func(cd ConsumerDef) bool { return cd.Output != "" }) {
		return nil
	}
	used := map[string]int{}
	for i, cd := range s.Consumers {
		f := fmt.Sprintf("consumers[%d].processing", i)
		at := func(line int, field, value, allowed string) {
			if line == 0 {
				line = cd.Line
			}
			errs = append(errs, &Error{File: s.File, Line: line, Field: field, Value: value, Allowed: allowed})
		}
		if cd.Output == "" {
			at(cd.Line, f+".output", "", "the name of a transactional producer: in a scenario with a consume-transform-produce application every consumer is one of its instances (one group)")
			continue
		}
		pi := slices.IndexFunc(producers, func(p model.ProducerSpec) bool { return p.Name == cd.Output })
		switch {
		case pi < 0:
			names := []string{}
			for _, p := range producers {
				names = append(names, p.Name)
			}
			at(cd.outputLine, f+".output", cd.Output, "the name of a producer of this scenario ("+strings.Join(names, ", ")+")")
			continue
		case !producers[pi].Cfg.Transactional():
			at(cd.outputLine, f+".output", cd.Output, "a producer with a transactional.id: the output and the offsets are written in one transaction")
		case used[cd.Output] > 0:
			at(cd.outputLine, f+".output", cd.Output, fmt.Sprintf("a producer no other consumer writes with (consumers[%d] does): one producer per application instance", used[cd.Output]-1))
		}
		used[cd.Output] = i + 1
		producers[pi].WL = model.Workload{} // it sends what the member processes
		if l := s.Producers[pi].workloadLine; l > 0 {
			errs = append(errs, &Error{File: s.File, Line: l, Field: fmt.Sprintf("producers[%d].workload", pi), Value: "(a workload)",
				Allowed: "none: producer " + cd.Output + " writes what consumer " + cd.Name + " processes (processing.output)"})
		}
		if psets[pi]["acksim.transaction.records"] {
			errs = append(errs, &Error{File: s.File, Line: s.Producers[pi].Line, Field: fmt.Sprintf("producers[%d].config.acksim.transaction.records", pi), Value: fmt.Sprint(producers[pi].Cfg.TxnRecords),
				Allowed: "not set: a consume-transform-produce application commits one transaction per poll (up to max.poll.records)"})
		}
		if ccs[i].AutoCommit && csets[i]["enable.auto.commit"] {
			at(cd.Line, fmt.Sprintf("consumers[%d].config.enable.auto.commit", i), "true", "false: the application commits its offsets in its transactions (sendOffsetsToTransaction)")
		}
		ccs[i].AutoCommit = false
		if cd.Async {
			at(cd.Line, f+".mode", "async", "sync: the transaction holds what one poll returned")
		}
		if cd.CommitBefore {
			at(cd.commitLine, f+".commit", "before", "after (or unset): the offsets are committed in the transaction")
		}
	}
	return errs
}
