package model

import (
	"acksim/history"
	"slices"

	"acksim/sim"
)

// Consumer is one member of the consumer group, with its application.
type Consumer struct {
	Idx  int
	Name string
	Node sim.NodeID
	Cfg  ConsumerConfig

	cl         *Cluster
	up         bool
	inc        int64
	gen        int64 // group generation of the current assignment
	tps        []int
	pos        []int64 // next offset to fetch, per assigned partition
	done       []int64 // next offset to process (processed position), per assigned partition
	leaders    []int
	rr         int
	fetchWait  bool
	commitWait bool
	// waiting identifies the one outstanding operation (fetch, sync commit or
	// retry wait); responses and guard timers of any other are stale.
	waiting    int64
	work       []item
	working    bool
	lastCommit sim.Time
}

type item struct {
	tp  int
	off int64
	id  history.RecordID
}

func (m *Consumer) timer(kind sim.KindID, d sim.Duration, a int64) {
	m.cl.E.After(d, sim.Event{H: m.cl.hConsumer, Kind: kind, Node: m.Node, A: a, B: m.inc})
}

func (m *Consumer) send(kind sim.KindID, p any) { m.cl.Net.Send(m.Node, m.cl.ctlNode, kind, p) }

// Up reports whether the consumer process runs.
func (m *Consumer) Up() bool { return m.up }

func (m *Consumer) start() {
	c := m.cl
	m.up = true
	m.inc = c.nextGen()
	m.tps, m.pos, m.done, m.work = nil, nil, nil, nil
	m.fetchWait, m.commitWait, m.working = false, false, false
	m.leaders = make([]int, c.Partitions)
	for i := range m.leaders {
		m.leaders[i] = -1
	}
	m.lastCommit = c.E.Now()
	m.send(c.k.joinGroup, &joinGroup{member: m.Idx, gen: m.inc})
	c.Net.Send(m.Node, c.ctlNode, c.k.metadataReq, &metadataReq{})
	m.timer(c.k.tGroupHB, m.Cfg.HeartbeatInterval, 0)
}

func (c *Cluster) handleConsumer(e *sim.Engine, ev *sim.Event) {
	m := c.consumerByNode[ev.Node]
	k := &c.k
	if !m.up {
		return
	}
	if ev.Kind >= k.firstConsumerTimer && ev.Kind <= k.lastConsumerTimer && ev.B != m.inc {
		return
	}
	switch ev.Kind {
	case k.tGroupHB:
		m.send(k.groupHB, &groupHeartbeat{member: m.Idx, generation: m.inc})
		m.timer(k.tGroupHB, m.Cfg.HeartbeatInterval, 0)
	case k.assignment:
		a := ev.P.(*assignment)
		if m.Cfg.AutoCommit && len(m.tps) > 0 {
			m.commit(false) // onJoinPrepare: auto-commit before a rebalance
		}
		m.gen = a.generation
		m.tps = a.tps
		m.pos = make([]int64, len(a.tps))
		m.done = make([]int64, len(a.tps))
		for i, off := range a.committed {
			if off < 0 {
				off = 0 // no committed offset: start from the beginning
			}
			m.pos[i], m.done[i] = off, off
		}
		m.work = slices.DeleteFunc(m.work, func(it item) bool { return !slices.Contains(m.tps, it.tp) })
		m.poll()
	case k.metadataResp:
		copy(m.leaders, ev.P.(*metadataResp).leaders)
		m.poll()
	case k.tPoll:
		if ev.A != m.waiting {
			return // a guard for an operation that already completed
		}
		m.fetchWait, m.commitWait = false, false
		m.poll()
	case k.fetchResp:
		m.onFetch(ev.P.(*fetchResp))
	case k.tProcess:
		m.processOne()
	case k.rst:
		if m.fetchWait {
			c.Net.Send(m.Node, c.ctlNode, k.metadataReq, &metadataReq{})
			m.wait(100 * sim.Millisecond)
		}
	case k.commitResp:
		r := ev.P.(*commitResp)
		if r.sync && m.commitWait {
			m.commitWait = false
			m.waiting = m.cl.nextGen()
			m.poll()
		}
	}
}

func (m *Consumer) idx(tp int) int { return slices.Index(m.tps, tp) }

// poll is KafkaConsumer.poll: auto-commit when due, then fetch.
func (m *Consumer) poll() {
	c := m.cl
	if m.fetchWait || m.commitWait || len(m.tps) == 0 {
		return
	}
	if !m.Cfg.Async && len(m.work) > 0 {
		return // synchronous processing: the next poll comes after processing
	}
	if m.Cfg.Async && len(m.work) >= 4*m.Cfg.MaxPollRecords {
		return
	}
	if m.Cfg.AutoCommit && c.E.Now().Sub(m.lastCommit) >= m.Cfg.AutoCommitInterval {
		m.commit(false)
	}
	m.rr++
	tp := m.tps[m.rr%len(m.tps)]
	leader := m.leaders[tp]
	m.fetchWait = true
	if leader < 0 {
		c.Net.Send(m.Node, c.ctlNode, c.k.metadataReq, &metadataReq{})
		m.wait(100 * sim.Millisecond)
		return
	}
	m.waiting = c.nextGen()
	c.Net.Send(m.Node, c.brokers[leader].Node, c.k.fetch, &fetchReq{tp: tp, replica: -1, offset: m.pos[m.idx(tp)], maxRecords: m.Cfg.MaxPollRecords, session: m.waiting})
	m.timer(c.k.tPoll, 5*sim.Second, m.waiting) // request timeout guard
}

// wait pauses the poll loop for d (a retry backoff), as the one outstanding
// operation.
func (m *Consumer) wait(d sim.Duration) {
	m.fetchWait = true
	m.waiting = m.cl.nextGen()
	m.timer(m.cl.k.tPoll, d, m.waiting)
}

func (m *Consumer) onFetch(r *fetchResp) {
	c := m.cl
	if !m.fetchWait || r.session != m.waiting {
		return // the answer to a fetch we gave up on
	}
	i := m.idx(r.tp)
	m.fetchWait = false
	if i < 0 {
		m.poll()
		return
	}
	switch r.err {
	case ErrNone:
	case ErrOffsetOutOfRange:
		// auto.offset.reset (Fetcher.resetOffsetIfNeeded).
		to := int64(0)
		if m.Cfg.ResetLatest {
			to = r.hw
		}
		c.history(-1, r.tp, history.OffsetReset, "consumer %s reset its position on %s from %d to %d (auto.offset.reset=%s)", m.Name, c.tpName(r.tp), m.pos[i], to, map[bool]string{true: "latest", false: "earliest"}[m.Cfg.ResetLatest])
		m.pos[i] = to
		if m.done[i] > to {
			m.done[i] = to
		}
		m.poll()
		return
	default:
		c.Net.Send(m.Node, c.ctlNode, c.k.metadataReq, &metadataReq{})
		m.wait(100 * sim.Millisecond)
		return
	}
	if r.offset != m.pos[i] {
		m.poll()
		return
	}
	for _, b := range r.batches {
		for j, id := range b.Records {
			off := b.Base + int64(j)
			if off < m.pos[i] {
				continue
			}
			m.work = append(m.work, item{tp: r.tp, off: off, id: id})
			m.pos[i] = off + 1
		}
	}
	if !m.working && len(m.work) > 0 {
		m.working = true
		m.timer(c.k.tProcess, m.Cfg.ProcessingTime, 0)
	}
	if m.Cfg.Async || len(m.work) == 0 {
		m.poll()
	}
}

func (m *Consumer) processOne() {
	c := m.cl
	if len(m.work) == 0 {
		m.working = false
		return
	}
	it := m.work[0]
	m.work = m.work[1:]
	c.ledger.process(history.Processed{Member: m.Idx, TP: it.tp, Offset: it.off, ID: it.id, At: c.E.Now()})
	if i := m.idx(it.tp); i >= 0 && it.off >= m.done[i] {
		m.done[i] = it.off + 1
	}
	if len(m.work) > 0 {
		m.timer(c.k.tProcess, m.Cfg.ProcessingTime, 0)
		return
	}
	m.working = false
	if !m.Cfg.AutoCommit {
		m.commit(true) // commitSync after processing: at-least-once
		return
	}
	m.poll()
}

// commit sends the group's offsets: auto-commit commits the fetch position
// (what poll returned, processed or not); manual commit after processing
// commits what was processed.
func (m *Consumer) commit(sync bool) {
	c := m.cl
	offs := m.pos
	if !m.Cfg.AutoCommit {
		offs = m.done
	}
	m.lastCommit = c.E.Now()
	m.send(c.k.commitReq, &commitReq{member: m.Idx, generation: m.gen, tps: slices.Clone(m.tps), offsets: slices.Clone(offs), sync: sync})
	if sync {
		m.commitWait = true
		m.waiting = c.nextGen()
		m.timer(c.k.tPoll, 5*sim.Second, m.waiting)
	}
}

// Crash kills the consumer: queued work and positions are lost.
func (m *Consumer) Crash() {
	if !m.up {
		return
	}
	m.up = false
	m.inc = m.cl.nextGen()
	m.work = nil
	m.cl.history(-1, -1, history.ConsumerCrash, "consumer %s crashed", m.Name)
}

// Restart starts the consumer again; it rejoins the group.
func (m *Consumer) Restart() {
	if m.up {
		return
	}
	m.cl.history(-1, -1, history.ConsumerRestart, "consumer %s restarted", m.Name)
	m.start()
}

// Caught up reports whether the member has processed everything up to the
// HW of its partitions and committed it.
func (m *Consumer) idle() bool { return !m.working && len(m.work) == 0 }

// coordinator is the group coordinator (on the controller node, treated as
// reliable; __consumer_offsets is not modelled).
type coordinator struct {
	members   []int // live member indexes, sorted
	lastHB    map[int]sim.Time
	incs      map[int]int64
	gen       int64
	committed []int64
}

func (c *Cluster) handleCoordinator(e *sim.Engine, ev *sim.Event) {
	g := c.ctl.group
	k := &c.k
	switch ev.Kind {
	case k.joinGroup:
		m := ev.P.(*joinGroup)
		g.lastHB[m.member] = e.Now()
		g.incs[m.member] = m.gen
		if !slices.Contains(g.members, m.member) {
			g.members = append(g.members, m.member)
			slices.Sort(g.members)
		}
		c.rebalance()
	case k.groupHB:
		m := ev.P.(*groupHeartbeat)
		if g.incs[m.member] == m.generation {
			g.lastHB[m.member] = e.Now()
		}
	case k.commitReq:
		m := ev.P.(*commitReq)
		ok := m.generation == g.gen && slices.Contains(g.members, m.member)
		if ok {
			for i, tp := range m.tps {
				if m.offsets[i] != g.committed[tp] {
					g.committed[tp] = m.offsets[i]
					c.ledger.commit(history.Commit{TP: tp, Offset: m.offsets[i], At: e.Now(), Member: m.member})
				}
			}
		}
		c.Net.Send(c.ctlNode, sim.NodeID(ev.A), k.commitResp, &commitResp{ok: ok, sync: m.sync})
	case k.tGroupCheck:
		for _, id := range slices.Clone(g.members) {
			if e.Now().Sub(g.lastHB[id]) > c.consumers[id].Cfg.SessionTimeout {
				g.members = remove(g.members, id)
				c.history(-1, -1, history.Group, "group coordinator removed consumer %s (session.timeout.ms expired)", c.consumers[id].Name)
				c.rebalance()
			}
		}
		c.E.After(500*sim.Millisecond, sim.Event{H: c.hCtl, Kind: k.tGroupCheck, Node: c.ctlNode})
	}
}

// rebalance assigns partitions round-robin over live members (eager).
func (c *Cluster) rebalance() {
	g := c.ctl.group
	g.gen++
	if len(g.members) == 0 {
		return
	}
	per := make([][]int, len(g.members))
	for tp := 0; tp < c.Partitions; tp++ {
		per[tp%len(g.members)] = append(per[tp%len(g.members)], tp)
	}
	for i, id := range g.members {
		committed := make([]int64, len(per[i]))
		for j, tp := range per[i] {
			committed[j] = g.committed[tp]
		}
		c.Net.Send(c.ctlNode, c.consumers[id].Node, c.k.assignment, &assignment{generation: g.gen, tps: per[i], committed: committed})
	}
}
