package sweep

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"acksim/scenarios"

	"github.com/google/go-cmp/cmp"
)

const small = `name: small
base: healthy-cluster
trials: 6
seed: 3
set: [run.duration=10s]
grid:
  acks: ["1", "all"]
faults:
  crash: {per_hour: 400, for: 3s}
  power-loss: {per_hour: 200}
`

func TestResultsDoNotDependOnWorkers(t *testing.T) {
	s, err := Parse("small.yaml", []byte(small))
	if err != nil {
		t.Fatal(err)
	}
	_, one, err := Run(s, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, two, _ := Run(s, 2, nil)
	if diff := cmp.Diff(one, two); diff != "" {
		t.Fatalf("1 vs 2 workers differ:\n%s", diff)
	}
	faults := 0
	for _, tr := range one {
		faults += tr.Faults
	}
	if faults == 0 {
		t.Fatal("no trial drew a fault")
	}
}

// Trial i of every cell faces the same schedule and seed.
func TestCommonRandomNumbers(t *testing.T) {
	s, _ := Parse("small.yaml", []byte(small))
	cells := s.Cells()
	for trial := 0; trial < s.Trials; trial++ {
		a, _ := s.TrialScenario(cells[0], trial)
		b, _ := s.TrialScenario(cells[1], trial)
		if a.Seed != b.Seed || !cmp.Equal(describe(a.Steps), describe(b.Steps)) {
			t.Fatalf("trial %d differs between cells", trial)
		}
	}
	a, _ := s.TrialScenario(cells[0], 0)
	b, _ := s.TrialScenario(cells[0], 1)
	if a.Seed == b.Seed {
		t.Fatal("trials 0 and 1 share a seed")
	}
}

func TestWilson(t *testing.T) {
	for _, c := range []struct {
		k, n   int
		lo, hi float64
	}{{0, 40, 0, 0.0722}, {5, 10, 0.2366, 0.7634}, {10, 10, 0.7225, 1}, {1, 100, 0.0018, 0.0545}} {
		lo, hi := Wilson(c.k, c.n)
		if math.Abs(lo-c.lo) > 1e-3 || math.Abs(hi-c.hi) > 1e-3 {
			t.Errorf("Wilson(%d, %d) = (%.4f, %.4f), want (%.4f, %.4f)", c.k, c.n, lo, hi, c.lo, c.hi)
		}
	}
}

func TestSummaryAndPaired(t *testing.T) {
	cells := []Cell{{Index: 0, Settings: []string{"acks=1"}}, {Index: 1, Settings: []string{"acks=all"}}}
	ts := []Trial{{Cell: 0, Trial: 0, LostWrite: 3}, {Cell: 0, Trial: 1}, {Cell: 1, Trial: 0}, {Cell: 1, Trial: 1}}
	sums := Summarize(cells, ts)
	if sums[0].LossTrials != 1 || sums[0].PLoss != 0.5 || sums[0].MaxLost != 3 || sums[1].LossTrials != 0 {
		t.Fatalf("%+v", sums)
	}
	p := Paired(cells, ts, sums, 2)
	if len(p) != 1 || !strings.Contains(p[0], "on the 1 schedules where [acks=1] lost data, [acks=all] lost none on 1") {
		t.Fatalf("%q", p)
	}
}

func TestParseRejectsBadSpecs(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"trials: 5\ncolour: red\n", "line 2: field colour not found"},
		{"trials: 0\n", "trials"},
		{"trials: 5\nfaults:\n  crash: {per_hour: -1}\n", "per_hour"},
		{"trials: 5\nfaults:\n  crash: {per_hour: 1, for: soon}\n", "for"},
		{"trials: 5\nfaults:\n  meteor: {per_hour: 1}\n", "faults.meteor"},
		{"trials: 5\nfaults:\n  crash: {per_hour: .inf}\n", "per_hour"},
		{"trials: 5\nfaults:\n  crash: {per_hour: .nan}\n", "per_hour"},
		{"trials: 9223372036854775807\n", "trials"},
		{"trials: 5\ngrid: {acks: []}\n", "grid.acks"},
		{"trials: 10000000\ngrid: {acks: [0, 1, all], min.insync.replicas: [1, 2, 3], retries: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}\n", "cells x"},
	} {
		if _, err := Parse("s.yaml", []byte(c.yaml)); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "s.yaml") {
			t.Errorf("%q: got %v, want an error naming s.yaml and %q", c.yaml, err, c.want)
		}
	}
	if _, err := Default(); err != nil {
		t.Fatalf("default spec: %v", err)
	}
	// A bad grid key or value, or set entry, is an error at its line of the
	// spec (issue 17), not a --set error.
	for _, c := range []struct{ yaml, want string }{
		{"trials: 1\ngrid:\n  ackz: [\"1\"]\n", `s.yaml:3: grid.ackz: "1": unknown key`},
		{"trials: 1\ngrid:\n  acks:\n    - \"1\"\n    - \"7\"\n", `s.yaml:5: grid.acks: "7": 0, 1, all or -1`},
		{"trials: 1\nset:\n  - min.insync.replicas=9\n", `s.yaml:3: set: min.insync.replicas: "9"`},
	} {
		s, err := Parse("s.yaml", []byte(c.yaml))
		if err == nil {
			err = s.Check()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.yaml, err, c.want)
		}
	}
}

func describe(steps []scenarios.Step) []string {
	var out []string
	for _, s := range steps {
		out = append(out, s.Describe())
	}
	return out
}

// A sweep stopped part way and resumed from what finished gives exactly
// the trials of an uninterrupted run.
func TestStopAndResume(t *testing.T) {
	s, _ := Parse("small.yaml", []byte(small))
	_, full, err := Run(s, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var streamed []Trial
	_, part, err := RunWith(s, Options{Workers: 2, Stop: stop, OnTrial: func(tr Trial) {
		streamed = append(streamed, tr)
		if len(streamed) == 4 {
			close(stop)
		}
	}})
	if err != ErrStopped || len(part) < 4 || len(part) >= len(full) {
		t.Fatalf("stopped run: err %v, %d of %d trials", err, len(part), len(full))
	}
	if len(streamed) != len(part) {
		t.Fatalf("streamed %d trials, returned %d", len(streamed), len(part))
	}
	ran := 0
	_, resumed, err := RunWith(s, Options{Workers: 1, Prior: streamed, OnTrial: func(Trial) { ran++ }})
	if err != nil {
		t.Fatal(err)
	}
	if ran != len(full)-len(part) {
		t.Errorf("resume ran %d trials, want %d", ran, len(full)-len(part))
	}
	if diff := cmp.Diff(full, resumed); diff != "" {
		t.Fatalf("resumed differs from uninterrupted (-full +resumed):\n%s", diff)
	}
}

// Rack power losses and consumer crashes draw from racks and consumers of
// the base scenario, and a base without them is an error naming the field.
func TestRackAndConsumerFaults(t *testing.T) {
	dir := t.TempDir()
	base, _ := scenarios.Builtin("consumer-autocommit-crash")
	racked := strings.Replace(string(base), "cluster:\n", "cluster:\n  racks: [a, b, c]\n", 1)
	if racked == string(base) {
		t.Fatal("could not add racks to the base")
	}
	path := filepath.Join(dir, "base.yaml")
	os.WriteFile(path, []byte(racked), 0o644)
	spec := func(base, faults string) *Spec {
		s, err := Parse("r.yaml", []byte("name: r\nbase: "+base+"\ntrials: 4\nseed: 2\ngrid:\n  acks: [all]\nfaults:\n"+faults))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	both := "  rack-power-loss: {per_hour: 600, for: 2s}\n  consumer-crash: {per_hour: 600, for: 2s}\n"
	s := spec(path, both)
	actions := map[string]int{}
	for trial := 0; trial < s.Trials; trial++ {
		sc, err := s.TrialScenario(s.Cells()[0], trial)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range sc.Steps {
			actions[st.Action]++
			if st.Action == "power-loss" && (len(st.Target) != 1 || st.Target[0].Kind != "rack") {
				t.Errorf("rack power loss targets %v", st.Target)
			}
		}
	}
	for _, a := range []string{"power-loss", "restart", "consumer-crash", "consumer-restart"} {
		if actions[a] == 0 {
			t.Errorf("no %s drawn in %d trials: %v", a, s.Trials, actions)
		}
	}
	if _, _, err := Run(s, 2, nil); err != nil {
		t.Fatal(err)
	}
	for field, faults := range map[string]string{
		"faults.rack-power-loss": "  rack-power-loss: {per_hour: 60}\n",
		"faults.consumer-crash":  "  consumer-crash: {per_hour: 60}\n",
	} {
		if _, _, err := Run(spec("healthy-cluster", faults), 1, nil); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("healthy-cluster base: got %v, want an error naming %s", err, field)
		}
	}
}

// The README's example sweep spec parses and runs.
func TestReadmeExampleSpec(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	i := strings.Index(text, "name: my-sweep")
	j := strings.Index(text[i:], "```")
	if i < 0 || j < 0 {
		t.Fatal("README has no my-sweep example")
	}
	s, err := Parse("README.md", []byte(text[i:i+j]))
	if err != nil {
		t.Fatal(err)
	}
	s.Trials = 1
	s.Set = append(s.Set, "run.duration=5s")
	if _, ts, err := Run(s, 2, nil); err != nil || len(ts) != len(s.Cells()) {
		t.Fatalf("%d trials, %v", len(ts), err)
	}
}

// Bad chart settings are errors that name the field, the value and what
// is allowed.
func TestChartSpecErrors(t *testing.T) {
	base := "name: c\ntrials: 2\ngrid:\n  acks: [\"1\", all]\n  min.insync.replicas: [\"1\", \"2\"]\n  unclean.leader.election.enable: [\"false\", \"true\"]\ncharts:\n"
	cases := []struct{ charts, want string }{
		{"  heatmap: [acks]\n", "charts.heatmap"},
		{"  heatmap: [acks, linger.ms]\n", "must be a grid key"},
		{"  x: acks\n", "at least two numeric values"},
		{"  x: linger.ms\n", "must be a grid key"},
		{"  x: min.insync.replicas\n  lines: min.insync.replicas\n", "charts.lines"},
		{"  colour: red\n", "colour"},
	}
	for _, c := range cases {
		_, err := Parse("c.yaml", []byte(base+c.charts))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "c.yaml") {
			t.Errorf("%q: got %v, want an error naming c.yaml and %q", c.charts, err, c.want)
		}
	}
	if _, err := Parse("c.yaml", []byte(base+"  heatmap: [unclean.leader.election.enable, acks]\n  x: min.insync.replicas\n  lines: acks\n")); err != nil {
		t.Fatalf("valid charts section: %v", err)
	}
}

// FuzzParse: a sweep spec is refused with an error naming the file, or it
// expands into cells and checks; it never panics or hangs.
func FuzzParse(f *testing.F) {
	f.Add([]byte(defaultSpec))
	for _, s := range []string{"trials: 5\n", "trials: 5\ngrid: {acks: []}\n", "trials: 9223372036854775807\n",
		"trials: 5\nfaults:\n  crash: {per_hour: .inf}\n", "trials: 2\ngrid: {acks: [\"1\", all]}\nfaults: {crash: {per_hour: 10}}\n",
		"trials: 3\nbase: raft-healthy-cluster\ngrid: {write.caching: [\"true\", \"false\"]}\n", "{trials: 1}\n...\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(s.Cells()) <= 64 {
			s.Check()
		}
	})
}

// The set axis applies a group of settings together, so one grid can put
// designs whose settings do not mix side by side.
func TestSetAxisGroupsSettings(t *testing.T) {
	s, err := Parse("d.yaml", []byte("name: d\nbase: raft-healthy-cluster\ntrials: 2\ngrid:\n  set: [\"replication=kafka min.insync.replicas=2\", \"replication=raft write.caching=true\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	cells := s.Cells()
	if len(cells) != 2 {
		t.Fatalf("%d cells", len(cells))
	}
	for i, want := range []string{"kafka", "raft"} {
		sc, err := s.TrialScenario(cells[i], 0)
		if err != nil {
			t.Fatal(err)
		}
		r, err := sc.Resolve()
		if err != nil {
			t.Fatal(err)
		}
		if r.Spec.Replication != want || (want == "raft") != r.Spec.Broker.Raft.WriteCaching || (want == "kafka") != (r.Spec.Broker.MinISR == 2) {
			t.Errorf("cell %d: replication %s, write caching %v, min ISR %d", i, r.Spec.Replication, r.Spec.Broker.Raft.WriteCaching, r.Spec.Broker.MinISR)
		}
	}
	bad, _ := Parse("d.yaml", []byte("name: d\nbase: raft-healthy-cluster\ntrials: 2\ngrid:\n  set: [\"replication=raft min.insync.replicas=2\"]\n"))
	if err := bad.Check(); err == nil || !strings.Contains(err.Error(), "min.insync.replicas") {
		t.Errorf("a Kafka setting on Raft in a set group: %v", err)
	}
}

// A sweep says which fault kinds its losing trials held (issue 17): with
// acks=all, min.insync.replicas=2 and no flush, process crashes alone lose
// nothing, so every losing trial held a whole-cluster power loss, and the
// counts agree with the trials' own records.
func TestLossByKind(t *testing.T) {
	spec := `name: why
base: healthy-cluster
trials: 24
seed: 5
set: [run.duration=10s]
grid:
  acks: ["all"]
faults:
  crash: {per_hour: 300}
  cluster-power-loss: {per_hour: 150}
`
	s, err := Parse("why.yaml", []byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	cells, ts, err := Run(s, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	by, err := s.LossByKind(cells, ts)
	if err != nil {
		t.Fatal(err)
	}
	lossy := 0
	for _, tr := range ts {
		if tr.LostWrite > 0 {
			lossy++
		}
	}
	stats := map[string]KindStat{}
	for _, k := range by[0] {
		stats[k.Kind] = k
		if k.Lossy > k.Trials || k.Lossy > lossy {
			t.Errorf("%+v: more losing trials than trials", k)
		}
	}
	cpl := stats["cluster-power-loss"]
	if lossy == 0 || cpl.Lossy != lossy || cpl.Trials == 0 || stats["crash"].Trials == 0 {
		t.Errorf("%d losing trials; by kind %+v: want every one to hold a cluster-power-loss", lossy, by[0])
	}
}

// trials.jsonl reads without the spec (issue 17): each line has its cell's
// settings, the fault kinds its schedule drew, and the seed as a string
// (read back from a string or, as older files wrote it, a number).
func TestTrialLineIsSelfContained(t *testing.T) {
	s, _ := Parse("small.yaml", []byte(small))
	cells, ts, err := Run(s, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(ts[0])
	if err != nil {
		t.Fatal(err)
	}
	line := string(b)
	if !strings.Contains(line, `"settings":"`+cells[0].String()+`"`) || !strings.Contains(line, `"fault_kinds":[`) || !strings.Contains(line, fmt.Sprintf(`"seed":"%d"`, uint64(ts[0].Seed))) {
		t.Errorf("trial line: %s", line)
	}
	var back Trial
	old := strings.Replace(line, fmt.Sprintf(`"seed":"%d"`, uint64(ts[0].Seed)), fmt.Sprintf(`"seed":%d`, uint64(ts[0].Seed)), 1)
	for _, l := range []string{line, old} {
		if err := json.Unmarshal([]byte(l), &back); err != nil || back.Seed != ts[0].Seed {
			t.Errorf("%s: %v, seed %d", l, err, back.Seed)
		}
	}
}
