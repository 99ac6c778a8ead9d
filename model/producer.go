package model

import (
	"acksim/history"
	"fmt"
	"math/rand/v2"
	"slices"

	"acksim/sim"
)

// prodBatch is a producer-side batch (ProducerBatch in the Java client).
type prodBatch struct {
	producer     int
	tp           int
	records      []history.RecordID
	one          [1]history.RecordID // backing for a batch's first record
	bytes        int
	created      sim.Time
	pid          int64
	seq          int32 // -1 until first sent (idempotence assigns at drain)
	attempts     int
	retryAt      sim.Time
	maybeWritten bool
	lastErr      ErrCode
	corr         int64
	broker       int
	sentAt       sim.Time // when the request in flight was sent
	order        int64    // creation order among the producer's batches
	// Transactions: the batch is transactional, under producer epoch
	// epoch (its producer's config names the transactional.id and the
	// protocol: no pointer here, batches are allocated per record).
	txn   bool
	epoch int16
}

// Producer is a Kafka producer client with its application: the workload
// generates records, the accumulator batches them, the sender ships them.
type Producer struct {
	h    *host
	hid  sim.HandlerID
	Idx  int
	Name string
	Node sim.NodeID
	Cfg  ProducerConfig
	WL   Workload

	up      bool
	inc     int64
	pid     int64
	nextSeq []int32
	// lastAcked is, per partition, the last sequence number the broker
	// acknowledged for the current producer id (-1: none). The broker takes
	// sequences only in order, so every batch at or below it is written
	// (TransactionManager.lastAckedSequence).
	lastAcked []int32
	queues    [][]*prodBatch // per partition, in send order; the last may still fill
	inflight  []*prodBatch
	unacked   []history.RecordID // at a crash, for workload.on.restart: resend-unacked
	perBroker []int
	leaders   []int
	metaWait  bool
	rng       *rand.Rand
	corr      int64
	made      int   // application records generated
	made2     int64 // batches created (prodBatch.order)
	done      bool
	sticky    int
	rr        int
	buffered  int64
	wake      sim.Timer
	wakeAt    sim.Time
	// downUntil: a broker that refused a connection is not ready again until
	// then (reconnect.backoff.ms 50 ms, doubling to reconnect.backoff.max.ms 1 s).
	downUntil []sim.Time
	refusals  []int
	// conn is the state of the connection to each broker: up until a
	// broker refuses it, then set up again before anything is sent there
	// (NetworkClient.ready: a batch is drained only to a node whose
	// connection is ready).
	conn      []connState
	blocked   *blockedSend // the application's send() waiting for buffer space
	lastMeta  sim.Time
	metaTimer sim.Timer
	// reqTimer is one timer for every request in flight, armed at the
	// oldest one's deadline (request.timeout.ms after it was sent): they
	// share one timeout, so their deadlines come in send order. When it
	// fires it times out what is due and re-arms for the next.
	reqTimer sim.Timer
	// tx is the transaction state of a transactional producer.
	tx producerTxn
	// coord is the transaction coordinator the producer knows (-1 none).
	coord int
	// The process stalled (Pause).
	stall
	// feed is the consumer whose records this producer writes, transformed,
	// to the output topic (a consume-transform-produce application); nil
	// for a producer with its own workload.
	feed *Consumer
}

func (p *Producer) timer(kind sim.KindID, at sim.Time, a int64, pl any) sim.Timer {
	return p.h.E.At(at, sim.Event{H: p.hid, Kind: kind, Node: p.Node, A: a, B: p.inc, P: pl})
}

// Up reports whether the producer process runs.
func (p *Producer) Up() bool { return p.up }

// Pending reports whether the producer still has records buffered or in flight.
func (p *Producer) Pending() bool {
	if len(p.inflight) > 0 {
		return true
	}
	for _, q := range p.queues {
		if len(q) > 0 {
			return true
		}
	}
	return false
}

func (p *Producer) start() {
	p.up = true
	p.inc = p.h.nextGen()
	p.pid = -1
	if p.Cfg.Idempotence && !p.Cfg.Transactional() {
		p.pid = p.h.nextPID()
	}
	n := p.h.parts
	p.nextSeq = make([]int32, n)
	p.lastAcked = slices.Repeat([]int32{-1}, n)
	p.queues = make([][]*prodBatch, n)
	p.inflight = nil
	p.perBroker = make([]int, p.h.brokers()+1)
	p.downUntil = make([]sim.Time, p.h.brokers()+1)
	p.refusals = make([]int, p.h.brokers()+1)
	p.conn = make([]connState, p.h.brokers()+1)
	p.leaders = make([]int, n)
	for i := range p.leaders {
		p.leaders[i] = -1
	}
	p.metaWait = false
	p.lastMeta = 0
	p.blocked = nil
	p.buffered = 0
	p.coord = -1
	if p.Cfg.Transactional() {
		p.txnStart() // initTransactions: the application waits for it
	}
	p.refreshMetadata()
	first := p.h.E.Now()
	if w := sim.Time(p.WL.Start); first < w {
		first = w
	}
	if !p.done {
		p.timer(p.h.k.tProduceNext, first, 0, nil)
	}
}

// refreshMetadata asks for leaders, at most once per retry.backoff.ms
// (Metadata.timeToNextUpdate applies refreshBackoffMs between requests).
func (p *Producer) refreshMetadata() {
	if p.metaWait {
		return
	}
	now := p.h.E.Now()
	if next := p.lastMeta.Add(p.Cfg.RetryBackoff); p.lastMeta != 0 && now < next {
		if !p.h.E.IsPending(p.metaTimer) {
			p.metaTimer = p.timer(p.h.k.tMetaTimeout, next, 0, nil)
		}
		return
	}
	p.h.E.Cancel(p.metaTimer)
	p.metaWait = true
	p.lastMeta = now
	p.h.Net.Send(p.Node, p.h.ctlNode, p.h.k.metadataReq, &metadataReq{})
	p.metaTimer = p.timer(p.h.k.tMetaTimeout, now.Add(sim.Second), 0, nil)
}

// Handle steps the producer on a message or timer.
func (p *Producer) Handle(e *sim.Engine, ev *sim.Event) {
	k := &p.h.k
	if !p.up {
		return
	}
	if p.paused {
		p.deferred = append(p.deferred, *ev) // a timer (messages wait in the network)
		return
	}
	isTimer := ev.Kind >= k.firstProducerTimer && ev.Kind <= k.lastProducerTimer
	if isTimer && ev.B != p.inc {
		return
	}
	if p.h.txk.known && p.onTxnEvent(ev) {
		return
	}
	switch ev.Kind {
	case k.tProduceNext:
		if ev.A == 1 {
			p.maxBlockExpired(ev.P.(*blockedSend))
			return
		}
		p.generate()
	case k.tSenderWake:
		p.wakeAt = 0
		p.drain()
	case k.tReqTimeout:
		// The client closes the connection on a request timeout, failing
		// every request in flight on it (NetworkClient.handleTimedOutRequests).
		for len(p.inflight) > 0 && p.inflight[0].sentAt.Add(p.Cfg.RequestTimeout) <= e.Now() {
			p.disconnect(p.inflight[0].broker)
		}
		p.armRequestTimeout()
	case k.tMetaTimeout:
		p.metaWait = false
		p.refreshMetadata()
	case k.metadataResp:
		p.metaWait = false
		p.h.E.Cancel(p.metaTimer)
		m := ev.P.(*metadataResp)
		copy(p.leaders, m.leaders)
		p.coord = m.coordinator
		if p.tx.waitCoord && p.coord > 0 && p.tx.req != nil {
			p.txnSend(p.tx.kind, p.tx.req)
		}
		if slices.Contains(p.leaders, -1) && p.Pending() {
			p.scheduleWake(e.Now().Add(p.Cfg.RetryBackoff))
		}
		p.drain()
	case k.produceResp:
		m := ev.P.(*produceResp)
		p.onResponse(m)
		p.h.pool.putProduceResp(m)
	case k.rst:
		id := ev.P.(*rst).broker
		p.refused(id)
		p.disconnect(id)
	default:
		p.onConnect(ev)
	}
}

// connState is a client's connection to one broker.
type connState uint8

const (
	connUp         connState = iota // ready: batches may be drained to it
	connDown                        // refused or timed out: set up again before use
	connConnecting                  // a connection attempt is under way
)

// refused: broker id refused the connection (its process is dead) or the
// attempt timed out; the next attempt waits reconnect.backoff.ms (50 ms,
// doubling to reconnect.backoff.max.ms, 1 s), and metadata is refreshed.
func (p *Producer) refused(id int) {
	backoff := min(sim.Second, 50*sim.Millisecond<<min(p.refusals[id], 5))
	p.refusals[id]++
	p.downUntil[id] = p.h.E.Now().Add(backoff)
	p.conn[id] = connDown
	p.refreshMetadata()
}

// connect starts setting up the connection to broker id when the backoff
// allows; until it is up nothing is drained there, so an acks=0 batch is
// never counted as sent to a broker that cannot take it.
func (p *Producer) connect(id int) {
	h := p.h
	now := h.E.Now()
	if p.conn[id] != connDown {
		return
	}
	if now < p.downUntil[id] {
		p.scheduleWake(p.downUntil[id])
		return
	}
	h.connKinds()
	p.conn[id] = connConnecting
	h.Net.Send(p.Node, h.node(id), h.conn.req, nil)
	// socket.connection.setup.timeout.ms (10 s, KIP-601): a host that does
	// not answer (powered off, cut off) fails the attempt.
	p.timer(h.conn.tTimeout, now.Add(10*sim.Second), int64(id), nil)
}

// onConnect handles a connection answer or the setup timeout.
func (p *Producer) onConnect(ev *sim.Event) {
	h := p.h
	if !h.conn.known {
		return
	}
	switch ev.Kind {
	case h.conn.resp:
		id := p.brokerOf(sim.NodeID(ev.A))
		if id > 0 && p.conn[id] == connConnecting {
			p.conn[id], p.refusals[id] = connUp, 0
			p.drain()
		}
	case h.conn.tTimeout:
		if id := int(ev.A); ev.B == p.inc && p.conn[id] == connConnecting {
			p.refused(id)
			p.drain()
		}
	}
}

// brokerOf is the broker id at node n (0 if none).
func (p *Producer) brokerOf(n sim.NodeID) int {
	for id := 1; id <= p.h.brokers(); id++ {
		if p.h.node(id) == n {
			return id
		}
	}
	return 0
}

func (p *Producer) generate() {
	wl := &p.WL
	now := p.h.E.Now()
	if (wl.Records > 0 && p.made >= wl.Records) || (wl.Duration > 0 && now >= sim.Time(wl.Start+wl.Duration)) || p.h.stopping {
		p.done = true
		if p.Cfg.Transactional() {
			p.txnEnd(true) // the application commits what it sent last
		}
		return
	}
	if p.Cfg.Transactional() && !p.txnBeforeRecord() {
		return // waiting for initTransactions or the last commit
	}
	key := -1
	if wl.Keys > 0 {
		key = p.rng.IntN(wl.Keys)
	}
	id := p.h.obs.recordSent(p.Idx, p.made, key)
	p.made++
	if p.Cfg.Transactional() {
		p.txnAddRecord(id)
	}
	if p.buffered+int64(wl.RecordSize) > p.Cfg.BufferMemory {
		// buffer.memory is full: send() blocks the application for up to
		// max.block.ms (KafkaProducer.doSend -> BufferPool.allocate).
		p.blocked = &blockedSend{id: id, key: key}
		p.timer(p.h.k.tProduceNext, now.Add(p.Cfg.MaxBlock), 1, p.blocked)
		return
	}
	p.enqueue(id, key)
	p.txnMaybeCommit()
	p.drain()
	gap := sim.Duration(float64(sim.Second) / wl.Rate)
	if wl.Poisson {
		gap = sim.ExpDuration(p.rng, gap)
	}
	p.timer(p.h.k.tProduceNext, now.Add(gap), 0, nil)
}

// partitionFor applies the partitioner: by key hash, else sticky (stay on a
// partition until its batch is sent) or round-robin.
func (p *Producer) partitionFor(key int) int {
	if p.feed != nil {
		return p.h.outTP0 + key // a pipeline's output: the input's partition (pipeline.go)
	}
	n := p.h.spec.Partitions
	if key >= 0 {
		return int(uint32(key)*2654435761) % n
	}
	if p.Cfg.Partitioner == "round-robin" {
		p.rr++
		return p.rr % n
	}
	return p.sticky % n
}

// blockedSend is an application send() waiting for buffer space.
type blockedSend struct {
	id  history.RecordID
	key int
}

func (b *blockedSend) Describe() string { return fmt.Sprintf("max.block.ms check record=%d", b.id) }

// unblock lets a blocked send() proceed once buffer space is free; the
// application then goes on with its workload.
func (p *Producer) unblock() {
	b := p.blocked
	if b == nil || p.buffered+int64(p.WL.RecordSize) > p.Cfg.BufferMemory {
		return
	}
	p.blocked = nil
	p.enqueue(b.id, b.key)
	p.txnMaybeCommit()
	p.timer(p.h.k.tProduceNext, p.h.E.Now(), 0, nil)
}

func (p *Producer) maxBlockExpired(b *blockedSend) {
	if p.blocked != b {
		return
	}
	p.blocked = nil
	p.h.obs.finished(b.id, history.OutcomeNotWritten, "send() timed out after max.block.ms: buffer.memory full")
	if p.Cfg.Transactional() {
		// send() threw: the application aborts the transaction it was in.
		p.tx.failed = true
		p.txnMaybeCommit()
	}
	p.timer(p.h.k.tProduceNext, p.h.E.Now(), 0, nil)
}

func (p *Producer) enqueue(id history.RecordID, key int) {
	size := p.WL.RecordSize
	if p.buffered+int64(size) > p.Cfg.BufferMemory {
		// Only resends reach here full (the application's own sends block in
		// generate); a resend that finds no space fails at once.
		p.h.obs.finished(id, history.OutcomeNotWritten, "buffer.memory exhausted")
		return
	}
	tp := p.partitionFor(key)
	p.h.obs.partitioned(id, tp)
	p.buffered += int64(size)
	q := p.queues[tp]
	if n := len(q); n > 0 && q[n-1].attempts == 0 && q[n-1].bytes+size <= p.Cfg.BatchSize {
		q[n-1].records = append(q[n-1].records, id)
		q[n-1].bytes += size
		return
	}
	p.made2++
	b := &prodBatch{producer: p.Idx, tp: tp, bytes: size, created: p.h.E.Now(), seq: -1, pid: -1, order: p.made2}
	b.one[0] = id
	b.records = b.one[:1:1] // one allocation for the common one-record batch
	p.queues[tp] = append(q, b)
}

// lastSeq is the sequence number of the batch's last record.
func (b *prodBatch) lastSeq() int32 { return b.seq + int32(len(b.records)) - 1 }

// popFront removes q[0] in place, so the queue's array is reused rather than
// reallocated as it slides.
func popFront(q []*prodBatch) []*prodBatch {
	copy(q, q[1:])
	q[len(q)-1] = nil
	return q[:len(q)-1]
}

func (p *Producer) scheduleWake(at sim.Time) {
	if p.wakeAt != 0 && p.wakeAt <= at && p.h.E.IsPending(p.wake) {
		return
	}
	p.h.E.Cancel(p.wake)
	p.wakeAt = at
	p.wake = p.timer(p.h.k.tSenderWake, at, 0, nil)
}

// drain sends every ready batch the in-flight limits allow (Sender.sendProducerData).
func (p *Producer) drain() {
	now := p.h.E.Now()
	needMeta := false
	for tp := range p.queues {
		for len(p.queues[tp]) > 0 {
			q := p.queues[tp]
			b := q[0]
			if now.Sub(b.created) >= p.Cfg.DeliveryTimeout {
				p.queues[tp] = popFront(q)
				b.lastErr = ErrDeliveryTimeout
				p.h.obs.produceError(ErrDeliveryTimeout)
				p.fail(b)
				continue
			}
			// After the expiry: a batch held for its transaction still
			// expires (the wake below is set for it).
			if p.h.txk.known && p.txnHold(tp) {
				break
			}
			full := len(q) > 1 || b.bytes+p.WL.RecordSize > p.Cfg.BatchSize || b.attempts > 0
			if !full && now < b.created.Add(p.Cfg.Linger) {
				p.scheduleWake(b.created.Add(p.Cfg.Linger))
				break
			}
			if b.retryAt > now {
				p.scheduleWake(b.retryAt)
				break
			}
			leader := p.leaders[tp]
			if leader < 0 {
				needMeta = true
				break
			}
			if p.perBroker[leader] >= p.Cfg.MaxInFlight {
				break
			}
			if p.conn[leader] != connUp {
				p.connect(leader)
				break
			}
			p.queues[tp] = popFront(q)
			p.send(b, leader)
			if tp == p.sticky%p.h.spec.Partitions {
				p.sticky++
			}
		}
	}
	if needMeta {
		p.refreshMetadata()
		p.scheduleWake(now.Add(p.Cfg.RetryBackoff))
	}
	if p.Cfg.Transactional() {
		p.txnAddWanted()
		p.txnMaybeSendEnd()
	}
	// delivery.timeout.ms must expire queued batches even if nothing else happens.
	for _, q := range p.queues {
		if len(q) > 0 {
			p.scheduleWake(q[0].created.Add(p.Cfg.DeliveryTimeout))
		}
	}
}

func (p *Producer) send(b *prodBatch, leader int) {
	h := p.h
	if p.Cfg.Idempotence && b.seq < 0 {
		b.pid = p.pid
		b.seq = p.nextSeq[b.tp]
		p.nextSeq[b.tp] += int32(len(b.records))
		if p.Cfg.Transactional() {
			b.txn, b.epoch = true, p.tx.epoch
		}
	}
	p.corr++
	b.corr = p.corr
	b.broker = leader
	b.attempts++
	h.obs.attempted(b)
	req := h.pool.produceReq()
	*req = produceReq{corr: b.corr, tp: b.tp, batch: b, acks: p.Cfg.Acks, timeout: p.Cfg.RequestTimeout}
	h.Net.Send(p.Node, h.node(leader), h.k.produce, req)
	if p.Cfg.Acks == 0 {
		// acks=0: complete when sent; the offset is unknown (-1).
		p.buffered -= int64(b.bytes)
		h.obs.producerAcked(b, -1)
		p.unblock()
		return
	}
	p.inflight = append(p.inflight, b)
	p.perBroker[leader]++
	b.sentAt = h.E.Now()
	p.armRequestTimeout()
}

func (p *Producer) takeInflight(corr int64) *prodBatch {
	for i, b := range p.inflight {
		if b.corr == corr {
			p.inflight = slices.Delete(p.inflight, i, i+1)
			p.perBroker[b.broker]--
			return b
		}
	}
	return nil
}

// armRequestTimeout makes sure the request timer is armed at the oldest
// in-flight request's deadline (in-flight requests are in send order).
func (p *Producer) armRequestTimeout() {
	if len(p.inflight) == 0 || p.h.E.IsPending(p.reqTimer) {
		return // an armed timer is due no later than any request's deadline
	}
	p.reqTimer = p.timer(p.h.k.tReqTimeout, p.inflight[0].sentAt.Add(p.Cfg.RequestTimeout), 0, nil)
}

func (p *Producer) onResponse(m *produceResp) {
	b := p.takeInflight(m.corr)
	if b == nil {
		return
	}
	p.refusals[b.broker] = 0
	if m.err.Degraded() {
		// A RocketMQ send that returned a degraded status: stored on the
		// master, so an application that requires SEND_OK sees a failure
		// whose records may be written; otherwise it is a success.
		p.h.obs.produceError(m.err)
		if p.Cfg.RequireSendOK {
			b.lastErr, b.maybeWritten = m.err, true
			p.fail(b)
			p.drain()
			return
		}
		m.err = ErrNone
	}
	if m.err == ErrInvalidProducerEpoch || m.err == ErrProducerFenced {
		p.h.obs.produceError(m.err)
		b.lastErr = m.err
		p.fail(b)
		if p.Cfg.Transactional() {
			p.txnFenced(m.err)
		}
		return
	}
	if m.err == ErrNone {
		if p.Cfg.Idempotence && b.pid == p.pid {
			p.lastAcked[b.tp] = max(p.lastAcked[b.tp], b.lastSeq())
		}
		p.buffered -= int64(b.bytes)
		p.h.obs.producerAcked(b, m.base)
	} else {
		p.retry(b, m.err)
	}
	p.unblock()
	p.drain()
}

func (p *Producer) disconnect(broker int) {
	var failed []*prodBatch
	for _, b := range p.inflight {
		if b.broker == broker {
			failed = append(failed, b)
		}
	}
	for _, b := range failed {
		p.takeInflight(b.corr)
		p.retry(b, ErrDisconnected)
	}
	p.drain()
}

// retry decides between another attempt and failing the batch
// (Sender.canRetry: retriable, attempts left, within delivery.timeout.ms).
func (p *Producer) retry(b *prodBatch, err ErrCode) {
	h := p.h
	now := h.E.Now()
	b.lastErr = err
	p.h.obs.produceError(err)
	if err.Ambiguous() {
		b.maybeWritten = true
	}
	if err == ErrNotLeader || err == ErrDisconnected || err == ErrRequestTimedOut {
		p.refreshMetadata()
	}
	if err == ErrOutOfOrderSequence && p.Cfg.Transactional() && (b.pid != p.pid || b.seq == p.lastAcked[b.tp]+1) {
		// The broker lost what came before this batch (or it belongs to an
		// older epoch): an abortable error; the application aborts and the
		// producer bumps its epoch (KIP-360). A gap behind a batch still in
		// flight is retried as usual.
		p.fail(b)
		return
	}
	if err == ErrOutOfOrderSequence && p.Cfg.Idempotence && !p.Cfg.Transactional() {
		switch {
		case !p.Cfg.EpochBump:
			// Before KIP-360 (2.5) a sequence gap fails the batch and the
			// producer starts over with a new producer id.
			p.fail(b)
			return
		case b.pid != p.pid:
			// Sent under an epoch since bumped: numbered again when resent
			// (sequenceHasBeenReset).
			b.seq, b.pid = -1, -1
		case b.seq == p.lastAcked[b.tp]+1:
			// KIP-360: the batch right after the last acknowledged one is
			// refused, so the broker lost what came before it (a
			// truncation, an unclean election): bump the epoch, restart the
			// sequences and retry (TransactionManager.canRetry,
			// requestEpochBumpForPartition).
			p.bumpEpoch()
			b.seq, b.pid = -1, -1
		}
	}
	if !err.Retriable() || b.attempts > p.Cfg.Retries || now.Sub(b.created) >= p.Cfg.DeliveryTimeout {
		p.fail(b)
		return
	}
	b.retryAt = now.Add(p.Cfg.RetryBackoff)
	// RecordAccumulator.reenqueue puts a retried batch at the front; with
	// idempotence, batches are kept in sequence order (insertInSequenceOrder).
	// A batch whose sequence an epoch bump reset keeps the order it was
	// made in (startSequencesAtBeginning renumbers in that order).
	q := p.queues[b.tp]
	i := 0
	switch {
	case p.Cfg.Idempotence && b.seq >= 0:
		for i < len(q) && q[i].seq >= 0 && q[i].seq < b.seq {
			i++
		}
	case p.Cfg.Idempotence:
		for i < len(q) && q[i].order < b.order {
			i++
		}
	}
	p.queues[b.tp] = slices.Insert(q, i, b)
}

// fail ends a batch without an ack. With idempotence a failed batch may
// leave a sequence gap, so the producer bumps its epoch (KIP-360), modelled
// as a new producer id, and re-sequences what is not yet sent, unless a
// later sequence was already acknowledged: then the broker has the batch
// (it takes sequences only in order), the sequence is resolved and nothing
// is bumped or re-sent (TransactionManager.maybeResolveSequences). Bumping
// there would re-send written batches under a new id: duplicates.
func (p *Producer) fail(b *prodBatch) {
	h := p.h
	p.buffered -= int64(b.bytes)
	defer p.unblock()
	why := fmt.Sprintf("failed after %d attempt(s): %s", b.attempts, b.lastErr)
	outcome := history.OutcomeNotWritten
	if b.maybeWritten {
		outcome = history.OutcomeUnknown
	}
	for _, id := range b.records {
		h.obs.finished(id, outcome, why)
	}
	resolved := b.pid == p.pid && b.seq >= 0 && b.lastSeq() <= p.lastAcked[b.tp]
	if p.Cfg.Transactional() {
		// An abortable error: the application aborts the transaction
		// (its epoch is the coordinator's to bump, not the client's).
		p.tx.failed = true
	} else if p.Cfg.Idempotence && b.seq >= 0 && !resolved {
		p.bumpEpoch()
	}
	if p.WL.OnError == "resend" && !h.stopping && p.up {
		// The application sends the same message again, as a new record.
		for _, id := range b.records {
			h.obs.resent(id)
			p.enqueue(id, h.obs.key(id))
		}
	}
}

// bumpEpoch starts a new producer epoch, modelled as a new producer id:
// sequences restart at 0 on every partition and every queued batch is
// numbered again when sent (TransactionManager.bumpIdempotentProducerEpoch
// and startSequencesAtBeginning).
func (p *Producer) bumpEpoch() {
	p.pid = p.h.nextPID()
	for tp := range p.nextSeq {
		p.nextSeq[tp] = 0
		p.lastAcked[tp] = -1
		for _, qb := range p.queues[tp] {
			qb.seq, qb.pid = -1, -1
		}
	}
}

// Crash kills the producer process: buffered and in-flight records are
// never acknowledged.
func (p *Producer) Crash() {
	if !p.up {
		return
	}
	h := p.h
	p.txnCrashed()
	if p.paused {
		p.drop(h, p.Node)
	}
	p.up = false
	p.inc = h.nextGen()
	h.E.Cancel(p.reqTimer)
	for _, b := range p.inflight {
		for _, id := range b.records {
			h.obs.finished(id, history.OutcomeUnknown, "producer crashed with the request in flight")
		}
	}
	for _, q := range p.queues {
		for _, b := range q {
			o := history.OutcomeNotWritten
			if b.maybeWritten {
				o = history.OutcomeUnknown
			}
			for _, id := range b.records {
				h.obs.finished(id, o, "producer crashed with the record in its buffer")
			}
		}
	}
	if p.WL.OnRestart == "resend-unacked" {
		for _, b := range p.inflight {
			p.unacked = append(p.unacked, b.records...)
		}
		for _, q := range p.queues {
			for _, b := range q {
				p.unacked = append(p.unacked, b.records...)
			}
		}
		slices.Sort(p.unacked)
	}
	p.inflight, p.queues = nil, nil
	h.obs.emit(-1, -1, history.ProducerCrash, "producer %s crashed", p.Name)
	if p.feed != nil {
		p.feed.Crash() // one application process
	}
}

// Restart starts the producer again with a new producer id.
func (p *Producer) Restart() {
	if p.up {
		return
	}
	h := p.h
	h.obs.emit(-1, -1, history.ProducerRestart, "producer %s restarted", p.Name)
	p.start()
	if p.feed != nil {
		p.feed.Restart()
	}
	// workload.on.restart: resend-unacked: the application sends again, as
	// new records of the new producer, what it never saw acknowledged.
	for _, id := range p.unacked {
		h.obs.resent(id)
		p.enqueue(id, h.obs.key(id))
	}
	p.unacked = nil
}
