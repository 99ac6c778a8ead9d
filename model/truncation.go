package model

import (
	"fmt"

	"acksim/history"
)

// truncationRule is how a replica that starts following makes its log a
// prefix of its leader's. There is one implementation per Kafka era:
// to the high watermark before 0.11, by leader epoch from 0.11 (KIP-101,
// with KIP-279's rule for an older answer). Kafka 2.7+'s fetch with a
// diverging epoch (KIP-595, KAFKA-10554) would be a third.
type truncationRule interface {
	// follow starts following r.leader: truncate and fetch, or ask the
	// leader first. The fetcher is already in role, in phase fetching.
	follow(r *Replica)
	// epochAnswered applies the leader's OffsetsForLeaderEpoch answer.
	epochAnswered(r *Replica, m *epochResp)
	// straddles handles a fetched batch that begins below r's LEO and ends
	// past it: the logs diverged inside a batch of the leader's.
	straddles(r *Replica, bt *history.Batch)
	// prefixHolds says whether a follower that finished truncating holds
	// nothing past its leader's LEO in the leader's epoch (an invariant).
	prefixHolds() bool
	// outOfRange handles OFFSET_OUT_OF_RANGE: the follower fetched past the
	// end of the leader's log, which ends at leaderLEO.
	outOfRange(r *Replica, leaderLEO int64)
}

// hwTruncation is the rule before 0.11: a new follower truncates to its own
// high watermark (ReplicaManager.makeFollowers), restored from the
// checkpoint after a restart. The HW need not be a boundary of the leader's
// batches, and a follower may hold more than a leader that lost data until
// OFFSET_OUT_OF_RANGE truncates it: the divergence KIP-101 fixed.
type hwTruncation struct{}

func (hwTruncation) follow(r *Replica) {
	r.truncate(r.HW, fmt.Sprintf("to its high watermark on following broker %d (epoch %d, pre-0.11 rule)", r.leader, r.epoch))
	r.sendFetch()
}

func (hwTruncation) epochAnswered(r *Replica, m *epochResp) {
	r.b.h.violate("%s on broker %d: an OffsetsForLeaderEpoch answer under the pre-0.11 rule", r.b.h.tpName(r.TP), r.b.ID)
}

// straddles: the append fails ("out of order offsets"), and the fetcher
// retries the partition after replica.fetch.backoff.ms, failing the same
// way: the replica is stuck and drops out of the ISR.
func (hwTruncation) straddles(r *Replica, bt *history.Batch) {
	b := r.b
	if r.fetch.phase != stuck {
		r.fetch.phase = stuck
		b.h.obs.emit(b.ID, r.TP, history.Stuck, "broker %d cannot append the leader's batch %d-%d over its diverged log end %d of %s: its fetcher fails the partition (pre-0.11 high-watermark truncation)", b.ID, bt.Base, bt.End()-1, r.Log.LEO(), b.h.tpName(r.TP))
	}
	r.retryFetch()
}

func (hwTruncation) prefixHolds() bool { return false }

// outOfRange, before 0.11 (ReplicaFetcherThread.handleOffsetOutOfRange):
// the leader's log ends below the follower's, so the follower holds
// records the leader does not. With unclean election allowed it truncates
// to the leader's log end and goes on; otherwise it halts its broker
// ("Halting because log truncation is not allowed"), which stays down
// until someone restarts it.
func (hwTruncation) outOfRange(r *Replica, leaderLEO int64) {
	b := r.b
	if leaderLEO >= r.Log.LEO() {
		r.sendFetch() // the fetch offset was stale: fetch again from our LEO
		return
	}
	if r.cfg().UncleanElection {
		r.truncate(leaderLEO, fmt.Sprintf("to the log end of leader broker %d: OFFSET_OUT_OF_RANGE, unclean election allowed (pre-0.11 rule)", r.leader))
		r.sendFetch()
		return
	}
	b.halt(fmt.Sprintf("broker %d halted: the log of leader broker %d ends at %d, below its own %d of %s, and unclean election is off (pre-0.11 ReplicaFetcherThread)", b.ID, r.leader, leaderLEO, r.Log.LEO(), b.h.tpName(r.TP)))
}

// epochTruncation is KIP-101 (0.11): a new follower asks the leader where
// its latest epoch ends (OffsetsForLeaderEpoch) and truncates there.
type epochTruncation struct{}

func (epochTruncation) follow(r *Replica) {
	r.fetch.phase = truncating
	r.askEpoch()
}

func (epochTruncation) epochAnswered(r *Replica, m *epochResp) {
	// KIP-279: if the leader answers with an older epoch than ours, truncate
	// to where that epoch ends in our own log as well.
	to := m.end
	why := fmt.Sprintf("to the end of epoch %d on leader broker %d (epoch %d)", m.epoch, r.leader, r.epoch)
	switch {
	case m.epoch < 0:
		// The leader knows no epoch at or below ours (UNDEFINED_EPOCH_OFFSET):
		// fall back to the high watermark (AbstractFetcherThread).
		to = r.HW
		why = fmt.Sprintf("to its high watermark: leader broker %d (epoch %d) has no record of epoch %d", r.leader, r.epoch, r.Log.LatestEpoch())
	case m.epoch < r.Log.LatestEpoch():
		_, own := r.Log.EndOffsetFor(m.epoch)
		to = min(to, own)
	}
	r.truncate(to, why)
	r.fetch.phase = fetching
	r.sendFetch()
}

// straddles cannot happen: epoch truncation cuts the log back to a batch
// boundary of the leader's.
func (epochTruncation) straddles(r *Replica, bt *history.Batch) {
	b := r.b
	b.h.violate("%s on broker %d: fetched batch %d-%d straddles LEO %d (log diverged from leader %d)", b.h.tpName(r.TP), b.ID, bt.Base, bt.End()-1, r.Log.LEO(), r.leader)
}

func (epochTruncation) prefixHolds() bool { return true }

// outOfRange from 0.11: truncate again by leader epoch.
func (epochTruncation) outOfRange(r *Replica, leaderLEO int64) { r.becomeFollower() }
