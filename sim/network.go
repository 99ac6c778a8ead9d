package sim

import "math/rand/v2"

// LinkConfig sets the behaviour of a directed link.
type LinkConfig struct {
	Latency Duration // fixed one-way delay
	Jitter  Duration // extra delay drawn uniformly in [0, Jitter)
	Drop    float64  // probability that a message is lost, in [0, 1]
}

type link struct {
	cfg   LinkConfig
	cut   bool
	gen   uint32   // bumped at every cut: messages of an older gen are dropped on arrival
	last  Time     // arrival time of the latest message: delivery is FIFO per link
	extra Duration // added one-way latency of a delay fault (0: none)
}

type netNode struct {
	h      HandlerID
	paused bool
	held   []Event
}

// Network delivers messages between nodes over directed links with latency,
// jitter and loss. Each link is FIFO, as a TCP connection is. A cut link drops
// what is sent on it and what was in flight when it was cut (the connection
// broke). A paused node receives nothing until resumed; messages wait for it.
//
// Messages are delivered to the destination's handler as an Event whose Kind
// is the message kind, Node the destination, A the sender and P the payload.
type Network struct {
	e     *Engine
	h     HandlerID
	rng   *rand.Rand
	n     int
	links []link
	nodes []netNode
	drop  KindID

	Sent, Delivered, Dropped uint64

	record  bool
	recBase uint64 // number of the first recorded message
	msgs    []Message

	holds []hold // delay-message faults waiting for their message
}

// hold delays the next message of a kind from a node (HoldNext).
type hold struct {
	from  NodeID
	kind  KindID
	extra Duration
}

// Fate is what became of a message.
type Fate uint8

// Fates of a recorded message.
const (
	InFlight        Fate = iota // not arrived when the run ended
	Delivered                   // reached its destination (perhaps held there by a pause)
	DroppedAtSend               // the link was cut, or the message was drawn to be lost
	DroppedInFlight             // the link was cut while it travelled
)

// Message is one message as the network carried it, kept only while
// recording (for space-time diagrams). P is the payload as sent.
type Message struct {
	From, To     NodeID
	Kind         KindID
	Sent, Arrive Time
	Fate         Fate
	P            any
}

// NewNetwork makes a network for nodes with ids 0..n-1 (ids come from
// Engine.AddNode), every link configured as def. rng should be the
// "network" stream.
func NewNetwork(e *Engine, n int, def LinkConfig, rng *rand.Rand) *Network {
	nw := &Network{e: e, rng: rng, n: n, links: make([]link, n*n), nodes: make([]netNode, n)}
	for i := range nw.links {
		nw.links[i].cfg = def
	}
	nw.h = e.Register(nw)
	nw.drop = e.Kind("net.drop")
	return nw
}

func (nw *Network) link(from, to NodeID) *link { return &nw.links[int(from)*nw.n+int(to)] }

// Attach sets the handler that receives node's messages.
func (nw *Network) Attach(node NodeID, h HandlerID) { nw.nodes[node].h = h }

// Configure sets one directed link.
func (nw *Network) Configure(from, to NodeID, c LinkConfig) { nw.link(from, to).cfg = c }

// Record starts keeping every message sent from now on; see Messages.
// Recording changes nothing else: the trace and its hash are the same with
// and without it.
func (nw *Network) Record() {
	if !nw.record {
		nw.record, nw.recBase = true, nw.Sent
	}
}

// Messages returns the recorded messages in send order.
func (nw *Network) Messages() []Message { return nw.msgs }

// Send puts a message on the link from -> to. It reports whether the message
// left (false: the link is cut or the message was drawn to be lost).
//
// Every message is numbered (Sent, before the increment) and carries its
// number in the upper half of the delivery event's B, whether or not the
// network records, so the trace hash does not depend on recording.
func (nw *Network) Send(from, to NodeID, kind KindID, p any) bool {
	id := nw.Sent
	nw.Sent++
	l := nw.link(from, to)
	if nw.record {
		nw.msgs = append(nw.msgs, Message{From: from, To: to, Kind: kind, Sent: nw.e.now, P: p})
	}
	if l.cut || (l.cfg.Drop > 0 && nw.rng.Float64() < l.cfg.Drop) {
		nw.Dropped++
		nw.fate(id, DroppedAtSend)
		nw.e.Note(from, nw.drop, int64(to), int64(kind), "")
		return false
	}
	at := nw.e.now.Add(l.cfg.Latency + l.extra)
	if l.cfg.Jitter > 0 {
		at = at.Add(Jitter(nw.rng, l.cfg.Jitter))
	}
	if len(nw.holds) > 0 { // a delay-message fault is pending (rare)
		if i := nw.heldHere(from, kind); i >= 0 {
			// Held out of the link's order: it arrives late, and later
			// messages (a retry on a new connection) do not wait behind it.
			at = at.Add(nw.holds[i].extra)
			nw.holds = append(nw.holds[:i], nw.holds[i+1:]...)
			nw.e.At(at, Event{H: nw.h, Kind: kind, Node: to, A: int64(from), B: int64(id)<<32 | int64(l.gen), P: p})
			return true
		}
	}
	if at < l.last {
		at = l.last
	}
	l.last = at
	nw.e.At(at, Event{H: nw.h, Kind: kind, Node: to, A: int64(from), B: int64(id)<<32 | int64(l.gen), P: p})
	return true
}

// HoldNext delays the next message of kind that node from sends, to
// whatever node, by extra on top of its latency, outside its link's FIFO
// order: a request that TCP delivered late on a connection the client had
// given up on, while the client's retry went out on a new connection and
// arrived first (the delayed messages of KIP-890 and KAFKA-17754).
func (nw *Network) HoldNext(from NodeID, kind KindID, extra Duration) {
	nw.holds = append(nw.holds, hold{from, kind, extra})
}

func (nw *Network) heldHere(from NodeID, kind KindID) int {
	for i, h := range nw.holds {
		if h.from == from && h.kind == kind {
			return i
		}
	}
	return -1
}

// fate records what became of message id (the first fate sticks: a message
// held by a paused node and handed over later arrived when it first came).
func (nw *Network) fate(id uint64, f Fate) {
	if !nw.record || id < nw.recBase {
		return // sent before recording started
	}
	m := &nw.msgs[id-nw.recBase]
	if m.Fate == InFlight {
		m.Fate, m.Arrive = f, nw.e.now
	}
}

// Handle delivers a message that reached its destination.
func (nw *Network) Handle(e *Engine, ev *Event) {
	from, to := NodeID(ev.A), ev.Node
	l := nw.link(from, to)
	if l.cut || uint32(ev.B) != l.gen {
		nw.Dropped++
		nw.fate(uint64(ev.B)>>32, DroppedInFlight)
		e.Note(to, nw.drop, int64(from), int64(ev.Kind), "in flight across a cut")
		return
	}
	nw.fate(uint64(ev.B)>>32, Delivered)
	n := &nw.nodes[to]
	if n.paused {
		n.held = append(n.held, *ev)
		return
	}
	nw.Delivered++
	if n.h != 0 {
		e.handlers[n.h].Handle(e, ev)
	}
}

// Cut breaks the directed link from -> to (a one-way partition).
func (nw *Network) Cut(from, to NodeID) {
	l := nw.link(from, to)
	if !l.cut {
		l.cut = true
		l.gen++
	}
}

// CutBoth breaks both directions between a and b.
func (nw *Network) CutBoth(a, b NodeID) { nw.Cut(a, b); nw.Cut(b, a) }

// Isolate cuts every link to and from node.
func (nw *Network) Isolate(node NodeID) {
	for i := 0; i < nw.n; i++ {
		if NodeID(i) != node {
			nw.CutBoth(node, NodeID(i))
		}
	}
}

// Partition splits the listed groups from each other (symmetric). Nodes not
// listed in any group stay connected to everyone.
func (nw *Network) Partition(groups [][]NodeID) {
	for gi, g := range groups {
		for gj, h := range groups {
			if gi == gj {
				continue
			}
			for _, a := range g {
				for _, b := range h {
					nw.Cut(a, b)
				}
			}
		}
	}
}

// PartitionOneWay cuts every link from a node of src to a node of dst, and
// leaves the reverse direction up.
func (nw *Network) PartitionOneWay(src, dst []NodeID) {
	for _, a := range src {
		for _, b := range dst {
			nw.Cut(a, b)
		}
	}
}

// Delay adds extra one-way latency to the link from -> to for messages sent
// from now on (0 ends the delay). Messages are late, not lost, and the link
// stays FIFO: a message sent after the delay ends still arrives after the
// delayed ones before it, as on one TCP connection.
func (nw *Network) Delay(from, to NodeID, extra Duration) { nw.link(from, to).extra = extra }

// Restore brings back the directed link from -> to.
func (nw *Network) Restore(from, to NodeID) { nw.link(from, to).cut = false }

// Heal restores every link and ends every delay.
func (nw *Network) Heal() {
	for i := range nw.links {
		nw.links[i].cut = false
		nw.links[i].extra = 0
	}
}

// Connected reports whether the link from -> to is up.
func (nw *Network) Connected(from, to NodeID) bool { return !nw.link(from, to).cut }

// Pause stops deliveries to node (a GC pause or VM stall): messages wait.
func (nw *Network) Pause(node NodeID) { nw.nodes[node].paused = true }

// Paused reports whether node is paused.
func (nw *Network) Paused(node NodeID) bool { return nw.nodes[node].paused }

// Resume delivers the messages that waited, in arrival order, at the current
// time, and lets new ones through.
func (nw *Network) Resume(node NodeID) {
	n := &nw.nodes[node]
	if !n.paused {
		return
	}
	n.paused = false
	held := n.held
	n.held = nil
	for _, ev := range held {
		nw.e.At(nw.e.now, ev)
	}
}

// DropHeld discards the messages waiting for a paused node (used when the
// node's process dies while paused).
func (nw *Network) DropHeld(node NodeID) { nw.nodes[node].held = nil }
