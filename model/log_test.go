package model

import (
	"acksim/history"
	"testing"

	"acksim/sim"
)

func batch(base int64, epoch int32, n int) *history.Batch {
	b := &history.Batch{Base: base, Epoch: epoch, PID: -1}
	for i := 0; i < n; i++ {
		b.Records = append(b.Records, history.RecordID(base+int64(i)+1))
	}
	return b
}

// KIP-101 / KIP-279: OffsetsForLeaderEpoch answers the end of the largest
// epoch <= the one asked (LeaderEpochFileCache.endOffsetFor).
func TestEndOffsetForEpoch_KIP101(t *testing.T) {
	var l Log
	l.append(batch(0, 0, 3), 0)
	l.append(batch(3, 0, 2), 0)
	l.append(batch(5, 2, 4), 0)
	for _, c := range []struct {
		ask       int32
		wantEpoch int32
		wantEnd   int64
	}{{0, 0, 5}, {1, 0, 5}, {2, 2, 9}, {7, 2, 9}, {-1, -1, 0}} {
		// ...and an epoch older than the first known one ends where the first starts:
		e, end := l.EndOffsetFor(c.ask)
		if e != c.wantEpoch || end != c.wantEnd {
			t.Errorf("EndOffsetFor(%d) = (%d, %d), want (%d, %d)", c.ask, e, end, c.wantEpoch, c.wantEnd)
		}
	}
	var later Log // a leader elected in epoch 3 whose log starts at offset 4
	later.append(batch(0, 3, 4), 0)
	later.epochs[0].start = 0
	if e, end := later.EndOffsetFor(1); e != 1 || end != 0 {
		t.Errorf("epoch older than the cache: got (%d, %d), want (1, 0)", e, end)
	}
}

// LogSegment.truncateTo cuts at batch boundaries; the epoch cache drops
// epochs that start at or after the new end (truncateFromEnd).
func TestTruncateToDropsWholeBatchesAndEpochs(t *testing.T) {
	var l Log
	l.append(batch(0, 0, 3), 0)
	l.append(batch(3, 1, 2), 0)
	l.markDurable(5, len(l.entries))
	removed := l.truncateTo(3)
	if l.LEO() != 3 || len(removed) != 1 || removed[0].Base != 3 {
		t.Fatalf("LEO %d removed %v", l.LEO(), removed)
	}
	if l.LatestEpoch() != 0 {
		t.Fatalf("epoch cache kept epoch %d after truncating it", l.LatestEpoch())
	}
	if l.Durable() != 3 {
		t.Fatalf("durable %d beyond LEO", l.Durable())
	}
}

// Linux writes back dirty pages older than vm.dirty_expire_centisecs; a
// power loss keeps only the durable prefix.
func TestWritebackAndPowerCut(t *testing.T) {
	var l Log
	l.append(batch(0, 0, 2), sim.Time(1*sim.Second))
	l.append(batch(2, 0, 2), sim.Time(20*sim.Second))
	l.writeback(sim.Time(35*sim.Second) - sim.Time(30*sim.Second)) // now=35s, expire=30s
	if l.Durable() != 2 {
		t.Fatalf("durable %d after writeback, want 2 (only the batch older than 30s)", l.Durable())
	}
	lost := l.powerCut()
	if l.LEO() != 2 || len(lost) != 1 {
		t.Fatalf("power cut kept LEO %d, lost %d batches", l.LEO(), len(lost))
	}
}

func TestFetchFromStopsAtLimit(t *testing.T) {
	var l Log
	for i := int64(0); i < 10; i += 2 {
		l.append(batch(i, 0, 2), 0)
	}
	got := l.fetchFrom(nil, 4, 100, 8)
	if len(got) != 2 || got[0].Base != 4 || got[1].End() != 8 {
		t.Fatalf("fetchFrom(4, below 8) = %v", got)
	}
	if l.At(5) != 6 || l.At(10) != 0 {
		t.Fatal("At")
	}
}
