package model

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"acksim/history"
	"acksim/sim"
)

// raftDesign is Raft replication as Redpanda runs it for Kafka partitions
// (../shared/replication-designs.md §2): each partition is a Raft group of
// its replicas, which elect their own leader by vote (the controller only
// keeps brokers' membership), and an entry is committed once a majority
// holds it: in memory with write.caching, on disk otherwise. A Raft index
// is a position in the log: one entry per batch, and a leader's no-op at
// election (an empty batch) so that it can commit entries of earlier terms
// (Raft §5.4.2).
type raftDesign struct {
	h         *host
	brokers   []*Broker
	placement [][]int
	rng       *rand.Rand // election timeout jitter
	k         raftKinds
	// Invariant bookkeeping, per partition: the leader of each term, and
	// every entry ever committed, by index.
	termLeader []map[int32]int
	committed  [][]*history.Batch
	commitTerm []int32 // the term of the leader that committed the latest entry
	// lossy: the configuration does not promise Raft's guarantees (write
	// caching, votes not fsynced, or a disk was lost), so broken election
	// safety or a lost committed entry is a finding, not a model bug.
	lossy bool
}

type raftKinds struct {
	appendReq, appendResp, voteReq, voteResp      sim.KindID
	tElection, tHeartbeat, tFlush, tPark, tRetire sim.KindID
}

func newRaft(h *host, brokers []*Broker, placement [][]int, rng *rand.Rand) *raftDesign {
	d := &raftDesign{h: h, brokers: brokers, placement: placement, rng: rng,
		termLeader: make([]map[int32]int, len(placement)), committed: make([][]*history.Batch, len(placement)),
		commitTerm: make([]int32, len(placement))}
	e := h.E
	d.k = raftKinds{appendReq: e.Kind("raft.append-entries"), appendResp: e.Kind("raft.append-entries-response"),
		voteReq: e.Kind("raft.vote"), voteResp: e.Kind("raft.vote-response"),
		tElection: e.Kind("timer.raft-election"), tHeartbeat: e.Kind("timer.raft-heartbeat"),
		tFlush: e.Kind("timer.raft-flush"), tPark: e.Kind("timer.raft-fetch-wait"), tRetire: e.Kind("timer.raft-unused")}
	h.markBrokerTimers(d.k.tElection, d.k.tHeartbeat, d.k.tFlush, d.k.tPark)
	cfg := &h.spec.Broker.Raft
	d.lossy = cfg.WriteCaching || !cfg.VoteFsync
	for tp, reps := range placement {
		d.termLeader[tp] = map[int32]int{}
		for _, id := range reps {
			brokers[id].reps[tp] = &raftReplica{d: d, b: brokers[id], tp: tp, voters: reps, votedFor: -1, durableVote: -1, leader: -1,
				next: make([]int, len(brokers)), match: make([]int, len(brokers)), inflight: make([]sim.Time, len(brokers))}
		}
	}
	return d
}

func (d *raftDesign) tasks() []periodicTask { return nil }

func (d *raftDesign) rep(id, tp int) *raftReplica { return d.brokers[id].reps[tp].(*raftReplica) }

// leader is the live replica that leads in the highest term (metadata: the
// leader brokers report; acksim's controller learns it at once).
func (d *raftDesign) leader(tp int) int {
	best, term := -1, int32(-1)
	for _, id := range d.placement[tp] {
		if r := d.rep(id, tp); r.b.up && r.role == raftLeader && r.term > term {
			best, term = id, r.term
		}
	}
	return best
}

// quorum: every voter (a majority of them is what counts for an ack).
func (d *raftDesign) quorum(tp int) []int   { return d.placement[tp] }
func (d *raftDesign) replicas(tp int) []int { return d.placement[tp] }

// settled: a live leader whose log is committed to its end, and every voter
// holds the same log and knows it is committed.
func (d *raftDesign) settled(tp int) (bool, int64) {
	l := d.leader(tp)
	if l < 0 {
		return false, 0
	}
	lr := d.rep(l, tp)
	n := len(lr.log_.entries)
	if lr.commit != n {
		return false, 0
	}
	for _, id := range d.placement[tp] {
		r := d.rep(id, tp)
		if r.b.gone {
			continue // a permanent fault took it
		}
		if len(r.log_.entries) != n || r.commit != n || (n > 0 && r.log_.entries[n-1].b != lr.log_.entries[n-1].b) {
			return false, 0
		}
	}
	return true, lr.hw
}

// checkInvariants: a node's term never exceeds... (see each check); HW <=
// LEO and durable <= LEO everywhere; and, where the configuration promises
// them, Raft's election safety (one leader per term), log matching at the
// commit point, and leader completeness (every committed entry is in the
// log of every later leader, at its index).
func (d *raftDesign) checkInvariants() {
	h := d.h
	for tp, reps := range d.placement {
		for _, id := range reps {
			r := d.rep(id, tp)
			if r.hw > r.log_.LEO() || r.log_.durable > r.log_.LEO() {
				h.violate("%s on broker %d: HW %d or durable %d past LEO %d", h.tpName(tp), id, r.hw, r.log_.durable, r.log_.LEO())
			}
			if r.commit > len(r.log_.entries) {
				h.violate("%s on broker %d: commit index %d past its %d entries", h.tpName(tp), id, r.commit, len(r.log_.entries))
			}
		}
		if d.lossy {
			continue
		}
		committed := d.committed[tp]
		for _, id := range reps {
			r := d.rep(id, tp)
			if !r.b.up {
				continue
			}
			// State machine safety: what a replica considers committed is
			// what was committed.
			if c := min(r.commit, len(committed)); c > 0 && r.log_.entries[c-1].b != committed[c-1] {
				h.violate("%s on broker %d: committed entry %d differs from the one committed before", h.tpName(tp), id, c-1)
			}
			// Leader completeness: a leader of the committing term or a
			// later one holds every committed entry (a deposed leader of an
			// older term, cut off, need not).
			if r.role == raftLeader && r.term >= d.commitTerm[tp] && len(committed) > 0 {
				n := len(committed)
				if len(r.log_.entries) < n || r.log_.entries[n-1].b != committed[n-1] {
					h.violate("%s: leader %d of term %d lacks committed entry %d", h.tpName(tp), id, r.term, n-1)
				}
			}
		}
	}
}

// noteLeader records the leader of a term (election safety).
func (d *raftDesign) noteLeader(r *raftReplica) {
	if o, ok := d.termLeader[r.tp][r.term]; ok && o != r.b.ID && !d.lossy {
		d.h.violate("%s: brokers %d and %d both elected in term %d", d.h.tpName(r.tp), o, r.b.ID, r.term)
	}
	d.termLeader[r.tp][r.term] = r.b.ID
}

// noteCommit records newly committed entries [from, to) of r's log.
func (d *raftDesign) noteCommit(r *raftReplica, from, to int) {
	c := d.committed[r.tp]
	for i := max(from, len(c)); i < to; i++ {
		c = append(c, r.log_.entries[i].b)
	}
	d.committed[r.tp] = c
	d.commitTerm[r.tp] = max(d.commitTerm[r.tp], r.term)
}

// raftRole is a Raft replica's role.
type raftRole uint8

const (
	raftFollower raftRole = iota
	raftPreCandidate
	raftCandidate
	raftLeader
)

var raftRoleNames = [...]string{"follower", "pre-candidate", "candidate", "leader"}

// raftReplica is one member of a partition's Raft group on a broker.
//
// Invariant: commit <= len(log.entries); hw is the end offset of entry
// commit-1 (0 if none).
type raftReplica struct {
	d      *raftDesign
	b      *Broker
	tp     int
	voters []int
	log_   Log
	pids   pidTable

	// learner: back from a disk loss as a new replica (NewVoterOnDiskLoss),
	// it neither votes nor counts toward a commit until caught up.
	learner bool

	// Persistent state (Raft Figure 2): term and vote, and what of them
	// is on disk.
	term, durableTerm     int32
	votedFor, durableVote int

	// Volatile state.
	role   raftRole
	leader int      // the leader it follows, -1 none
	led    sim.Time // when it last heard from a leader (pre-vote's lease)
	commit int      // entries known committed
	hw     int64    // end offset of the committed entries: what consumers read
	heard  sim.Time
	// timeout is this round's election timeout (base plus jitter).
	timeout sim.Duration
	votes   []int // granted votes of the current (pre-)election
	elTimer sim.Timer

	// Leader state, by broker id: the next entry to send, the highest
	// entry known replicated (durably, without write caching), and when the
	// outstanding request was sent (0: none).
	next, match []int
	inflight    []sim.Time
	waiting     []raftWait     // acks=all produces waiting for commit
	parked      []*parkedFetch // consumer fetches waiting for data
	flushing    bool           // a background flush is in flight
	hbArmed     bool
}

type raftWait struct {
	from sim.NodeID
	req  *produceReq
	end  int64 // the batch's end offset
	base int64
	bt   *history.Batch
	term int32
}

func (r *raftReplica) cfg() *RaftConfig { return &r.b.h.spec.Broker.Raft }

func (r *raftReplica) timer(kind sim.KindID, d sim.Duration) sim.Timer {
	return r.b.timer(kind, d, int64(r.tp), nil)
}

// ---- messages ----

type appendReq struct {
	tp       int
	term     int32
	leader   int
	prevN    int   // entries before these
	prevTerm int32 // term of entry prevN-1
	entries  []*history.Batch
	commit   int // the leader's commit index
}

func (m *appendReq) partition() int { return m.tp }
func (m *appendReq) Describe() string {
	return fmt.Sprintf("append-entries tp=%d term=%d prev=%d entries=%d commit=%d", m.tp, m.term, m.prevN, len(m.entries), m.commit)
}

type appendResp struct {
	tp      int
	from    int
	term    int32
	ok      bool
	match   int  // ok: entries it holds matching the leader's; else where to resume
	learner bool // the follower does not count toward a commit yet
}

func (m *appendResp) partition() int { return m.tp }
func (m *appendResp) Describe() string {
	return fmt.Sprintf("append-entries-response tp=%d term=%d ok=%v match=%d", m.tp, m.term, m.ok, m.match)
}

type voteReq struct {
	tp        int
	term      int32
	candidate int
	lastN     int
	lastTerm  int32
	pre       bool
}

func (m *voteReq) partition() int { return m.tp }
func (m *voteReq) Describe() string {
	return fmt.Sprintf("vote tp=%d term=%d candidate=%d last=%d/%d pre=%v", m.tp, m.term, m.candidate, m.lastTerm, m.lastN, m.pre)
}

type voteResp struct {
	tp      int
	from    int
	term    int32
	granted bool
	pre     bool
}

func (m *voteResp) partition() int { return m.tp }
func (m *voteResp) Describe() string {
	return fmt.Sprintf("vote-response tp=%d term=%d granted=%v pre=%v", m.tp, m.term, m.granted, m.pre)
}

// ---- hosted ----

func (r *raftReplica) partition() int       { return r.tp }
func (r *raftReplica) log() *Log            { return &r.log_ }
func (r *raftReplica) highWatermark() int64 { return r.hw }
func (r *raftReplica) leads() bool          { return r.role == raftLeader }

func (r *raftReplica) known() (knownState, bool) { return knownState{}, false }

// peerDown: Raft waits for its timeouts; a refused connection changes
// nothing but the leader's next heartbeat to it.
func (r *raftReplica) peerDown(id int) {}

// start: the process starts with the term, vote and log on disk; commit
// is volatile (Raft Figure 2). The first replica of a new group stands for
// election at once, the others after the base timeout plus twice the
// jitter (consensus.cc's first election).
func (r *raftReplica) start() {
	r.term, r.votedFor = r.durableTerm, r.durableVote
	r.role, r.leader, r.commit, r.hw = raftFollower, -1, 0, 0
	r.waiting, r.parked, r.flushing, r.hbArmed = nil, nil, false, false
	r.pids.rebuild(&r.log_)
	r.heard = r.b.h.E.Now()
	base := r.cfg().ElectionTimeout
	switch {
	case r.term == 0 && r.voters[0] == r.b.ID:
		r.timeout = 0
	case r.term == 0:
		r.timeout = base + 2*r.jitter()
	default:
		r.timeout = base + r.jitter()
	}
	r.armElection()
	if r.cfg().WriteCaching {
		r.timer(r.d.k.tFlush, r.cfg().FlushMs)
	}
}

// armElection keeps one election timer, due when the current timeout
// passes without word from a leader.
func (r *raftReplica) armElection() {
	b := r.b
	b.h.E.Cancel(r.elTimer)
	r.elTimer = b.h.E.At(r.heard.Add(r.timeout), sim.Event{H: b.hid, Kind: r.d.k.tElection, Node: b.Node, A: int64(r.tp), B: b.inc})
}

func (r *raftReplica) jitter() sim.Duration {
	half := int64(r.cfg().ElectionTimeout / 2)
	if half <= 0 {
		return 0
	}
	return sim.Duration(r.d.rng.Int64N(half))
}

// stop: the process died; requests waiting on it are gone.
func (r *raftReplica) stop() {
	r.role, r.leader = raftFollower, -1
	r.waiting, r.parked = nil, nil
}

// storageLost: a power loss keeps the durable entries and the durable term
// and vote (the node keeps its identity and votes with what is left: the
// documented single-power-failure loss, hiqlite#361); a disk loss leaves an
// empty log and term 0, and the node rejoins as the same voter (before
// KIP-853, a Raft group cannot tell).
func (r *raftReplica) storageLost(disk bool) []*history.Batch {
	r.commit, r.hw = 0, 0
	if disk {
		r.durableTerm, r.durableVote = 0, -1
		if r.cfg().NewVoterOnDiskLoss {
			r.learner = true
		} else {
			r.d.lossy = true
		}
		return r.log_.wipe()
	}
	return r.log_.powerCut()
}

// flushAll: a clean shutdown flushes the log and the term and vote.
func (r *raftReplica) flushAll() {
	r.log_.flushAll()
	r.durableTerm, r.durableVote = r.term, r.votedFor
}

// step handles a Raft message or one of the replica's timers.
func (r *raftReplica) step(ev *sim.Event) {
	k := &r.d.k
	switch ev.Kind {
	case k.appendReq:
		r.onAppend(ev.P.(*appendReq))
	case k.appendResp:
		r.onAppendResp(ev.P.(*appendResp))
	case k.voteReq:
		r.onVote(ev.P.(*voteReq))
	case k.voteResp:
		r.onVoteResp(ev.P.(*voteResp))
	case k.tElection:
		r.onElectionTimer()
	case k.tHeartbeat:
		r.onHeartbeat()
	case k.tFlush:
		r.backgroundFlush()
		r.timer(k.tFlush, r.cfg().FlushMs)
	case k.tPark:
		r.onParkTimer()
	}
}

// ---- terms and votes ----

// setTerm moves to a newer term as a follower, with no vote yet.
func (r *raftReplica) setTerm(term int32) {
	if r.role == raftLeader {
		r.stepDown()
	}
	r.term, r.votedFor, r.role = term, -1, raftFollower
	r.persistVote()
}

// persistVote makes the term and vote durable when votes are fsynced;
// otherwise they reach the disk with the log's next flush.
func (r *raftReplica) persistVote() {
	if r.cfg().VoteFsync {
		r.durableTerm, r.durableVote = r.term, r.votedFor
	}
}

// upToDate is Raft §5.4.1: a candidate's log is at least as up to date as
// ours if its last term is higher, or equal with at least our length.
func (r *raftReplica) upToDate(lastTerm int32, lastN int) bool {
	mine := r.lastTerm()
	return lastTerm > mine || lastTerm == mine && lastN >= len(r.log_.entries)
}

func (r *raftReplica) lastTerm() int32 { return r.termAt(len(r.log_.entries)) }

// termAt is the term of entry n-1 (0 for n = 0).
func (r *raftReplica) termAt(n int) int32 {
	if n == 0 {
		return 0
	}
	return r.log_.entries[n-1].b.Epoch
}

func (r *raftReplica) onElectionTimer() {
	if r.role == raftLeader {
		return
	}
	if r.learner {
		// A learner never stands for election; it looks again after a full
		// timeout (a new group's first replica has a zero one).
		r.heard, r.timeout = r.b.h.E.Now(), r.cfg().ElectionTimeout+r.jitter()
		r.armElection()
		return
	}
	if r.b.h.E.Now() < r.heard.Add(r.timeout) {
		r.armElection()
		return
	}
	r.campaign(r.cfg().PreVote)
}

// campaign stands for election: a pre-vote first when configured (no term
// change until it would win), else a vote in a new term.
func (r *raftReplica) campaign(pre bool) {
	h := r.b.h
	r.heard = h.E.Now()
	r.timeout = r.cfg().ElectionTimeout + r.jitter()
	r.armElection()
	term := r.term + 1
	if pre {
		r.role = raftPreCandidate
	} else {
		r.role = raftCandidate
		r.term, r.votedFor, r.leader = term, r.b.ID, -1
		r.persistVote()
	}
	r.votes = append(r.votes[:0], r.b.ID)
	for _, id := range r.voters {
		if id != r.b.ID {
			r.b.send(h.node(id), r.d.k.voteReq, &voteReq{tp: r.tp, term: term, candidate: r.b.ID, lastN: len(r.log_.entries), lastTerm: r.lastTerm(), pre: pre})
		}
	}
	r.maybeWin()
}

func (r *raftReplica) onVote(m *voteReq) {
	h := r.b.h
	grant := false
	switch {
	case r.learner:
		// Not a voter yet: it answers no vote (and so helps elect nobody).
	case m.pre:
		// A pre-vote is granted to a candidate whose log is up to date
		// when we have not heard from a leader within the election
		// timeout; it changes nothing here.
		grant = m.term > r.term && r.upToDate(m.lastTerm, m.lastN) &&
			(r.leader < 0 || h.E.Now().Sub(r.led) >= r.cfg().ElectionTimeout)
	case m.term < r.term:
	default:
		if m.term > r.term {
			r.setTerm(m.term)
			r.leader = -1
		}
		if (r.votedFor < 0 || r.votedFor == m.candidate) && r.upToDate(m.lastTerm, m.lastN) {
			grant = true
			r.votedFor = m.candidate
			r.persistVote()
			r.heard = h.E.Now()
		}
	}
	term := r.term
	if m.pre {
		term = m.term
	}
	r.b.send(h.node(m.candidate), r.d.k.voteResp, &voteResp{tp: r.tp, from: r.b.ID, term: term, granted: grant, pre: m.pre})
}

func (r *raftReplica) onVoteResp(m *voteResp) {
	switch {
	case !m.pre && m.term > r.term:
		r.setTerm(m.term)
		return
	case m.pre && r.role != raftPreCandidate, !m.pre && (r.role != raftCandidate || m.term != r.term), !m.granted:
		return
	case m.pre && m.term != r.term+1:
		return
	}
	if !slices.Contains(r.votes, m.from) {
		r.votes = append(r.votes, m.from)
	}
	r.maybeWin()
}

// maybeWin: a majority of pre-votes starts the real election; a majority of
// votes makes the candidate leader.
func (r *raftReplica) maybeWin() {
	if len(r.votes) <= len(r.voters)/2 {
		return
	}
	switch r.role {
	case raftPreCandidate:
		r.campaign(false)
	case raftCandidate:
		r.becomeLeader()
	}
}

func (r *raftReplica) becomeLeader() {
	h := r.b.h
	r.role, r.leader = raftLeader, r.b.ID
	r.d.noteLeader(r)
	h.obs.emit(r.b.ID, r.tp, history.Elect, "broker %d elected leader of %s (term %d, votes %v)", r.b.ID, h.tpName(r.tp), r.term, r.votes)
	for _, id := range r.voters {
		r.next[id], r.match[id], r.inflight[id] = len(r.log_.entries), 0, 0
	}
	// A no-op in the new term lets it commit what earlier terms left
	// (Raft §5.4.2; Redpanda appends a configuration batch).
	bt := h.pool.batch()
	*bt = history.Batch{Base: r.log_.LEO(), Epoch: r.term, PID: -1}
	r.appendLocal(bt)
	r.replicate()
	if !r.hbArmed {
		r.hbArmed = true
		r.timer(r.d.k.tHeartbeat, r.cfg().HeartbeatInterval)
	}
	h.leadershipChanged()
}

// stepDown ends leadership: waiting produces fail with NOT_LEADER and
// parked fetches are answered.
func (r *raftReplica) stepDown() {
	r.role = raftFollower
	r.heard = r.b.h.E.Now()
	r.armElection()
	for _, w := range r.waiting {
		r.b.respondProduce(w.from, w.req, ErrNotLeader, -1)
	}
	r.waiting = nil
	for _, pf := range r.parked {
		if !pf.done {
			pf.done = true
			r.answerFetch(pf.from, pf.req)
		}
	}
	r.parked = nil
}

// ---- replication ----

// appendLocal appends to the leader's own log; without write caching the
// entry counts for the leader only once flushed.
func (r *raftReplica) appendLocal(bt *history.Batch) {
	r.log_.append(bt, r.b.h.E.Now())
	r.pids.track(bt)
	if r.cfg().WriteCaching {
		r.match[r.b.ID] = len(r.log_.entries)
		r.maybeFlushBytes()
	} else {
		n := len(r.log_.entries)
		term := r.term
		r.b.fsync(&r.log_, r.tp, func() { r.flushed(); r.selfFlushed(n, term) })
	}
}

// selfFlushed: the leader's own flush of its first n entries completed.
func (r *raftReplica) selfFlushed(n int, term int32) {
	if r.role != raftLeader || r.term != term || n > len(r.log_.entries) {
		return
	}
	r.match[r.b.ID] = max(r.match[r.b.ID], min(n, r.log_.durableN))
	r.advanceCommit()
}

// flushed: a flush of this replica completed; without vote fsync the term
// and vote reach the disk with it.
func (r *raftReplica) flushed() {
	if !r.cfg().VoteFsync {
		r.durableTerm, r.durableVote = r.term, r.votedFor
	}
}

// maybeFlushBytes flushes in the background once flush.bytes are pending.
func (r *raftReplica) maybeFlushBytes() {
	if r.pendingBytes() >= r.cfg().FlushBytes {
		r.backgroundFlush()
	}
}

func (r *raftReplica) pendingBytes() int64 {
	var n int64
	for i := len(r.log_.entries) - 1; i >= r.log_.durableN; i-- {
		n += int64(r.log_.entries[i].b.Bytes)
	}
	return n
}

// backgroundFlush fsyncs what is not on disk (flush.ms / flush.bytes).
func (r *raftReplica) backgroundFlush() {
	if r.flushing || r.log_.durableN == len(r.log_.entries) {
		return
	}
	r.flushing = true
	r.b.fsync(&r.log_, r.tp, func() { r.flushing = false; r.flushed() })
}

// replicate sends every idle follower what it lacks.
func (r *raftReplica) replicate() {
	for _, id := range r.voters {
		if id != r.b.ID && r.inflight[id] == 0 {
			r.sendAppend(id)
		}
	}
}

const raftMaxEntries = 1024 // entries per AppendEntries request

func (r *raftReplica) sendAppend(id int) {
	h := r.b.h
	next := min(r.next[id], len(r.log_.entries))
	end := min(len(r.log_.entries), next+raftMaxEntries)
	m := &appendReq{tp: r.tp, term: r.term, leader: r.b.ID, prevN: next, prevTerm: r.termAt(next), commit: r.commit}
	for _, e := range r.log_.entries[next:end] {
		m.entries = append(m.entries, e.b)
	}
	r.inflight[id] = h.E.Now()
	r.b.send(h.node(id), r.d.k.appendReq, m)
}

// onHeartbeat: the leader's heartbeat re-sends to followers that are idle
// or whose request has gone unanswered for an election timeout (a lost
// message).
func (r *raftReplica) onHeartbeat() {
	if r.role != raftLeader {
		r.hbArmed = false
		return
	}
	now := r.b.h.E.Now()
	for _, id := range r.voters {
		if id != r.b.ID && (r.inflight[id] == 0 || now.Sub(r.inflight[id]) >= r.cfg().ElectionTimeout) {
			r.sendAppend(id)
		}
	}
	r.timer(r.d.k.tHeartbeat, r.cfg().HeartbeatInterval)
}

func (r *raftReplica) onAppend(m *appendReq) {
	h := r.b.h
	reply := func(ok bool, match int) {
		if ok {
			r.maybePromote(m, match)
		}
		r.b.send(h.node(m.leader), r.d.k.appendResp, &appendResp{tp: r.tp, from: r.b.ID, term: r.term, ok: ok, match: match, learner: r.learner})
	}
	if m.term < r.term {
		reply(false, 0)
		return
	}
	if m.term > r.term {
		r.setTerm(m.term)
	} else if r.role != raftFollower {
		r.role = raftFollower // a candidate of this term learns the winner
	}
	r.leader = m.leader
	r.heard, r.led = h.E.Now(), h.E.Now()
	n := len(r.log_.entries)
	if m.prevN > n {
		reply(false, n)
		return
	}
	if m.prevN > 0 && r.termAt(m.prevN) != m.prevTerm {
		// Skip back over the whole conflicting term.
		t, i := r.termAt(m.prevN), m.prevN-1
		for i > 0 && r.termAt(i) == t {
			i--
		}
		reply(false, i)
		return
	}
	if len(m.entries) > 0 {
		// The logs agree on the (index, term) before the entries but not
		// on the offset they start at: two leaders wrote in one term, which
		// only a configuration that breaks Raft's guarantees allows (a node
		// that forgot its vote). Treat it as a conflict and back up, so the
		// follower's log stays contiguous (Redpanda's offsets are its Raft
		// indexes, so its logs cannot disagree this way).
		var base int64
		if m.prevN > 0 {
			base = r.log_.entries[m.prevN-1].end
		}
		if m.entries[0].Base != base {
			reply(false, m.prevN-1)
			return
		}
	}
	for i, bt := range m.entries {
		at := m.prevN + i
		if at < len(r.log_.entries) {
			if r.log_.entries[at].b == bt {
				continue
			}
			removed := r.log_.truncateEntries(at)
			r.pids.rebuild(&r.log_)
			if r.commit > at {
				// Only a lossy configuration truncates what was committed.
				r.commit, r.hw = at, 0
				if at > 0 {
					r.hw = r.log_.entries[at-1].end
				}
			}
			h.obs.removal(r.b.ID, r.tp, removed, history.Truncated, fmt.Sprintf("conflicting entries from leader broker %d (term %d)", m.leader, m.term))
		}
		r.log_.append(bt, h.E.Now())
		r.pids.track(bt)
	}
	match := m.prevN + len(m.entries)
	r.learnCommit(min(m.commit, match))
	if r.cfg().WriteCaching || len(m.entries) == 0 && r.log_.durableN >= match {
		r.maybeFlushBytes()
		reply(true, match)
		return
	}
	// Without write caching an entry counts once it is on disk.
	term := r.term
	r.b.fsync(&r.log_, r.tp, func() {
		r.flushed()
		if r.term == term {
			durable := min(match, r.log_.durableN)
			r.maybePromote(m, durable)
			r.b.send(h.node(m.leader), r.d.k.appendResp, &appendResp{tp: r.tp, from: r.b.ID, term: term, ok: true, match: durable, learner: r.learner})
		}
	})
}

// maybePromote makes a learner a voter once it holds (durably, without
// write caching) the log up to the leader's commit index: the leader adds
// it in place of its old self (KIP-853's AddVoter after RemoveVoter;
// acksim applies the membership change at once).
func (r *raftReplica) maybePromote(m *appendReq, held int) {
	if !r.learner || held < m.commit {
		return
	}
	r.learner = false
	r.b.h.obs.emit(r.b.ID, r.tp, history.ISR, "broker %d, back with an empty disk, caught up to commit index %d of %s and became a voter again (KIP-853)", r.b.ID, m.commit, r.b.h.tpName(r.tp))
}

// learnCommit moves a follower's commit index forward to c.
func (r *raftReplica) learnCommit(c int) {
	if c <= r.commit || c > len(r.log_.entries) {
		return
	}
	r.commit = c
	r.hw = r.log_.entries[c-1].end
}

func (r *raftReplica) onAppendResp(m *appendResp) {
	if m.term > r.term {
		r.setTerm(m.term)
		return
	}
	if r.role != raftLeader || m.term != r.term {
		return
	}
	r.inflight[m.from] = 0
	if m.ok && m.learner {
		r.next[m.from] = max(r.next[m.from], m.match) // replicated to, not counted
	} else if m.ok {
		r.match[m.from] = max(r.match[m.from], m.match)
		r.next[m.from] = max(r.next[m.from], m.match)
		r.advanceCommit()
	} else {
		// The follower holds less than its match said: it lost what was
		// only in its page cache (write caching). Resume where it is.
		r.next[m.from] = m.match
		r.match[m.from] = min(r.match[m.from], m.match)
	}
	if r.next[m.from] < len(r.log_.entries) || !m.ok {
		r.sendAppend(m.from)
	}
}

// advanceCommit commits the highest index a majority holds, if its entry is
// of the current term (Raft §5.4.2), and answers what waited for it.
func (r *raftReplica) advanceCommit() {
	var buf [16]int
	ms := buf[:0]
	for _, id := range r.voters {
		ms = append(ms, r.match[id])
	}
	slices.Sort(ms)
	c := ms[len(ms)-len(r.voters)/2-1] // held by a majority
	if c <= r.commit || r.termAt(c) != r.term {
		return
	}
	from := r.commit
	r.learnCommit(c)
	r.d.noteCommit(r, from, c)
	r.completeWaiting()
	r.wakeParked()
}

func (r *raftReplica) completeWaiting() {
	h := r.b.h
	keep := r.waiting[:0]
	for _, w := range r.waiting {
		if w.end > r.hw {
			keep = append(keep, w)
			continue
		}
		h.obs.leaderAcked(w.bt, r.b.ID, r.term, r.holders(w.end), -1)
		r.b.respondProduce(w.from, w.req, ErrNone, w.base)
	}
	r.waiting = keep
}

// holders are the voters known to hold offsets below end.
func (r *raftReplica) holders(end int64) []int {
	var out []int
	for _, id := range r.voters {
		if m := r.match[id]; m > 0 && r.log_.entries[m-1].end >= end {
			out = append(out, id)
		}
	}
	return out
}

// ---- clients ----

// produce appends a producer's batch as leader: acks=1 is answered at the
// leader's append, acks=all at commit (Redpanda's semantics).
func (r *raftReplica) produce(from sim.NodeID, m *produceReq) {
	b := r.b
	h := b.h
	if r.role != raftLeader {
		b.respondProduce(from, m, ErrNotLeader, -1)
		return
	}
	pb := m.batch
	if pb.pid >= 0 {
		dup, base, end, outOfOrder := r.pids.dedupe(pb.pid, pb.seq)
		switch {
		case dup && (m.acks != -1 || r.hw >= end):
			if m.acks != 0 {
				h.obs.leaderAcked(r.batchAt(base), b.ID, r.term, r.holders(end), m.acks)
			}
			b.respondProduce(from, m, ErrNone, base)
			return
		case dup:
			r.waiting = append(r.waiting, raftWait{from: from, req: m, end: end, base: base, bt: r.batchAt(base), term: r.term})
			return
		case outOfOrder:
			b.respondProduce(from, m, ErrOutOfOrderSequence, -1)
			return
		}
	}
	bt := h.pool.batch()
	*bt = history.Batch{Base: r.log_.LEO(), Epoch: r.term, PID: pb.pid, Seq: pb.seq, Records: h.pool.recordIDs(pb.records), Producer: pb.producer, Bytes: int32(pb.bytes)}
	h.obs.leaderAppended(bt, b.ID, r.tp, r.term, r.voters, m.acks)
	r.appendLocal(bt)
	switch m.acks {
	case 0:
		h.pool.putProduceReq(m)
	case 1:
		h.obs.leaderAcked(bt, b.ID, r.term, []int{b.ID}, 1)
		b.respondProduce(from, m, ErrNone, bt.Base)
	default:
		r.waiting = append(r.waiting, raftWait{from: from, req: m, end: bt.End(), base: bt.Base, bt: bt, term: r.term})
	}
	r.replicate()
	r.advanceCommit()
}

func (r *raftReplica) batchAt(base int64) *history.Batch {
	i := r.log_.find(base)
	if i < len(r.log_.entries) && r.log_.entries[i].b.Base == base {
		return r.log_.entries[i].b
	}
	return nil
}

// serveFetch answers a consumer from the leader's committed log, at once or
// after a long poll (fetch.max.wait.ms, 500 ms).
func (r *raftReplica) serveFetch(from sim.NodeID, m *fetchReq) {
	h := r.b.h
	switch {
	case r.role != raftLeader:
		r.b.send(from, h.k.fetchResp, &fetchResp{tp: r.tp, err: ErrNotLeader, session: m.session})
	case m.offset > r.log_.LEO() || m.offset < 0:
		r.b.send(from, h.k.fetchResp, &fetchResp{tp: r.tp, err: ErrOffsetOutOfRange, hw: r.hw, leo: r.log_.LEO(), session: m.session})
	case m.offset < r.hw:
		r.answerFetch(from, m)
	default:
		r.parked = append(r.parked, &parkedFetch{from: from, req: m, deadline: h.E.Now().Add(500 * sim.Millisecond)})
		r.timer(r.d.k.tPark, 500*sim.Millisecond)
	}
}

func (r *raftReplica) answerFetch(from sim.NodeID, m *fetchReq) {
	h := r.b.h
	resp := h.pool.fetchResp()
	resp.tp, resp.hw, resp.leo, resp.session, resp.offset = r.tp, r.hw, r.log_.LEO(), m.session, m.offset
	resp.batches = r.log_.fetchFrom(resp.batches, m.offset, m.maxRecords, r.hw)
	r.b.send(from, h.k.fetchResp, resp)
}

// wakeParked answers the parked consumer fetches the HW has reached.
func (r *raftReplica) wakeParked() {
	r.answerParked(func(pf *parkedFetch) bool { return pf.req.offset < r.hw })
}

// onParkTimer answers, empty, the parked fetches whose wait is over.
func (r *raftReplica) onParkTimer() {
	now := r.b.h.E.Now()
	r.answerParked(func(pf *parkedFetch) bool { return pf.deadline <= now })
}

// answerParked answers the parked fetches that are due, in park order, and
// keeps the rest.
func (r *raftReplica) answerParked(due func(*parkedFetch) bool) {
	keep := r.parked[:0]
	for _, pf := range r.parked {
		if !pf.done && due(pf) {
			pf.done = true
			r.answerFetch(pf.from, pf.req)
			continue
		}
		if !pf.done {
			keep = append(keep, pf)
		}
	}
	r.parked = keep
}
