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

	h       *host
	hid     sim.HandlerID
	up      bool
	inc     int64
	gen     int64 // group generation of the current assignment
	tps     []int
	pos     []int64 // next offset to fetch, per assigned partition
	done    []int64 // next offset to process (processed position), per assigned partition
	leaders []int
	// KIP-320: per assigned partition, the leader epoch of the last
	// consumed record (-1: none yet) and whether the position must be
	// validated against a new leader before the next fetch.
	epochs     []int32
	validate   []bool
	rr         int
	fetchWait  bool
	fetching   bool // a fetch request is out (fetchWait also covers backoff waits)
	commitWait bool
	// waiting identifies the one outstanding operation (fetch, sync commit or
	// retry wait); responses and guard timers of any other are stale.
	waiting    int64
	work       []item
	working    bool
	lastCommit sim.Time
	// out is the transactional producer a consume-transform-produce
	// application writes with (pipeline.go); nil otherwise.
	out *Producer
	// pipeWait: the application waits for its transaction to end or for
	// the group's committed offsets (OffsetFetch); an assignment that
	// comes meanwhile waits in pendingAssign.
	pipeWait      bool
	pendingAssign *assignment
	// The application's process stalled with its producer (pipeline.go).
	stall
	// seekAfterAbort: the OffsetFetch in flight is the application's seek
	// back after an abort (else the positions of a new assignment).
	seekAfterAbort bool
}

type item struct {
	tp  int
	off int64
	id  history.RecordID
}

func (m *Consumer) timer(kind sim.KindID, d sim.Duration, a int64) {
	m.h.E.After(d, sim.Event{H: m.hid, Kind: kind, Node: m.Node, A: a, B: m.inc})
}

func (m *Consumer) send(kind sim.KindID, p any) { m.h.Net.Send(m.Node, m.h.ctlNode, kind, p) }

// Up reports whether the consumer process runs.
func (m *Consumer) Up() bool { return m.up }

func (m *Consumer) start() {
	h := m.h
	m.up = true
	m.inc = h.nextGen()
	m.tps, m.pos, m.done, m.work = nil, nil, nil, nil
	m.pipeWait, m.pendingAssign, m.seekAfterAbort = false, nil, false
	m.fetchWait, m.commitWait, m.working = false, false, false
	m.leaders = make([]int, h.spec.Partitions)
	for i := range m.leaders {
		m.leaders[i] = -1
	}
	m.lastCommit = h.E.Now()
	m.send(h.k.joinGroup, &joinGroup{member: m.Idx, gen: m.inc})
	h.Net.Send(m.Node, h.ctlNode, h.k.metadataReq, &metadataReq{})
	m.timer(h.k.tGroupHB, m.Cfg.HeartbeatInterval, 0)
}

// Handle steps the consumer on a message or timer.
func (m *Consumer) Handle(e *sim.Engine, ev *sim.Event) {
	h := m.h
	k := &h.k
	if !m.up {
		return
	}
	if m.paused {
		m.deferred = append(m.deferred, *ev) // a timer (messages wait in the network)
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
		if m.out != nil && (m.pipeWait || m.working || len(m.work) > 0) {
			// The application is processing what its last poll returned,
			// or inside commitTransaction (or seeking): the rebalance runs
			// in its next poll (ConsumerRebalanceListener: the callbacks
			// run only inside a call to poll()).
			m.pendingAssign = a
			return
		}
		m.assign(a)
	case k.metadataResp:
		leaders := ev.P.(*metadataResp).leaders
		for i, tp := range m.tps {
			if m.Cfg.ValidatePosition && leaders[tp] >= 0 && leaders[tp] != m.leaders[tp] && m.epochs[i] >= 0 {
				m.validate[i] = true // a new leader: validate the position first (KIP-320)
			}
		}
		copy(m.leaders, leaders)
		m.poll()
	case k.epochResp:
		m.onValidate(ev.P.(*epochResp))
	case k.tPoll:
		if ev.A != m.waiting {
			return // a guard for an operation that already completed
		}
		if m.fetching {
			// The fetch got no answer in time: the leader may be gone
			// (powered off, cut off); refresh the metadata before the next
			// poll (Fetcher: a disconnection or timeout requests an update).
			h.Net.Send(m.Node, h.ctlNode, k.metadataReq, &metadataReq{})
		}
		m.fetchWait, m.commitWait, m.fetching = false, false, false
		m.startWork()
		m.poll()
	case k.fetchResp:
		m.onFetch(ev.P.(*fetchResp))
	case k.tProcess:
		m.processOne()
	case k.rst:
		if m.fetchWait {
			h.Net.Send(m.Node, h.ctlNode, k.metadataReq, &metadataReq{})
			m.wait(100 * sim.Millisecond)
		}
	case k.commitResp:
		r := ev.P.(*commitResp)
		if r.sync && m.commitWait {
			m.commitWait = false
			m.waiting = m.h.nextGen()
			m.startWork() // committed before processing: now process
			m.poll()
		}
	default:
		m.onPipeEvent(ev)
	}
}

// assign applies a new assignment: the positions start at the group's
// committed offsets.
func (m *Consumer) assign(a *assignment) {
	m.seekAfterAbort = false
	if m.Cfg.AutoCommit && len(m.tps) > 0 {
		m.commit(false) // onJoinPrepare: auto-commit before a rebalance
	}
	m.gen = a.generation
	m.tps = a.tps
	m.pos = make([]int64, len(a.tps))
	m.done = make([]int64, len(a.tps))
	m.epochs = make([]int32, len(a.tps))
	m.validate = make([]bool, len(a.tps))
	for i := range m.epochs {
		m.epochs[i] = -1
	}
	for i, off := range a.committed {
		if off < 0 {
			off = 0 // no committed offset: start from the beginning
		}
		m.pos[i], m.done[i] = off, off
	}
	m.work = slices.DeleteFunc(m.work, func(it item) bool { return !slices.Contains(m.tps, it.tp) })
	if m.out != nil && len(m.tps) > 0 {
		// The application fetches the committed offsets now (OffsetFetch;
		// since KIP-447 asking for stable ones, waiting while a
		// transaction's are pending).
		m.fetchCommitted()
		return
	}
	m.poll()
}

func (m *Consumer) idx(tp int) int { return slices.Index(m.tps, tp) }

// poll is KafkaConsumer.poll: auto-commit when due, then fetch.
func (m *Consumer) poll() {
	h := m.h
	if a := m.pendingAssign; a != nil && !m.pipeWait && !m.working && len(m.work) == 0 {
		m.pendingAssign = nil
		m.assign(a) // the rebalance this poll runs
		return
	}
	if m.fetchWait || m.commitWait || m.pipeWait || len(m.tps) == 0 {
		return
	}
	if !m.Cfg.Async && len(m.work) > 0 {
		return // synchronous processing: the next poll comes after processing
	}
	if m.Cfg.Async && len(m.work) >= 4*m.Cfg.MaxPollRecords {
		return
	}
	if m.Cfg.AutoCommit && h.E.Now().Sub(m.lastCommit) >= m.Cfg.AutoCommitInterval {
		m.commit(false)
	}
	m.rr++
	tp := m.tps[m.rr%len(m.tps)]
	leader := m.leaders[tp]
	m.fetchWait = true
	if leader < 0 {
		h.Net.Send(m.Node, h.ctlNode, h.k.metadataReq, &metadataReq{})
		m.wait(100 * sim.Millisecond)
		return
	}
	m.waiting = h.nextGen()
	m.fetching = true
	if i := m.idx(tp); m.validate[i] {
		// OffsetsForLeaderEpoch for the epoch of the last consumed record
		// (Fetcher.validateOffsetsIfNeeded).
		h.Net.Send(m.Node, h.node(leader), h.k.epochReq, &epochReq{tp: tp, epoch: m.epochs[i], current: -1, session: m.waiting})
		m.timer(h.k.tPoll, 5*sim.Second, m.waiting)
		return
	}
	h.Net.Send(m.Node, h.node(leader), h.k.fetch, &fetchReq{tp: tp, replica: -1, offset: m.pos[m.idx(tp)], maxRecords: m.Cfg.MaxPollRecords, session: m.waiting, readCommitted: m.Cfg.ReadCommitted})
	m.timer(h.k.tPoll, 5*sim.Second, m.waiting) // request timeout guard
}

// wait pauses the poll loop for d (a retry backoff), as the one outstanding
// operation.
func (m *Consumer) wait(d sim.Duration) {
	m.fetchWait, m.fetching = true, false
	m.waiting = m.h.nextGen()
	m.timer(m.h.k.tPoll, d, m.waiting)
}

func (m *Consumer) onFetch(r *fetchResp) {
	h := m.h
	if !m.fetchWait || r.session != m.waiting {
		return // the answer to a fetch we gave up on
	}
	i := m.idx(r.tp)
	m.fetchWait, m.fetching = false, false
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
		h.obs.emit(-1, r.tp, history.OffsetReset, "consumer %s reset its position on %s from %d to %d (auto.offset.reset=%s)", m.Name, h.tpName(r.tp), m.pos[i], to, map[bool]string{true: "latest", false: "earliest"}[m.Cfg.ResetLatest])
		m.pos[i] = to
		if m.done[i] > to {
			m.done[i] = to
		}
		m.poll()
		return
	default:
		h.Net.Send(m.Node, h.ctlNode, h.k.metadataReq, &metadataReq{})
		m.wait(100 * sim.Millisecond)
		return
	}
	if r.offset != m.pos[i] {
		m.poll()
		return
	}
	for bi, b := range r.batches {
		if b.Control() || (r.aborted != nil && r.aborted[bi]) {
			// A transaction marker, or a batch of an aborted transaction
			// (read_committed): skipped, the position moves past it.
			if b.End() > m.pos[i] {
				m.pos[i] = b.End()
			}
			continue
		}
		for j, id := range b.Records {
			off := b.Base + int64(j)
			if off < m.pos[i] {
				continue
			}
			m.work = append(m.work, item{tp: r.tp, off: off, id: id})
			m.pos[i] = off + 1
			m.epochs[i] = b.Epoch
		}
	}
	if m.Cfg.CommitBefore && len(m.work) > 0 && !m.working {
		m.commit(true) // commitSync of what poll returned, then process: at-most-once
		return
	}
	m.startWork()
	if m.Cfg.Async || len(m.work) == 0 {
		m.poll()
	}
}

// onValidate applies the answer to a position validation (KIP-320): if
// the new leader's log ends the epoch of the last consumed record below the
// position, the log was truncated under it, and the consumer moves back to
// that point (SubscriptionState.maybeCompleteValidation).
func (m *Consumer) onValidate(r *epochResp) {
	h := m.h
	if !m.fetchWait || r.session != m.waiting {
		return
	}
	m.fetchWait, m.fetching = false, false
	i := m.idx(r.tp)
	if i < 0 {
		m.poll()
		return
	}
	if r.err != ErrNone {
		h.Net.Send(m.Node, h.ctlNode, h.k.metadataReq, &metadataReq{})
		m.wait(100 * sim.Millisecond)
		return
	}
	m.validate[i] = false
	if r.end >= 0 && r.end < m.pos[i] {
		h.obs.emit(-1, r.tp, history.OffsetReset, "consumer %s found %s truncated under its position: it moves back from %d to %d, where epoch %d ends on the new leader (KIP-320)",
			m.Name, h.tpName(r.tp), m.pos[i], r.end, m.epochs[i])
		m.pos[i] = r.end
		if m.done[i] > r.end {
			m.done[i] = r.end
		}
		m.work = slices.DeleteFunc(m.work, func(it item) bool { return it.tp == r.tp && it.off >= r.end })
	}
	m.poll()
}

// startWork starts processing the queued records, if not already.
func (m *Consumer) startWork() {
	if !m.working && len(m.work) > 0 {
		m.working = true
		m.timer(m.h.k.tProcess, m.Cfg.ProcessingTime, 0)
	}
}

func (m *Consumer) processOne() {
	h := m.h
	if len(m.work) == 0 {
		m.working = false
		return
	}
	it := m.work[0]
	if m.out != nil && !m.pipeProcess(it) {
		m.working = false // the producer calls pipeResume when it can take it
		return
	}
	m.work = m.work[1:]
	h.obs.processed(history.Processed{Member: m.Idx, TP: it.tp, Offset: it.off, ID: it.id, At: h.E.Now()})
	if i := m.idx(it.tp); i >= 0 && it.off >= m.done[i] {
		m.done[i] = it.off + 1
	}
	if len(m.work) > 0 {
		m.timer(h.k.tProcess, m.Cfg.ProcessingTime, 0)
		return
	}
	m.working = false
	if m.out != nil {
		m.pipeEnd() // sendOffsetsToTransaction, commitTransaction
		return
	}
	if !m.Cfg.AutoCommit && !m.Cfg.CommitBefore {
		m.commit(true) // commitSync after processing: at-least-once
		return
	}
	m.poll()
}

// commit sends the group's offsets: auto-commit and a commit before
// processing commit the fetch position (what poll returned, processed or
// not); a commit after processing commits what was processed.
func (m *Consumer) commit(sync bool) {
	h := m.h
	offs := m.pos
	if !m.Cfg.AutoCommit && !m.Cfg.CommitBefore {
		offs = m.done
	}
	m.lastCommit = h.E.Now()
	m.send(h.k.commitReq, &commitReq{member: m.Idx, generation: m.gen, tps: slices.Clone(m.tps), offsets: slices.Clone(offs), sync: sync})
	if sync {
		m.commitWait = true
		m.waiting = h.nextGen()
		m.timer(h.k.tPoll, 5*sim.Second, m.waiting)
	}
}

// Crash kills the consumer: queued work and positions are lost.
func (m *Consumer) Crash() {
	if !m.up {
		return
	}
	if m.paused {
		m.drop(m.h, m.Node)
	}
	m.up = false
	m.inc = m.h.nextGen()
	m.work = nil
	m.pipeWait = false
	m.h.obs.emit(-1, -1, history.ConsumerCrash, "consumer %s crashed", m.Name)
	if m.out != nil {
		m.out.Crash() // one application process
	}
}

// Restart starts the consumer again; it rejoins the group.
func (m *Consumer) Restart() {
	if m.up {
		return
	}
	m.h.obs.emit(-1, -1, history.ConsumerRestart, "consumer %s restarted", m.Name)
	m.start()
	if m.out != nil {
		m.out.Restart()
	}
}

// Caught up reports whether the member has processed everything up to the
// HW of its partitions and committed it.
func (m *Consumer) idle() bool { return !m.working && len(m.work) == 0 }

// coordinator is the group coordinator (on the controller node, treated as
// reliable; __consumer_offsets is not modelled).
type coordinator struct {
	h         *host
	hid       sim.HandlerID
	nodes     []sim.NodeID   // each member's node, by member index
	names     []string       // each member's name
	sessions  []sim.Duration // each member's session.timeout.ms
	members   []int          // live member indexes, sorted
	lastHB    map[int]sim.Time
	incs      map[int]int64
	gen       int64
	committed []int64
	// Consume-transform-produce (pipeline.go): transactions' offsets not
	// yet committed, by producer id, and each producer id's latest epoch.
	pending map[int64]*pendingOffsets
	epochs  map[int64]int16
}

func newCoordinator(h *host, consumers []*Consumer) *coordinator {
	g := &coordinator{h: h, lastHB: map[int]sim.Time{}, incs: map[int]int64{}, committed: make([]int64, h.spec.Partitions)}
	for i := range g.committed {
		g.committed[i] = -1
	}
	for _, m := range consumers {
		g.nodes = append(g.nodes, m.Node)
		g.names = append(g.names, m.Name)
		g.sessions = append(g.sessions, m.Cfg.SessionTimeout)
	}
	g.hid = h.E.Register(g)
	return g
}

func (g *coordinator) start() {
	g.h.E.After(500*sim.Millisecond, sim.Event{H: g.hid, Kind: g.h.k.tGroupCheck, Node: g.h.ctlNode})
}

// Handle steps the coordinator on a group message or its session check.
func (g *coordinator) Handle(e *sim.Engine, ev *sim.Event) {
	h := g.h
	k := &h.k
	if h.pk.known && (ev.Kind == h.pk.offCommit || ev.Kind == h.pk.offFetch || ev.Kind == h.txk.marker) {
		g.onPipe(e, ev)
		return
	}
	switch ev.Kind {
	case k.joinGroup:
		m := ev.P.(*joinGroup)
		g.lastHB[m.member] = e.Now()
		g.incs[m.member] = m.gen
		if !slices.Contains(g.members, m.member) {
			g.members = append(g.members, m.member)
			slices.Sort(g.members)
		}
		g.rebalance()
	case k.groupHB:
		m := ev.P.(*groupHeartbeat)
		if g.incs[m.member] == m.generation {
			g.lastHB[m.member] = e.Now()
			if !slices.Contains(g.members, m.member) {
				// A live member the coordinator removed (its heartbeats
				// were cut off) is answered UNKNOWN_MEMBER_ID and rejoins
				// (AbstractCoordinator).
				g.members = append(g.members, m.member)
				slices.Sort(g.members)
				h.obs.emit(-1, -1, history.Group, "consumer %s rejoined the group: the coordinator had removed it", g.names[m.member])
				g.rebalance()
			}
		}
	case k.commitReq:
		m := ev.P.(*commitReq)
		ok := m.generation == g.gen && slices.Contains(g.members, m.member)
		if ok {
			for i, tp := range m.tps {
				if m.offsets[i] != g.committed[tp] {
					g.committed[tp] = m.offsets[i]
					h.obs.committed(history.Commit{TP: tp, Offset: m.offsets[i], At: e.Now(), Member: m.member})
				}
			}
		}
		h.Net.Send(h.ctlNode, sim.NodeID(ev.A), k.commitResp, &commitResp{ok: ok, sync: m.sync})
	case k.tGroupCheck:
		for _, id := range slices.Clone(g.members) {
			if e.Now().Sub(g.lastHB[id]) > g.sessions[id] {
				g.members = remove(g.members, id)
				h.obs.emit(-1, -1, history.Group, "group coordinator removed consumer %s (session.timeout.ms expired)", g.names[id])
				g.rebalance()
			}
		}
		h.E.After(500*sim.Millisecond, sim.Event{H: g.hid, Kind: k.tGroupCheck, Node: h.ctlNode})
	}
}

// rebalance assigns partitions round-robin over live members (eager).
func (g *coordinator) rebalance() {
	h := g.h
	g.gen++
	if len(g.members) == 0 {
		return
	}
	per := make([][]int, len(g.members))
	for tp := 0; tp < h.spec.Partitions; tp++ {
		per[tp%len(g.members)] = append(per[tp%len(g.members)], tp)
	}
	for i, id := range g.members {
		committed := make([]int64, len(per[i]))
		for j, tp := range per[i] {
			committed[j] = g.committed[tp]
		}
		h.Net.Send(h.ctlNode, g.nodes[id], h.k.assignment, &assignment{generation: g.gen, tps: per[i], committed: committed})
	}
}
