package model

import (
	"acksim/history"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"

	"acksim/sim"
)

// Spec describes a cluster and its clients, resolved from a scenario.
type Spec struct {
	// CheckEveryEvent checks the model's invariants after every event;
	// otherwise after every monitor tick (10 ms) and leadership change.
	// The test suite turns it on; it costs about 10% of run time.
	CheckEveryEvent bool

	Profile    Profile
	Brokers    int
	Racks      []string // rack of broker i+1; empty: no racks
	Topic      string
	Partitions int
	RF         int
	Broker     BrokerConfig
	OS         OSConfig
	Disk       DiskConfig
	Net        NetConfig
	Producers  []ProducerSpec
	Consumers  []ConsumerSpec
	Seed       uint64
	Trial      uint64
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

// Cluster is a simulated Kafka cluster with its clients.
type Cluster struct {
	Spec
	Topic string
	E     *sim.Engine
	Net   *sim.Network

	k                                   kinds
	hBroker, hCtl, hProducer, hConsumer sim.HandlerID
	ctlNode                             sim.NodeID
	brokers                             []*Broker // by id; [0] is nil
	brokerByNode                        []*Broker
	producers                           []*Producer
	producerByNode                      []*Producer
	consumers                           []*Consumer
	consumerByNode                      []*Consumer
	ctl                                 *Controller
	ledger                              Ledger
	pool                                pool
	gen                                 int64
	pid                                 int64
	events                              []history.Event
	removals                            []history.Removal
	stopping                            bool
	uncleanElections                    int
	diskRng                             *rand.Rand
	streams                             sim.Streams

	// Monitors, sampled every monitorTick.
	unavailable []sim.Duration // per partition
	atRisk      sim.Duration
	ackedEnd    []int64 // per partition: end of the highest acknowledged offset
	monitoring  bool
	lastEpoch   []int32 // per partition, for the epoch invariant
}

const monitorTick = 10 * sim.Millisecond

// New builds a cluster at time 0. Nothing runs until Start.
func New(s Spec) *Cluster {
	c := &Cluster{Spec: s, Topic: s.Topic}
	if c.Topic == "" {
		c.Topic = "events"
	}
	c.streams = sim.Streams{Master: s.Seed, Trial: s.Trial}
	c.E = sim.NewEngine()
	c.k.init(c.E)
	c.diskRng = c.streams.Stream("disk")
	c.ctlNode = c.E.AddNode("controller")
	nodes := 1
	c.brokers = make([]*Broker, s.Brokers+1)
	for id := 1; id <= s.Brokers; id++ {
		b := &Broker{c: c, ID: id, Node: c.E.AddNode(fmt.Sprintf("broker-%d", id)), reps: make([]*Replica, s.Partitions)}
		if len(s.Racks) >= id {
			b.Rack = s.Racks[id-1]
		}
		c.brokers[id] = b
		nodes++
	}
	for i, ps := range s.Producers {
		p := &Producer{c: c, Idx: i, Name: ps.Name, Node: c.E.AddNode(ps.Name), Cfg: ps.Cfg, WL: ps.WL,
			rng: c.streams.Stream("workload/" + ps.Name)}
		c.producers = append(c.producers, p)
		nodes++
	}
	for i, cs := range s.Consumers {
		m := &Consumer{cl: c, Idx: i, Name: cs.Name, Node: c.E.AddNode(cs.Name), Cfg: cs.Cfg}
		c.consumers = append(c.consumers, m)
		nodes++
	}
	n := nodes + 1
	c.brokerByNode = make([]*Broker, n)
	c.producerByNode = make([]*Producer, n)
	c.consumerByNode = make([]*Consumer, n)
	c.Net = sim.NewNetwork(c.E, n, sim.LinkConfig{Latency: s.Net.Latency, Jitter: s.Net.Jitter}, c.streams.Stream("network"))
	c.hBroker = c.E.Register(sim.HandlerFunc(c.handleBroker))
	c.hCtl = c.E.Register(sim.HandlerFunc(c.handleController))
	c.hProducer = c.E.Register(sim.HandlerFunc(c.handleProducer))
	c.hConsumer = c.E.Register(sim.HandlerFunc(c.handleConsumer))
	c.Net.Attach(c.ctlNode, c.hCtl)
	for _, b := range c.brokers[1:] {
		c.brokerByNode[b.Node] = b
		c.Net.Attach(b.Node, c.hBroker)
	}
	for _, p := range c.producers {
		c.producerByNode[p.Node] = p
		c.Net.Attach(p.Node, c.hProducer)
	}
	for _, m := range c.consumers {
		c.consumerByNode[m.Node] = m
		c.Net.Attach(m.Node, c.hConsumer)
	}
	// Replica assignment: round-robin over brokers, interleaving racks when
	// brokers have racks (AdminUtils.assignReplicasToBrokers, rack-aware).
	order := c.brokerOrder()
	c.ctl = &Controller{c: c, brokers: make([]ctlBroker, s.Brokers+1),
		group: &coordinator{lastHB: map[int]sim.Time{}, incs: map[int]int64{}, committed: make([]int64, s.Partitions)}}
	for tp := 0; tp < s.Partitions; tp++ {
		c.ctl.group.committed[tp] = -1
		var reps []int
		for i := 0; i < s.RF; i++ {
			reps = append(reps, order[(tp+i)%len(order)])
		}
		c.ctl.parts = append(c.ctl.parts, &partitionState{tp: tp, leader: reps[0], epoch: 0, isr: slices.Clone(reps), replicas: reps, lastLeader: -1})
		for _, id := range reps {
			r := &Replica{b: c.brokers[id], TP: tp, leader: -1, epoch: -1, pEpoch: -1, fol: make([]followerState, s.Brokers+1), replicas: reps}
			c.brokers[id].reps[tp] = r
		}
	}
	c.unavailable = make([]sim.Duration, s.Partitions)
	c.ackedEnd = make([]int64, s.Partitions)
	// Size the ledger from the workload: growing a large slice record by
	// record costs more than the simulation itself.
	expect := 0
	for _, p := range s.Producers {
		n := p.WL.Records
		if n == 0 {
			n = int(p.WL.Rate * p.WL.Duration.Seconds())
		}
		expect += min(n, 50_000_000) + 16
	}
	c.ledger.recs = make([]history.Record, 0, expect)
	c.ledger.latencies = make([]sim.Duration, 0, expect)
	// Likewise each replica's log: a partition holds at most its share of
	// the records in batches (one record each when linger.ms is 0), so this
	// is an upper bound that saves the copies of doubling.
	perLog := min(expect/s.Partitions+16, 1<<17) // at most 4 MB a replica up front
	for _, b := range c.brokers[1:] {
		for _, r := range b.reps {
			if r != nil {
				r.Log.entries = make([]entry, 0, perLog)
			}
		}
	}
	c.lastEpoch = make([]int32, s.Partitions)
	return c
}

func (c *Cluster) brokerOrder() []int {
	ids := make([]int, 0, c.Brokers)
	for id := 1; id <= c.Brokers; id++ {
		ids = append(ids, id)
	}
	if len(c.Racks) == 0 {
		return ids
	}
	byRack := map[string][]int{}
	var racks []string
	for _, id := range ids {
		r := c.brokers[id].Rack
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

func (c *Cluster) nextGen() int64 { c.gen++; return c.gen }
func (c *Cluster) nextPID() int64 { c.pid++; return c.pid }

// minISR is the effective min.insync.replicas: min(minISR, RF).
func (c *Cluster) minISR() int { return min(c.Broker.MinISR, c.RF) }

// Start boots the cluster with preferred leaders in place, then the clients.
func (c *Cluster) Start() {
	if c.CheckEveryEvent {
		c.E.SetCheck(c.checkInvariants)
	}
	for _, b := range c.brokers[1:] {
		c.ctl.nextBE++
		c.ctl.brokers[b.ID] = ctlBroker{registered: true, epoch: c.ctl.nextBE}
		b.brokerEpoch = c.ctl.nextBE
		b.osUp = false
		b.startProcessBoot()
	}
	for tp, p := range c.ctl.parts {
		c.ctl.set(tp, p)
	}
	c.E.After(250*sim.Millisecond, sim.Event{H: c.hCtl, Kind: c.k.tSessionCheck, Node: c.ctlNode})
	if len(c.consumers) > 0 {
		c.E.After(500*sim.Millisecond, sim.Event{H: c.hCtl, Kind: c.k.tGroupCheck, Node: c.ctlNode})
	}
	for _, p := range c.producers {
		p.start()
	}
	for _, m := range c.consumers {
		m.start()
	}
	c.monitoring = true
	c.E.After(monitorTick, sim.Event{H: c.hCtl, Kind: c.k.tMonitor, Node: c.ctlNode})
}

// startProcessBoot starts a broker the controller already knows (bootstrap).
func (b *Broker) startProcessBoot() {
	b.startProcess(true, true)
}

func (c *Cluster) history(broker, tp int, kind history.Kind, format string, args ...any) {
	text := fmt.Sprintf(format, args...)
	c.events = append(c.events, history.Event{At: c.E.Now(), Broker: broker, TP: tp, Kind: kind, Text: text})
	node := c.ctlNode
	if broker > 0 {
		node = c.brokers[broker].Node
	}
	c.E.Note(node, c.E.Kind("event."+kind.String()), int64(broker), int64(tp), text)
}

func (c *Cluster) noteRemoval(b *Broker, r *Replica, removed []*history.Batch, verb history.Kind, why string) {
	if len(removed) == 0 {
		return
	}
	from, to := removed[0].Base, removed[len(removed)-1].End()-1
	c.removals = append(c.removals, history.Removal{At: c.E.Now(), Broker: b.ID, TP: r.TP, Verb: verb, Why: why, From: from, To: to, Batches: removed})
	c.history(b.ID, r.TP, verb, "broker %d %s offsets %d-%d of %s (%s)", b.ID, verb, from, to, c.tpName(r.TP), why)
}

func (c *Cluster) noteAppend(b *Broker, r *Replica, bt *history.Batch, acks int) {
	if acks == 0 {
		c.ledger.ackedAt(bt, b.ID, r, 0)
		c.ackedEnd[r.TP] = max(c.ackedEnd[r.TP], bt.End())
	}
}

// monitor samples availability and durability every monitorTick.
// Unavailable: the controller's leader is absent, down or paused, or (for
// acks=all producers) the ISR is below min.insync.replicas.
// At risk: some acknowledged offset is on no broker's disk yet.
func (c *Cluster) monitor() {
	c.checkInvariants()
	needMinISR := false
	for _, p := range c.producers {
		if p.Cfg.Acks == -1 {
			needMinISR = true
		}
	}
	risk := false
	for tp, p := range c.ctl.parts {
		ok := p.leader >= 0 && c.brokers[p.leader].up && !c.brokers[p.leader].paused
		if ok && needMinISR && len(p.isr) < c.minISR() {
			ok = false
		}
		if !ok {
			c.unavailable[tp] += monitorTick
		}
		var durable int64
		for _, id := range p.replicas {
			durable = max(durable, c.brokers[id].reps[tp].Log.durable)
		}
		if c.ackedEnd[tp] > durable {
			risk = true
		}
	}
	if risk {
		c.atRisk += monitorTick
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
func (c *Cluster) Ledger() *Ledger { return &c.ledger }

// ControllerNode is the controller's network node.
func (c *Cluster) ControllerNode() sim.NodeID { return c.ctlNode }

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
func (c *Cluster) Leader(tp int) int { return c.ctl.parts[tp].leader }

// Replicas lists tp's replicas.
func (c *Cluster) Replicas(tp int) []int { return c.ctl.parts[tp].replicas }

// ISRSize is the controller's ISR size of tp.
func (c *Cluster) ISRSize(tp int) int { return len(c.ctl.parts[tp].isr) }

// Acked counts acknowledged records so far.
func (c *Cluster) Acked() int { return c.ledger.acked }

// ISR is the controller's ISR of tp.
func (c *Cluster) ISR(tp int) []int { return c.ctl.parts[tp].isr }

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
	c.history(broker, -1, kind, "%s", text)
}

// ---- recovery ----

// StopWorkload stops producers from generating new records.
func (c *Cluster) StopWorkload() { c.stopping = true }

// BeginRecovery heals the network, resumes paused brokers, and restarts
// everything that is down (brokers whose disk was lost come back empty).
func (c *Cluster) BeginRecovery() {
	c.stopping = true
	c.Net.Heal()
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
	c.history(-1, -1, history.Recovery, "recovery: network healed, every broker and consumer running")
}

// Converged reports whether replication and clients have settled: every
// partition has a live leader whose ISR holds every replica at the leader's
// LEO and HW, no producer has anything pending, and the group has processed
// and committed up to the HW.
func (c *Cluster) Converged() bool {
	for _, b := range c.brokers[1:] {
		if !b.up || b.paused {
			return false
		}
	}
	for _, p := range c.producers {
		if p.up && p.Pending() {
			return false
		}
	}
	for tp, p := range c.ctl.parts {
		if p.leader < 0 {
			return false
		}
		lr := c.brokers[p.leader].reps[tp]
		if !lr.isLeader || lr.HW != lr.Log.LEO() || len(p.isr) != len(p.replicas) {
			return false
		}
		for _, id := range p.replicas {
			r := c.brokers[id].reps[tp]
			if r.Log.LEO() != lr.Log.LEO() || r.HW != lr.HW {
				return false
			}
		}
		if len(c.consumers) > 0 && c.ctl.group.committed[tp] < lr.HW {
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
	h := &history.Run{Records: c.ledger.recs, Quorums: c.ledger.isrs, Why: c.ledger.why, Latencies: c.ledger.latencies, Processed: c.ledger.processed,
		Commits: c.ledger.commits, Events: c.events, Removals: c.removals, Unavailable: c.unavailable,
		AtRisk: c.atRisk, UncleanElections: c.uncleanElections, TopicName: c.Topic, Converged: converged, End: c.E.Now()}
	for tp, p := range c.ctl.parts {
		pf := history.PartitionFinal{TP: tp, Leader: p.leader, Group: c.ctl.group.committed[tp]}
		for _, id := range p.replicas {
			r := c.brokers[id].reps[tp]
			pf.Replicas = append(pf.Replicas, history.ReplicaFinal{Broker: id, HW: r.HW, Batches: r.Log.Batches()})
		}
		if p.leader >= 0 {
			lr := c.brokers[p.leader].reps[tp]
			pf.HW = lr.HW
			for _, e := range lr.Log.entries {
				if e.b.End() <= lr.HW {
					pf.Committed = append(pf.Committed, e.b)
				}
			}
		}
		h.Partitions = append(h.Partitions, pf)
	}
	return h
}
