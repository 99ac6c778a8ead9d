package scenarios

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"acksim/history"
	"acksim/model"
	"acksim/model/check"
	"acksim/sim"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// Same scenario and seed: byte-identical trace and identical verdict.
func TestBuiltinsAreDeterministic(t *testing.T) {
	all, err := Catalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			run := func() (string, []byte) {
				var buf bytes.Buffer
				res, err := Run(s, Options{Tracer: &sim.JSONTracer{W: &buf}})
				if err != nil {
					t.Fatal(err)
				}
				v, _ := json.Marshal(res.Verdict)
				return buf.String(), v
			}
			t1, v1 := run()
			t2, v2 := run()
			if t1 != t2 {
				t.Fatal("two runs wrote different traces")
			}
			if !bytes.Equal(v1, v2) {
				t.Fatalf("two runs gave different verdicts:\n%s\n%s", v1, v2)
			}
			// The hash does not depend on whether a tracer is attached.
			res, _ := Run(s, Options{})
			var v3 map[string]any
			json.Unmarshal(v1, &v3)
			if res.Verdict.TraceHash != v3["trace_hash"] {
				t.Fatalf("hash with tracer %v, without %s", v3["trace_hash"], res.Verdict.TraceHash)
			}
		})
	}
}

// Golden verdicts: the verdict and trace hash of every built-in, in
// testdata/verdicts.golden. Regenerate with: go test ./scenarios -update
func TestBuiltinVerdictsGolden(t *testing.T) {
	all, err := Catalog()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, s := range all {
		res, err := Run(s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		v := res.Verdict
		fmt.Fprintf(&b, "%s seed=%d kafka=%s hash=%s records=%+v anomalies=%+v", s.Name, v.Seed, v.Kafka, v.TraceHash, v.Records, v.Anomalies)
		if v.Transactions != nil {
			fmt.Fprintf(&b, " txn=%+v", *v.Transactions)
		}
		if v.ExactlyOnce != nil {
			fmt.Fprintf(&b, " eos=%+v", *v.ExactlyOnce)
		}
		b.WriteString("\n")
	}
	golden := filepath.Join("testdata", "verdicts.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./scenarios -update)", err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Fatalf("verdicts changed (-golden +now); if intended, go test ./scenarios -update:\n%s", diff)
	}
}

func TestSeedChangesTheRun(t *testing.T) {
	s, _ := Load("acks1-leader-crash")
	a, _ := Run(s, Options{})
	s.Seed = 2
	b, _ := Run(s, Options{})
	if a.Verdict.TraceHash == b.Verdict.TraceHash {
		t.Fatal("seeds 1 and 2 gave the same trace hash")
	}
}

const base = `name: t
cluster:
  brokers: 3
  replication.factor: 3
producers:
  - name: p1
    workload: {records: 10}
`

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		name, yaml string
		want       []string // substrings of the error: file:line, field, value, what is allowed
	}{
		{"unknown top field", base + "colour: blue\n", []string{"t.yaml:8:", "colour", "unknown field"}},
		{"unknown config", strings.Replace(base, "  replication.factor: 3\n", "  replication.factor: 3\n  config:\n    min.insync.replica: 2\n", 1), []string{"t.yaml:6:", "cluster.config.min.insync.replica", "unknown setting", "min.insync.replicas"}},
		{"wrong type", strings.Replace(base, "brokers: 3", "brokers: three", 1), []string{"t.yaml:3:", "cluster.brokers", `"three"`, "integer from 1 to 64"}},
		{"bad acks", base + "    config: {acks: 2}\n", []string{"t.yaml:8:", "acks", `"2"`, "0, 1, all or -1"}},
		{"minisr above rf", strings.Replace(base, "  replication.factor: 3\n", "  replication.factor: 3\n  config:\n    min.insync.replicas: 4\n", 1), []string{"t.yaml:6:", "min.insync.replicas", `"4"`, "cannot be larger than the replication factor (3)"}},
		{"rf above brokers", strings.Replace(base, "replication.factor: 3", "replication.factor: 5", 1), []string{"t.yaml:4:", "cluster.replication.factor", `"5"`, "cannot be larger than cluster.brokers (3)"}},
		{"bad duration", base + "run: {duration: 10 seconds}\n", []string{"t.yaml:8:", "run.duration", `"10 seconds"`, "duration such as 30s"}},
		{"unknown profile", base + "kafka: \"5.0\"\n", []string{"t.yaml:8:", "kafka", `"5.0"`, "0.8, 0.8.2, 0.9, 0.10", "2.5, 2.6", "3.0.0, 3.1.0", "4.0, 4.1"}},
		{"missing broker", base + "faults:\n  - at: 1s\n    action: crash\n    target: 7\n", []string{"t.yaml:9:", "faults[0].target", `"7"`, "brokers are 1..3"}},
		{"unknown action", base + "faults:\n  - at: 1s\n    action: explode\n    target: 1\n", []string{"t.yaml:10:", "faults[0].action", `"explode"`, "unknown action"}},
		{"delay without extra", base + "faults:\n  - at: 1s\n    action: delay\n    groups: [[1], [2]]\n    for: 1s\n", []string{"t.yaml:9:", "faults[0].extra", "added one-way latency"}},
		{"delay without for", base + "faults:\n  - at: 1s\n    action: delay\n    groups: [[1], [2]]\n    extra: 1s\n", []string{"t.yaml:9:", "faults[0].for", "how long"}},
		{"permanent pause", base + "faults:\n  - at: 1s\n    action: pause\n    target: 1\n    permanent: true\n", []string{"t.yaml:12:", "faults[0].permanent", "only crash, power-loss, disk-loss can be permanent"}},
		{"commit before with auto-commit", base + "consumers:\n  - name: c1\n    processing: {commit: before}\n", []string{"t.yaml:10:", "consumers[0].processing.commit", "enable.auto.commit: false"}},
		{"bad on.restart", strings.Replace(base, "{records: 10}", "{records: 10, on.restart: replay}", 1), []string{"t.yaml:7:", "workload.on.restart", `"replay"`, "nothing or resend-unacked"}},
		{"two triggers", base + "faults:\n  - at: 1s\n    after: 1s\n    action: heal\n", []string{"t.yaml:9:", "exactly one trigger"}},
		{"idempotence conflict", base + "    config: {acks: 1, enable.idempotence: true}\n", []string{"enable.idempotence", "requires acks=all"}},
		{"idempotence before 0.11", base + "    config: {enable.idempotence: true}\nkafka: \"0.10\"\n", []string{"enable.idempotence", "does not exist before Kafka 0.11"}},
		{"elr without kraft", strings.Replace(base, "  replication.factor: 3\n", "  replication.factor: 3\n  config:\n    eligible.leader.replicas.enable: true\n", 1) + "kafka: \"2.8\"\n", []string{"eligible.leader.replicas.enable", "need KRaft"}},
		{"bad expect", base + "expect:\n  lost_write: lots\n", []string{"t.yaml:9:", "expect.lost_write", `"lots"`}},
		{"unknown expect", base + "expect:\n  lost: 0\n", []string{"t.yaml:9:", "expect.lost", "unknown field"}},
		{"no producer client", base + "faults:\n  - at: 1s\n    action: producer-crash\n    target: p9\n", []string{"faults[0].target", `"p9"`, "no such producer"}},
		{"not yaml", "name: [\n", []string{"t.yaml:", "not valid YAML"}},
		{"empty", "", []string{"t.yaml", "empty"}},
		{"delivery timeout too small", base + "    config: {delivery.timeout.ms: 1000}\n", []string{"delivery.timeout.ms", "at least linger.ms + request.timeout.ms"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := Parse("t.yaml", []byte(c.yaml))
			if err == nil {
				_, err = s.Resolve()
			}
			if err == nil {
				t.Fatalf("no error for:\n%s", c.yaml)
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error is %T, want Errors: %v", err, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestSetOverrides(t *testing.T) {
	s, err := Load("acks1-leader-crash")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range []string{"acks=all", "min.insync.replicas=2", "kafka=2.8", "seed=9", "cluster.brokers=4", "producer.linger.ms=5"} {
		if err := s.Set(kv); err != nil {
			t.Fatalf("%s: %v", kv, err)
		}
	}
	r, err := s.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if r.Spec.Producers[0].Cfg.Acks != -1 || r.Spec.Broker.MinISR != 2 || r.Spec.Profile.Name != "2.8" || r.Spec.Seed != 9 || r.Spec.Brokers != 4 {
		t.Fatalf("overrides not applied: %+v", r.Spec)
	}
	for _, bad := range []string{"acks=2", "nosuchkey=1", "noequals", "kafka=9.9"} {
		err := s.Set(bad)
		if err == nil {
			_, err = s.Resolve()
		}
		if err == nil || !strings.Contains(err.Error(), "--set") {
			t.Errorf("--set %s: got %v, want an error naming --set", bad, err)
		}
		s, _ = Load("acks1-leader-crash")
	}
}

// The same scenario replayed against versions: the profile switches change
// what happens (unclean election was on by default before 0.11).
func TestProfilesChangeBehaviour(t *testing.T) {
	s, _ := Load("isr-shrink-clean-wait")
	s.Settings = s.Settings[:0] // drop explicit unclean=false; keep the profile default
	s.Set("min.insync.replicas=1")
	s.Set("replica.lag.time.max.ms=2000")
	s.Expect = nil
	lost := map[string]int{}
	for _, k := range []string{"0.10", "3.9"} {
		s.Kafka = k
		res, err := Run(s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		lost[k] = res.Verdict.Anomalies.LostWrite
	}
	if lost["0.10"] == 0 || lost["3.9"] != 0 {
		t.Fatalf("lost writes by profile = %v; want loss with 0.10 (unclean election on by default), none with 3.9", lost)
	}
}

func FuzzParse(f *testing.F) {
	all, _ := Catalog()
	for _, s := range all {
		b, _ := Builtin(s.Name)
		f.Add(b)
	}
	f.Add([]byte(base))
	f.Add([]byte("faults: [{when: {leo: {broker: 1}}}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err == nil {
			s.Resolve()
		}
	})
}

// Numbers that would wrap, overflow simulated time or never end are
// refused with the field and what is allowed, never run (issue 18).
func TestOutOfRangeNumbersRefused(t *testing.T) {
	for _, kv := range []string{
		"broker.session.timeout.ms=18446744073709552", "linger.ms=9223372036854776", "request.timeout.ms=9223372036854775807",
		"replica.lag.time.max.ms=2562047h", "run.duration=2562047h",
		"log.flush.scheduler.interval.ms=1ns", "request.timeout.ms=500us",
		"workload.rate=NaN", "workload.rate=Inf", "workload.rate=-Inf", "workload.rate=1e300", "workload.rate=1e-10",
	} {
		s, err := Load("healthy-cluster")
		if err != nil {
			t.Fatal(err)
		}
		err = s.Set(kv)
		if err == nil {
			_, err = s.Resolve()
		}
		k, _, _ := strings.Cut(kv, "=")
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s: got %v, want an error naming %s", kv, err, k)
		}
	}
	for _, doc := range []string{
		"name: x\nproducers: [{name: p1}]\nfaults:\n  - after: 2562047h\n    action: heal\n",
		"name: x\nproducers: [{name: p1}]\ncluster:\n  network: {latency: 2562047h}\n",
		"name: x\nproducers: [{name: p1}]\ncluster:\n  disk: {fsync: 2562047h}\n",
		"name: x\nproducers: [{name: p1, workload: {rate: .nan}}]\n",
		"name: x\nproducers: [{name: p1, workload: {rate: .inf}}]\n",
	} {
		s, err := Parse("x.yaml", []byte(doc))
		if err == nil {
			_, err = s.Resolve()
		}
		if err == nil || !strings.Contains(err.Error(), "x.yaml") {
			t.Errorf("%q: got %v, want an error naming the file", doc, err)
		}
	}
}

// Careless input is refused with the field (issue 18, smaller items): no
// producers, a second document, control characters in names, tags, and a
// --set that has nothing to apply to.
func TestCarelessInputRefused(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{"name: x\nproducers: []\n", "producers"},
		{"name: x\nproducers: [{name: p1}]\n---\nname: y\n", "second YAML document"},
		{"name: \"x\\ny\"\nproducers: [{name: p1}]\n", "name"},
		{"name: x\nproducers: [{name: \"p\\e1\"}]\n", "producers[0].name"},
		{"name: x\nproducers: [{name: !!binary cDE=}]\n", "!!binary"},
		{"name: x\ncluster: {topic: \"a\\tb\"}\nproducers: [{name: p1}]\n", "cluster.topic"},
	} {
		_, err := Parse("x.yaml", []byte(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "x.yaml") {
			t.Errorf("%q: got %v, want an error naming x.yaml and %q", c.doc, err, c.want)
		}
	}
	s, err := Load("healthy-cluster")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set("enable.auto.commit=false"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve(); err == nil || !strings.Contains(err.Error(), "no consumers") {
		t.Errorf("a consumer setting without consumers: got %v", err)
	}
}

// Memory follows what is sent, not what a workload could send: ten
// producers with 10^8 records each at 110 records/s for a second
// allocate next to nothing (issue 18, item 10); a run estimated past the
// memory limit is refused with its estimate (item 11).
func TestMemoryBounded(t *testing.T) {
	var doc strings.Builder
	doc.WriteString("name: big\nrun: {duration: 1s}\nproducers:\n")
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&doc, "  - {name: p%d, workload: {records: 100000000, rate: 110}}\n", i)
	}
	s, err := Parse("big.yaml", []byte(doc.String()))
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if c := r.Cost(s); c.Records > 2000 || c.CheckMemory("the run", DefaultMaxMemory) != nil {
		t.Fatalf("cost %+v", c)
	}
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	res := RunSpec(s, r, Options{})
	runtime.ReadMemStats(&b)
	if got := b.TotalAlloc - a.TotalAlloc; got > 200<<20 {
		t.Fatalf("a run of %d records allocated %d MB", res.Verdict.Records.Sent, got>>20)
	}
	huge, _ := Load("healthy-cluster")
	for _, kv := range []string{"run.duration=600s", "workload.rate=100000", "cluster.partitions=50", "cluster.brokers=9"} {
		if err := huge.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	hr, err := huge.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	err = hr.Cost(huge).CheckMemory("the run", DefaultMaxMemory)
	var le *LimitError
	if !errors.As(err, &le) || le.Need < 6<<30 || !strings.Contains(err.Error(), "--max-memory") {
		t.Fatalf("a 60-million-record run: %v", err)
	}
}

// FuzzSet: any --set pair is either refused with an error or runs; it never
// panics, wraps or hangs. Small runs are run for a simulated second.
func FuzzSet(f *testing.F) {
	for _, kv := range []string{"acks=all", "acks=most", "min.insync.replicas=2", "linger.ms=9223372036854776", "workload.rate=NaN",
		"workload.rate=1e-10", "log.flush.scheduler.interval.ms=1ns", "replication=raft", "write.caching=true", "run.duration=1ms",
		"cluster.brokers=0", "enable.idempotence=true", "retries=-1", "flush.bytes=0", "seed=18446744073709551615", "=", "kafka=0.8"} {
		k, v, _ := strings.Cut(kv, "=")
		f.Add(k, v)
	}
	f.Fuzz(func(t *testing.T, k, v string) {
		s, err := Load("healthy-cluster")
		if err != nil {
			t.Fatal(err)
		}
		if s.Set(k+"="+v) != nil || s.Set("run.duration=1s") != nil || s.Set("run.recovery=false") != nil {
			return
		}
		r, err := s.Resolve()
		if err != nil || r.Cost(s).Records > 5000 {
			return
		}
		if _, bug := runGuarded(s, r, Options{}); bug != nil {
			t.Fatalf("%s=%s broke an invariant: %v", k, v, bug)
		}
	})
}

// Reporting progress does not change the run.
func TestProgressKeepsTheRun(t *testing.T) {
	s, err := Load("acks1-leader-crash")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Run(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	withProgress, _ := Run(s, Options{Progress: func(done, total sim.Time) { calls++ }})
	if calls < 2 || plain.Verdict.TraceHash != withProgress.Verdict.TraceHash {
		t.Fatalf("%d progress calls; hashes %s and %s", calls, plain.Verdict.TraceHash, withProgress.Verdict.TraceHash)
	}
}

// KIP-360 (issue 12, item 5): after an unclean election truncated
// acknowledged sequences, a 2.5+ idempotent producer bumps its epoch and its
// records are acknowledged within seconds; before 2.5 the batch fails at
// once. (It used to retry the same sequence until delivery.timeout.ms: the
// last acknowledgements came two minutes late, or never.)
func TestIdempotentProducerEpochBump(t *testing.T) {
	s := loadSc(t, "isr-shrink-unclean-election")
	res := runSet(t, s, Options{})
	v := res.Verdict
	if v.Records.Unknown != 0 || v.Records.Acked != v.Records.Sent || v.LatencyMs.P999 > 30_000 {
		t.Fatalf("3.9: records %+v, p99.9 %.0f ms", v.Records, v.LatencyMs.P999)
	}
	res = runSet(t, loadSc(t, "isr-shrink-unclean-election"), Options{},
		"kafka=0.11", "enable.idempotence=true", "retries=5", "max.in.flight.requests.per.connection=1", "acks=all")
	v = res.Verdict
	if v.Records.Unknown+v.Records.NotWritten == 0 || v.LatencyMs.P999 > 30_000 {
		t.Fatalf("0.11: records %+v, p99.9 %.0f ms: want the gapped batch failed at once", v.Records, v.LatencyMs.P999)
	}
}

// Availability as the producer sees it (issue 12, item 7): a leader cut off
// from everyone is still the controller's leader until it is fenced, but the
// producer gets no acknowledgement the whole time; unavailable_ms says so,
// offline_ms keeps the controller's view, and the produce errors are counted.
func TestUnavailableAsTheProducerSeesIt(t *testing.T) {
	doc := "name: zombie\nproducers:\n  - name: p1\n    config: {acks: all}\n    workload: {rate: 500}\nrun: {duration: 20s}\nfaults:\n  - at: 3s\n    action: isolate\n    target: leader\n  - at: 8s\n    action: heal\n"
	s := parseDoc(t, "zombie.yaml", doc)
	res := runSet(t, s, Options{})
	v := res.Verdict
	if v.UnavailableMs < 4000 || v.UnavailableMs < v.OfflineMs+3000 || len(v.ProduceErrors) == 0 {
		t.Fatalf("unavailable %.0f ms, offline %.0f ms, errors %v: want the producer's 5 s without acknowledgements, more than the controller's view", v.UnavailableMs, v.OfflineMs, v.ProduceErrors)
	}
	t.Logf("unavailable %.0f ms, offline %.0f ms, errors %v", v.UnavailableMs, v.OfflineMs, v.ProduceErrors)
}

// Warnings say what a user should know, and only that (issue 12, "also"):
// log.flush.interval.ms without a flush scheduler, whatever the order of
// the settings; idempotence turned off silently by acks, retries or
// in-flight settings.
func TestWarnings(t *testing.T) {
	warns := func(name string, sets ...string) string {
		s, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range sets {
			if err := s.Set(kv); err != nil {
				t.Fatal(err)
			}
		}
		r, err := s.Resolve()
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(r.Warnings, "\n")
	}
	if w := warns("cluster-power-loss-flush-interval"); w != "" {
		t.Errorf("both flush settings set, yet: %s", w)
	}
	if w := warns("healthy-cluster", "log.flush.interval.ms=1000"); !strings.Contains(w, "log.flush.scheduler.interval.ms") {
		t.Errorf("no warning for log.flush.interval.ms alone: %q", w)
	}
	if w := warns("healthy-cluster", "acks=1"); !strings.Contains(w, "idempotence") {
		t.Errorf("no warning when acks=1 turns idempotence off: %q", w)
	}
	if w := warns("healthy-cluster"); w != "" {
		t.Errorf("healthy-cluster warns: %s", w)
	}
}

// Consumers follow leadership (issue 12, item 3): when its fetches to a
// powered-off leader go unanswered, a consumer refreshes its metadata and
// reads from the new leader, before the recovery phase restarts anything.
func TestConsumerFollowsNewLeader(t *testing.T) {
	doc := `name: follow
cluster: {config: {min.insync.replicas: 2}}
producers:
  - name: p1
    config: {acks: all}
    workload: {rate: 200}
consumers:
  - name: c1
run: {duration: 25s}
faults:
  - at: 3s
    action: power-loss
    target: leader
`
	s := parseDoc(t, "follow.yaml", doc)
	res := runSet(t, s, Options{})
	late := 0
	for _, p := range res.History.Processed {
		if p.At > sim.Time(14*sim.Second) && p.At < sim.Time(25*sim.Second) {
			late++
		}
	}
	if late == 0 {
		t.Fatalf("the consumer processed nothing between the election and the end of the faulty phase")
	}
}

// A step relative to a trigger (issue 13): `when` with `after` acts that
// long after the condition held, and a timeout no longer applies once it
// held. The step is exported and parsed back unchanged.
func TestWhenThenAfter(t *testing.T) {
	doc := "name: wait\nproducers:\n  - name: p1\n    workload: {rate: 500}\nrun: {duration: 20s}\nfaults:\n" +
		"  - at: 2s\n    action: crash\n    target: 3\n" +
		"  - when: {isr.size: 2}\n    after: 5s\n    timeout: 12s\n    action: crash\n    target: leader\n"
	s := parseDoc(t, "wait.yaml", doc)
	res := runSet(t, s, Options{})
	var shrunk sim.Time = -1
	for _, e := range res.History.Events {
		if e.Kind == history.ISR && strings.Contains(e.Text, "shrank to [1 2]") && shrunk < 0 {
			shrunk = e.At
		}
	}
	if len(res.Fired) != 2 || res.Fired[1].Skipped || shrunk < 0 {
		t.Fatalf("fired %+v, ISR shrank at %v", res.Fired, shrunk)
	}
	if got := res.Fired[1].At.Sub(shrunk); got != 5*sim.Second {
		t.Errorf("the step acted %v after the ISR shrank, want 5s (%+v)", got, res.Fired[1])
	}
	out, err := yaml.Marshal(StepNode(s.Steps[1]))
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("back.yaml", []byte("name: back\nproducers: [{name: p1}]\nfaults:\n  - "+strings.ReplaceAll(strings.TrimSpace(string(out)), "\n", "\n    ")+"\n"))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	back.Steps[0].Line = s.Steps[1].Line
	if diff := cmp.Diff(s.Steps[1], back.Steps[0]); diff != "" {
		t.Errorf("export round trip (-want +got):\n%s\n%s", diff, out)
	}
}

// A permanent fault (issue 13): the broker is not restarted, by a later
// step or by recovery; recovery settles on the other brokers, and the
// verdict names the broker that never came back. Both designs.
func TestPermanentFault(t *testing.T) {
	doc := "name: perm\nproducers:\n  - name: p1\n    config: {acks: all}\n    workload: {rate: 500}\nrun: {duration: 10s}\nfaults:\n" +
		"  - at: 3s\n    action: disk-loss\n    target: leader\n    permanent: true\n  - at: 6s\n    action: restart\n    target: all\n"
	for _, design := range []string{"kafka", "raft"} {
		s := parseDoc(t, "perm.yaml", doc)
		res := runSet(t, s, Options{}, "replication="+design)
		v := res.Verdict
		if !v.Converged || !slices.Equal(v.Gone, []int{1}) || v.Anomalies.LostWrite != 0 || v.Records.Acked == 0 {
			t.Errorf("%s: converged %v, gone %v, lost %d, acked %d: want converged without broker 1, nothing lost", design, v.Converged, v.Gone, v.Anomalies.LostWrite, v.Records.Acked)
		}
		for _, e := range res.History.Events {
			if e.Kind == history.Restart && e.Broker == 1 {
				t.Errorf("%s: broker 1 restarted at %v", design, e.At)
			}
		}
		for _, p := range res.History.Partitions {
			if p.Leader == 1 || len(p.Replicas) != 2 {
				t.Errorf("%s: final partition %d led by %d with %d replicas", design, p.TP, p.Leader, len(p.Replicas))
			}
		}
	}
}

// A controller outage (issue 13): while the quorum is unreachable nothing
// is fenced or elected, even with the leader dead; when it returns, broker
// sessions count from then, so the dead leader is fenced one session
// timeout later, not at once.
func TestControllerOutage(t *testing.T) {
	doc := "name: co\nproducers:\n  - name: p1\n    config: {acks: all}\n    workload: {rate: 500}\nrun: {duration: 30s}\nfaults:\n" +
		"  - at: 2s\n    action: controller-outage\n    for: 10s\n  - at: 3s\n    action: crash\n    target: leader\n"
	s := parseDoc(t, "co.yaml", doc)
	res := runSet(t, s, Options{})
	var elected sim.Time = -1
	for _, e := range res.History.Events {
		if (e.Kind == history.Elect || e.Kind == history.Fence) && e.At < sim.Time(21*sim.Second) {
			t.Errorf("at %v, during the outage or before a session timeout after it: %s", e.At, e.Text)
		}
		if e.Kind == history.Elect && elected < 0 {
			elected = e.At
		}
	}
	if elected < 0 || res.Verdict.Anomalies.LostWrite != 0 {
		t.Errorf("first election at %v, lost %d: want an election after the outage, nothing lost", elected, res.Verdict.Anomalies.LostWrite)
	}
}

// Each machine's writeback flusher runs at its own phase (issue 13,
// KAFKA-3919): after a whole-cluster power loss the replicas' durable
// prefixes differ by seconds of records, and a replica ahead of the new
// leader truncates thousands of them; with writeback.phase: aligned they
// differ by a few records.
func TestWritebackPhase(t *testing.T) {
	spread := func(phase string) (durable []int64, truncated int64) {
		s := loadSc(t, "cluster-power-loss-writeback-phase")
		res := runSet(t, s, Options{}, "writeback.phase="+phase)
		for _, r := range res.History.Removals {
			switch r.Verb {
			case history.Lost:
				durable = append(durable, r.From)
			case history.Truncated:
				truncated += r.To - r.From + 1
			}
		}
		slices.Sort(durable)
		return durable, truncated
	}
	d, tr := spread("random")
	if len(d) != 3 || d[2]-d[0] < 1000 || tr < 1000 {
		t.Errorf("random phases: durable prefixes %v, %d records truncated: want them seconds apart and a replica truncated", d, tr)
	}
	d, tr = spread("aligned")
	if len(d) != 3 || d[2]-d[0] > 10 || tr > 10 {
		t.Errorf("aligned: durable prefixes %v, %d records truncated: want them within a few records", d, tr)
	}
}

// Every release from 0.8.2 to 4.1 runs with the rules and defaults it
// really has (issue 13, versions; ../shared/kafka-semantics.md §2).
func TestReleases(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   func(p model.Profile) bool
		want string
	}{
		{"0.8.2", func(p model.Profile) bool {
			return p.Defaults.Acks == 0 && p.Defaults.UncleanElection && !p.Rules.EpochTruncation
		}, "Scala producer acks=0, unclean on, HW truncation"},
		{"0.9", func(p model.Profile) bool { return p.Defaults.Acks == 1 && !p.Features.Idempotence }, "Java producer acks=1, no idempotence"},
		{"1.0", func(p model.Profile) bool { return p.Features.IdempotentInFlight == 5 && !p.Features.DeliveryTimeout }, "5 in flight, no delivery.timeout.ms"},
		{"2.4", func(p model.Profile) bool {
			return p.Features.DeliveryTimeout && p.Defaults.ReplicaLagTimeMax == 10*sim.Second && p.Defaults.SessionTimeout == 6*sim.Second && !p.Features.EpochBump
		}, "KIP-91, lag 10 s, ZooKeeper session 6 s, no epoch bump"},
		{"2.5", func(p model.Profile) bool {
			return p.Defaults.ReplicaLagTimeMax == 30*sim.Second && p.Defaults.SessionTimeout == 18*sim.Second && p.Features.EpochBump
		}, "KIP-537, KIP-360"},
		{"3.0.0", func(p model.Profile) bool {
			return p.Defaults.Acks == -1 && !p.Defaults.Idempotence && !p.Features.KRaft
		}, "acks=all, idempotence not enabled (KAFKA-13598), ZooKeeper"},
		{"3.0", func(p model.Profile) bool { return p.Defaults.Acks == -1 && p.Defaults.Idempotence }, "acks=all and idempotence"},
		{"3.4", func(p model.Profile) bool { return p.Features.KRaft && !p.Rules.IneligibleStaleEpoch }, "KRaft without KIP-903"},
		{"3.5", func(p model.Profile) bool { return p.Rules.IneligibleStaleEpoch && !p.Rules.StrictMinISRHW }, "KIP-903, not KAFKA-15583"},
		{"3.7", func(p model.Profile) bool { return p.Rules.StrictMinISRHW && !p.Rules.ELR }, "KAFKA-15583"},
		{"4.0", func(p model.Profile) bool {
			return !p.Rules.ELR && p.Defaults.LingerMs == 5*sim.Millisecond && p.Features.StrictIdempotence
		}, "ELR off, linger.ms 5, strict idempotence"},
		{"4.1", func(p model.Profile) bool { return p.Rules.ELR && p.Features.StrictIdempotence }, "ELR on"},
	} {
		p, ok := model.LookupProfile(c.name)
		if !ok || p.Name != c.name || !c.ok(p) {
			t.Errorf("kafka %s: got %+v; want %s", c.name, p, c.want)
		}
	}
	// KAFKA-13598 end to end: the same producer, idempotence left to the
	// default, duplicates on retries in 3.0.0 and none in 3.0.1.
	raw, err := catalogFS.ReadFile("catalog/retries-duplicate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Replace(string(raw), "      enable.idempotence: false\n", "", 1)
	dups := map[string]int{}
	for _, k := range []string{"3.0.0", "3.0"} {
		s := parseDoc(t, "r.yaml", doc)
		res := runSet(t, s, Options{}, "kafka="+k)
		dups[k] = res.Verdict.Anomalies.Duplicate
	}
	if dups["3.0.0"] == 0 || dups["3.0"] != 0 {
		t.Errorf("duplicates %v: want some in 3.0.0 (idempotence not enabled) and none in 3.0", dups)
	}
	// 4.0: more than 5 in flight with idempotence by default is an error.
	s, err := Parse("r.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range []string{"kafka=4.0", "max.in.flight.requests.per.connection=6"} {
		if err := s.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Resolve(); err == nil || !strings.Contains(err.Error(), "max.in.flight.requests.per.connection") {
		t.Errorf("4.0 with 6 in flight: %v, want an error naming max.in.flight.requests.per.connection", err)
	}
}

// Kafka 0.8's replica.lag.max.messages (issue 13): a follower that is more
// than 4000 messages behind when the ISR is checked (every 5 s here) leaves
// the ISR though it fetched moments ago; from 0.9 (KIP-16) only the time
// rule applies.
func TestLagMaxMessages(t *testing.T) {
	doc := "name: burst\nproducers:\n  - name: p1\n    config: {acks: 1}\n    workload: {rate: 20000}\nrun: {duration: 8s}\nfaults:\n" +
		"  - at: 4600ms\n    action: pause\n    target: 2\n    for: 600ms\n"
	shrank := map[string]bool{}
	for _, k := range []string{"0.8", "0.9"} {
		s := parseDoc(t, "burst.yaml", doc)
		res := runSet(t, s, Options{}, "kafka="+k)
		for _, e := range res.History.Events {
			if e.Kind == history.ISR && strings.Contains(e.Text, "shrank") && e.At < sim.Time(8*sim.Second) {
				shrank[k] = true
			}
		}
	}
	if !shrank["0.8"] || shrank["0.9"] {
		t.Errorf("ISR shrank during the run: %v; want on 0.8 (message lag) and not on 0.9", shrank)
	}
	s, _ := Parse("burst.yaml", []byte(doc))
	s.Set("replica.lag.max.messages=100")
	if _, err := s.Resolve(); err == nil || !strings.Contains(err.Error(), "only in Kafka 0.8") {
		t.Errorf("replica.lag.max.messages on 3.9: %v", err)
	}
}

// Topic-level configs (issue 13) beat the broker's whatever the order:
// flush.messages over log.flush.interval.messages, and so on; each design
// has its own; --set topic.KEY sets one.
func TestTopicConfigOverridesBroker(t *testing.T) {
	doc := strings.Replace(base, "  replication.factor: 3\n", "  replication.factor: 3\n  topic.config:\n    flush.messages: 1\n    min.insync.replicas: 2\n  config:\n    log.flush.interval.messages: never\n    min.insync.replicas: 1\n", 1)
	s, err := Parse("t.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	s.Set("log.flush.interval.messages=never") // a later broker value still loses
	r, err := s.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if b := r.Spec.Broker; b.FlushIntervalMessages != 1 || b.MinISR != 2 {
		t.Errorf("flush every %d messages, min ISR %d: want the topic's 1 and 2", b.FlushIntervalMessages, b.MinISR)
	}
	s.Set("topic.flush.messages=5")
	if r, err = s.Resolve(); err != nil || r.Spec.Broker.FlushIntervalMessages != 5 {
		t.Errorf("--set topic.flush.messages=5: %v", err)
	}
	s.Set("replication=raft")
	if _, err := s.Resolve(); err == nil || !strings.Contains(err.Error(), "not a topic config of the raft design") {
		t.Errorf("flush.messages on raft: %v", err)
	}
	bad := strings.Replace(base, "  replication.factor: 3\n", "  replication.factor: 3\n  topic.config:\n    retention.ms: 1000\n", 1)
	if _, err := Parse("t.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "t.yaml:6: cluster.topic.config.retention.ms") {
		t.Errorf("unknown topic config: %v", err)
	}
}

// Before KIP-380 (2.2) the controller misses a restart within the session
// timeout, and the restarted follower keeps its ISR seat: KIP-101's first
// scenario loses the records it truncated. With the restart detected it
// leaves the ISR, and the records are stranded on the old leader, not lost.
func TestRestartWithinSession(t *testing.T) {
	counts := map[string][2]int{}
	for _, v := range []string{"false", "true"} {
		s := loadSc(t, "hw-truncation-quick-restart")
		res := runSet(t, s, Options{}, "acksim.restart.detected="+v)
		counts[v] = [2]int{res.Verdict.Anomalies.LostWrite, res.Verdict.Stranded}
	}
	if counts["false"][0] < 2000 || counts["true"][0] != 0 || counts["true"][1] == 0 {
		t.Errorf("(lost, stranded) by restart detection: %v; want loss without it, stranded records and no loss with it", counts)
	}
	for _, k := range []string{"2.1", "2.2"} {
		p, _ := model.LookupProfile(k)
		if p.Rules.BounceDetected != (k == "2.2") {
			t.Errorf("kafka %s: restart detection %v", k, p.Rules.BounceDetected)
		}
	}
}

// KIP-320 (issue 12, item 3): after an unclean election truncated the log
// under a consumer, validation moves it back to the divergence point; a
// pre-2.1 consumer goes on from its old position and silently skips the
// new leader's records there.
func TestConsumerPositionValidation(t *testing.T) {
	loss := map[string]int{}
	for _, v := range []string{"true", "false"} {
		s := loadSc(t, "consumer-unclean-election-validation")
		res := runSet(t, s, Options{CheckEveryEvent: true}, "acksim.consumer.validate.position="+v)
		loss[v] = res.Verdict.Anomalies.ConsumerLoss
	}
	if loss["true"] != 0 || loss["false"] < 1000 {
		t.Errorf("consumer loss with and without validation: %v; want none with it and the new leader's records skipped without", loss)
	}
	for k, want := range map[string]bool{"2.0": false, "2.1": true} {
		p, _ := model.LookupProfile(k)
		if model.DefaultConsumer(p).ValidatePosition != want {
			t.Errorf("kafka %s: validation %v", k, !want)
		}
	}
}

// The cost estimate covers what a run holds at its end (the live heap, after
// a collection) plus what the checkers allocate reading it, for the
// layouts the estimate's figures were measured on: large batches (a high
// rate, RF 3) and one record a batch (a low rate, RF 5, the per-replica
// worst case). It also stays within twice the measure, so that it refuses
// no run that would fit.
func TestCostCoversMeasuredHeap(t *testing.T) {
	for _, tc := range []struct {
		name string
		sets []string
	}{
		{"100k records/s, RF 3", []string{"workload.rate=100000", "run.duration=2s"}},
		{"2,000 records/s, RF 5", []string{"workload.rate=2000", "run.duration=100s", "cluster.brokers=5", "cluster.replication.factor=5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := Load("healthy-cluster")
			for _, kv := range tc.sets {
				if err := s.Set(kv); err != nil {
					t.Fatal(err)
				}
			}
			r, err := s.Resolve()
			if err != nil {
				t.Fatal(err)
			}
			cost := r.Cost(s)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			res := RunSpec(s, r, Options{})
			runtime.GC()
			runtime.ReadMemStats(&after)
			live := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			check.Run(res.History)
			var checked runtime.MemStats
			runtime.ReadMemStats(&checked)
			need := live + int64(checked.TotalAlloc-after.TotalAlloc)
			runtime.KeepAlive(res)
			perRecord := func(b int64) int64 { return b / max(int64(res.Verdict.Records.Sent), 1) }
			t.Logf("%d records: estimated %d B a record, measured %d (live %d, checkers %d)", res.Verdict.Records.Sent, perRecord(cost.Bytes), perRecord(need), perRecord(live), perRecord(need-live))
			if need > cost.Bytes || cost.Bytes > 2*need {
				t.Errorf("estimated %d bytes a record, measured %d", perRecord(cost.Bytes), perRecord(need))
			}
		})
	}
}
