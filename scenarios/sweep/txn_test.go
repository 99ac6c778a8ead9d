package sweep

import "testing"

// A sweep puts the transaction protocol and the isolation level on its
// grid, with delayed EndTxns in its fault model: the classic protocol
// shows aborted reads or torn transactions in some trials, version 2 in
// none, and the trials are the same with one worker or two.
func TestSweepTransactionAxes(t *testing.T) {
	s, err := Parse("txn.yaml", []byte(`name: txn
base: txn-delayed-endtxn-tv2
trials: 8
seed: 7
set: [run.duration=20s]
grid:
  transaction.version: ["0", "2"]
  isolation.level: [read_committed, read_uncommitted]
faults:
  delayed-end-txn: {per_hour: 300, for: 8s}
`))
	if err != nil {
		t.Fatal(err)
	}
	cells, trials, err := Run(s, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, sum := range Summarize(cells, trials) {
		tv := sum.Values["transaction.version"]
		switch {
		case tv == "0" && sum.Values["isolation.level"] == "read_committed" && sum.TxnAnomalyTrials == 0:
			t.Errorf("%s: no trial showed the classic protocol's anomaly", sum.Settings)
		case tv == "2" && sum.TxnAnomalyTrials != 0:
			t.Errorf("%s: %d trials with an anomaly under transaction version 2", sum.Settings, sum.TxnAnomalyTrials)
		}
	}
	_, one, _ := Run(s, 1, nil)
	for i := range one {
		if one[i].TraceHash != trials[i].TraceHash || one[i].AbortedRead != trials[i].AbortedRead {
			t.Fatalf("trial %d differs between 1 and 2 workers", i)
		}
	}
}
