package model

import (
	"acksim/history"
	"slices"

	"acksim/sim"
)

// Controller is a KRaft-style controller quorum, treated as one reliable
// node reached over the network. It registers and fences brokers, elects
// leaders and accepts ISR changes. In ZooKeeper-era profiles it plays the
// ZooKeeper-backed controller: the rules are the same, the session timeout
// differs.
type Controller struct {
	h       *host
	hid     sim.HandlerID
	mux     *nodeMux    // the controller node's handler: the controller and the group coordinator
	brokers []ctlBroker // indexed by broker id
	parts   []*partitionState
	nextBE  int64
	group   *coordinator
	// leaderOf answers metadata requests: the replication design's leader
	// of a partition.
	leaderOf func(tp int) int
	// electionOrder, when set, orders an election's candidates (the
	// replicas in assignment order otherwise): RocketMQ's controller
	// prefers the highest (epoch, max offset).
	electionOrder func(tp int, replicas []int) []int
	// keepISR: fencing leaves the ISR alone and a re-registration fences
	// nothing (RocketMQ's controller: only the master changes the
	// SyncStateSet, and a broker that registers again is simply alive
	// again, ReplicasManager.registerBrokerToController); a fenced master
	// still loses its mastership (ControllerManager.onBrokerInactive).
	keepISR bool
	// down: the controller quorum (ZooKeeper in ZooKeeper profiles) is
	// unreachable: no registration, heartbeat, fencing, election or ISR
	// change. Brokers keep serving with the metadata they have, and answer
	// clients' metadata requests from their caches (modelled by the
	// controller answering them with its last state).
	down bool
}

func newController(h *host, consumers []*Consumer) *Controller {
	ctl := &Controller{h: h, brokers: make([]ctlBroker, h.brokers()+1), mux: &nodeMux{}}
	ctl.group = newCoordinator(h, consumers)
	ctl.hid = h.E.Register(ctl)
	k := &h.k
	ctl.mux.route(ctl, k.heartbeat, k.register, k.shutdownReq, k.alterPartition, k.metadataReq)
	ctl.mux.route(ctl.group, k.joinGroup, k.groupHB, k.commitReq)
	return ctl
}

// bootstrapBroker registers broker id at boot and returns its broker epoch.
func (ctl *Controller) bootstrapBroker(id int) int64 {
	ctl.nextBE++
	ctl.brokers[id] = ctlBroker{registered: true, epoch: ctl.nextBE}
	return ctl.nextBE
}

// start publishes the initial partition states and starts the controller's
// checks (and the coordinator's, when the group has members).
func (ctl *Controller) start(group bool) {
	for tp, p := range ctl.parts {
		ctl.set(tp, p)
	}
	h := ctl.h
	h.E.After(250*sim.Millisecond, sim.Event{H: ctl.hid, Kind: h.k.tSessionCheck, Node: h.ctlNode})
	if group {
		ctl.group.start()
	}
}

type ctlBroker struct {
	registered bool
	fenced     bool
	epoch      int64
	lastHB     sim.Time
}

func (ctl *Controller) live(id int) bool {
	b := ctl.brokers[id]
	return b.registered && !b.fenced
}

// State returns the controller's view of partition tp.
func (ctl *Controller) State(tp int) (leader int, epoch int32, isr, elr []int) {
	p := ctl.parts[tp]
	return p.leader, p.epoch, p.isr, p.elr
}

// Handle steps the controller on a message or timer.
func (ctl *Controller) Handle(e *sim.Engine, ev *sim.Event) {
	h := ctl.h
	k := &h.k
	from := sim.NodeID(ev.A)
	if ctl.down {
		switch ev.Kind {
		case k.heartbeat, k.register, k.shutdownReq, k.alterPartition:
			return // unanswered: the broker retries or times out
		case k.tSessionCheck:
			h.E.After(250*sim.Millisecond, sim.Event{H: ctl.hid, Kind: k.tSessionCheck, Node: h.ctlNode})
			return
		}
	}
	switch ev.Kind {
	case k.heartbeat:
		ctl.onHeartbeat(from, ev.P.(*heartbeat))
	case k.register:
		ctl.onRegister(from, ev.P.(*register))
	case k.shutdownReq:
		ctl.fence(ev.P.(*shutdownReq).broker, "controlled shutdown")
		h.Net.Send(h.ctlNode, from, k.shutdownResp, &shutdownResp{})
	case k.alterPartition:
		h.Net.Send(h.ctlNode, from, k.alterResp, ctl.onAlterPartition(ev.P.(*alterPartition)))
	case k.metadataReq:
		leaders := make([]int, h.parts)
		for tp := range leaders {
			leaders[tp] = ctl.leaderOf(tp)
		}
		coord := -1
		if h.txnTP >= 0 {
			coord = ctl.leaderOf(h.txnTP)
		}
		h.Net.Send(h.ctlNode, from, k.metadataResp, &metadataResp{leaders: leaders, coordinator: coord})
	case k.tSessionCheck:
		for id := 1; id < len(ctl.brokers); id++ {
			b := ctl.brokers[id]
			if b.registered && !b.fenced && e.Now().Sub(b.lastHB) > h.spec.Broker.SessionTimeout {
				ctl.fence(id, "missed heartbeats for "+h.spec.Broker.SessionTimeout.String())
			}
		}
		h.E.After(250*sim.Millisecond, sim.Event{H: ctl.hid, Kind: k.tSessionCheck, Node: h.ctlNode})
	}
}

// outage begins or ends a controller outage. When the quorum is back, every
// registered broker's session counts from now, as a newly active KRaft
// controller registers every broker with its heartbeat manager at the
// current time (ClusterControlManager.activate, BrokerHeartbeatManager.touch):
// brokers are not fenced for the heartbeats the outage swallowed.
func (ctl *Controller) outage(down bool) {
	h := ctl.h
	if ctl.down == down {
		return
	}
	ctl.down = down
	if down {
		h.obs.emit(-1, -1, history.ControllerOutage, "controller quorum unreachable: no fencing, elections or ISR changes")
		return
	}
	for id := range ctl.brokers {
		ctl.brokers[id].lastHB = h.E.Now()
	}
	h.obs.emit(-1, -1, history.ControllerOutage, "controller quorum back: broker sessions count from now")
}

// onHeartbeat keeps a broker's session alive, re-sends the partition states
// it lacks, and unfences it.
func (ctl *Controller) onHeartbeat(from sim.NodeID, m *heartbeat) {
	h := ctl.h
	b := &ctl.brokers[m.broker]
	if !b.registered || m.brokerEpoch != b.epoch {
		return
	}
	b.lastHB = h.E.Now()
	for _, kn := range m.known {
		if p := ctl.parts[kn.tp]; p.epoch != kn.epoch || p.partitionEpoch != kn.pEpoch {
			h.Net.Send(h.ctlNode, from, h.k.leaderAndIsr, p)
		}
	}
	if b.fenced {
		// KRaft unfences a registered broker once it heartbeats caught up.
		b.fenced = false
		h.obs.emit(m.broker, -1, history.Unfence, "controller unfenced broker %d", m.broker)
		for tp := range ctl.parts {
			if ctl.parts[tp].leader < 0 {
				ctl.elect(tp, -1)
			}
		}
	}
}

// onRegister gives a (re)started broker a new broker epoch, fenced until it
// heartbeats, and sends it the state of its partitions.
func (ctl *Controller) onRegister(from sim.NodeID, m *register) {
	h := ctl.h
	k := &h.k
	ctl.nextBE++
	b := &ctl.brokers[m.broker]
	wasLive := b.registered && !b.fenced
	b.registered, b.fenced, b.epoch, b.lastHB = true, true, ctl.nextBE, h.E.Now()
	leads := false
	for _, p := range ctl.parts {
		leads = leads || p.leader == m.broker
	}
	switch {
	case wasLive && !h.spec.Broker.BounceDetected && !leads:
		// Before KIP-380 (2.2) the controller misses a restart within the
		// session timeout: the broker stays live and keeps its ISR
		// membership (KIP-101's first data-loss scenario depends on it).
		// acksim applies this to followers only: a leader that bounced got
		// no new state from the controller and its partitions stalled,
		// which acksim does not model (it treats that restart as seen).
		b.fenced = false
	case wasLive && !ctl.keepISR:
		ctl.fence(m.broker, "re-registered with a new incarnation")
	}
	if !m.clean && h.spec.Broker.ELR {
		// KIP-966: a broker back from an unclean shutdown leaves the ELR
		// (and the ISR, when it was the last member standing).
		for tp, p := range ctl.parts {
			if slices.Contains(p.elr, m.broker) || (p.leader < 0 && slices.Contains(p.isr, m.broker)) {
				np := p.clone()
				np.elr = remove(np.elr, m.broker)
				if p.leader < 0 {
					np.isr = remove(np.isr, m.broker)
				}
				np.partitionEpoch++
				ctl.set(tp, np)
			}
		}
	}
	h.Net.Send(h.ctlNode, from, k.registered, &registered{brokerEpoch: b.epoch})
	for tp := range ctl.parts {
		if slices.Contains(ctl.parts[tp].replicas, m.broker) {
			h.Net.Send(h.ctlNode, from, k.leaderAndIsr, ctl.parts[tp])
		}
	}
}

// onAlterPartition accepts or rejects a leader's ISR change (KIP-497).
func (ctl *Controller) onAlterPartition(m *alterPartition) *alterPartitionResp {
	h := ctl.h
	p := ctl.parts[m.tp]
	resp := &alterPartitionResp{tp: m.tp}
	switch {
	case m.leader != p.leader || m.epoch != p.epoch:
		resp.err = ErrFencedLeaderEpoch
	case m.partitionEpoch != p.partitionEpoch:
		resp.err = ErrInvalidUpdate
	default:
		for i, id := range m.isr {
			if slices.Contains(p.isr, id) {
				continue
			}
			switch {
			case !ctl.live(id):
				// KIP-841: a fenced broker cannot join the ISR.
				resp.err = ErrInvalidUpdate
			case h.spec.Broker.IneligibleStaleEpoch && i < len(m.brokerEpochs) && m.brokerEpochs[i] != ctl.brokers[id].epoch:
				// KIP-903 (3.5): the leader heard from an older incarnation
				// of the broker (one that may have lost its disk since):
				// INELIGIBLE_REPLICA (ReplicationControlManager,
				// validateIsrChanges with the broker epochs).
				resp.err = ErrIneligibleReplica
				h.obs.emit(m.leader, m.tp, history.ISR, "controller refused to add broker %d to the ISR of %s: INELIGIBLE_REPLICA (the leader heard broker epoch %d; the broker's is %d)",
					id, h.tpName(m.tp), m.brokerEpochs[i], ctl.brokers[id].epoch)
			}
		}
	}
	if resp.err != ErrNone {
		return resp
	}
	np := p.clone()
	np.isr = slices.Clone(m.isr)
	np.partitionEpoch++
	ctl.updateELR(np, p.isr)
	ctl.set(m.tp, np)
	verb := "shrank"
	if len(np.isr) > len(p.isr) {
		verb = "expanded"
	}
	h.obs.emit(m.leader, m.tp, history.ISR, "ISR of %s %s to %v", h.tpName(m.tp), verb, np.isr)
	resp.st = np
	return resp
}

func (p *partitionState) clone() *partitionState {
	np := *p
	np.isr = slices.Clone(p.isr)
	np.elr = slices.Clone(p.elr)
	return &np
}

func remove(s []int, x int) []int {
	if i := slices.Index(s, x); i >= 0 {
		return slices.Delete(slices.Clone(s), i, i+1)
	}
	return s
}

// updateELR maintains eligible leader replicas (KIP-966): replicas leaving
// an ISR that is below min.insync.replicas join the ELR; once the ISR is at
// least min.insync.replicas again, the ELR is emptied.
func (ctl *Controller) updateELR(np *partitionState, oldISR []int) {
	if !ctl.h.spec.Broker.ELR {
		return
	}
	if len(np.isr) >= ctl.h.minISRFor(np.tp) {
		np.elr = nil
		return
	}
	for _, id := range oldISR {
		if !slices.Contains(np.isr, id) && !slices.Contains(np.elr, id) {
			np.elr = append(np.elr, id)
		}
	}
	for _, id := range np.isr {
		np.elr = remove(np.elr, id)
	}
}

func (ctl *Controller) set(tp int, np *partitionState) {
	ctl.parts[tp] = np
	h := ctl.h
	for _, id := range np.replicas {
		h.Net.Send(h.ctlNode, h.node(id), h.k.leaderAndIsr, np)
	}
}

// fence marks a broker fenced: it leaves every ISR (never emptying one
// before ELR) and loses leadership.
// Source: KRaft ReplicationControlManager.handleBrokerFenced.
func (ctl *Controller) fence(id int, why string) {
	h := ctl.h
	b := &ctl.brokers[id]
	b.fenced = true
	h.obs.emit(id, -1, history.Fence, "controller fenced broker %d (%s)", id, why)
	for tp, p := range ctl.parts {
		if !slices.Contains(p.replicas, id) {
			continue
		}
		inISR := slices.Contains(p.isr, id)
		if !inISR && p.leader != id || ctl.keepISR && p.leader != id {
			continue
		}
		np := p.clone()
		if inISR && (len(np.isr) > 1 || h.spec.Broker.ELR) && !ctl.keepISR {
			np.isr = remove(np.isr, id)
			ctl.updateELR(np, p.isr)
		}
		np.partitionEpoch++
		if p.leader == id {
			ctl.parts[tp] = np
			ctl.elect(tp, id)
			continue
		}
		h.obs.emit(-1, tp, history.ISR, "ISR of %s shrank to %v (broker %d fenced)", h.tpName(tp), np.isr, id)
		ctl.set(tp, np)
	}
}

// elect chooses a leader for tp, avoiding broker `exclude`.
// Order (PartitionLeaderElectionAlgorithms): the first live ISR member in
// assignment order; with ELR (KIP-966) an unfenced ELR member; with
// unclean.leader.election.enable any live replica; otherwise offline.
func (ctl *Controller) elect(tp int, exclude int) {
	h := ctl.h
	p := ctl.parts[tp]
	np := p.clone()
	kind := ""
	leader := -1
	candidates := p.replicas
	if ctl.electionOrder != nil {
		candidates = ctl.electionOrder(tp, p.replicas)
	}
	for _, id := range candidates {
		if id != exclude && ctl.live(id) && slices.Contains(p.isr, id) {
			leader, kind = id, "clean"
			break
		}
	}
	if leader < 0 && h.spec.Broker.ELR {
		for _, id := range p.replicas {
			if id != exclude && ctl.live(id) && slices.Contains(p.elr, id) {
				leader, kind = id, "from the ELR"
				np.isr = []int{id}
				np.elr = remove(np.elr, id)
				break
			}
		}
	}
	if leader < 0 && h.spec.Broker.ELR && p.lastLeader >= 0 && p.lastLeader != exclude && ctl.live(p.lastLeader) && len(p.isr) == 0 && len(p.elr) == 0 {
		// With ELR, an empty ISR and ELR fall back to the last known leader
		// if it is unfenced (Kafka docs, "Eligible Leader Replicas": "Select
		// the last known leader if it is unfenced").
		leader, kind = p.lastLeader, "the last known leader"
		np.isr = []int{leader}
	}
	if leader < 0 && h.spec.Broker.UncleanElection {
		for _, id := range candidates {
			if id != exclude && ctl.live(id) {
				leader, kind = id, "unclean"
				np.isr = []int{id}
				np.elr = nil
				break
			}
		}
	}
	if leader < 0 {
		if p.leader >= 0 {
			np.lastLeader = p.leader
			np.leader = -1
			np.partitionEpoch++
			ctl.set(tp, np)
			h.obs.emit(-1, tp, history.Offline, "%s has no eligible leader: offline (ISR %v)", h.tpName(tp), np.isr)
		}
		return
	}
	np.leader = leader
	if ctl.keepISR {
		// RocketMQ: the new master's SyncStateSet is itself
		// (ReplicasInfoManager.electMaster); slaves rejoin as they catch up.
		np.isr = []int{leader}
	}
	np.epoch = p.epoch + 1
	np.partitionEpoch++
	h.obs.emit(leader, tp, history.Elect, "broker %d elected leader of %s (epoch %d, %s, ISR %v)", leader, h.tpName(tp), np.epoch, kind, np.isr)
	if kind == "unclean" {
		h.obs.uncleanElection()
	}
	ctl.set(tp, np)
}
