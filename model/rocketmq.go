package model

import (
	"cmp"
	"fmt"
	"slices"

	"acksim/history"
	"acksim/sim"
)

// rmqDesign is RocketMQ's classic master-slave replication
// (../shared/replication-designs.md §3.1; apache/rocketmq@8fc57f1468 and
// rocketmq-all-4.9.8, store/.../CommitLog.java and store/.../ha/). Each
// partition is a queue of a broker group: its master is the partition's
// first replica and its slaves the others, so the groups' brokers share
// machines, as RocketMQ's 2m-2s samples cross-deploy them. A fault of a
// machine hits every broker process on it.
//
// The master appends to its CommitLog (page cache) and answers the put
// once what flushDiskType and brokerRole require is done; slaves pull
// nothing: the master streams the log to every connected slave from the
// offset the slave reported (DefaultHAConnection), and a slave
// acknowledges by reporting its end offset after the append, not after a
// flush (DefaultHAClient). There is no automatic failover in this mode: a
// group's master stays its master, and while it is down its queues take no
// writes; consumers read from the master.
//
// Offsets are acksim's record offsets (RocketMQ counts CommitLog bytes);
// byte limits (haMaxGapNotInSync, flushCommitLogLeastPages) are applied to
// the records' bytes.
//
// In controller mode (enableControllerMode, RocketMQ 5, RIP-44) acksim's
// controller plays RocketMQ's: it keeps each group's master, MasterEpoch
// (the partition state's epoch) and SyncStateSet (its ISR), fences a
// broker whose heartbeats stop for controllerHeartBeatTimeoutMills, and
// elects a new master from the live SyncStateSet by highest (epoch, max
// offset), or from any live replica with enableElectUncleanMaster. The
// master shrinks and expands the SyncStateSet through it, and a slave
// truncates to what the master's epochs say in the connection handshake.
type rmqDesign struct {
	h         *host
	ctl       *Controller
	brokers   []*Broker
	placement [][]int
	k         rmqKinds
	ctlMode   bool
}

type rmqKinds struct {
	report, transfer       sim.KindID
	tService, tWait, tPush sim.KindID
}

// rmqService is the period of each replica's service loop: the flush
// service, and the HA client's and connections' heartbeats, housekeeping
// and reconnection (RocketMQ's services wake at least this often).
const rmqService = 10 * sim.Millisecond

// rmqPage is the OS page flushCommitLogLeastPages counts (OS_PAGE_SIZE).
const rmqPage = 4096

// rmqTransferBatch is haTransferBatchSize: the most a master writes to a
// slave in one transfer (32 KiB).
const rmqTransferBatch = 32 << 10

func newRocketMQ(h *host, ctl *Controller, brokers []*Broker, placement [][]int) *rmqDesign {
	d := &rmqDesign{h: h, ctl: ctl, brokers: brokers, placement: placement, ctlMode: h.spec.Broker.RocketMQ.ControllerMode}
	e := h.E
	d.k = rmqKinds{report: e.Kind("rocketmq.ha-report"), transfer: e.Kind("rocketmq.ha-transfer"),
		tService: e.Kind("timer.rocketmq-service"), tWait: e.Kind("timer.rocketmq-put-timeout"), tPush: e.Kind("timer.rocketmq-ha-poll")}
	h.markBrokerTimers(d.k.tService, d.k.tWait, d.k.tPush)
	h.refuseKinds(d.k.report, d.k.transfer)
	for tp, reps := range placement {
		if d.ctlMode {
			ctl.parts = append(ctl.parts, &partitionState{tp: tp, leader: reps[0], isr: slices.Clone(reps), replicas: reps, lastLeader: -1})
		}
		for _, id := range reps {
			brokers[id].reps[tp] = &rmqReplica{d: d, b: brokers[id], tp: tp, master: reps[0], conns: make([]rmqConn, len(brokers)), epoch: -1, pEpoch: -1,
				unfollowable: make([]bool, len(brokers))}
		}
	}
	if d.ctlMode {
		ctl.electionOrder, ctl.keepISR = d.electionOrder, true
	}
	return d
}

// electionOrder is DefaultElectPolicy's: highest epoch, then highest max
// offset, then priority (here the assignment order). The controller reads
// each broker's (epoch, max offset) from its heartbeats; acksim reads the
// logs.
func (d *rmqDesign) electionOrder(tp int, replicas []int) []int {
	out := slices.Clone(replicas)
	slices.SortStableFunc(out, func(a, b int) int {
		la, lb := &d.rep(a, tp).log_, &d.rep(b, tp).log_
		if ea, eb := la.LatestEpoch(), lb.LatestEpoch(); ea != eb {
			return int(eb - ea)
		}
		return cmp.Compare(lb.LEO(), la.LEO())
	})
	return out
}

func (d *rmqDesign) tasks() []periodicTask { return nil }

func (d *rmqDesign) rep(id, tp int) *rmqReplica { return d.brokers[id].reps[tp].(*rmqReplica) }

// leader is the group's master while its process runs (controller mode:
// the controller's master).
func (d *rmqDesign) leader(tp int) int {
	if d.ctlMode {
		return d.ctl.parts[tp].leader
	}
	m := d.placement[tp][0]
	if d.brokers[m].up && !d.brokers[m].gone {
		return m
	}
	return -1
}

// quorum: the master and the slaves it has a connection with.
func (d *rmqDesign) quorum(tp int) []int {
	if d.ctlMode {
		return d.ctl.parts[tp].isr
	}
	m := d.placement[tp][0]
	out := []int{m}
	r := d.rep(m, tp)
	for _, id := range d.placement[tp][1:] {
		if r.conns[id].up {
			out = append(out, id)
		}
	}
	return out
}

func (d *rmqDesign) replicas(tp int) []int { return d.placement[tp] }

// settled: the master runs and every live slave has reported the master's
// end offset, or has diverged from the master: it holds what the master
// lost, which classic master-slave never reconciles (no truncation), so
// nothing more will change.
func (d *rmqDesign) settled(tp int) (bool, int64) {
	m := d.leader(tp)
	if m < 0 || !d.brokers[m].up || !d.rep(m, tp).isMaster() {
		return false, 0
	}
	r := d.rep(m, tp)
	leo := r.log_.LEO()
	for _, id := range d.placement[tp] {
		if id == m || d.brokers[id].gone {
			continue
		}
		if r.unfollowable[id] {
			continue // nothing will change: replication to it is broken for good
		}
		if d.diverged(r, d.rep(id, tp)) {
			if d.ctlMode {
				return false, 0 // the handshake truncates it
			}
			continue
		}
		if c := &r.conns[id]; !c.up || c.ack < leo {
			return false, 0
		}
	}
	return true, r.highWatermark()
}

// diverged reports whether slave s's log is not a prefix of master m's.
func (d *rmqDesign) diverged(m, s *rmqReplica) bool {
	n := len(s.log_.entries)
	if n == 0 {
		return false
	}
	last := s.log_.entries[n-1].b
	i := m.log_.find(last.Base)
	return i >= len(m.log_.entries) || m.log_.entries[i].b != last
}

// checkInvariants: HW and the durable prefix within the log everywhere.
// Classic master-slave promises no more: a slave may hold what its master
// lost, and the master never truncates.
func (d *rmqDesign) checkInvariants() {
	h := d.h
	for tp, reps := range d.placement {
		for _, id := range reps {
			r := d.rep(id, tp)
			if r.highWatermark() > r.log_.LEO() || r.log_.durable > r.log_.LEO() {
				h.violate("%s on broker %d: HW %d or durable %d past LEO %d", h.tpName(tp), id, r.highWatermark(), r.log_.durable, r.log_.LEO())
			}
		}
	}
}

// rmqConn is a master's connection from one slave (DefaultHAConnection).
type rmqConn struct {
	up       bool
	ack      int64    // slaveAckOffset: the end offset the slave last reported
	next     int64    // nextTransferFromWhere; -1 until the slave's first report
	lastRead sim.Time // housekeeping
	lastSent sim.Time // heartbeat
	// caughtUp: when the slave last had everything the master had sent
	// (connectionCaughtUpTimeTable; controller mode).
	caughtUp sim.Time
	// truncate: the next transfer tells the slave to cut its log to next
	// (the controller mode's epoch handshake).
	truncate bool
}

// rmqPut is a put waiting for its flush and its slaves.
type rmqPut struct {
	from      sim.NodeID
	req       *produceReq
	bt        *history.Batch
	flushWait bool // SYNC_FLUSH: the GroupCommitService has not flushed it yet
	haWait    bool // SYNC_MASTER: not enough slaves have acknowledged it
	need      int  // slaves that must acknowledge (5.x: inSyncReplicas-1; 4.x: any one; -1: all of the SyncStateSet)
	// The flush's and the replication's statuses; the put answers the
	// replication's if not PUT_OK, else the flush's
	// (handleDiskFlushAndHA's thenCombine).
	flushStatus, haStatus ErrCode
	flushBy, haBy         sim.Time
}

// rmqReplica is a broker group's master or slave for one partition.
type rmqReplica struct {
	d      *rmqDesign
	b      *Broker
	tp     int
	master int
	log_   Log

	// Master: its connections by slave id, push2SlaveMaxOffset (the
	// highest offset any slave reported, 4.x's test), and the waiting puts.
	conns    []rmqConn
	push     int64
	waiting  []*rmqPut
	waitArm  bool
	pushArm  bool
	parked   []*parkedFetch
	flushing bool
	// SYNC_FLUSH's GroupCommitService: one flush at a time covers every put
	// appended before it; puts that arrive meanwhile wait for the next
	// (swapRequests). onCommit and onFlushed are the fsync callbacks,
	// bound once.
	committing, commitPending bool
	onCommit, onFlushed       func()
	tick                      sim.Time // the ASYNC_FLUSH service's last turn (flushIntervalCommitLog)
	thorough                  sim.Time // last full flush (flushCommitLogThoroughInterval)

	// Controller mode: the MasterEpoch and partition epoch known, the
	// SyncStateSet, a pending AlterSyncStateSet, where the master's epoch
	// began, and the confirmOffset consumers read up to.
	epoch, pEpoch int32
	sss           []int
	alterPending  bool
	alterAt       sim.Time
	epochStart    int64
	confirm       int64
	sssCheck      sim.Time
	// unfollowable: by slave id, its last handshake found no consistent
	// point, so it cannot follow this master (it retries, in vain).
	unfollowable []bool

	// Slave: its HA client's connection to the master.
	connected  bool
	lastRead   sim.Time
	lastReport sim.Time
	retryAt    sim.Time
}

func (r *rmqReplica) cfg() *RocketMQConfig { return &r.b.h.spec.Broker.RocketMQ }
func (r *rmqReplica) isMaster() bool       { return r.b.ID == r.master }

func (r *rmqReplica) timer(kind sim.KindID, d sim.Duration) sim.Timer {
	return r.b.timer(kind, d, int64(r.tp), nil)
}

// newTransfer and newReport take a message from the pool, with v's fields
// and the pooled slices' capacity.
func (r *rmqReplica) newTransfer(v rmqTransfer) *rmqTransfer {
	m := r.b.h.pool.rmqTransfer()
	entries := m.entries[:0]
	*m = v
	m.entries = entries
	return m
}

func (r *rmqReplica) newReport(v rmqReport) *rmqReport {
	m := r.b.h.pool.rmqReport()
	epochs := m.epochs[:0]
	*m = v
	m.epochs = epochs
	return m
}

// ---- messages ----

// rmqReport is a slave's report of its end offset (reportSlaveMaxOffset)
// and, in controller mode, of its latest epoch (the handshake); offset -1
// is the slave closing the connection.
type rmqReport struct {
	tp     int
	from   int
	offset int64
	// handshake (controller mode): the first report of a connection,
	// with the slave's epoch entries (AutoSwitchHAClient's handshake).
	handshake bool
	epochs    []epochStart
}

func (m *rmqReport) partition() int { return m.tp }
func (m *rmqReport) Describe() string {
	return fmt.Sprintf("ha-report tp=%d slave=%d offset=%d", m.tp, m.from, m.offset)
}

// rmqTransfer is the master's write to a slave: the entries from offset on
// (none: a heartbeat).
type rmqTransfer struct {
	tp      int
	from    int
	offset  int64
	entries []*history.Batch
	// truncate (controller mode's handshake): the slave first cuts its log
	// to offset; refused: no consistent point, the handshake failed;
	// reset: the master has no such connection (a report on a connection
	// from before the master's restart meets a TCP reset).
	truncate, refused, reset bool
}

func (m *rmqTransfer) partition() int { return m.tp }
func (m *rmqTransfer) Describe() string {
	return fmt.Sprintf("ha-transfer tp=%d offset=%d entries=%d", m.tp, m.offset, len(m.entries))
}

// ---- hosted ----

func (r *rmqReplica) partition() int { return r.tp }
func (r *rmqReplica) log() *Log      { return &r.log_ }

// highWatermark: what consumers may read, the ReputMessageService's end
// (CommitLog.getConfirmOffset): in controller mode the confirmOffset (all
// of the SyncStateSet holds it) with allAckInSyncStateSet, else the log
// end; in classic mode the flushed offset with SYNC_FLUSH on 5.x (#8240,
// 5.3.0), else the log end: dispatched unflushed and unreplicated (#8239).
func (r *rmqReplica) highWatermark() int64 {
	cfg := r.cfg()
	switch {
	case r.d.ctlMode && r.isMaster() && cfg.AllAckInSyncStateSet && len(r.sss) > 1:
		return min(r.confirm, r.log_.LEO())
	case !r.d.ctlMode && cfg.SyncFlush && cfg.Version >= 5:
		return r.log_.durable
	}
	return r.log_.LEO()
}

func (r *rmqReplica) leads() bool { return r.isMaster() && r.b.up }

func (r *rmqReplica) known() (knownState, bool) {
	if !r.d.ctlMode {
		return knownState{}, false
	}
	return knownState{r.tp, r.epoch, r.pEpoch}, true
}

// peerDown: a connection dropped (the peer's process died, or refused).
func (r *rmqReplica) peerDown(id int) {
	switch {
	case r.isMaster():
		r.conns[id].up = false
	case id == r.master && r.connected:
		r.closeMaster()
	}
}

// start: the process starts on what the disk (and page cache) holds: the
// master with no connections, a slave connecting to its master.
func (r *rmqReplica) start() {
	now := r.b.h.E.Now()
	for i := range r.conns {
		r.conns[i] = rmqConn{}
	}
	r.push, r.waiting, r.waitArm, r.pushArm, r.parked, r.flushing = 0, nil, false, false, nil, false
	r.committing, r.commitPending = false, false
	if r.onCommit == nil {
		r.onCommit = r.groupCommitted
		r.onFlushed = func() { r.flushing = false }
	}
	r.thorough, r.tick = now, now
	r.connected, r.retryAt = false, now
	if r.d.ctlMode {
		// The role comes from the controller once registered.
		r.master, r.epoch, r.pEpoch, r.sss, r.alterPending = -1, -1, -1, nil, false
	}
	r.timer(r.d.k.tService, rmqService)
}

func (r *rmqReplica) stop() {
	r.waiting, r.parked, r.connected = nil, nil, false
}

func (r *rmqReplica) storageLost(disk bool) []*history.Batch {
	if disk {
		return r.log_.wipe()
	}
	return r.log_.powerCut()
}

func (r *rmqReplica) flushAll() { r.log_.flushAll() }

func (r *rmqReplica) step(ev *sim.Event) {
	k := &r.d.k
	switch ev.Kind {
	case k.report:
		m := ev.P.(*rmqReport)
		r.onReport(m)
		r.b.h.pool.putRmqReport(m)
	case k.transfer:
		m := ev.P.(*rmqTransfer)
		r.onTransfer(m)
		r.b.h.pool.putRmqTransfer(m)
	case k.tService:
		r.service()
		r.timer(k.tService, rmqService)
	case k.tWait:
		r.waitArm = false
		r.expire()
	case k.tPush:
		r.pushArm = false
		r.transferAll()
	case r.b.h.k.leaderAndIsr:
		r.onState(ev.P.(*partitionState))
	case r.b.h.k.alterResp:
		r.onAlterResp(ev.P.(*alterPartitionResp))
	}
}

// ---- controller mode ----

// onState applies the controller's view of the group: a new master (this
// broker, or another to follow) or a new SyncStateSet.
func (r *rmqReplica) onState(st *partitionState) {
	if !r.d.ctlMode || st.epoch < r.epoch || (st.epoch == r.epoch && st.partitionEpoch <= r.pEpoch) {
		return
	}
	same := st.epoch == r.epoch && st.leader == r.master
	r.epoch, r.pEpoch, r.sss = st.epoch, st.partitionEpoch, slices.Clone(st.isr)
	if same {
		if r.isMaster() {
			r.completeWaiting()
		}
		return
	}
	if r.isMaster() {
		r.resign()
	}
	r.master = st.leader
	now := r.b.h.E.Now()
	if r.isMaster() {
		// AutoSwitchHAService.changeToMaster: the epoch entry starts at the
		// log end, replacing one of the same epoch (a master back from a
		// restart re-enters its epoch where its log now ends).
		r.log_.restartEpoch(st.epoch)
		r.epochStart, r.confirm = r.log_.LEO(), r.log_.LEO()
		for i := range r.conns {
			r.conns[i] = rmqConn{}
		}
		clear(r.unfollowable)
		r.push, r.alterPending, r.sssCheck = 0, false, now.Add(3*sim.Second)
		return
	}
	r.connected, r.retryAt = false, now
}

// resign ends mastership: waiting puts fail, parked fetches are answered.
func (r *rmqReplica) resign() {
	for _, p := range r.waiting {
		r.b.respondProduce(p.from, p.req, ErrNotLeader, -1)
		r.b.h.pool.putRmqPut(p)
	}
	r.waiting = nil
	for _, pf := range r.parked {
		if !pf.done {
			pf.done = true
			r.answerFetch(pf.from, pf.req)
		}
	}
	r.parked = nil
	for i := range r.conns {
		r.conns[i] = rmqConn{}
	}
}

// checkSyncStateSet is checkSyncStateSetAndDoReport (every
// checkSyncStateSetPeriod, 5 s): slaves not caught up for
// haMaxTimeSlaveNotCatchup, or not connected, leave the SyncStateSet.
func (r *rmqReplica) checkSyncStateSet(now sim.Time) {
	if r.alterPending || now < r.sssCheck {
		return
	}
	r.sssCheck = now.Add(5 * sim.Second)
	next := []int{r.b.ID}
	for _, id := range r.sss {
		if c := &r.conns[id]; id != r.b.ID && c.up && now.Sub(c.caughtUp) <= r.cfg().MaxTimeSlaveNotCatchup {
			next = append(next, id)
		}
	}
	if len(next) != len(r.sss) {
		r.alterSyncStateSet(next)
	}
}

// maybeExpand adds a slave that has caught up to the confirmOffset and
// into the master's epoch (maybeExpandInSyncStateSet).
func (r *rmqReplica) maybeExpand(id int) {
	c := &r.conns[id]
	if r.alterPending || slices.Contains(r.sss, id) || c.ack < r.confirmOffset() || c.ack < r.epochStart {
		return
	}
	r.alterSyncStateSet(append(slices.Clone(r.sss), id))
}

func (r *rmqReplica) alterSyncStateSet(sss []int) {
	h := r.b.h
	r.alterPending, r.alterAt = true, h.E.Now()
	r.b.send(h.ctlNode, h.k.alterPartition, &alterPartition{tp: r.tp, leader: r.b.ID, epoch: r.epoch, partitionEpoch: r.pEpoch, isr: sss})
}

func (r *rmqReplica) onAlterResp(m *alterPartitionResp) {
	if !r.isMaster() {
		return
	}
	r.alterPending = false
	if m.err != ErrNone || m.st.epoch != r.epoch {
		return
	}
	r.sss, r.pEpoch = slices.Clone(m.st.isr), m.st.partitionEpoch
	r.completeWaiting()
}

// confirmOffset is computeConfirmOffset: the least of the log end and the
// SyncStateSet's slaves' acknowledgements; unchanged while a member has no
// connection.
func (r *rmqReplica) confirmOffset() int64 {
	c := r.log_.LEO()
	for _, id := range r.sss {
		if id == r.b.ID {
			continue
		}
		if !r.conns[id].up {
			return r.confirm
		}
		c = min(c, r.conns[id].ack)
	}
	r.confirm = c
	return c
}

// ---- flush ----

// service is one turn of the replica's service loops.
func (r *rmqReplica) service() {
	now := r.b.h.E.Now()
	cfg := r.cfg()
	// Flush: SYNC_FLUSH's GroupCommitService flushes everything every 10 ms
	// (flush(0) when no request waits); ASYNC_FLUSH's FlushRealTimeService
	// every flushIntervalCommitLog, once flushCommitLogLeastPages pages are
	// dirty or flushCommitLogThoroughInterval has passed.
	if cfg.SyncFlush {
		r.flush()
	} else if now.Sub(r.tick) >= cfg.FlushInterval {
		r.tick = now
		if now.Sub(r.thorough) >= cfg.FlushThorough {
			r.thorough = now
			r.flush()
		} else if r.dirtyBytes(cfg.FlushLeastPages*rmqPage) >= cfg.FlushLeastPages*rmqPage {
			r.flush()
		}
	}
	switch {
	case r.isMaster():
		r.wakeParked()
		r.masterHousekeeping(now)
		if r.d.ctlMode {
			for _, id := range r.sss {
				if c := &r.conns[id]; id != r.b.ID && c.up && c.next >= r.log_.LEO() {
					c.caughtUp = now // nothing left to send (the transfer loop's size == 0)
				}
			}
			if r.alterPending && now.Sub(r.alterAt) > 5*sim.Second {
				r.alterPending = false // unanswered: try again
			}
			r.checkSyncStateSet(now)
		}
	case r.master > 0:
		r.slaveHousekeeping(now)
	}
}

// dirtyBytes counts the bytes not on disk, stopping at limit.
func (r *rmqReplica) dirtyBytes(limit int64) int64 {
	var n int64
	for i := len(r.log_.entries) - 1; i >= r.log_.durableN && n < limit; i-- {
		n += int64(r.log_.entries[i].b.Bytes)
	}
	return n
}

// flush is the flush service's: it fsyncs what is dirty, unless a flush
// is in flight (the service's next turn flushes what came since).
func (r *rmqReplica) flush() {
	if r.flushing || r.log_.durableN == len(r.log_.entries) {
		return
	}
	r.flushing = true
	r.b.fsync(&r.log_, r.tp, r.onFlushed)
}

// ---- master ----

// produce is SendMessageProcessor -> CommitLog.asyncPutMessage on the
// master: append, then wait for the flush (SYNC_FLUSH) and the slaves
// (SYNC_MASTER) as the version does, and answer PUT_OK or the status of
// what timed out or was not available.
func (r *rmqReplica) produce(from sim.NodeID, m *produceReq) {
	b := r.b
	h := b.h
	cfg := r.cfg()
	if !r.isMaster() {
		b.respondProduce(from, m, ErrNotLeader, -1)
		return
	}
	if r.d.ctlMode && len(r.sss) < cfg.MinInSyncReplicas {
		// CommitLog.asyncPutMessage in controller mode.
		b.respondProduce(from, m, ErrInSyncReplicasNotEnough, -1)
		return
	}
	pb := m.batch
	bt := h.pool.batch()
	epoch := max(r.epoch, 0)
	*bt = history.Batch{Base: r.log_.LEO(), Epoch: epoch, PID: -1, Seq: pb.seq, Records: h.pool.recordIDs(pb.records), Producer: pb.producer, Bytes: int32(pb.bytes)}
	h.obs.leaderAppended(bt, b.ID, r.tp, epoch, r.d.quorum(r.tp), m.acks)
	r.log_.append(bt, h.E.Now())
	now := h.E.Now()
	p := h.pool.rmqPut()
	*p = rmqPut{from: from, req: m, bt: bt}
	if cfg.SyncFlush {
		p.flushWait, p.flushBy = true, now.Add(cfg.SyncFlushTimeout)
		r.groupCommit()
	}
	if r.d.ctlMode {
		// The master is SYNC_MASTER in controller mode; it waits for the
		// whole SyncStateSet with allAckInSyncStateSet, else for
		// inSyncReplicas-1 slaves.
		switch {
		case cfg.AllAckInSyncStateSet:
			p.haWait, p.need, p.haBy = true, -1, now.Add(cfg.SlaveTimeout)
		case cfg.InSyncReplicas > 1:
			p.haWait, p.need, p.haBy = true, cfg.InSyncReplicas-1, now.Add(cfg.SlaveTimeout)
		}
	} else if cfg.SyncMaster {
		switch {
		case cfg.Version == 4 && !r.slaveOK():
			// 4.9.8 submitReplicaRequest: no slave fit to wait for.
			p.haStatus = ErrSlaveNotAvailable
		case cfg.Version == 4:
			p.haWait, p.need, p.haBy = true, 1, now.Add(cfg.SlaveTimeout)
		case cfg.InSyncReplicas > 1:
			// 5.x handleHA: wait for inSyncReplicas-1 slaves' acks.
			p.haWait, p.need, p.haBy = true, cfg.InSyncReplicas-1, now.Add(cfg.SlaveTimeout)
		}
	}
	if p.haWait && r.acked(p) {
		p.haWait = false
	}
	r.wakeParked()
	if cfg.SyncMaster || r.d.ctlMode {
		r.transferAll() // SYNC_MASTER wakes the HA connections (wakeupAll)
	} else if !r.pushArm {
		// ASYNC_MASTER: a caught-up connection waits up to 100 ms
		// (allWaitForRunning(100)) before it looks for new data.
		r.pushArm = true
		r.timer(r.d.k.tPush, 100*sim.Millisecond)
	}
	if !p.flushWait && !p.haWait {
		r.answer(p)
		return
	}
	r.waiting = append(r.waiting, p)
	if !r.waitArm {
		r.waitArm = true
		r.timer(r.d.k.tWait, min(cfg.SlaveTimeout, cfg.SyncFlushTimeout))
	}
}

// slaveOK is 4.9.8 HAService.isSlaveOK: a slave is connected and the
// master's end is less than haSlaveFallbehindMax bytes past
// push2SlaveMaxOffset.
func (r *rmqReplica) slaveOK() bool {
	connected := false
	for _, id := range r.d.placement[r.tp] {
		connected = connected || r.conns[id].up
	}
	if !connected {
		return false
	}
	limit := r.cfg().MaxGapNotInSync
	return r.bytesFrom(r.push, limit) < limit
}

// bytesFrom counts the log's bytes from offset off to its end, stopping at
// limit.
func (r *rmqReplica) bytesFrom(off, limit int64) int64 {
	var n int64
	for i := len(r.log_.entries) - 1; i >= 0 && n < limit && r.log_.entries[i].end > off; i-- {
		n += int64(r.log_.entries[i].b.Bytes)
	}
	return n
}

// acked: enough slaves have reported p's end (GroupTransferService: any
// connection whose slaveAckOffset reaches it; 4.x: push2SlaveMaxOffset).
func (r *rmqReplica) acked(p *rmqPut) bool {
	end := p.bt.End()
	if r.cfg().Version == 4 && !r.d.ctlMode {
		return r.push >= end
	}
	if p.need < 0 {
		// allAckInSyncStateSet: every slave of the SyncStateSet.
		for _, id := range r.sss {
			if c := &r.conns[id]; id != r.b.ID && (!c.up || c.ack < end) {
				return false
			}
		}
		return true
	}
	n := 0
	for _, id := range r.d.placement[r.tp] {
		if c := &r.conns[id]; c.up && c.ack >= end {
			n++
		}
	}
	return n >= p.need
}

// groupCommit asks the GroupCommitService to flush what the puts appended:
// at once when it is idle, else right after the flush in progress.
func (r *rmqReplica) groupCommit() {
	if r.committing {
		r.commitPending = true
		return
	}
	r.committing = true
	r.b.fsync(&r.log_, r.tp, r.onCommit)
}

// groupCommitted: a group commit's flush is done; the puts it covered are
// answered, and the puts that came during it get the next flush.
func (r *rmqReplica) groupCommitted() {
	r.committing = false
	r.flushedTo(r.log_.durable)
	if r.commitPending {
		r.commitPending = false
		r.groupCommit()
	}
}

// flushedTo: a SYNC_FLUSH put's flush is done.
func (r *rmqReplica) flushedTo(end int64) {
	for _, p := range r.waiting {
		if p.flushWait && p.bt.End() <= end {
			p.flushWait = false
		}
	}
	r.completeWaiting()
}

// completeWaiting answers the puts with nothing left to wait for, in order.
func (r *rmqReplica) completeWaiting() {
	if r.d.ctlMode && r.isMaster() {
		r.confirmOffset()
		r.wakeParked()
	}
	keep := r.waiting[:0]
	for _, p := range r.waiting {
		if p.haWait && r.acked(p) {
			p.haWait = false
		}
		if p.flushWait || p.haWait {
			keep = append(keep, p)
			continue
		}
		r.answer(p)
	}
	clear(r.waiting[len(keep):])
	r.waiting = keep
}

// expire gives up on the waits whose timeout passed: FLUSH_DISK_TIMEOUT
// after syncFlushTimeout, FLUSH_SLAVE_TIMEOUT after slaveTimeout (the
// message stays stored on the master either way).
func (r *rmqReplica) expire() {
	now := r.b.h.E.Now()
	next := sim.Time(-1)
	for _, p := range r.waiting {
		if p.flushWait && now >= p.flushBy {
			p.flushWait, p.flushStatus = false, ErrFlushDiskTimeout
		}
		if p.haWait && now >= p.haBy {
			p.haWait, p.haStatus = false, ErrFlushSlaveTimeout
		}
		for _, t := range []sim.Time{p.flushBy, p.haBy} {
			if t > now && (next < 0 || t < next) && (p.flushWait || p.haWait) {
				next = t
			}
		}
	}
	r.completeWaiting()
	if next >= 0 && !r.waitArm {
		r.waitArm = true
		r.timer(r.d.k.tWait, next.Sub(now))
	}
}

// answer completes a put: the ledger learns who holds it, the producer its
// status.
func (r *rmqReplica) answer(p *rmqPut) {
	h := r.b.h
	if p.req.acks != 0 {
		h.obs.leaderAcked(p.bt, r.b.ID, p.bt.Epoch, r.holders(p.bt.End()), p.req.acks)
	}
	status := p.haStatus
	if status == ErrNone {
		status = p.flushStatus
	}
	r.b.respondProduce(p.from, p.req, status, p.bt.Base)
	h.pool.putRmqPut(p)
}

// holders: the master and the connected slaves that reported end.
func (r *rmqReplica) holders(end int64) []int {
	out := []int{r.b.ID}
	for _, id := range r.d.placement[r.tp] {
		if c := &r.conns[id]; c.up && c.ack >= end {
			out = append(out, id)
		}
	}
	return out
}

// onReport: a slave reported its end offset. The first report of a
// connection sets where the transfer starts (slaveRequestOffset; from 0 the
// master starts at its current CommitLog file, offset 0 here).
func (r *rmqReplica) onReport(m *rmqReport) {
	if !r.isMaster() {
		return
	}
	c := &r.conns[m.from]
	if m.offset < 0 {
		c.up = false // the slave closed the connection
		return
	}
	now := r.b.h.E.Now()
	if !c.up && !m.handshake {
		r.b.send(r.b.h.node(m.from), r.d.k.transfer, r.newTransfer(rmqTransfer{tp: r.tp, from: r.b.ID, reset: true}))
		return
	}
	if m.handshake {
		*c = rmqConn{up: true, next: m.offset, lastSent: now}
		if r.d.ctlMode && len(m.epochs) > 0 {
			// The handshake (AutoSwitchHAClient.doTruncate): the slave keeps
			// its log up to the last epoch both hold with the same start
			// (EpochFileCache.findConsistentPoint); with none, it cannot
			// follow this master and tries again later.
			cp := consistentPoint(r.log_.epochs, r.log_.LEO(), m.epochs, m.offset)
			was := r.unfollowable[m.from]
			r.unfollowable[m.from] = cp < 0
			if cp < 0 {
				c.up = false
				if !was {
					r.b.h.obs.emit(r.b.ID, r.tp, history.ISR, "slave broker %d cannot follow master %d of %s: no epoch with the same start in both logs (findConsistentPoint); it retries every 2s", m.from, r.b.ID, r.b.h.tpName(r.tp))
				}
				r.b.send(r.b.h.node(m.from), r.d.k.transfer, r.newTransfer(rmqTransfer{tp: r.tp, from: r.b.ID, refused: true}))
				return
			}
			if cp < m.offset {
				c.next, c.truncate, c.lastRead = cp, true, now
				r.b.h.obs.emit(r.b.ID, r.tp, history.ISR, "slave broker %d connected to master %d of %s; it truncates to %d", m.from, r.b.ID, r.b.h.tpName(r.tp), cp)
				r.transfer(m.from)
				return
			}
		}
		r.b.h.obs.emit(r.b.ID, r.tp, history.ISR, "slave broker %d connected to master %d of %s at offset %d", m.from, r.b.ID, r.b.h.tpName(r.tp), m.offset)
	}
	c.lastRead = now
	c.ack = m.offset
	if c.ack >= c.next {
		c.caughtUp = now
	}
	r.push = max(r.push, m.offset) // notifyTransferSome
	if r.d.ctlMode {
		r.maybeExpand(m.from)
	}
	r.completeWaiting()
	r.transfer(m.from)
}

// transferAll writes what is new to every connected slave.
func (r *rmqReplica) transferAll() {
	for _, id := range r.d.placement[r.tp] {
		r.transfer(id)
	}
}

// transfer writes to slave id the entries from its next offset on, in
// 32 KiB transfers (WriteSocketService). An entry is sent whole: the
// transfer starts at the first entry ending past next, and says where it
// starts, which the slave checks against its own end.
func (r *rmqReplica) transfer(id int) {
	c := &r.conns[id]
	if !c.up || !r.b.up {
		return
	}
	h := r.b.h
	if c.truncate && c.next >= r.log_.LEO() {
		c.truncate = false
		r.b.send(h.node(id), r.d.k.transfer, r.newTransfer(rmqTransfer{tp: r.tp, from: r.b.ID, offset: c.next, truncate: true}))
	}
	for c.next < r.log_.LEO() {
		i := r.log_.find(c.next)
		m := r.newTransfer(rmqTransfer{tp: r.tp, from: r.b.ID, offset: r.log_.entries[i].b.Base, truncate: c.truncate})
		c.truncate = false
		var size int
		for ; i < len(r.log_.entries) && (size == 0 || size+int(r.log_.entries[i].b.Bytes) <= rmqTransferBatch); i++ {
			m.entries = append(m.entries, r.log_.entries[i].b)
			size += int(r.log_.entries[i].b.Bytes)
		}
		c.next = m.entries[len(m.entries)-1].End()
		c.lastSent = h.E.Now()
		r.b.send(h.node(id), r.d.k.transfer, m)
	}
}

// masterHousekeeping: heartbeats to idle connections every
// haSendHeartbeatInterval, and connections with nothing read for
// haHousekeepingInterval closed.
func (r *rmqReplica) masterHousekeeping(now sim.Time) {
	cfg := r.cfg()
	for _, id := range r.d.placement[r.tp] {
		c := &r.conns[id]
		if !c.up {
			continue
		}
		if now.Sub(c.lastRead) > cfg.Housekeeping {
			c.up = false
			r.b.h.obs.emit(r.b.ID, r.tp, history.ISR, "master broker %d closed slave %d's connection of %s: nothing read for %s (haHousekeepingInterval)", r.b.ID, id, r.b.h.tpName(r.tp), cfg.Housekeeping)
			continue
		}
		if now.Sub(c.lastSent) > cfg.HeartbeatInterval {
			c.lastSent = now
			r.b.send(r.b.h.node(id), r.d.k.transfer, r.newTransfer(rmqTransfer{tp: r.tp, from: r.b.ID, offset: c.next}))
		}
	}
}

// consistentPoint is EpochFileCache.findConsistentPoint: from the newest of
// the master's epochs down, the first the slave holds with the same start
// offset; the least of the two ends of that epoch. -1: none.
func consistentPoint(master []epochStart, masterLEO int64, slave []epochStart, slaveLEO int64) int64 {
	end := func(es []epochStart, i int, leo int64) int64 {
		if i+1 < len(es) {
			return es[i+1].start
		}
		return leo
	}
	for i := len(master) - 1; i >= 0; i-- {
		for j := range slave {
			if slave[j].epoch == master[i].epoch && slave[j].start == master[i].start {
				return min(end(master, i, masterLEO), end(slave, j, slaveLEO))
			}
		}
	}
	return -1
}

// ---- slave ----

// slaveHousekeeping is the HA client's loop: connect (every 5 s after a
// failure), report the end offset every haSendHeartbeatInterval, and close
// a connection with nothing read for haHousekeepingInterval.
func (r *rmqReplica) slaveHousekeeping(now sim.Time) {
	cfg := r.cfg()
	switch {
	case !r.connected && now >= r.retryAt:
		// A new connection: its first report is the handshake, with the
		// epoch entries in controller mode.
		r.connected, r.lastRead, r.lastReport = true, now, now
		m := r.newReport(rmqReport{tp: r.tp, from: r.b.ID, offset: r.log_.LEO(), handshake: true})
		if r.d.ctlMode {
			m.epochs = append(m.epochs, r.log_.epochs...)
		}
		r.b.send(r.b.h.node(r.master), r.d.k.report, m)
	case r.connected && now.Sub(r.lastRead) > cfg.Housekeeping:
		r.b.h.obs.emit(r.b.ID, r.tp, history.ISR, "slave broker %d closed its connection to master %d of %s: nothing read for %s (haHousekeepingInterval)", r.b.ID, r.master, r.b.h.tpName(r.tp), cfg.Housekeeping)
		r.closeMaster()
	case r.connected && now.Sub(r.lastReport) >= cfg.HeartbeatInterval:
		r.report()
	}
}

func (r *rmqReplica) report() {
	r.lastReport = r.b.h.E.Now()
	r.b.send(r.b.h.node(r.master), r.d.k.report, r.newReport(rmqReport{tp: r.tp, from: r.b.ID, offset: r.log_.LEO()}))
}

// closeMaster drops the connection; the HA client connects again 5 s later
// (waitForRunning(1000 * 5) after a failed connect).
func (r *rmqReplica) closeMaster() {
	r.connected = false
	r.retryAt = r.b.h.E.Now().Add(5 * sim.Second)
	r.b.send(r.b.h.node(r.master), r.d.k.report, r.newReport(rmqReport{tp: r.tp, from: r.b.ID, offset: -1}))
}

// onTransfer: the slave appends what the master wrote. RocketMQ's master
// writes the bytes from exactly the offset the slave reported, which the
// slave checks against its end ("master pushed offset not equal the max
// phy offset in slave", DefaultHAClient.dispatchReadRequest). acksim sends
// whole entries: when the slave's end falls inside one of the master's
// entries (the slave holds what a master that lost data wrote over), the
// transfer starts at that entry and the slave overwrites its tail from
// there, where RocketMQ's slave would hold the master's bytes from its own
// end on, the first message cut. A transfer past the slave's end closes the
// connection. The slave reports its new end at once.
func (r *rmqReplica) onTransfer(m *rmqTransfer) {
	if r.isMaster() || !r.connected || m.from != r.master {
		return
	}
	h := r.b.h
	r.lastRead = h.E.Now()
	leo := r.log_.LEO()
	if m.reset {
		// The connection is gone: connect again at once.
		r.connected, r.retryAt = false, h.E.Now()
		return
	}
	if m.refused {
		// doTruncate failed: waitForRunning(1000 * 2), then connect again.
		r.closeMaster()
		r.retryAt = h.E.Now().Add(2 * sim.Second)
		return
	}
	if m.truncate {
		if m.offset < leo {
			removed := r.log_.truncateTo(m.offset)
			h.obs.removal(r.b.ID, r.tp, removed, history.Truncated, fmt.Sprintf("epoch handshake with master broker %d: its log and the master's agree up to %d", m.from, m.offset))
			leo = r.log_.LEO()
		}
		if len(m.entries) == 0 {
			r.report()
			return
		}
	}
	if m.offset < leo && len(m.entries) > 0 {
		removed := r.log_.truncateTo(m.offset)
		h.obs.removal(r.b.ID, r.tp, removed, history.Truncated, fmt.Sprintf("overwritten by master broker %d's transfer from offset %d", m.from, m.offset))
		leo = r.log_.LEO()
	}
	if m.offset != leo {
		h.obs.emit(r.b.ID, r.tp, history.ISR, "slave broker %d of %s refused the master's transfer at offset %d: its log ends at %d", r.b.ID, h.tpName(r.tp), m.offset, leo)
		r.closeMaster()
		return
	}
	if len(m.entries) == 0 {
		return
	}
	for _, bt := range m.entries {
		r.log_.append(bt, h.E.Now())
	}
	r.report()
}

// ---- consumers ----

// serveFetch: the master serves consumers; slaves serve none here (in
// RocketMQ a consumer reads from a slave while the master is down or
// slow; not modelled).
func (r *rmqReplica) serveFetch(from sim.NodeID, m *fetchReq) {
	h := r.b.h
	switch {
	case !r.isMaster():
		r.b.send(from, h.k.fetchResp, &fetchResp{tp: r.tp, err: ErrNotLeader, session: m.session})
	case m.offset > r.log_.LEO() || m.offset < 0:
		r.b.send(from, h.k.fetchResp, &fetchResp{tp: r.tp, err: ErrOffsetOutOfRange, hw: r.log_.LEO(), leo: r.log_.LEO(), session: m.session})
	case m.offset < r.log_.LEO():
		r.answerFetch(from, m)
	default:
		r.parked = append(r.parked, &parkedFetch{from: from, req: m, deadline: h.E.Now().Add(500 * sim.Millisecond)})
	}
}

func (r *rmqReplica) answerFetch(from sim.NodeID, m *fetchReq) {
	h := r.b.h
	resp := h.pool.fetchResp()
	leo := r.log_.LEO()
	resp.tp, resp.hw, resp.leo, resp.session, resp.offset = r.tp, leo, leo, m.session, m.offset
	resp.batches = r.log_.fetchFrom(resp.batches, m.offset, m.maxRecords, leo)
	r.b.send(from, h.k.fetchResp, resp)
}

// wakeParked answers parked consumer fetches on new data; the service loop
// answers, empty, those whose long poll is over.
func (r *rmqReplica) wakeParked() {
	if len(r.parked) == 0 {
		return
	}
	now := r.b.h.E.Now()
	keep := r.parked[:0]
	for _, pf := range r.parked {
		switch {
		case pf.done:
		case pf.req.offset < r.log_.LEO() || pf.deadline <= now:
			pf.done = true
			r.answerFetch(pf.from, pf.req)
		default:
			keep = append(keep, pf)
		}
	}
	r.parked = keep
}

// RuleNames says what a RocketMQ configuration does, for the rules line of
// a run.
func (c *RocketMQConfig) RuleNames() []string {
	if c.DLedger {
		return []string{"RocketMQ DLedger mode: a Raft group per broker group", "quorum ack on append to the mmap (no fsync)",
			"flush every 10ms (flushFileInterval)", "term and vote written without fsync"}
	}
	out := []string{fmt.Sprintf("RocketMQ %d master-slave (no automatic failover)", c.Version)}
	if c.ControllerMode {
		out[0] = "RocketMQ 5 controller mode (elects a master from the SyncStateSet)"
	}
	if c.SyncFlush {
		out = append(out, "SYNC_FLUSH: fsync before the put is answered")
	} else {
		out = append(out, "ASYNC_FLUSH: answered from the page cache")
	}
	switch {
	case c.ControllerMode && c.AllAckInSyncStateSet:
		out = append(out, "allAckInSyncStateSet: waits for the whole SyncStateSet")
	case c.ControllerMode && c.InSyncReplicas <= 1:
		out = append(out, "inSyncReplicas 1: slaves not waited for")
	case c.ControllerMode:
		out = append(out, fmt.Sprintf("waits for %d slave(s)", c.InSyncReplicas-1))
	case !c.SyncMaster:
		out = append(out, "ASYNC_MASTER: slaves not waited for")
	case c.Version == 4:
		out = append(out, "SYNC_MASTER: waits for a slave if one is connected, else SLAVE_NOT_AVAILABLE")
	case c.InSyncReplicas <= 1:
		out = append(out, "SYNC_MASTER with inSyncReplicas 1: slaves not waited for")
	default:
		out = append(out, fmt.Sprintf("SYNC_MASTER: waits for %d slave(s)", c.InSyncReplicas-1))
	}
	return out
}
