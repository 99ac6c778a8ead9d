package scenarios

import (
	"strings"
	"testing"

	"acksim/history"
	"acksim/sim"
)

// txnSc is transactions-healthy with sets applied.
func txnSc(t *testing.T, sets ...string) *Scenario {
	t.Helper()
	return loadSc(t, "transactions-healthy", sets...)
}

// Isolation: when a transaction aborts, a read_uncommitted consumer
// processes its records and a read_committed one never does; the
// read_committed one waits for the last stable offset, which the open
// transaction holds back for transaction.timeout.ms.
func TestTxnIsolationLevels(t *testing.T) {
	abortedProcessed := func(level string) (n int, res *Result) {
		s := loadSc(t, "txn-producer-pause-timeout", "isolation.level="+level)
		res, err := Run(s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		h := res.History
		for _, p := range h.Processed {
			if tx := h.TxnOf(p.ID); tx >= 0 && h.Txns[tx].Outcome == history.TxnAborted {
				n++
			}
		}
		return n, res
	}
	uncommitted, _ := abortedProcessed("read_uncommitted")
	committed, res := abortedProcessed("read_committed")
	if uncommitted == 0 {
		t.Error("read_uncommitted never processed a record of the aborted transaction: the canary did not die")
	}
	if committed != 0 {
		t.Errorf("read_committed processed %d records of an aborted transaction", committed)
	}
	tx := res.Verdict.Transactions
	if tx == nil || tx.Aborted == 0 || tx.LSOStallMs < 60000 || tx.Fenced == 0 {
		t.Errorf("transactions %+v: want an aborted transaction, an LSO stall of at least transaction.timeout.ms, a fenced producer", tx)
	}
}

// KAFKA-17754 by protocol version: a delayed EndTxn commits a later
// transaction half-way under the classic protocol (3.9, or 4.0 with
// transaction.version 0); with transaction version 2 the epoch bump
// refuses it.
func TestDelayedEndTxnByTransactionVersion(t *testing.T) {
	for _, tc := range []struct {
		sets    []string
		anomaly bool
	}{
		{[]string{"kafka=3.9"}, true},
		{[]string{"kafka=4.0"}, false},
		{[]string{"kafka=4.0", "transaction.version=0"}, true},
		{[]string{"kafka=4.0", "transaction.version=1"}, true},
	} {
		s := loadSc(t, "txn-delayed-endtxn-tv1", tc.sets...)
		res, err := Run(s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		tx := res.Verdict.Transactions
		got := tx.AbortedRead > 0 && tx.TornTransaction > 0
		if got != tc.anomaly {
			t.Errorf("%v: aborted reads %d, torn %d; want an anomaly: %v", tc.sets, tx.AbortedRead, tx.TornTransaction, tc.anomaly)
		}
		if res.Verdict.Anomalies.LostWrite != 0 {
			t.Errorf("%v: %d lost writes", tc.sets, res.Verdict.Anomalies.LostWrite)
		}
	}
}

// check finds the delayed-EndTxn anomaly of the classic protocol and
// shrinks it to delayed EndTxns alone; the counterexample replays.
func TestCheckFindsDelayedEndTxn(t *testing.T) {
	s := txnSc(t, "request.timeout.ms=1500", "acksim.transaction.records=200", "workload.rate=400", "run.duration=4s")
	ce := finds(t, s, ExploreOptions{Faults: []string{"delayed-end-txn"}, MaxFaults: 2, MaxFor: 4 * sim.Second}, "aborted_read", "torn_transaction")
	// The shrunk schedule is delayed EndTxns and nothing else (one, or
	// two when the first only shifts the timing the second needs).
	if n := len(ce.Scenario.Steps); n == 0 || n > 2 {
		t.Errorf("minimal schedule: %s", describeSteps(ce.Scenario.Steps))
	}
	for _, st := range ce.Scenario.Steps {
		if st.Action != "delay-message" || st.Message != "end-txn" {
			t.Errorf("minimal schedule: %s", describeSteps(ce.Scenario.Steps))
		}
	}
	data, err := ce.Scenario.Export(ce.Scenario.Raw, "ce", "ce", "", map[string]string{"aborted_read": ">0"})
	if err != nil {
		t.Fatal(err)
	}
	replay, err := Parse("ce.yaml", data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	res, err := Run(replay, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict.TraceHash != ce.Result.Verdict.TraceHash || len(res.Failed) > 0 {
		t.Errorf("the counterexample does not replay: hash %s vs %s, failed %v", res.Verdict.TraceHash, ce.Result.Verdict.TraceHash, res.Failed)
	}
}

// Where Kafka guarantees atomicity, no schedule breaks it: transaction
// version 2 under delayed EndTxns, producer stalls and crashes, broker
// crashes, pauses and partitions (one broker at a time); and the classic
// protocol under the same faults without delayed messages (every link
// FIFO). acks=all, min.insync.replicas=2: nothing committed is lost either.
func TestTransactionsHoldWhereKafkaGuarantees(t *testing.T) {
	props := []string{"lost_write", "aborted_read", "torn_transaction", "duplicate"}
	t.Run("tv2", func(t *testing.T) {
		s := txnSc(t, "kafka=4.0", "request.timeout.ms=5000", "acksim.transaction.records=200", "workload.rate=500")
		stats := holds(t, s, ExploreOptions{Faults: []string{"delayed-end-txn", "producer-pause", "producer-crash", "crash", "pause", "partition"}}, props...)
		if stats.Fired["delay-message"] == 0 || stats.Fired["producer-pause"] == 0 {
			t.Errorf("the search never delayed an EndTxn or paused the producer: %v", stats.Fired)
		}
	})
	t.Run("tv1-fifo", func(t *testing.T) {
		s := txnSc(t, "kafka=3.9")
		holds(t, s, ExploreOptions{Faults: []string{"producer-pause", "producer-crash", "crash", "pause", "partition"}}, props...)
	})
}

// A transactional producer's settings are checked like Kafka's client:
// each bad combination is refused with the field and what is allowed.
func TestTransactionalSettingsRefused(t *testing.T) {
	for _, tc := range []struct {
		base string
		sets []string
		want string
	}{
		{"transactions-healthy", []string{"enable.idempotence=false"}, "a transactional producer is idempotent"},
		{"transactions-healthy", []string{"acks=1"}, "requires acks=all"},
		{"transactions-healthy", []string{"transaction.timeout.ms=20m"}, "transaction.max.timeout.ms"},
		{"transactions-healthy", []string{"transaction.version=2"}, "needs Kafka 4.0+"},
		{"transactions-healthy", []string{"kafka=3.5", "transaction.partition.verification.enable=false"}, "came in Kafka 3.6"},
		{"transactions-healthy", []string{"kafka=0.10"}, "need Kafka 0.11+"},
		{"transactions-healthy", []string{"transactional.id=bad id"}, "letters, digits"},
		{"raft-healthy-cluster", []string{"transactional.id=x"}, "Kafka's ISR design only"},
		{"rocketmq-healthy-cluster", []string{"transactional.id=x"}, "ISR design only"},
	} {
		s, err := Load(tc.base)
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range tc.sets {
			if err = s.Set(kv); err != nil {
				break
			}
		}
		if err == nil {
			_, err = s.Resolve()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: got %v, want an error containing %q", tc.base, tc.sets, err, tc.want)
		}
	}
}

// As KafkaProducer does since 0.11, a transactional.id turns idempotence on
// and, where the user set nothing else, acks=all and the in-flight limit of
// the release: a 0.11 or 2.8 application that only sets transactional.id
// runs (their acks default is 1), one that sets acks=1 is refused.
func TestTransactionalDefaults(t *testing.T) {
	for _, k := range []string{"0.11", "2.8"} {
		s := txnSc(t, "kafka="+k)
		r, err := s.Resolve()
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		pc := r.Spec.Producers[0].Cfg
		if pc.Acks != -1 || !pc.Idempotence || (k == "0.11" && pc.MaxInFlight != 1) {
			t.Errorf("%s: acks %d, idempotence %v, in flight %d", k, pc.Acks, pc.Idempotence, pc.MaxInFlight)
		}
		s = txnSc(t, "kafka="+k, "acks=1")
		if _, err := s.Resolve(); err == nil || !strings.Contains(err.Error(), "acks=all") {
			t.Errorf("%s with acks=1: %v", k, err)
		}
	}
}

// The coordinator is the leader of the replicated transaction log: when
// its broker crashes, the new leader loads the transactional ids from the
// log it replicated and finishes the transaction in flight; nothing is
// lost, nothing torn. When every broker loses its page cache, the
// coordinator's log loses its tail like any other and it forgets the
// producer, which is fenced and starts over.
func TestCoordinatorFailover(t *testing.T) {
	res, err := Run(loadSc(t, "txn-leader-crash"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	loaded := false
	for _, e := range res.History.Events {
		loaded = loaded || (e.Kind == history.TxnEnd && strings.Contains(e.Text, "is the transaction coordinator") && strings.Contains(e.Text, "loaded 1 transactional id"))
	}
	tx := res.Verdict.Transactions
	if !loaded || tx.Committed == 0 || tx.TornTransaction != 0 || res.Verdict.Anomalies.LostWrite != 0 || tx.LSOStallMs < 5000 {
		t.Errorf("failover: loaded %v, transactions %+v, lost %d", loaded, tx, res.Verdict.Anomalies.LostWrite)
	}
	res, err = Run(loadSc(t, "txn-cluster-power-loss-no-flush"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	lostLog := false
	for _, rm := range res.History.Removals {
		// The transaction log's partition follows the user's three.
		lostLog = lostLog || rm.TP == len(res.History.Partitions) && rm.Verb == history.Lost
	}
	if !lostLog || res.Verdict.Transactions.Fenced == 0 {
		t.Errorf("power loss: the transaction log lost nothing (%v) or the producer was not fenced (%+v)", lostLog, res.Verdict.Transactions)
	}
}

// The coordinator's log has Kafka's settings: more replicas than brokers,
// or a min ISR above its replicas, is refused; with one replica a single
// broker's power loss takes the coordinator's state with it.
func TestTransactionStateLogSettings(t *testing.T) {
	for _, sets := range [][]string{
		{"transaction.state.log.replication.factor=4"},
		{"transaction.state.log.replication.factor=2", "transaction.state.log.min.isr=3"},
	} {
		s := txnSc(t, sets...)
		if _, err := s.Resolve(); err == nil || !strings.Contains(err.Error(), "transaction.state.log") {
			t.Errorf("%v: %v", sets, err)
		}
	}
	// Broker 1 holds the only replica of the coordinator's log (the log
	// is placed as a fourth partition would be); its power loss, before
	// the OS wrote the log back, leaves a coordinator that knows nothing
	// of app-1: the producer is fenced and starts over. With the default
	// three replicas the same fault costs nothing.
	fenced := func(rf string) int {
		s := parseDoc(t, "rf.yaml", `name: rf
kafka: "3.9"
cluster:
  brokers: 3
  partitions: 3
  replication.factor: 3
  config:
    min.insync.replicas: 2
    transaction.state.log.replication.factor: `+rf+`
    transaction.state.log.min.isr: 1
producers:
  - config: {transactional.id: app-1}
    workload: {rate: 1000}
faults:
  - {at: 5s, action: power-loss, target: 1}
  - {after: 5s, action: restart, target: 1}
run: {duration: 15s}
`)
		res, err := Run(s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict.Anomalies.LostWrite != 0 {
			t.Errorf("RF %s: %d lost writes", rf, res.Verdict.Anomalies.LostWrite)
		}
		return res.Verdict.Transactions.Fenced
	}
	if n := fenced("1"); n == 0 {
		t.Error("RF 1: the coordinator's power loss fenced no producer")
	}
	if n := fenced("3"); n != 0 {
		t.Errorf("RF 3: %d producer(s) fenced by one broker's power loss", n)
	}
}

// Found by a swarm search: the broker that leads partition 0 and the
// transaction log loses its disk for good 4 ms in. Two bugs hung or stalled
// the run: a batch held for its transaction never expired while the
// producer's delivery-timeout wake fired at the same instant forever, and
// the producer kept resending its transaction request to the dead
// coordinator instead of looking it up again after a timeout. Now the new
// coordinator (elected 9 s later) takes the transaction and it commits.
func TestCoordinatorGoneForGood(t *testing.T) {
	s := parseDoc(t, "gone.yaml", `name: gone
kafka: "3.9"
cluster:
  brokers: 3
  partitions: 3
  replication.factor: 3
  config: {min.insync.replicas: 2}
producers:
  - config: {transactional.id: app-1}
    workload: {rate: 1000}
consumers:
  - config: {isolation.level: read_committed}
faults:
  - {at: 4ms, action: disk-loss, target: leader, permanent: true}
run: {duration: 10s}
`)
	res, err := Run(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	v := res.Verdict
	if !v.Converged || v.Transactions.Committed == 0 || v.Anomalies.LostWrite != 0 || v.Transactions.TornTransaction != 0 {
		t.Errorf("converged %v, transactions %+v, lost %d", v.Converged, v.Transactions, v.Anomalies.LostWrite)
	}
}

// KIP-890's motivation, by protocol: a produce of an aborted transaction
// that arrives late opens a transaction on its partition that the
// coordinator does not know. Unchecked (transaction version below 2,
// verification off) it hangs there, or the producer's next transaction
// there commits it; verification (3.6+) or transaction version 2 (4.0)
// refuses it.
func TestDelayedProduceByProtocol(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sets    []string
		anomaly bool
	}{
		{"txn-delayed-produce-tv1", nil, true},
		{"txn-delayed-produce-tv1", []string{"kafka=3.5", "transaction.partition.verification.enable=true"}, false}, // refused: verification came in 3.6
		{"txn-delayed-produce-tv1", []string{"transaction.partition.verification.enable=true"}, false},
		{"txn-delayed-produce-tv1", []string{"kafka=4.0"}, false},
		{"txn-delayed-produce-tv1", []string{"kafka=4.0", "transaction.version=1"}, true},
		{"txn-hanging-no-verification", nil, true},
		{"txn-hanging-no-verification", []string{"transaction.partition.verification.enable=true"}, false},
		{"txn-hanging-no-verification", []string{"kafka=4.0"}, false},
	} {
		s := loadSc(t, tc.name)
		var err error
		for _, kv := range tc.sets {
			if err = s.Set(kv); err != nil {
				break
			}
		}
		var res *Result
		if err == nil {
			res, err = Run(s, Options{})
		}
		if tc.sets != nil && tc.sets[0] == "kafka=3.5" {
			if err == nil || !strings.Contains(err.Error(), "came in Kafka 3.6") {
				t.Errorf("%s %v: got %v, want verification refused before 3.6", tc.name, tc.sets, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		v := res.Verdict
		tx := v.Transactions
		late := false
		for _, ev := range res.History.Events {
			late = late || strings.Contains(ev.Text, "a late batch of transaction")
		}
		var got bool
		if tc.name == "txn-hanging-no-verification" {
			// The late batch arrives at 5s; the run ends at 20s.
			got = tx.LSOStallMs >= 14000
			if !got && tx.LSOStallMs > 5000 {
				t.Errorf("%s %v: LSO stall %vms: the late batch was refused, yet something hung", tc.name, tc.sets, tx.LSOStallMs)
			}
		} else {
			got = tx.AbortedRead > 0 && tx.TornTransaction > 0
		}
		if got != tc.anomaly || late != tc.anomaly {
			t.Errorf("%s %v: anomaly %v (aborted reads %d, torn %d, LSO stall %vms, converged %v), late-batch story %v; want %v",
				tc.name, tc.sets, got, tx.AbortedRead, tx.TornTransaction, tx.LSOStallMs, v.Converged, late, tc.anomaly)
		}
		if v.Anomalies.LostWrite != 0 {
			t.Errorf("%s %v: %d lost writes", tc.name, tc.sets, v.Anomalies.LostWrite)
		}
	}
}

// commitTransaction flushes the transaction's last record before EndTxn:
// a produce of that record delayed in the network cannot land after the
// COMMIT marker. (A model bug: the commit began before the last record
// was in the accumulator, so at a low rate EndTxn overtook it; on 4.0 the
// late record was fenced and lost though its commit was acknowledged.)
func TestLastRecordFlushedBeforeEndTxn(t *testing.T) {
	for _, kafka := range []string{"4.0", "3.9"} {
		s := loadSc(t, "txn-delayed-produce-tv1", "kafka="+kafka, "transaction.partition.verification.enable=true",
			"workload.rate=5", "acksim.transaction.records=10")
		s.Steps = []Step{{Trigger: Trigger{Kind: "at", At: 1605 * sim.Millisecond}, Action: "delay-message", Target: Target{{Kind: "client", Name: "p1"}}, Message: "produce", Extra: 100 * sim.Millisecond}}
		res, err := Run(s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		v := res.Verdict
		if len(res.Fired) != 1 || v.Anomalies.LostWrite != 0 || v.Transactions.TornTransaction != 0 || v.Transactions.Committed == 0 {
			t.Errorf("kafka %s: fired %d, lost %d, torn %d, committed %d", kafka, len(res.Fired), v.Anomalies.LostWrite, v.Transactions.TornTransaction, v.Transactions.Committed)
		}
	}
}

// check finds the late batch that joins the next transaction without being
// told the schedule, and shrinks it to one delayed produce; with
// transaction version 2 no delayed produce breaks atomicity or loses a
// committed record.
func TestCheckFindsDelayedProduce(t *testing.T) {
	sets := []string{"workload.rate=5", "acksim.transaction.records=10"}
	s := loadSc(t, "txn-delayed-produce-tv1", sets...)
	s.Steps = nil
	ce := finds(t, s, ExploreOptions{Faults: []string{"delayed-produce"}}, "aborted_read", "torn_transaction")
	if n := len(ce.Scenario.Steps); n != 1 || ce.Scenario.Steps[0].Message != "produce" {
		t.Errorf("minimal schedule: %s", describeSteps(ce.Scenario.Steps))
	}
	s = loadSc(t, "txn-delayed-produce-tv1", append(sets, "kafka=4.0")...)
	s.Steps = nil
	holds(t, s, ExploreOptions{Faults: []string{"delayed-produce", "producer-pause"}}, "aborted_read", "torn_transaction", "lost_write")
}

// The liveness property: check finds the hanging transaction as a run
// whose recovery never converges, shrinks it to one delayed produce, and
// with partition verification on no delayed produce hangs one.
func TestCheckFindsHangingTransaction(t *testing.T) {
	sc := func(sets ...string) *Scenario {
		s := loadSc(t, "txn-hanging-no-verification", append([]string{"run.recovery=true", "run.duration=6s"}, sets...)...)
		s.RecoveryTimeout = 10 * sim.Second
		s.Steps = nil
		return s
	}
	if why := sc().PropertyMissing("unconverged"); why != "" {
		t.Fatal(why)
	}
	o := ExploreOptions{Faults: []string{"delayed-produce"}, MaxFor: 4 * sim.Second}
	ce := finds(t, sc(), o, "unconverged")
	// Delayed produces and nothing else: one, or up to three when short
	// ones only shift the timing the long one needs.
	ok := len(ce.Scenario.Steps) >= 1 && len(ce.Scenario.Steps) <= 3 && ce.Result.Verdict.Transactions.LSOStallMs >= 8000
	for _, st := range ce.Scenario.Steps {
		ok = ok && st.Action == "delay-message" && st.Message == "produce"
	}
	if !ok {
		t.Fatalf("minimal schedule: %s; LSO stall %vms", describeSteps(ce.Scenario.Steps), ce.Result.Verdict.Transactions.LSOStallMs)
	}
	holds(t, sc("transaction.partition.verification.enable=true"), o, "unconverged")
}
