package model

import (
	"acksim/history"
	"fmt"
	"sort"

	"acksim/sim"
)

// Spec describes a cluster and its clients, resolved from a scenario.
type Spec struct {
	// CheckEveryEvent checks the model's invariants after every event;
	// otherwise after every monitor tick (10 ms) and leadership change.
	// The test suite turns it on; it costs about 10% of run time.
	CheckEveryEvent bool

	Profile Profile
	// Replication is the replication design: "kafka" (Kafka's ISR
	// replication; the default when empty), "raft" or "rocketmq".
	Replication string
	Brokers     int
	Racks       []string // rack of broker i+1; empty: no racks
	Topic       string
	Partitions  int
	RF          int
	Broker      BrokerConfig
	OS          OSConfig
	Disk        DiskConfig
	Net         NetConfig
	Producers   []ProducerSpec
	Consumers   []ConsumerSpec
	Seed        uint64
	Trial       uint64
	// Horizon is how long producers send at most (run.duration; 0: until
	// their workload ends). It only sizes buffers.
	Horizon sim.Duration
}

// ProducerSpec is one producer client.
type ProducerSpec struct {
	Name string
	Cfg  ProducerConfig
	WL   Workload
}

// ConsumerSpec is one member of the consumer group.
type ConsumerSpec struct {
	Name string
	Cfg  ConsumerConfig
	// Output names the transactional producer the member's application
	// writes its output with (consume-transform-produce, pipeline.go); ""
	// for an application without one.
	Output string
}

type kinds struct {
	produce, produceResp, fetch, fetchResp, epochReq, epochResp, leaderAndIsr, alterPartition, alterResp,
	heartbeat, register, registered, shutdownReq, shutdownResp, metadataReq, metadataResp,
	joinGroup, assignment, commitReq, commitResp, groupHB, fsyncDone, writeback, rst sim.KindID
	// Broker timers: a contiguous range.
	firstBrokerTimer, tHeartbeat, tISRCheck, tFlushScheduler, tHWCheckpoint, tProduceTimeout, tFetchWait,
	tFetchRetry, tSocketTimeout, tAlterTimeout, tShutdownForce, lastBrokerTimer sim.KindID
	firstProducerTimer, tProduceNext, tSenderWake, tReqTimeout, tMetaTimeout, lastProducerTimer sim.KindID
	firstConsumerTimer, tGroupHB, tPoll, tProcess, lastConsumerTimer                            sim.KindID
	tSessionCheck, tGroupCheck, tMonitor                                                        sim.KindID
}

func (k *kinds) init(e *sim.Engine) {
	for _, x := range []struct {
		p    *sim.KindID
		name string
	}{
		{&k.produce, "produce"}, {&k.produceResp, "produce-response"}, {&k.fetch, "fetch"}, {&k.fetchResp, "fetch-response"},
		{&k.epochReq, "epoch-request"}, {&k.epochResp, "epoch-response"}, {&k.leaderAndIsr, "leader-and-isr"},
		{&k.alterPartition, "alter-partition"}, {&k.alterResp, "alter-partition-response"}, {&k.heartbeat, "heartbeat"},
		{&k.register, "register"}, {&k.registered, "registered"}, {&k.shutdownReq, "controlled-shutdown"},
		{&k.shutdownResp, "controlled-shutdown-response"}, {&k.metadataReq, "metadata"}, {&k.metadataResp, "metadata-response"},
		{&k.joinGroup, "join-group"}, {&k.assignment, "assignment"}, {&k.commitReq, "offset-commit"},
		{&k.commitResp, "offset-commit-response"}, {&k.groupHB, "group-heartbeat"}, {&k.fsyncDone, "fsync-done"},
		{&k.writeback, "os-writeback"}, {&k.rst, "connection-refused"},
		{&k.firstBrokerTimer, "timer.broker"}, {&k.tHeartbeat, "timer.heartbeat"}, {&k.tISRCheck, "timer.isr-check"},
		{&k.tFlushScheduler, "timer.flush-scheduler"}, {&k.tHWCheckpoint, "timer.hw-checkpoint"},
		{&k.tProduceTimeout, "timer.produce-timeout"}, {&k.tFetchWait, "timer.fetch-wait"}, {&k.tFetchRetry, "timer.fetch-retry"}, {&k.tSocketTimeout, "timer.socket-timeout"},
		{&k.tAlterTimeout, "timer.alter-timeout"}, {&k.tShutdownForce, "timer.shutdown-force"}, {&k.lastBrokerTimer, "timer.broker-end"},
		{&k.firstProducerTimer, "timer.producer"}, {&k.tProduceNext, "timer.next-record"}, {&k.tSenderWake, "timer.sender"},
		{&k.tReqTimeout, "timer.request-timeout"}, {&k.tMetaTimeout, "timer.metadata-timeout"}, {&k.lastProducerTimer, "timer.producer-end"},
		{&k.firstConsumerTimer, "timer.consumer"}, {&k.tGroupHB, "timer.group-heartbeat"}, {&k.tPoll, "timer.poll"},
		{&k.tProcess, "timer.process"}, {&k.lastConsumerTimer, "timer.consumer-end"},
		{&k.tSessionCheck, "timer.session-check"}, {&k.tGroupCheck, "timer.group-check"}, {&k.tMonitor, "timer.monitor"},
	} {
		*x.p = e.Kind(x.name)
	}
}

// Cluster is a simulated Kafka cluster with its clients: it assembles the
// nodes on a host, starts them, offers the scenario layer its faults and
// queries, decides when recovery has converged, and hands over the history.
// Nodes never reach back through it.
type Cluster struct {
	Spec
	E   *sim.Engine
	Net *sim.Network

	h         *host
	brokers   []*Broker // by id; [0] is nil
	producers []*Producer
	consumers []*Consumer
	ctl       *Controller // membership and, for the ISR design, partition state
	d         design      // the replication design
	hMonitor  sim.HandlerID
}

const monitorTick = 10 * sim.Millisecond

// New builds a cluster at time 0. Nothing runs until Start.
func New(s Spec) *Cluster {
	if s.Topic == "" {
		s.Topic = "events"
	}
	c := &Cluster{Spec: s}
	streams := sim.Streams{Master: s.Seed, Trial: s.Trial}
	c.E = sim.NewEngine()
	h := &host{E: c.E, spec: &c.Spec, trunc: s.Broker.Rules.truncation(), txnTP: -1, outTP0: -1, parts: s.Partitions}
	// A consume-transform-produce application writes an output topic with
	// as many partitions as the input, after the input's (pipeline.go).
	for _, cs := range s.Consumers {
		if cs.Output != "" && h.outTP0 < 0 {
			h.outTP0, h.parts = s.Partitions, 2*s.Partitions
		}
	}
	// Transactions get their coordinator's log: one internal partition
	// after the data partitions (see txncoord.go).
	internal := 0
	for _, ps := range s.Producers {
		if ps.Cfg.Transactional() && internal == 0 {
			internal, h.txnTP = 1, h.parts
			h.txnTV2 = map[string]bool{}
		}
		if ps.Cfg.Transactional() {
			h.txnTV2[ps.Cfg.TransactionalID] = ps.Cfg.TxnVersion >= 2
		}
	}
	c.h = h
	h.k.init(c.E)
	for kind := h.k.firstBrokerTimer; kind <= h.k.lastBrokerTimer; kind++ {
		h.markBrokerTimers(kind)
	}
	h.obs = newRecorder(c.E, s.Topic, h.parts, h.outTP0)
	h.diskRng = streams.Stream("disk")
	h.osRng = streams.Stream("os")
	h.ctlNode = c.E.AddNode("controller")
	c.brokers = make([]*Broker, s.Brokers+1)
	h.brokerNodes = make([]sim.NodeID, s.Brokers+1)
	for id := 1; id <= s.Brokers; id++ {
		b := &Broker{h: h, ID: id, Node: c.E.AddNode(fmt.Sprintf("broker-%d", id)), reps: make([]hosted, h.parts+internal)}
		if len(s.Racks) >= id {
			b.Rack = s.Racks[id-1]
		}
		c.brokers[id] = b
		h.brokerNodes[id] = b.Node
	}
	for i, ps := range s.Producers {
		p := &Producer{h: h, Idx: i, Name: ps.Name, Node: c.E.AddNode(ps.Name), Cfg: ps.Cfg, WL: ps.WL,
			rng: streams.Stream("workload/" + ps.Name)}
		c.producers = append(c.producers, p)
		h.clientNodes = append(h.clientNodes, p.Node)
	}
	for i, cs := range s.Consumers {
		m := &Consumer{h: h, Idx: i, Name: cs.Name, Node: c.E.AddNode(cs.Name), Cfg: cs.Cfg}
		if s.Replication == "raft" || s.Replication == "rocketmq" {
			m.Cfg.ValidatePosition = false // Kafka's OffsetsForLeaderEpoch; served by neither design
		}
		c.consumers = append(c.consumers, m)
		h.clientNodes = append(h.clientNodes, m.Node)
	}
	n := c.E.Nodes()
	h.producerNode = make([]bool, n)
	c.Net = sim.NewNetwork(c.E, n, sim.LinkConfig{Latency: s.Net.Latency, Jitter: s.Net.Jitter}, streams.Stream("network"))
	h.Net = c.Net
	h.obs.nodeOf = func(broker int) sim.NodeID {
		if broker > 0 {
			return h.brokerNodes[broker]
		}
		return h.ctlNode
	}
	c.ctl = newController(h, c.consumers)
	if internal > 0 {
		h.registerTxnKinds()
	}
	if h.outTP0 >= 0 {
		c.wirePipelines()
	}
	placement := placeReplicas(s.Brokers, s.RF, h.parts, s.Racks)
	if internal > 0 {
		// __transaction_state: transaction.state.log.replication.factor
		// replicas (the scenario checks there are that many brokers),
		// placed as the next partition would be.
		placement = append(placement, placeReplicas(s.Brokers, min(s.Broker.TxnStateRF, s.Brokers), h.parts+1, s.Racks)[h.parts])
	}
	switch s.Replication {
	case "raft":
		c.d = newRaft(h, c.brokers, placement, streams.Stream("raft"))
	case "rocketmq":
		if s.Broker.RocketMQ.DLedger {
			c.d = newRaft(h, c.brokers, placement, streams.Stream("raft"))
		} else {
			c.d = newRocketMQ(h, c.ctl, c.brokers, placement)
		}
	default:
		c.d = newISR(h, c.ctl, c.brokers, placement)
	}
	c.ctl.leaderOf = c.d.leader
	h.leaderOf = c.d.leader
	h.tasks = c.d.tasks()
	h.leadershipChanged = c.checkInvariants
	c.E.OnStall(func(n uint32) {
		h.violate("livelock: %d events in a row at %s, and virtual time does not advance", n, c.E.Now())
	})
	// Each node is its own handler; the controller's node hosts the
	// controller and the group coordinator (see nodeMux).
	c.Net.Attach(h.ctlNode, c.E.Register(c.ctl.mux))
	for _, b := range c.brokers[1:] {
		b.hid = c.E.Register(b)
		c.Net.Attach(b.Node, b.hid)
	}
	for _, p := range c.producers {
		p.hid = c.E.Register(p)
		h.producerNode[p.Node] = true
		c.Net.Attach(p.Node, p.hid)
	}
	for _, m := range c.consumers {
		m.hid = c.E.Register(m)
		c.Net.Attach(m.Node, m.hid)
	}
	c.hMonitor = c.E.Register(sim.HandlerFunc(c.onMonitor))
	c.presize()
	return c
}

// placeReplicas places each partition's replicas: round-robin over brokers,
// interleaving racks when brokers have racks
// (AdminUtils.assignReplicasToBrokers, rack-aware). The first replica is
// the preferred leader.
func placeReplicas(brokers, rf, partitions int, racks []string) [][]int {
	order := brokerOrder(brokers, racks)
	out := make([][]int, partitions)
	for tp := range out {
		for i := 0; i < rf; i++ {
			out[tp] = append(out[tp], order[(tp+i)%len(order)])
		}
	}
	return out
}

// presize sizes the ledger and the logs from the workload: growing a large
// slice record by record costs more than the simulation itself.
func (c *Cluster) presize() {
	expect := 0
	for _, p := range c.Producers {
		// What the producer will send: its records, at most what its rate
		// sends in its duration or the run's horizon (records: 10^9 at 100
		// records/s for a second is 100 records, not a gigabyte up front).
		d := p.WL.Duration
		if c.Horizon > 0 && (d == 0 || c.Horizon < d) {
			d = c.Horizon
		}
		n := p.WL.Records
		if byRate := int(min(p.WL.Rate*d.Seconds(), 1e12)); d > 0 && (n == 0 || byRate < n) {
			n = byRate
		}
		// A large make is cheap until it is written (the OS maps zero pages
		// lazily), and the run's cost was checked against --max-memory, so
		// presizing saves the copies (and the transient double) of growth.
		expect += min(n, 100_000_000) + 16
	}
	l := &c.h.obs.ledger
	l.recs = make([]history.Record, 0, expect)
	l.sites = make([]history.AckSite, 0, expect) // at most one a record
	// Likewise each replica's log: a partition holds at most its share of
	// the records in batches (one record each when linger.ms is 0), so this
	// is an upper bound that saves the copies of doubling.
	perLog := min(expect/c.Partitions+16, 1<<17) // at most 4 MB a replica up front
	for _, b := range c.brokers[1:] {
		for _, r := range b.reps {
			if r != nil {
				r.log().entries = make([]entry, 0, perLog)
			}
		}
	}
}

func brokerOrder(brokers int, brokerRacks []string) []int {
	ids := make([]int, 0, brokers)
	for id := 1; id <= brokers; id++ {
		ids = append(ids, id)
	}
	if len(brokerRacks) == 0 {
		return ids
	}
	byRack := map[string][]int{}
	var racks []string
	for _, id := range ids {
		r := ""
		if id <= len(brokerRacks) {
			r = brokerRacks[id-1]
		}
		if _, ok := byRack[r]; !ok {
			racks = append(racks, r)
		}
		byRack[r] = append(byRack[r], id)
	}
	sort.Strings(racks)
	var out []int
	for i := 0; len(out) < len(ids); i++ {
		for _, r := range racks {
			if i < len(byRack[r]) {
				out = append(out, byRack[r][i])
			}
		}
	}
	return out
}

// Start boots the cluster with preferred leaders in place, then the clients.
func (c *Cluster) Start() {
	if c.CheckEveryEvent {
		c.E.SetCheck(c.checkInvariants)
	}
	for _, b := range c.brokers[1:] {
		b.boot(c.ctl.bootstrapBroker(b.ID))
	}
	c.ctl.start(len(c.consumers) > 0)

	for _, p := range c.producers {
		p.start()
	}
	for _, m := range c.consumers {
		m.start()
	}
	c.E.After(monitorTick, sim.Event{H: c.hMonitor, Kind: c.h.k.tMonitor, Node: c.h.ctlNode})
}

func (c *Cluster) onMonitor(e *sim.Engine, ev *sim.Event) {
	c.monitor()
	c.E.After(monitorTick, sim.Event{H: c.hMonitor, Kind: c.h.k.tMonitor, Node: c.h.ctlNode})
}

// monitor samples availability and durability every monitorTick.
// Unavailable: the controller's leader is absent, down or paused, or (for
// acks=all producers) the ISR is below min.insync.replicas.
// At risk: some acknowledged offset is on no broker's disk yet.
func (c *Cluster) monitor() {
	c.checkInvariants()
	o := c.h.obs
	needMinISR := false
	for _, p := range c.producers {
		if p.Cfg.Acks == -1 {
			needMinISR = true
		}
	}
	risk := false
	for tp := range c.h.parts {
		leader := c.d.leader(tp)
		ok := leader >= 0 && c.brokers[leader].up && !c.brokers[leader].paused
		if len(c.d.quorum(tp)) < c.h.minISR() {
			o.underMinISR[tp] += monitorTick
			if needMinISR {
				ok = false
			}
		}
		if !ok {
			o.unavailable[tp] += monitorTick
		}
		var durable int64
		for _, id := range c.d.replicas(tp) {
			durable = max(durable, c.brokers[id].reps[tp].log().durable)
		}
		if o.ackedEnd[tp] > durable {
			risk = true
		}
	}
	if c.h.txk.known {
		for tp := range c.h.parts {
			if l := c.d.leader(tp); l > 0 && c.brokers[l].up {
				if r, ok := c.brokers[l].reps[tp].(*Replica); ok && r.role == leading {
					o.lsoTick(tp, r.Log.LSO(r.HW), r.HW)
				}
			}
		}
	}
	if risk {
		o.atRisk += monitorTick
	}
}

// ---- faults (the scenario layer calls these) ----

// Broker returns broker id, or nil.
func (c *Cluster) BrokerByID(id int) *Broker {
	if id >= 1 && id < len(c.brokers) {
		return c.brokers[id]
	}
	return nil
}

// BrokerIDs lists broker ids.
func (c *Cluster) BrokerIDs() []int {
	var out []int
	for id := 1; id < len(c.brokers); id++ {
		out = append(out, id)
	}
	return out
}

// Producer returns producer i.
func (c *Cluster) Producer(i int) *Producer { return c.producers[i] }

// Consumer returns consumer i.
func (c *Cluster) Consumer(i int) *Consumer { return c.consumers[i] }

// Controller returns the controller.
func (c *Cluster) Controller() *Controller { return c.ctl }

// Ledger returns the ledger.
func (c *Cluster) Ledger() *Ledger { return &c.h.obs.ledger }

// ControllerNode is the controller's network node.
func (c *Cluster) ControllerNode() sim.NodeID { return c.h.ctlNode }

// ClientNodes lists the producer and consumer nodes.
func (c *Cluster) ClientNodes() []sim.NodeID {
	var out []sim.NodeID
	for _, p := range c.producers {
		out = append(out, p.Node)
	}
	for _, m := range c.consumers {
		out = append(out, m.Node)
	}
	return out
}

// Leader is the controller's leader of tp (-1 none).
func (c *Cluster) Leader(tp int) int { return c.d.leader(tp) }

// Replicas lists tp's replicas.
func (c *Cluster) Replicas(tp int) []int { return c.d.replicas(tp) }

// ISRSize is the controller's ISR size of tp.
func (c *Cluster) ISRSize(tp int) int { return len(c.d.quorum(tp)) }

// Acked counts acknowledged records so far.
func (c *Cluster) Acked() int { return c.h.obs.ledger.acked }

// ISR is the controller's ISR of tp.
func (c *Cluster) ISR(tp int) []int { return c.d.quorum(tp) }

// Node returns broker id's network node.
func (c *Cluster) Node(id int) sim.NodeID { return c.brokers[id].Node }

// ProducerByName returns the producer with that name, or nil.
func (c *Cluster) ProducerByName(name string) *Producer {
	for _, p := range c.producers {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// ConsumerByName returns the consumer with that name, or nil.
func (c *Cluster) ConsumerByName(name string) *Consumer {
	for _, m := range c.consumers {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// Note records a scenario-level event (a fault the script applied).
func (c *Cluster) Note(broker int, kind history.Kind, text string) {
	c.h.obs.emit(broker, -1, kind, "%s", text)
}

// ---- recovery ----

// ControllerOutage makes the controller quorum unreachable (down true) or
// brings it back.
func (c *Cluster) ControllerOutage(down bool) { c.ctl.outage(down) }

// StopWorkload stops producers from generating new records.
func (c *Cluster) StopWorkload() { c.h.stopping = true }

// BeginRecovery heals the network, resumes paused brokers, and restarts
// everything that is down (brokers whose disk was lost come back empty).
func (c *Cluster) BeginRecovery() {
	c.h.stopping = true
	c.Net.Heal()
	c.ctl.outage(false)
	for _, b := range c.brokers[1:] {
		b.slowUntil = 0
		if b.paused {
			b.Resume()
		}
	}
	for _, b := range c.brokers[1:] {
		if !b.up {
			b.Restart()
		}
	}
	for _, m := range c.consumers {
		if !m.up {
			m.Restart()
		}
	}
	for _, p := range c.producers {
		p.Resume()
	}
	c.h.obs.emit(-1, -1, history.Recovery, "recovery: network healed, every broker and consumer running")
}

// Converged reports whether replication and clients have settled: every
// partition has a live leader whose ISR holds every replica at the leader's
// LEO and HW, no producer has anything pending, and the group has processed
// and committed up to the HW.
func (c *Cluster) Converged() bool {
	for _, b := range c.brokers[1:] {
		if (!b.up && !b.gone) || b.paused {
			return false
		}
	}
	for _, p := range c.producers {
		if p.up && (p.Pending() || !p.txnSettled()) {
			return false
		}
	}
	for _, b := range c.brokers[1:] {
		if b.tc != nil && !b.tc.settled() {
			return false
		}
	}
	for tp := range c.h.parts {
		ok, committed := c.d.settled(tp)
		// A group that never committed starts at offset 0: an empty
		// partition needs no commit.
		if !ok || tp < c.Partitions && len(c.consumers) > 0 && max(c.ctl.group.committed[tp], 0) < committed {
			return false
		}
	}
	for _, m := range c.consumers {
		if !m.idle() {
			return false
		}
	}
	return true
}

// ---- snapshot for the checkers ----

// History snapshots the run for the checkers.
func (c *Cluster) History(converged bool) *history.Run {
	o := c.h.obs
	l := &o.ledger
	h := &history.Run{Records: l.recs, AckSites: l.sites, Quorums: l.quorums, Why: l.why, Processed: l.processed,
		Commits: l.commits, Events: o.events, Removals: o.removed, Offline: o.unavailable, UnderMinISR: o.underMinISR, ProduceErrors: o.errors,
		AtRisk: o.atRisk, UncleanElections: o.unclean, TopicName: c.Topic, Design: c.design(), Converged: converged, End: c.E.Now(),
		Txns: l.txns, RecTxn: l.recTxn, LSOStall: o.lsoStall, Fenced: o.fenced}
	for _, m := range c.consumers {
		h.ReadCommitted = append(h.ReadCommitted, m.Cfg.ReadCommitted)
	}
	if c.h.outTP0 >= 0 {
		h.OutputFrom, h.Derived = c.h.outTP0, l.derived
	}
	for tp := range c.h.parts {
		leader := c.d.leader(tp)
		if leader >= 0 && c.brokers[leader].gone {
			leader = -1
		}
		group := int64(-1)
		if tp < c.Partitions {
			group = c.ctl.group.committed[tp]
		}
		pf := history.PartitionFinal{TP: tp, Leader: leader, Group: group}
		for _, id := range c.d.replicas(tp) {
			if c.brokers[id].gone {
				continue // its storage is out of reach for good
			}
			r := c.brokers[id].reps[tp]
			pf.Replicas = append(pf.Replicas, history.ReplicaFinal{Broker: id, HW: r.highWatermark(), Batches: r.log().Batches()})
		}
		if leader >= 0 {
			lr := c.brokers[leader].reps[tp]
			pf.HW = lr.highWatermark()
			for _, e := range lr.log().entries {
				if e.b.End() <= pf.HW {
					pf.Committed = append(pf.Committed, e.b)
				}
			}
		}
		h.Partitions = append(h.Partitions, pf)
	}
	for _, b := range c.brokers[1:] {
		if b.gone {
			h.Gone = append(h.Gone, b.ID)
		}
	}
	return h
}

// checkInvariants checks the design's invariants (see isrDesign).
func (c *Cluster) checkInvariants() { c.d.checkInvariants() }

// design names the replication design.
func (c *Cluster) design() string {
	if c.Replication == "" {
		return "kafka"
	}
	return c.Replication
}
