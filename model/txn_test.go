package model

import (
	"errors"
	"testing"

	"acksim/history"
	"acksim/sim"
)

func txnBatch(base int64, pid int64, epoch int16, n int) *history.Batch {
	b := batch(base, 0, n)
	b.PID, b.PEpoch, b.Txn = pid, epoch, history.TxnData
	return b
}

func marker(base int64, pid int64, epoch int16, commit bool) *history.Batch {
	m := &history.Batch{Base: base, PID: pid, PEpoch: epoch, Seq: -1, Txn: history.TxnAbort}
	if commit {
		m.Txn = history.TxnCommit
	}
	return m
}

// The last stable offset is the first offset of the earliest transaction
// not decided below the HW; a marker takes one offset; a read_committed
// consumer is told which batches an ABORT marker decided; a truncation
// reopens what it cut.
func TestLastStableOffset(t *testing.T) {
	var l Log
	l.append(batch(0, 0, 2), 0)         // 0-1: not transactional
	l.append(txnBatch(2, 7, 0, 3), 0)   // 2-4: pid 7's transaction
	l.append(txnBatch(5, 8, 0, 2), 0)   // 5-6: pid 8's transaction
	l.append(marker(7, 7, 0, false), 0) // 7: ABORT for pid 7
	l.append(txnBatch(8, 7, 0, 1), 0)   // 8: pid 7's next transaction
	if got := l.LEO(); got != 9 {
		t.Fatalf("LEO %d: a marker takes one offset", got)
	}
	for _, c := range []struct{ hw, lso int64 }{
		{0, 0}, {2, 2}, {5, 2}, {8, 5}, {9, 5}, // pid 8 still open
	} {
		if got := l.LSO(c.hw); got != c.lso {
			t.Errorf("HW %d: LSO %d, want %d", c.hw, got, c.lso)
		}
	}
	l.append(marker(9, 8, 0, true), 0) // 9: COMMIT for pid 8
	if got := l.LSO(10); got != 8 {
		t.Errorf("after pid 8's commit: LSO %d, want 8 (pid 7's second transaction is open)", got)
	}
	if got := l.LSO(9); got != 5 {
		t.Errorf("HW below pid 8's marker: LSO %d, want 5 (the marker is not committed yet)", got)
	}
	for i, e := range l.entries {
		want := i == 1 // pid 7's first transaction was aborted
		if got := l.aborted(e.b); got != want {
			t.Errorf("batch at %d: aborted %v, want %v", e.b.Base, got, want)
		}
	}
	l.truncateTo(9) // pid 8's commit marker is gone
	if got := l.LSO(9); got != 5 {
		t.Errorf("after truncating pid 8's marker: LSO %d, want 5", got)
	}
}

// A partition fences a producer epoch older than one it has seen (a batch
// or a marker), and a newer epoch starts its sequences at 0.
func TestProducerEpochFencing(t *testing.T) {
	var pids pidTable
	pids.track(txnBatch(0, 7, 0, 3))
	if _, _, _, ooo := pids.dedupeEpoch(7, 0, 3); ooo {
		t.Error("the next sequence of the same epoch is out of order")
	}
	pids.track(marker(3, 7, 1, false)) // transaction version 2: the marker carries epoch 1
	if e, _ := pids.epochOf(7); e != 1 {
		t.Fatalf("epoch %d after a marker of epoch 1", e)
	}
	if _, _, _, ooo := pids.dedupeEpoch(7, 2, 0); ooo {
		t.Error("a newer epoch starting at sequence 0 is out of order")
	}
	if _, _, _, ooo := pids.dedupeEpoch(7, 2, 5); !ooo {
		t.Error("a newer epoch must start at sequence 0")
	}
	// The marker bumped the epoch to 1: the first batch of epoch 1 starts
	// at 0 too (a later batch whose predecessor failed is out of order,
	// not the start of the epoch).
	if _, _, _, ooo := pids.dedupeEpoch(7, 1, 1); !ooo {
		t.Error("after a marker bumped the epoch, a batch at sequence 1 was taken as the epoch's first")
	}
	if _, _, _, ooo := pids.dedupeEpoch(7, 1, 0); ooo {
		t.Error("after a marker bumped the epoch, sequence 0 is out of order")
	}
}

// The coordinator follows Kafka's table of valid previous states: a
// transition outside it is a broken model invariant, not a finding.
func TestCoordinatorTransitionTable(t *testing.T) {
	e := sim.NewEngine()
	h := &host{E: e, spec: &Spec{}}
	tc := &txnCoordinator{h: h}
	meta := &txnMeta{id: "x", state: tsEmpty}
	for _, s := range []txnState{tsOngoing, tsPrepareCommit, tsCompleteCommit, tsOngoing, tsPrepareEpochFence, tsPrepareAbort, tsCompleteAbort, tsEmpty} {
		tc.to(meta, s) // valid
	}
	defer func() {
		var ie *InvariantError
		if err, _ := recover().(error); !errors.As(err, &ie) {
			t.Fatalf("Empty -> CompleteCommit: got %v, want a broken invariant", err)
		}
	}()
	tc.to(meta, tsCompleteCommit)
}
