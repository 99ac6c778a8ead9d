package sweep

import "testing"

// A sweep puts the transaction protocol and the isolation level on its
// grid, with delayed EndTxns in its fault model: the classic protocol
// shows aborted reads or torn transactions in some trials, version 2 in
// none, and the trials are the same with one worker or two.
func TestSweepTransactionAxes(t *testing.T) {
	s, cells, trials := parseAndRun(t, "txn.yaml", `name: txn
base: txn-delayed-endtxn-tv2
trials: 8
seed: 7
set: [run.duration=20s]
grid:
  transaction.version: ["0", "2"]
  isolation.level: [read_committed, read_uncommitted]
faults:
  delayed-end-txn: {per_hour: 300, for: 8s}
`)
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

// A sweep puts the application's behaviour after an abort on its grid:
// with stalls past transaction.timeout.ms in the fault model, an
// application that polls on loses outputs in some trials (eos_loss), one
// that seeks back in none.
func TestSweepOnAbortAxis(t *testing.T) {
	_, cells, trials := parseAndRun(t, "eos.yaml", `name: eos
base: eos-txn-timeout-seek
trials: 6
seed: 3
set: [run.duration=10s]
grid:
  processing.on.abort: [seek, continue]
faults:
  producer-pause: {per_hour: 1200, for: 7s}
`)
	for _, sum := range Summarize(cells, trials) {
		switch v := sum.Values["processing.on.abort"]; {
		case v == "continue" && sum.TxnAnomalyTrials == 0:
			t.Errorf("%s: no trial lost an output: the canary did not die", sum.Settings)
		case v == "seek" && sum.TxnAnomalyTrials != 0:
			t.Errorf("%s: %d trials with an exactly-once anomaly", sum.Settings, sum.TxnAnomalyTrials)
		}
	}
	lost := 0
	for _, tr := range trials {
		lost += tr.EOSLoss
	}
	if lost == 0 {
		t.Error("no trial recorded eos_loss")
	}
}

// parseAndRun parses a sweep spec and runs it with two workers.
func parseAndRun(t *testing.T, file, spec string) (*Spec, []Cell, []Trial) {
	t.Helper()
	s, err := Parse(file, []byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	cells, trials, err := Run(s, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, cells, trials
}
