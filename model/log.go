package model

import (
	"acksim/history"
	"acksim/sim"
)

type entry struct {
	end int64 // b.End(), kept here so searches do not chase b
	b   *history.Batch
	at  sim.Time // when this replica appended it (dirty since)
}

type epochStart struct {
	epoch int32
	start int64
}

// Log is one replica's log on one broker: a durable prefix on disk and a
// page-cache tail.
//
// Invariant: 0 <= durable <= LEO. Entries are contiguous from offset 0.
type Log struct {
	entries []entry
	durable int64 // offsets below are on disk (fsynced or written back)
	// durableN is how many entries are on disk: those ending at or below
	// durable, less any empty entry (a Raft leader's no-op) appended after
	// the write that made durable. Invariant: entries[durableN-1].end <=
	// durable.
	durableN int
	epochs   []epochStart
	// unflushed counts messages appended since the last fsync request, for
	// log.flush.interval.messages.
	unflushed int64
	lastFlush sim.Time
	// txn tracks the log's transactions (empty without transactional
	// producers).
	txn txnIndex
}

// LEO is the log end offset.
func (l *Log) LEO() int64 {
	if n := len(l.entries); n > 0 {
		return l.entries[n-1].end
	}
	return 0
}

// Durable is the end of the durable prefix.
func (l *Log) Durable() int64 { return l.durable }

// Batches returns the batches in offset order (read-only).
func (l *Log) Batches() []*history.Batch {
	out := make([]*history.Batch, len(l.entries))
	for i, e := range l.entries {
		out[i] = e.b
	}
	return out
}

// append adds b at the end. The caller has checked b.Base == LEO.
func (l *Log) append(b *history.Batch, now sim.Time) {
	l.entries = append(l.entries, entry{end: b.End(), b: b, at: now})
	l.unflushed += int64(len(b.Records))
	if b.Txn != history.NotTxn {
		l.txn.track(b)
	}
	if n := len(l.epochs); n == 0 || l.epochs[n-1].epoch < b.Epoch {
		l.epochs = append(l.epochs, epochStart{b.Epoch, b.Base})
	}
}

// assignEpoch records that epoch starts at the current LEO (a new leader does
// this at becomeLeader: LeaderEpochFileCache.assign).
func (l *Log) assignEpoch(epoch int32) {
	if n := len(l.epochs); n == 0 || l.epochs[n-1].epoch < epoch {
		l.epochs = append(l.epochs, epochStart{epoch, l.LEO()})
	}
}

// restartEpoch makes epoch e start at the log end, dropping the entries of
// e and later epochs (RocketMQ's AutoSwitchHAService.changeToMaster:
// truncateSuffixByEpoch, then appendEntry(masterEpoch, maxPhyOffset)).
func (l *Log) restartEpoch(e int32) {
	for len(l.epochs) > 0 && l.epochs[len(l.epochs)-1].epoch >= e {
		l.epochs = l.epochs[:len(l.epochs)-1]
	}
	l.epochs = append(l.epochs, epochStart{e, l.LEO()})
}

// LatestEpoch is the newest leader epoch in the epoch cache (-1 if none).
func (l *Log) LatestEpoch() int32 {
	if n := len(l.epochs); n > 0 {
		return l.epochs[n-1].epoch
	}
	return -1
}

// EndOffsetFor answers OffsetsForLeaderEpoch (KIP-101, KIP-279): the largest
// epoch <= e that this log knows, and the offset where that epoch ends (the
// start of the next epoch, or the LEO for the latest one).
// Source: LeaderEpochFileCache.endOffsetFor in apache/kafka.
func (l *Log) EndOffsetFor(e int32) (int32, int64) {
	if len(l.epochs) > 0 && e < l.epochs[0].epoch {
		// Older than every epoch we know: it ended where our first epoch
		// starts (endOffsetFor's floorEntry == null case).
		return e, l.epochs[0].start
	}
	for i := len(l.epochs) - 1; i >= 0; i-- {
		if l.epochs[i].epoch <= e {
			if i == len(l.epochs)-1 {
				return l.epochs[i].epoch, l.LEO()
			}
			return l.epochs[i].epoch, l.epochs[i+1].start
		}
	}
	return -1, 0
}

// find returns the index of the first entry whose End() > off.
//
// Most searches are at the tail (a follower fetching from its LEO, a
// consumer keeping up), so the last few entries are tried first.
func (l *Log) find(off int64) int {
	n := len(l.entries)
	for i := n - 1; i >= 0 && i >= n-4; i-- {
		if l.entries[i].end <= off {
			return i + 1
		}
	}
	lo, hi := 0, n
	for lo < hi {
		m := (lo + hi) / 2
		if l.entries[m].end <= off {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// truncateTo removes every batch that ends past off (truncation is at batch
// boundaries: LogSegment.truncateTo) and returns the removed batches.
func (l *Log) truncateTo(off int64) []*history.Batch {
	i := l.find(off)
	if i < len(l.entries) && l.entries[i].b.Base < off {
		i++ // keep a batch that ends at or before off; never cut inside one
		if i > len(l.entries) {
			i = len(l.entries)
		}
	}
	return l.truncateEntries(i)
}

// truncateEntries keeps the first i entries and returns the removed ones.
func (l *Log) truncateEntries(i int) []*history.Batch {
	if i >= len(l.entries) {
		return nil
	}
	removed := make([]*history.Batch, 0, len(l.entries)-i)
	for _, e := range l.entries[i:] {
		removed = append(removed, e.b)
	}
	for j := i; j < len(l.entries); j++ {
		l.entries[j] = entry{}
	}
	l.entries = l.entries[:i]
	leo := l.LEO()
	if l.durable > leo {
		l.durable = leo
	}
	l.durableN = min(l.durableN, len(l.entries))
	if len(l.txn.spans) > 0 {
		l.txn.rebuild(l)
	}
	// LeaderEpochFileCache.truncateFromEnd: drop epochs starting at or past the new end.
	for len(l.epochs) > 0 && l.epochs[len(l.epochs)-1].start >= leo {
		l.epochs = l.epochs[:len(l.epochs)-1]
	}
	return removed
}

// fetchFrom returns up to maxRecords records' worth of batches starting at
// off (whole batches, at least one if any).
func (l *Log) fetchFrom(out []*history.Batch, off int64, maxRecords int, below int64) []*history.Batch {
	i := l.find(off)
	n := 0
	for ; i < len(l.entries); i++ {
		b := l.entries[i].b
		if b.End() > below {
			break
		}
		out = append(out, b)
		n += len(b.Records)
		if n >= maxRecords {
			break
		}
	}
	return out
}

// writeback makes durable every entry appended at or before cutoff (Linux
// writes back dirty pages older than dirty_expire, oldest first).
func (l *Log) writeback(cutoff sim.Time) {
	for i := l.durableN; i < len(l.entries) && l.entries[i].at <= cutoff; i++ {
		l.durable = l.entries[i].end
		l.durableN = i + 1
	}
}

// markDurable records that an fsync covering offsets below off, and at
// most the first n entries, completed.
func (l *Log) markDurable(off int64, n int) {
	if leo := l.LEO(); off > leo {
		off = leo
	}
	if off > l.durable {
		l.durable = off
	}
	d := l.find(l.durable)
	for d > n && l.entries[d-1].end == l.entries[d-1].b.Base {
		d-- // an empty entry appended after the write was issued
	}
	l.durableN = max(l.durableN, d)
}

// flushAll makes the whole log durable (a clean shutdown).
func (l *Log) flushAll() { l.markDurable(l.LEO(), len(l.entries)) }

// powerCut drops the page-cache tail (power loss) and returns what it lost.
func (l *Log) powerCut() []*history.Batch { return l.truncateEntries(l.durableN) }

// wipe erases the log (disk loss) and returns what it lost.
func (l *Log) wipe() []*history.Batch {
	l.durable, l.durableN = 0, 0
	r := l.truncateTo(0)
	l.epochs = nil
	return r
}

// At returns the record at offset off, or 0.
func (l *Log) At(off int64) history.RecordID {
	i := l.find(off)
	if i < len(l.entries) && l.entries[i].b.Base <= off {
		if b := l.entries[i].b; off-b.Base < int64(len(b.Records)) {
			return b.Records[off-b.Base]
		}
	}
	return 0 // past the end, or a transaction marker
}
