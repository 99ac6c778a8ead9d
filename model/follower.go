package model

import ()

func (r *Replica) stopFetching() {
	if r.role == following {
		r.role = noRole
	}
	r.fetch.session = r.b.h.nextGen()
	r.b.h.E.Cancel(r.fetch.fetchTimer)
	r.fetch.sockDeadline = 0
}

// fetchAgain retries after a backoff or a timeout: the epoch request while
// truncation is not done, else a fetch.
func (r *Replica) fetchAgain() {
	if r.fetch.phase == truncating {
		r.askEpoch()
	} else {
		r.sendFetch()
	}
}

// awaitAnswer starts the socket timeout of a request just sent.
func (r *Replica) awaitAnswer() {
	r.b.h.E.Cancel(r.fetch.fetchTimer)
	r.fetch.sockDeadline = r.b.h.E.Now().Add(r.cfg().ReplicaSocketTimeout)
	r.armSocketTimeout()
}

// armSocketTimeout keeps the socket timer due no later than the
// outstanding request's deadline.
func (r *Replica) armSocketTimeout() {
	if r.fetch.sockDeadline != 0 {
		r.arm(&r.fetch.sockTimer, r.b.h.k.tSocketTimeout, r.fetch.sockDeadline)
	}
}

// answered stops the socket timeout: the response came.
func (r *Replica) answered() {
	r.b.h.E.Cancel(r.fetch.fetchTimer)
	r.fetch.sockDeadline = 0
}

// becomeFollower truncates and starts fetching from the leader.
// From 0.11 (KIP-101) it asks the leader where its latest epoch ends;
// before, it truncates to its HW (ReplicaManager.makeFollowers).
func (r *Replica) becomeFollower() {
	r.stopFetching()
	r.role = following
	r.fetch.phase = fetching
	r.b.h.trunc.follow(r)
}

// askEpoch sends OffsetsForLeaderEpoch for our latest epoch to the leader.
func (r *Replica) askEpoch() {
	b := r.b
	to := b.h.node(r.leader)
	b.send(to, b.h.k.epochReq, &epochReq{tp: r.TP, epoch: r.Log.LatestEpoch(), current: r.epoch, session: r.fetch.session})
	r.awaitAnswer()
}

func (r *Replica) onEpochResp(m *epochResp) {
	b := r.b
	if m.session != r.fetch.session || r.role != following {
		return
	}
	r.answered()
	if m.err != ErrNone {
		r.retryFetch()
		return
	}
	b.h.trunc.epochAnswered(r, m)
}

func (r *Replica) sendFetch() {
	b := r.b
	if r.role != following || r.leader < 0 {
		return
	}
	to := b.h.node(r.leader)
	m := b.h.pool.fetchReq()
	*m = fetchReq{tp: r.TP, replica: b.ID, offset: r.Log.LEO(), epoch: r.epoch, session: r.fetch.session, maxRecords: 1 << 16, brokerEpoch: b.brokerEpoch}
	b.send(to, b.h.k.fetch, m)
	r.awaitAnswer()
}

func (r *Replica) onFetchResp(m *fetchResp) {
	b := r.b
	if m.session != r.fetch.session || r.role != following {
		b.h.pool.putFetchResp(m)
		return
	}
	r.answered()
	if m.err != ErrNone {
		err, leaderLEO := m.err, m.leo
		b.h.pool.putFetchResp(m)
		if err == ErrOffsetOutOfRange {
			b.h.trunc.outOfRange(r, leaderLEO)
			return
		}
		r.retryFetch()
		return
	}
	r.appendFetched(m)
}

// appendFetched appends a fetch response's batches in one call, as
// UnifiedLog.appendAsFollower appends a partition's whole response, and
// flushes once after it when log.flush.interval.messages is reached
// (UnifiedLog.append: unflushedMessages >= flushInterval); the fetcher waits
// for the flush.
func (r *Replica) appendFetched(m *fetchResp) {
	b := r.b
	if r.fetch.session != m.session || r.role != following {
		b.h.pool.putFetchResp(m)
		return
	}
	for _, bt := range m.batches {
		if bt.Base != r.Log.LEO() {
			if bt.Base < r.Log.LEO() && bt.End() > r.Log.LEO() {
				b.h.trunc.straddles(r, bt)
				b.h.pool.putFetchResp(m)
				return
			}
			continue
		}
		r.trackPID(bt)
		r.Log.append(bt, b.h.E.Now())
	}
	if n := r.cfg().FlushIntervalMessages; n > 0 && r.Log.unflushed >= n {
		r.fsync(func() { r.fetched(m) })
		return
	}
	r.fetched(m)
}

// fetched ends a fetch: the follower's HW is min(own LEO, the leader's HW
// in the response), and the next fetch goes out.
func (r *Replica) fetched(m *fetchResp) {
	b := r.b
	if r.fetch.session != m.session || r.role != following {
		b.h.pool.putFetchResp(m)
		return
	}
	r.HW = max(r.HW, min(r.Log.LEO(), m.hw))
	b.h.pool.putFetchResp(m)
	r.sendFetch()
}

// retryFetch asks again after replica.fetch.backoff.ms.
func (r *Replica) retryFetch() {
	r.fetch.fetchTimer = r.b.timer(r.b.h.k.tFetchRetry, r.cfg().FetchBackoff, fetchTimerArg(r.TP, r.fetch.session), nil)
}

// onSocketTimer: the outstanding request got no answer within
// replica.socket.timeout.ms (the request or its response was lost), so the
// fetcher asks again; a timer armed early is re-armed.
func (r *Replica) onSocketTimer() {
	switch {
	case r.fetch.sockDeadline == 0:
	case r.b.h.E.Now() >= r.fetch.sockDeadline:
		r.fetch.sockDeadline = 0
		r.fetchAgain()
	default:
		r.armSocketTimeout()
	}
}
