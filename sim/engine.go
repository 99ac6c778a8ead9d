package sim

import "fmt"

// NodeID names a participant of a simulation (a broker, a client, the
// controller). Node 0 is conventionally the kernel itself.
type NodeID int32

// KindID names a kind of event, registered with Engine.Kind.
type KindID uint16

// HandlerID names a Handler registered with Engine.Register.
type HandlerID int32

// Handler reacts to events. It must not block or start goroutines; it may
// schedule further events and cancel timers.
type Handler interface {
	Handle(e *Engine, ev *Event)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(e *Engine, ev *Event)

// Handle calls f.
func (f HandlerFunc) Handle(e *Engine, ev *Event) { f(e, ev) }

// Event is what a handler receives. A and B are free integer arguments; P an
// optional payload (store pointers: a pointer in an interface does not
// allocate).
type Event struct {
	At   Time
	H    HandlerID
	Kind KindID
	Node NodeID // the node the event happens at (for the trace)
	A, B int64
	P    any
}

// Timer identifies a scheduled event so it can be cancelled. The zero Timer
// is never pending.
type Timer struct {
	slot int32
	seq  uint64
}

// key is a heap entry: 24 bytes, ordered by (at, seq). Payloads stay in the
// slab, so sifting moves only keys.
type key struct {
	at   Time
	seq  uint64
	slot int32
}

// slotEv is one slab entry. Invariant: seq != 0 exactly while the event is
// pending (scheduled, not yet fired or skipped).
type slotEv struct {
	ev        Event
	seq       uint64
	cancelled bool
	far       bool // waits in a far bucket, not in the heap
}

// Engine runs events in (time, scheduling order). It is single-threaded and
// deterministic: the same schedule of calls gives the same run.
type Engine struct {
	now      Time
	seq      uint64
	steps    uint64
	heap     []key
	slab     []slotEv
	free     []int32
	handlers []Handler
	kinds    []string
	nodes    []string
	stopped  bool
	live     int // pending events not cancelled
	dead     int // cancelled events still in the heap
	far      farQueue
	cur      Event // the event being handled; valid only during Handle

	trace Trace
	hook  func() // runs after every event when set (scenario triggers)
	check func() // runs after every event when set (model invariants)

	// Livelock guard: events run at one instant in a row, and what to do
	// past StallLimit of them (see OnStall).
	sameN   uint32
	onStall func(n uint32)
}

// StallLimit is how many events may run at one instant of virtual time
// before the engine calls its OnStall function: virtual time that stops
// advancing is a model that schedules itself at the same instant forever
// (a livelock), which would otherwise hang the run. No legitimate burst
// comes near it.
const StallLimit = 5_000_000

// OnStall sets what runs when StallLimit events have run at one instant
// (the model reports a broken invariant, with the seed and step).
func (e *Engine) OnStall(f func(n uint32)) { e.onStall = f }

// SetHook sets a function to run after every event (nil removes it). It is
// how condition triggers ("when the leader changes") are evaluated exactly.
func (e *Engine) SetHook(f func()) { e.hook = f }

// SetCheck sets a function to run after every event, before the hook: the
// model's invariants. It is separate from the hook, which scenarios replace.
func (e *Engine) SetCheck(f func()) { e.check = f }

// NewEngine returns an engine at time 0 with an empty queue.
func NewEngine() *Engine {
	e := &Engine{}
	e.kinds = append(e.kinds, "?")
	e.nodes = append(e.nodes, "sim")
	e.handlers = append(e.handlers, nil)
	e.trace.init()
	return e
}

// Now is the current virtual time.
func (e *Engine) Now() Time { return e.now }

// Steps is the number of events executed so far.
func (e *Engine) Steps() uint64 { return e.steps }

// Pending is the number of scheduled, uncancelled events.
func (e *Engine) Pending() int { return e.live }

// Register adds a handler and returns its id.
func (e *Engine) Register(h Handler) HandlerID {
	e.handlers = append(e.handlers, h)
	return HandlerID(len(e.handlers) - 1)
}

// Kind registers an event kind name (used by the trace) and returns its id.
// Registering the same name twice returns the same id.
func (e *Engine) Kind(name string) KindID {
	for i, k := range e.kinds {
		if k == name {
			return KindID(i)
		}
	}
	e.kinds = append(e.kinds, name)
	return KindID(len(e.kinds) - 1)
}

// KindName returns the registered name of k.
func (e *Engine) KindName(k KindID) string {
	if int(k) < len(e.kinds) {
		return e.kinds[k]
	}
	return fmt.Sprintf("kind%d", k)
}

// AddNode registers a node name and returns its id (1, 2, ...).
func (e *Engine) AddNode(name string) NodeID {
	e.nodes = append(e.nodes, name)
	return NodeID(len(e.nodes) - 1)
}

// Nodes is the number of node ids handed out, counting node 0 ("sim", the
// kernel itself).
func (e *Engine) Nodes() int { return len(e.nodes) }

// NodeName returns the registered name of n.
func (e *Engine) NodeName(n NodeID) string {
	if n >= 0 && int(n) < len(e.nodes) {
		return e.nodes[n]
	}
	return fmt.Sprintf("node%d", n)
}

// At schedules ev at absolute time t (clamped to now: the past is not
// reachable) and returns a Timer that can cancel it.
func (e *Engine) At(t Time, ev Event) Timer {
	if t < e.now {
		t = e.now
	}
	ev.At = t
	e.seq++
	var slot int32
	if n := len(e.free); n > 0 {
		slot = e.free[n-1]
		e.free = e.free[:n-1]
	} else {
		e.slab = append(e.slab, slotEv{})
		slot = int32(len(e.slab) - 1)
	}
	s := &e.slab[slot]
	s.ev = ev
	s.seq = e.seq
	s.cancelled = false
	k := key{at: t, seq: e.seq, slot: slot}
	s.far = e.far.add(e.now, k)
	if !s.far {
		e.push(k)
	}
	e.live++
	return Timer{slot: slot, seq: e.seq}
}

// After schedules ev d after now.
func (e *Engine) After(d Duration, ev Event) Timer {
	return e.At(e.now.Add(d), ev)
}

// Cancel stops a pending timer from firing. Cancelling a timer that already
// fired or was cancelled does nothing. Cost: O(1); the slot is reclaimed when
// its time comes.
func (e *Engine) Cancel(t Timer) bool {
	if t.seq == 0 || int(t.slot) >= len(e.slab) {
		return false
	}
	s := &e.slab[t.slot]
	if s.seq != t.seq || s.cancelled {
		return false
	}
	s.cancelled = true
	s.ev.P = nil
	e.live--
	if s.far {
		// Not in the heap: free the slot now; its key in the bucket no
		// longer matches the slot's seq and is skipped when loaded.
		*s = slotEv{}
		e.free = append(e.free, t.slot)
		return true
	}
	e.dead++
	if e.dead > 64 && e.dead > len(e.heap)/2 {
		e.compact()
	}
	return true
}

// compact drops cancelled keys from the heap and frees their slots. It runs
// when cancelled keys outnumber live ones, so cancellation stays amortized
// O(1) and the heap stays at most twice the live size. Order is unaffected:
// (time, seq) orders keys totally.
func (e *Engine) compact() {
	h := e.heap[:0]
	for _, k := range e.heap {
		if e.slab[k.slot].cancelled {
			e.slab[k.slot] = slotEv{}
			e.free = append(e.free, k.slot)
			continue
		}
		h = append(h, k)
	}
	e.heap = h
	for i := len(h)/2 - 1; i >= 0; i-- {
		e.down(i)
	}
	e.dead = 0
}

func (e *Engine) down(i int) {
	h := e.heap
	n := len(h)
	k := h[i]
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && less(h[c+1], h[c]) {
			c++
		}
		if !less(h[c], k) {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = k
}

// Pending reports whether t is scheduled and not cancelled.
func (e *Engine) IsPending(t Timer) bool {
	if t.seq == 0 || int(t.slot) >= len(e.slab) {
		return false
	}
	s := &e.slab[t.slot]
	return s.seq == t.seq && !s.cancelled
}

// Stop makes the current Run call return after the event being handled.
func (e *Engine) Stop() { e.stopped = true }

// step pops and runs the next event. It reports false when the queue is empty
// or the next event is after limit.
func (e *Engine) step(limit Time) bool {
	for {
		// The heap's least key is the least of all once it is due before
		// the far buckets start (re-checked after skipping cancelled keys).
		for e.far.n > 0 && (len(e.heap) == 0 || e.heap[0].at >= e.far.from) {
			e.loadFar()
		}
		if len(e.heap) == 0 {
			return false
		}
		k := e.heap[0]
		if k.at > limit {
			return false
		}
		e.pop()
		s := &e.slab[k.slot]
		e.cur = s.ev
		cancelled := s.cancelled
		s.seq = 0
		s.ev.P = nil
		e.free = append(e.free, k.slot)
		if cancelled {
			e.dead--
			continue
		}
		e.live--
		if k.at == e.now {
			if e.sameN++; e.sameN >= StallLimit && e.onStall != nil {
				e.onStall(e.sameN)
			}
		} else {
			e.sameN = 0
		}
		e.now = k.at
		e.steps++
		// Dispatch from a field, not a local: a local's address would escape
		// through the interface call and cost an allocation per event.
		ev := &e.cur
		e.trace.event(e, ev)
		e.handlers[ev.H].Handle(e, ev)
		ev.P = nil
		if e.check != nil {
			e.check()
		}
		if e.hook != nil {
			e.hook()
		}
		return true
	}
}

// Run executes events until none remain or Stop is called.
func (e *Engine) Run() {
	e.stopped = false
	for !e.stopped && e.step(Never) {
	}
}

// RunUntil executes every event at or before t, then advances the clock to t
// (unless stopped earlier).
func (e *Engine) RunUntil(t Time) {
	e.stopped = false
	for !e.stopped && e.step(t) {
	}
	if !e.stopped && e.now < t {
		e.now = t
	}
}

// RunSteps executes at most n events.
func (e *Engine) RunSteps(n uint64) {
	e.stopped = false
	for i := uint64(0); i < n && !e.stopped && e.step(Never); i++ {
	}
}

// RunWhile executes events, checking cond after each, until cond is false,
// the queue is empty, t is passed, or Stop is called. It reports whether cond
// became false.
func (e *Engine) RunWhile(t Time, cond func() bool) bool {
	e.stopped = false
	for {
		if !cond() {
			return true
		}
		if e.stopped || !e.step(t) {
			return false
		}
	}
}

// farQueue holds events due at least farAfter from when they were set
// (timeouts, heartbeats, checkpoints), in buckets of farBucket by due time,
// so the heap holds only what is due soon. Most far events are timeouts
// that are cancelled: they never enter the heap. Invariant: every key in a
// bucket is due at or after from, and the heap's least key is before from
// whenever the step loop pops it, so it is the least of all.
type farQueue struct {
	from    Time    // start of the next bucket to load
	buckets [][]key // ring: bucket i holds due times in [i*farBucket, (i+1)*farBucket) mod the ring
	n       int     // keys in buckets (cancelled ones included until loaded)
	spare   [][]key // emptied bucket arrays, reused by buckets that start
	off     bool    // everything in the heap (tests compare the two)
}

const (
	farAfter   = 50 * Millisecond
	farBucket  = 10 * Millisecond
	farBuckets = 4096 // 41 s: beyond that, events go to the heap
)

// add puts k in a bucket if it is far enough ahead, and reports whether it
// did.
func (f *farQueue) add(now Time, k key) bool {
	if f.off || k.at < now.Add(farAfter) || k.at < f.from || k.at >= f.from.Add(farBuckets*farBucket) {
		return false
	}
	if f.buckets == nil {
		f.buckets = make([][]key, farBuckets)
	}
	i := int(int64(k.at)/int64(farBucket)) % farBuckets
	if f.buckets[i] == nil {
		if n := len(f.spare); n > 0 {
			f.buckets[i], f.spare = f.spare[n-1], f.spare[:n-1]
		} else {
			f.buckets[i] = make([]key, 0, 8)
		}
	}
	f.buckets[i] = append(f.buckets[i], k)
	f.n++
	return true
}

// loadFar moves the next bucket's live keys into the heap.
func (e *Engine) loadFar() {
	f := &e.far
	i := int(int64(f.from)/int64(farBucket)) % farBuckets
	b := f.buckets[i]
	for _, k := range b {
		if s := &e.slab[k.slot]; s.seq == k.seq && s.far {
			s.far = false
			e.push(k)
		}
	}
	f.n -= len(b)
	if b != nil {
		f.spare = append(f.spare, b[:0])
		f.buckets[i] = nil
	}
	f.from = Time(int64(f.from) / int64(farBucket) * int64(farBucket)).Add(farBucket)
}

func less(a, b key) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

func (e *Engine) push(k key) {
	h := append(e.heap, k)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !less(k, h[p]) {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = k
	e.heap = h
}

// pop removes the root: the last key moves to the root and sifts down.
func (e *Engine) pop() {
	n := len(e.heap) - 1
	e.heap[0] = e.heap[n]
	e.heap = e.heap[:n]
	if n > 0 {
		e.down(0)
	}
}
