package model

import (
	"fmt"

	"acksim/history"
	"acksim/sim"
)

// Broker is one broker: a process (up, paused or down), an OS with a page
// cache, and a disk, hosting partition replicas of the cluster's
// replication design (see seam.go). It keeps what every design shares: the
// process and its incarnations, storage and fsync, membership with the
// controller.
type Broker struct {
	h    *host
	hid  sim.HandlerID
	ID   int
	Node sim.NodeID
	Rack string
	// tc is the transaction coordinator while this broker leads the
	// transaction log (txncoord.go); nil otherwise.
	tc *txnCoordinator

	up            bool  // the process runs
	stall               // GC or VM stall: alive, doing nothing
	osUp          bool  // the OS runs (false after power loss until restart)
	inc           int64 // process incarnation: timers of an older one are ignored
	osGen         int64 // OS incarnation: fsync and writeback of an older one are void
	brokerEpoch   int64
	lastClean     bool // the last shutdown was a controlled one
	registerClean bool // what the pending registration reports (clean shutdown before it)
	shuttingDown  bool
	gone          bool // a permanent fault: it never runs again (not even in recovery)

	reps       []hosted // indexed by partition; nil if not a replica
	slowUntil  sim.Time
	slowFactor float64
}

// Up reports whether the broker process runs (paused counts as up).
func (b *Broker) Up() bool { return b.up }

// Replica returns the broker's ISR replica of partition tp, or nil.
func (b *Broker) Replica(tp int) *Replica {
	if tp < len(b.reps) {
		r, _ := b.reps[tp].(*Replica)
		return r
	}
	return nil
}

// LogEnd returns the LEO and high watermark of the broker's replica of tp
// (ok false if it hosts none).
func (b *Broker) LogEnd(tp int) (leo, hw int64, ok bool) {
	r := b.hosts(tp)
	if r == nil {
		return 0, 0, false
	}
	return r.log().LEO(), r.highWatermark(), true
}

// hosts returns the broker's replica of partition tp, or nil.
func (b *Broker) hosts(tp int) hosted {
	if tp >= 0 && tp < len(b.reps) {
		return b.reps[tp]
	}
	return nil
}

type fsyncJob struct {
	log   *Log
	tp    int
	upTo  int64 // the LEO when the fsync was issued
	upToN int   // the entries then
	osGen int64
	after func()
}

func (j *fsyncJob) Describe() string {
	return fmt.Sprintf("fsync-done tp=%d up-to=%d", j.tp, j.upTo)
}

// fsync flushes partition tp's log l up to its current LEO; after runs when
// it completes (if the process is still the same incarnation).
func (b *Broker) fsync(l *Log, tp int, after func()) {
	l.unflushed = 0
	l.lastFlush = b.h.E.Now()
	j := &fsyncJob{log: l, tp: tp, upTo: l.LEO(), upToN: len(l.entries), osGen: b.osGen, after: after}
	b.h.E.After(b.fsyncLatency(), sim.Event{H: b.hid, Kind: b.h.k.fsyncDone, Node: b.Node, B: b.inc, P: j})
}

func (b *Broker) timer(kind sim.KindID, d sim.Duration, a int64, p any) sim.Timer {
	return b.h.E.After(d, sim.Event{H: b.hid, Kind: kind, Node: b.Node, A: a, B: b.inc, P: p})
}

func (b *Broker) send(to sim.NodeID, kind sim.KindID, p any) { b.h.Net.Send(b.Node, to, kind, p) }

func (b *Broker) fsyncLatency() sim.Duration {
	d := b.h.spec.Disk.Fsync + sim.Jitter(b.h.diskRng, b.h.spec.Disk.FsyncJitter)
	if b.h.E.Now() < b.slowUntil {
		d = sim.Duration(float64(d) * b.slowFactor)
	}
	return d
}

// Handle is the broker's state machine: messages, timers, faults.
func (b *Broker) Handle(e *sim.Engine, ev *sim.Event) {
	k := &b.h.k
	// OS-level events happen whether or not the process runs.
	switch ev.Kind {
	case k.writeback:
		b.onWriteback(ev)
		return
	case k.fsyncDone:
		b.onFsyncDone(ev)
		return
	}
	if !b.up {
		// The process is dead but the OS answers: a TCP RST tells clients at
		// once (NetworkClient marks the node disconnected). After a power
		// loss or across a partition there is no such signal.
		if b.osUp && ((ev.Kind == k.produce || ev.Kind == k.fetch || b.h.isConnect(ev.Kind)) && b.h.producerNode[ev.A] || b.h.refuses(ev.Kind)) {
			b.h.Net.Send(b.Node, sim.NodeID(ev.A), k.rst, &rst{broker: b.ID})
		}
		return
	}
	isTimer := b.h.isBrokerTimer(ev.Kind)
	if isTimer && ev.B != b.inc {
		return
	}
	if b.paused {
		if isTimer {
			b.deferred = append(b.deferred, *ev)
		}
		return // messages are held by the network while paused
	}
	if isTimer {
		b.onTimer(ev)
	} else {
		b.onMessage(ev)
	}
}

// onWriteback is the OS flusher: dirty pages older than
// vm.dirty_expire_centisecs reach the disk every vm.dirty_writeback_centisecs.
func (b *Broker) onWriteback(ev *sim.Event) {
	h := b.h
	if ev.B != b.osGen || !b.osUp {
		return
	}
	cutoff := h.E.Now().Add(-h.spec.OS.DirtyExpire)
	for _, r := range b.reps {
		if r != nil {
			r.log().writeback(cutoff)
		}
	}
	h.E.After(h.spec.OS.DirtyWriteback, sim.Event{H: b.hid, Kind: h.k.writeback, Node: b.Node, B: b.osGen})
}

// onFsyncDone: the disk finished an fsync; the process that asked, if it
// still runs, goes on.
func (b *Broker) onFsyncDone(ev *sim.Event) {
	j := ev.P.(*fsyncJob)
	if j.osGen != b.osGen || !b.osUp {
		return // power was lost before the fsync completed
	}
	j.log.markDurable(j.upTo, j.upToN)
	if ev.B != b.inc || !b.up {
		return // the OS finished the write; the process that asked is gone
	}
	if b.paused {
		b.deferred = append(b.deferred, *ev)
		return
	}
	if j.after != nil {
		j.after()
	}
}

// onMessage handles a request or response from another node.
func (b *Broker) onMessage(ev *sim.Event) {
	k := &b.h.k
	from := sim.NodeID(ev.A)
	if b.h.isConnect(ev.Kind) {
		// A live process accepts the connection.
		b.send(from, b.h.conn.resp, nil)
		return
	}
	if t := &b.h.txk; t.known {
		switch ev.Kind {
		case t.initPid, t.addParts, t.endTxn:
			if b.tc != nil {
				b.tc.onMessage(ev)
			} else {
				b.notCoordinator(ev, ErrNotCoordinator)
			}
			return
		case t.markerResp:
			if b.tc != nil {
				b.tc.onMessage(ev)
			}
			return
		}
	}
	switch ev.Kind {
	case k.produce:
		m := ev.P.(*produceReq)
		if r := b.hosts(m.tp); r != nil {
			r.produce(from, m)
		} else {
			b.respondProduce(from, m, ErrNotLeader, -1)
		}
	case k.fetch:
		m := ev.P.(*fetchReq)
		if r := b.hosts(m.tp); r != nil {
			r.serveFetch(from, m)
		} else {
			b.send(from, k.fetchResp, &fetchResp{tp: m.tp, err: ErrNotLeader, session: m.session})
		}
	case k.leaderAndIsr:
		// A broker applies partition metadata only once its registration is
		// answered (BrokerServer waits for the lifecycle manager's initial
		// catch-up before it publishes metadata to the ReplicaManager); the
		// controller sends the current state with the answer.
		if b.brokerEpoch >= 0 {
			b.route(ev)
		}
	case k.registered:
		b.brokerEpoch = ev.P.(*registered).brokerEpoch
		b.heartbeatNow()
	case k.shutdownResp:
		b.finishShutdown()
	case k.rst:
		id := ev.P.(*rst).broker
		for _, r := range b.reps {
			if r != nil {
				r.peerDown(id)
			}
		}
	default:
		b.route(ev)
	}
}

// route hands a design's message to the replica of its partition.
func (b *Broker) route(ev *sim.Event) {
	if m, ok := ev.P.(partitionMsg); ok {
		if r := b.hosts(m.partition()); r != nil {
			r.step(ev)
		}
	}
}

// onTimer handles a timer of the running incarnation.
func (b *Broker) onTimer(ev *sim.Event) {
	h := b.h
	k := &h.k
	cfg := &h.spec.Broker
	if t := &h.txk; t.known && (ev.Kind == t.tScan || ev.Kind == t.tMarkerRetry) {
		if tc, ok := ev.P.(*txnCoordinator); ok && tc == b.tc {
			tc.onTimer(ev)
		}
		return
	}
	switch ev.Kind {
	case k.tHeartbeat:
		if b.brokerEpoch < 0 {
			// Not registered yet (the request or its answer was lost):
			// retry, at the heartbeat cadence (acksim's choice; Kafka backs
			// off exponentially within initial.broker.registration.timeout.ms).
			b.register()
		} else {
			b.heartbeatNow()
		}
		b.timer(k.tHeartbeat, cfg.HeartbeatInterval, 0, nil)
	case k.tFlushScheduler:
		// LogManager.flushDirtyLogs: flush logs whose last flush is older than
		// log.flush.interval.ms (default: every run of the scheduler).
		for _, r := range b.reps {
			if r == nil {
				continue
			}
			if l := r.log(); l.LEO() > l.durable && h.E.Now().Sub(l.lastFlush) >= cfg.FlushInterval {
				b.fsync(l, r.partition(), nil)
			}
		}
		b.timer(k.tFlushScheduler, cfg.FlushSchedulerInterval, 0, nil)
	case k.tShutdownForce:
		if b.shuttingDown {
			b.finishShutdown()
		}
	default:
		for _, t := range h.tasks {
			if ev.Kind == t.kind {
				for _, r := range b.reps {
					if r != nil {
						r.step(ev)
					}
				}
				b.timer(t.kind, t.interval(cfg), 0, nil)
				return
			}
		}
		if r := b.hosts(partitionOf(ev.A)); r != nil {
			r.step(ev)
		}
	}
}

// fetchTimerArg packs a partition and a fetcher session into a timer's A
// (no allocation per fetch): partitions < 65536, sessions < 2^47.
func fetchTimerArg(tp int, session int64) int64 { return int64(tp) | session<<16 }

func (b *Broker) heartbeatNow() {
	hb := &heartbeat{broker: b.ID, brokerEpoch: b.brokerEpoch}
	for _, r := range b.reps {
		if r == nil {
			continue
		}
		if kn, ok := r.known(); ok {
			hb.known = append(hb.known, kn)
		}
	}
	b.send(b.h.ctlNode, b.h.k.heartbeat, hb)
}

// boot starts a broker the controller registered at bootstrap with broker
// epoch epoch.
func (b *Broker) boot(epoch int64) {
	b.brokerEpoch = epoch
	b.osUp = false
	b.startProcess(true, true)
}

// startProcess starts the broker process (boot or restart).
func (b *Broker) startProcess(clean, boot bool) {
	h := b.h
	b.up, b.paused = true, false
	b.inc = h.nextGen()
	b.deferred = nil
	h.Net.Resume(b.Node)
	if !b.osUp {
		b.osUp = true
		b.osGen = h.nextGen()
		if os := &h.spec.OS; os.Writeback {
			first := os.DirtyWriteback
			if !os.AlignedWriteback {
				first = sim.Duration(1 + h.osRng.Int64N(int64(os.DirtyWriteback)))
			}
			h.E.After(first, sim.Event{H: b.hid, Kind: h.k.writeback, Node: b.Node, B: b.osGen})
		}
	}
	for _, r := range b.reps {
		if r != nil {
			r.start()
		}
	}
	k := h.k
	b.timer(k.tHeartbeat, h.spec.Broker.HeartbeatInterval, 0, nil)
	for _, t := range h.tasks {
		b.timer(t.kind, t.interval(&h.spec.Broker), 0, nil)
	}
	if h.spec.Broker.FlushSchedulerInterval > 0 {
		b.timer(k.tFlushScheduler, h.spec.Broker.FlushSchedulerInterval, 0, nil)
	}
	if !boot {
		// A restarted broker has no broker epoch until the controller
		// answers its registration; until then it sends no heartbeats and
		// retries the registration (BrokerLifecycleManager). A heartbeat
		// with its old epoch would pass for the old incarnation.
		b.brokerEpoch = -1
		b.registerClean = clean
		b.register()
	}
}

func (b *Broker) register() {
	b.send(b.h.ctlNode, b.h.k.register, &register{broker: b.ID, clean: b.registerClean})
}

// stopProcess kills the process: in-memory state goes, the page cache stays.
func (b *Broker) stopProcess() {
	b.up = false
	b.shuttingDown = false
	b.inc = b.h.nextGen()
	b.drop(b.h, b.Node)
	for _, r := range b.reps {
		if r != nil {
			r.stop()
		}
	}
}

// Crash is kill -9: the process dies, the OS keeps the page cache and writes
// it back later.
func (b *Broker) Crash() {
	if !b.up {
		return
	}
	b.stopProcess()
	b.lastClean = false
	b.h.obs.emit(b.ID, -1, history.Crash, "broker %d crashed (kill -9; page cache kept by the OS)", b.ID)
	b.closeSockets()
}

// closeSockets is the kernel closing a dead process's sockets: every peer
// with a connection sees it drop at once (no wait for request.timeout.ms).
func (b *Broker) closeSockets() {
	h := b.h
	for _, n := range h.clientNodes {
		h.Net.Send(b.Node, n, h.k.rst, &rst{broker: b.ID})
	}
	for _, n := range h.brokerNodes[1:] {
		if n != b.Node {
			h.Net.Send(b.Node, n, h.k.rst, &rst{broker: b.ID})
		}
	}
}

// halt is the broker exiting on its own (Runtime.halt): the process stops,
// the OS and page cache stay, peers see the sockets close; the recovery
// phase restarts it like any stopped broker.
func (b *Broker) halt(why string) {
	if !b.up {
		return
	}
	b.stopProcess()
	b.lastClean = false
	b.h.obs.emit(b.ID, -1, history.Halt, "%s", why)
	b.closeSockets()
}

// PowerLoss: the process and the OS die; the page cache is gone, each log is
// cut back to its durable prefix.
func (b *Broker) PowerLoss() {
	if !b.osUp && !b.up {
		return
	}
	b.machineDies(history.PowerLoss, fmt.Sprintf("broker %d lost power", b.ID), "page cache lost in a power failure", false)
}

// DiskLoss: the broker dies and its log directory is gone.
func (b *Broker) DiskLoss() {
	b.machineDies(history.DiskLoss, fmt.Sprintf("broker %d lost its disk", b.ID), "disk lost", true)
}

// machineDies stops the process and the OS (an unclean shutdown) and applies
// what happens to each replica's storage.
func (b *Broker) machineDies(kind history.Kind, text, why string, disk bool) {
	b.stopProcess()
	b.osUp = false
	b.osGen = b.h.nextGen()
	b.lastClean = false
	b.h.obs.emit(b.ID, -1, kind, "%s", text)
	for _, r := range b.reps {
		if r != nil {
			b.h.obs.removal(b.ID, r.partition(), r.storageLost(disk), history.Lost, why)
		}
	}
}

// Restart starts a stopped broker (never one a permanent fault took).
func (b *Broker) Restart() {
	if b.up || b.gone {
		return
	}
	b.h.obs.emit(b.ID, -1, history.Restart, "broker %d restarted", b.ID)
	b.startProcess(b.lastClean, false)
}

// Retire makes the broker's fault permanent: it is stopped and never
// restarted, by the script or by the recovery phase (the machine is
// decommissioned; its replicas are not reassigned).
func (b *Broker) Retire() {
	if b.up || b.gone {
		return
	}
	b.gone = true
	b.h.obs.emit(b.ID, -1, history.Gone, "broker %d is gone for good (a permanent fault)", b.ID)
}

// Gone reports whether a permanent fault took the broker.
func (b *Broker) Gone() bool { return b.gone }

// Shutdown is a controlled shutdown: the controller moves leadership away,
// then the broker flushes every log and stops.
func (b *Broker) Shutdown() {
	if !b.up || b.shuttingDown {
		return
	}
	b.shuttingDown = true
	b.h.obs.emit(b.ID, -1, history.Shutdown, "broker %d began a controlled shutdown", b.ID)
	b.send(b.h.ctlNode, b.h.k.shutdownReq, &shutdownReq{broker: b.ID})
	// controlled.shutdown.max.retries x request timeout; if the controller
	// cannot be reached, the broker stops anyway.
	b.timer(b.h.k.tShutdownForce, 30*sim.Second, 0, nil)
}

func (b *Broker) finishShutdown() {
	if !b.up {
		return
	}
	for _, r := range b.reps {
		if r != nil {
			r.flushAll()
		}
	}
	b.stopProcess()
	b.lastClean = true
	b.h.obs.emit(b.ID, -1, history.Shutdown, "broker %d shut down cleanly (logs flushed)", b.ID)
}

// Pause stalls the process (GC or VM pause): no timers, no messages.
func (b *Broker) Pause() {
	if !b.up || b.paused {
		return
	}
	b.hold(b.h, b.Node)
	b.h.obs.emit(b.ID, -1, history.Pause, "broker %d paused", b.ID)
}

// Resume ends a pause: held messages and timers run now.
func (b *Broker) Resume() {
	if !b.paused {
		return
	}
	b.release(b.h, b.Node)
	b.h.obs.emit(b.ID, -1, history.Resume, "broker %d resumed", b.ID)
}

// SlowDisk multiplies fsync latency by factor for d.
func (b *Broker) SlowDisk(factor float64, d sim.Duration) {
	b.slowFactor = factor
	b.slowUntil = b.h.E.Now().Add(d)
	b.h.obs.emit(b.ID, -1, history.SlowDisk, "broker %d disk slowed %gx for %s", b.ID, factor, d)
}
