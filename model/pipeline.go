package model

import (
	"fmt"
	"slices"

	"acksim/history"
	"acksim/sim"
)

// Consume-transform-produce: the exactly-once application of KIP-98. A
// consumer member with an output producer (ConsumerSpec.Output) reads the
// topic, writes one record to the output topic for each record it
// processes (its transformation), and commits its offsets inside the same
// transaction (sendOffsetsToTransaction: AddOffsetsToTxn to the transaction
// coordinator, TxnOffsetCommit to the group coordinator), then
// commitTransaction. The group coordinator holds the transaction's offsets
// as pending until the coordinator's marker tells it the outcome.
// Sources: ../shared/replication-designs.md §1.1 "Message flow" 4 and
// "Zombie fencing" (KIP-447), and §1.2 KAFKA-17582 (the position after an
// abort).
//
// The output topic "<topic>-out" has as many partitions as the topic; the
// output of a record of partition i goes to output partition i (a map
// step that keeps the partitioning).

// groupTP stands for the group's __consumer_offsets partition in a
// transaction's partitions: AddOffsetsToTxn adds it, and the
// coordinator's marker for it goes to the group coordinator.
const groupTP = -2

// pipeKinds are the kinds of consume-transform-produce, registered only in
// runs with such an application (so other runs keep their traces).
type pipeKinds struct {
	known                                 bool
	offCommit, offCommitResp              sim.KindID
	offFetch, offFetchResp, tOffsetsRetry sim.KindID
}

// txnOffsetCommitReq is TxnOffsetCommit: the transaction's consumer
// offsets, with the member's group metadata (KIP-447: generation and
// member).
type txnOffsetCommitReq struct {
	pid        int64
	epoch      int16
	generation int64
	member     int
	tps        []int
	offsets    []int64
	corr       int64
}

func (m *txnOffsetCommitReq) Describe() string {
	return fmt.Sprintf("TxnOffsetCommit pid=%d epoch=%d generation=%d partitions=%v offsets=%v", m.pid, m.epoch, m.generation, m.tps, m.offsets)
}

type txnOffsetCommitResp struct {
	corr int64
	err  ErrCode
}

func (m *txnOffsetCommitResp) Describe() string { return "TxnOffsetCommit response " + m.err.String() }

// offsetFetchReq is OffsetFetch: the group's committed offsets (with
// require_stable, KIP-447, from 2.5).
type offsetFetchReq struct {
	tps     []int
	session int64
}

func (m *offsetFetchReq) Describe() string { return fmt.Sprintf("OffsetFetch partitions=%v", m.tps) }

type offsetFetchResp struct {
	session int64
	err     ErrCode
	offsets []int64
}

func (m *offsetFetchResp) Describe() string {
	return fmt.Sprintf("OffsetFetch response %s offsets=%v", m.err, m.offsets)
}

// wirePipelines links each pipeline member to its producer and registers
// the kinds.
func (c *Cluster) wirePipelines() {
	h := c.h
	pk := &h.pk
	pk.known = true
	pk.offCommit, pk.offCommitResp = c.E.Kind("txn-offset-commit"), c.E.Kind("txn-offset-commit-response")
	pk.offFetch, pk.offFetchResp = c.E.Kind("offset-fetch"), c.E.Kind("offset-fetch-response")
	pk.tOffsetsRetry = c.E.Kind("timer.offset-fetch-retry")
	g := c.ctl.group
	g.pending = map[int64]*pendingOffsets{}
	g.epochs = map[int64]int16{}
	c.ctl.mux.route(g, pk.offCommit, pk.offFetch, h.txk.marker)
	for i, cs := range c.Spec.Consumers {
		if cs.Output == "" {
			continue
		}
		p := c.ProducerByName(cs.Output)
		m := c.consumers[i]
		m.out, p.feed = p, m
		p.done = true // no workload of its own: it writes what m processes
	}
}

// ---- the group coordinator's side ----

// pendingOffsets are a transaction's offsets at the group coordinator,
// not yet visible (GroupMetadata.pendingTransactionalOffsetCommits).
type pendingOffsets struct {
	member int
	tps    []int
	offs   []int64
}

// onPipe handles TxnOffsetCommit, OffsetFetch and the transaction
// coordinator's markers at the group coordinator.
func (g *coordinator) onPipe(e *sim.Engine, ev *sim.Event) {
	h := g.h
	from := sim.NodeID(ev.A)
	switch m := ev.P.(type) {
	case *txnOffsetCommitReq:
		err := ErrNone
		switch {
		case m.epoch < g.epochs[m.pid]:
			err = ErrProducerFenced
		case h.spec.Profile.Features.GroupFencing && (m.generation != g.gen || !slices.Contains(g.members, m.member)):
			// KIP-447: a member of an older generation (a zombie whose
			// partitions moved) cannot commit offsets in a transaction.
			err = ErrIllegalGeneration
			h.obs.emit(-1, -1, history.TxnFence, "group coordinator refused TxnOffsetCommit from consumer %s: generation %d, the group is at %d (KIP-447)", g.names[m.member], m.generation, g.gen)
		default:
			g.epochs[m.pid] = m.epoch
			p := g.pending[m.pid]
			if p == nil {
				p = &pendingOffsets{member: m.member}
				g.pending[m.pid] = p
			}
			for i, tp := range m.tps {
				if j := slices.Index(p.tps, tp); j >= 0 {
					p.offs[j] = m.offsets[i]
				} else {
					p.tps, p.offs = append(p.tps, tp), append(p.offs, m.offsets[i])
				}
			}
		}
		h.Net.Send(h.ctlNode, from, h.pk.offCommitResp, &txnOffsetCommitResp{corr: m.corr, err: err})
	case *offsetFetchReq:
		r := &offsetFetchResp{session: m.session}
		for _, tp := range m.tps {
			if g.unstable(tp) {
				r.err, r.offsets = ErrUnstableOffsetCommit, nil
				break
			}
			r.offsets = append(r.offsets, g.committed[tp])
		}
		h.Net.Send(h.ctlNode, from, h.pk.offFetchResp, r)
	case *markerReq:
		// The marker for the group's offsets (WriteTxnMarkers to the
		// __consumer_offsets leader): commit makes the pending offsets the
		// group's; abort drops them.
		err := ErrNone
		if m.epoch < g.epochs[m.pid] {
			err = ErrInvalidProducerEpoch
		} else {
			g.epochs[m.pid] = m.epoch
			if p := g.pending[m.pid]; p != nil {
				delete(g.pending, m.pid)
				if m.commit {
					for i, tp := range p.tps {
						if p.offs[i] != g.committed[tp] {
							g.committed[tp] = p.offs[i]
							h.obs.committed(history.Commit{TP: tp, Offset: p.offs[i], At: e.Now(), Member: p.member})
						}
					}
				}
			}
		}
		h.Net.Send(h.ctlNode, from, h.txk.markerResp, &markerResp{tp: groupTP, corr: m.corr, err: err})
	}
}

// unstable reports whether a transaction's offsets for tp are pending and
// the consumer must wait for them (KIP-447's require_stable, from 2.5;
// before, OffsetFetch returned the last committed offset).
func (g *coordinator) unstable(tp int) bool {
	if !g.h.spec.Profile.Features.GroupFencing {
		return false
	}
	for _, p := range g.pending {
		if slices.Contains(p.tps, tp) {
			return true
		}
	}
	return false
}

// ---- the application: consumer side ----

// pipeProcess hands a record to the transformation: its output record goes
// into the open transaction. It reports false if the producer cannot take
// it yet (initialising, or the last transaction still ending); the
// producer calls pipeResume when it can.
func (m *Consumer) pipeProcess(it item) bool {
	p := m.out
	if !p.up || !p.pipeReady() {
		p.tx.waitGen = true
		return false
	}
	p.pipeRecord(it)
	return true
}

// pipeEnd ends a poll's processing: sendOffsetsToTransaction with the
// positions processed, then commitTransaction. The next poll waits for the
// outcome.
func (m *Consumer) pipeEnd() {
	p := m.out
	if !p.up || p.tx.phase != txnOngoing {
		m.poll() // nothing written in this round
		return
	}
	m.pipeWait = true
	m.waiting = m.h.nextGen()
	// The positions (consumer.position, as Kafka's ExactlyOnceMessageProcessor
	// example commits): everything fetched is processed by now, and a
	// position is past the transaction markers and aborted batches it
	// skipped, so a read_committed application's offsets reach the end.
	p.pipeCommit(&txnOffsetCommitReq{generation: m.gen, member: m.Idx, tps: slices.Clone(m.tps), offsets: slices.Clone(m.pos)})
}

// pipeResume: the producer can take records again.
func (m *Consumer) pipeResume() {
	if m.up && !m.pipeWait {
		m.startWork()
	}
}

// pipeTxnEnded: the application's transaction ended. After an abort the
// application seeks back to the group's committed offsets
// (consumer.committed, then seek), unless it is the one that does not
// (KAFKA-17582: the consumer's position does not revert on its own).
func (m *Consumer) pipeTxnEnded(committed bool) {
	if !m.up {
		return
	}
	m.pipeWait = false
	if a := m.pendingAssign; a != nil {
		m.pendingAssign = nil
		m.assign(a) // the rebalance, in the next poll: positions from the committed offsets
		return
	}
	if !committed && m.Cfg.SeekOnAbort && len(m.tps) > 0 {
		m.fetchCommitted()
		m.seekAfterAbort = true
		return
	}
	if !committed {
		m.h.obs.emit(-1, -1, history.TxnEnd, "consumer %s goes on from its position after the abort (it does not seek back: KAFKA-17582)", m.Name)
	}
	m.startWork()
	m.poll()
}

// fetchCommitted asks the group coordinator for the committed offsets
// (OffsetFetch) to seek back to them.
func (m *Consumer) fetchCommitted() {
	h := m.h
	// The one outstanding operation is now this OffsetFetch: a fetch in
	// flight is given up (its answer no longer matches m.waiting).
	m.fetchWait, m.fetching, m.commitWait = false, false, false
	m.pipeWait = true
	m.waiting = h.nextGen()
	m.send(h.pk.offFetch, &offsetFetchReq{tps: slices.Clone(m.tps), session: m.waiting})
	h.E.After(5*sim.Second, sim.Event{H: m.hid, Kind: h.pk.tOffsetsRetry, Node: m.Node, A: m.waiting, B: m.inc})
}

// onPipeEvent handles OffsetFetch's answer and its retry timer.
func (m *Consumer) onPipeEvent(ev *sim.Event) {
	h := m.h
	pk := &h.pk
	if !pk.known {
		return
	}
	switch ev.Kind {
	case pk.tOffsetsRetry:
		if ev.B == m.inc && ev.A == m.waiting && m.pipeWait {
			m.fetchCommitted()
		}
	case pk.offFetchResp:
		r := ev.P.(*offsetFetchResp)
		if r.session != m.waiting || !m.pipeWait {
			return
		}
		if r.err != ErrNone || len(r.offsets) != len(m.tps) {
			// UNSTABLE_OFFSET_COMMIT: a transaction's offsets are pending;
			// asked again after retry.backoff.ms.
			m.waiting = h.nextGen()
			h.E.After(100*sim.Millisecond, sim.Event{H: m.hid, Kind: pk.tOffsetsRetry, Node: m.Node, A: m.waiting, B: m.inc})
			return
		}
		m.pipeWait = false
		if a := m.pendingAssign; a != nil {
			m.pendingAssign = nil
			m.assign(a)
			return
		}
		for i, off := range r.offsets {
			off = max(off, 0)
			switch {
			case m.pos[i] == off:
			case m.seekAfterAbort:
				h.obs.emit(-1, m.tps[i], history.OffsetReset, "consumer %s seeks %s back from %d to the committed offset %d after its transaction aborted", m.Name, h.tpName(m.tps[i]), m.pos[i], off)
			default:
				h.obs.emit(-1, m.tps[i], history.OffsetReset, "consumer %s starts %s at the committed offset %d, not %d: the group's offset changed after the rebalance", m.Name, h.tpName(m.tps[i]), off, m.pos[i])
			}
			m.pos[i], m.done[i] = off, off
		}
		m.seekAfterAbort = false
		m.work = m.work[:0]
		m.poll()
	}
}

// pause stalls the application's consumer with its producer (a GC pause
// stops every thread of the process, the heartbeat thread included).
func (m *Consumer) pause() {
	if !m.up || m.paused {
		return
	}
	m.hold(m.h, m.Node)
}

// resume ends the stall: what waited runs now.
func (m *Consumer) resume() {
	if !m.paused {
		return
	}
	m.release(m.h, m.Node)
}

// ---- the application: producer side ----

// pipeReady reports whether a record may go into a transaction now.
func (p *Producer) pipeReady() bool {
	return p.tx.phase == txnReady || p.tx.phase == txnOngoing
}

// pipeRecord writes the output of input record it into the transaction
// (beginning one if none is open).
func (p *Producer) pipeRecord(it item) {
	h := p.h
	if p.tx.phase == txnReady {
		p.txnBeforeRecord()
	}
	id := h.obs.recordSent(p.Idx, p.made, it.tp)
	p.made++
	h.obs.derive(id, history.Input{ID: it.id, TP: int32(it.tp), Offset: it.off})
	h.obs.txnRecord(id, p.tx.index)
	p.tx.records++
	p.enqueue(id, it.tp)
	p.drain()
}

// pipeCommit is sendOffsetsToTransaction then commitTransaction.
func (p *Producer) pipeCommit(o *txnOffsetCommitReq) {
	p.tx.offsets, p.tx.offsetsAdded, p.tx.offsetsDone = o, false, false
	p.txnEnd(true)
}

// txnSendOffsets runs sendOffsetsToTransaction before EndTxn: it reports
// whether EndTxn must wait for it.
func (p *Producer) txnSendOffsets() bool {
	o := p.tx.offsets
	if o == nil || p.tx.offsetsDone || p.tx.failed || p.tx.abortOnly {
		return false
	}
	if p.tx.req != nil {
		return true // AddOffsetsToTxn or TxnOffsetCommit in flight
	}
	if !p.tx.offsetsAdded {
		p.tx.adding = true
		p.txnSend(p.h.txk.addParts, &addPartsReq{txnID: p.Cfg.TransactionalID, pid: p.pid, epoch: p.tx.epoch, tps: []int{groupTP}})
		return true
	}
	c := *o
	c.pid, c.epoch = p.pid, p.tx.epoch
	p.txnSend(p.h.pk.offCommit, &c)
	return true
}

// onOffsetCommitResp handles TxnOffsetCommit's answer.
func (p *Producer) onOffsetCommitResp(m *txnOffsetCommitResp) {
	if m.corr != p.tx.corr || p.tx.req == nil {
		return
	}
	switch m.err {
	case ErrNone:
		p.tx.offsetsDone, p.tx.req = true, nil
	case ErrIllegalGeneration:
		// CommitFailedException: abortable; the application aborts.
		p.tx.abortOnly, p.tx.req = true, nil
	case ErrProducerFenced:
		p.txnFenced(m.err)
		return
	default:
		p.txnRetry()
		return
	}
	p.txnMaybeSendEnd()
}

// pipeTxnDone tells the application how its transaction ended.
func (p *Producer) pipeTxnDone(committed bool) {
	p.tx.offsets = nil
	if p.feed != nil {
		p.feed.pipeTxnEnded(committed)
	}
}
