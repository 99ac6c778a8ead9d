package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"acksim/scenarios"
)

var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "acksim-bin")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "acksim")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		panic(string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func acksim(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestRunBuiltinExplainsAndReplays(t *testing.T) {
	out, _, code := acksim(t, t.TempDir(), "run", "acks1-leader-crash")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"LOST", "truncated", "replay: acksim run acks1-leader-crash --seed 1", "ok     lost_write > 0"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestContradictedExpectationExits1(t *testing.T) {
	_, errOut, code := acksim(t, t.TempDir(), "run", "acks1-leader-crash", "--set", "acks=all")
	if code != 1 || !strings.Contains(errOut, "lost_write > 0 (got 0)") || !strings.Contains(errOut, "--set acks=all") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func TestBadInputExits2WithFileLineField(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("name: x\nproducers:\n  - config: {acks: 7}\n"), 0o644)
	out, errOut, code := acksim(t, dir, "run", "bad.yaml", "--trace", "t.jsonl")
	if code != 2 || !strings.Contains(errOut, `bad.yaml:3: producers[0].config.acks: "7": 0, 1, all or -1`) || out != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "t.jsonl")); !os.IsNotExist(err) {
		t.Fatal("a trace file was written although nothing ran")
	}
	for _, args := range [][]string{{"run", "no-such-scenario"}, {"run", "acks1-leader-crash", "--set", "acks=2"}, {"run"}, {"run", "x", "--kafka", "9"}, {"bogus"}} {
		if _, errOut, code := acksim(t, dir, args...); code != 2 || errOut == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
	// A property the scenario cannot break is refused, not searched for.
	for _, c := range []struct{ base, prop, want string }{
		{"healthy-cluster", "eos_loss", "no consume-transform-produce application"},
		{"healthy-cluster", "aborted_read", "no transactional producer"},
		{"acks1-leader-crash", "consumer_loss", "no consumers"},
	} {
		if _, errOut, code := acksim(t, dir, "check", c.base, "--property", c.prop); code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("check %s --property %s: exit %d, stderr %q", c.base, c.prop, code, errOut)
		}
	}
}

func TestJSONAndTrace(t *testing.T) {
	dir := t.TempDir()
	out, _, code := acksim(t, dir, "run", "retries-duplicate", "--json", "--trace", "run.jsonl")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, out)
	}
	for _, k := range []string{"scenario", "seed", "kafka", "records", "anomalies", "unavailable_ms", "latency_ms", "explanations", "trace_hash"} {
		if _, ok := v[k]; !ok {
			t.Errorf("verdict JSON lacks %q", k)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "run.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 1000 {
		t.Fatalf("trace has %d lines", len(lines))
	}
	var l map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &l); err != nil || l["kind"] == nil {
		t.Fatalf("trace line %q: %v", lines[0], err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Fatalf("temporary file left behind: %s", e.Name())
		}
	}
	// The same run twice: the same trace, byte for byte.
	acksim(t, dir, "run", "retries-duplicate", "--json", "--trace", "again.jsonl")
	if fi, err := os.Stat(filepath.Join(dir, "again.jsonl")); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("trace file mode: %v %v, want 0644 like every other output", fi.Mode(), err)
	}
	b2, _ := os.ReadFile(filepath.Join(dir, "again.jsonl"))
	if !bytes.Equal(b, b2) {
		t.Fatal("two runs wrote different traces")
	}
}

func TestScenariosVersionTimelineDemo(t *testing.T) {
	dir := t.TempDir()
	out, _, code := acksim(t, dir, "scenarios")
	if code != 0 || !strings.Contains(out, "cluster-power-loss-no-flush") {
		t.Fatalf("scenarios: %d %s", code, out)
	}
	out, _, _ = acksim(t, dir, "scenarios", "show", "acks0-leader-crash")
	if !strings.HasPrefix(out, "name: acks0-leader-crash") {
		t.Fatalf("show: %s", out)
	}
	v1, _, _ := acksim(t, dir, "version")
	v2, _, _ := acksim(t, dir, "version")
	if v1 != v2 || !strings.Contains(v1, "determinism hash") {
		t.Fatalf("version: %q %q", v1, v2)
	}
	out, _, _ = acksim(t, dir, "run", "cluster-power-loss-no-flush", "--timeline")
	if !strings.Contains(out, "TIME           BROKER EVENT") || !strings.Contains(out, "power-loss") {
		t.Fatalf("timeline: %s", out)
	}
	out, _, code = acksim(t, dir, "demo")
	if code != 0 || !strings.Contains(out, "idempotent-producer") {
		t.Fatalf("demo: %d %s", code, out)
	}
	out, _, _ = acksim(t, dir, "run", "--help")
	if !strings.Contains(out, "Example") && !strings.Contains(out, "Examples") {
		t.Fatalf("help without examples: %s", out)
	}
}

func TestCheckFindsShrinksAndReplays(t *testing.T) {
	dir := t.TempDir()
	out, _, code := acksim(t, dir, "check", "--set", "acks=1", "--out", "found.yaml")
	if code != 1 || !strings.Contains(out, "counterexample: lost_write") || !strings.Contains(out, "replay: acksim run found.yaml") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	out, _, code = acksim(t, dir, "run", "found.yaml")
	if code != 0 || !strings.Contains(out, "LOST") {
		t.Fatalf("replay: exit %d\n%s", code, out)
	}
	// The file expects the property broken, not an exact count.
	if data, err := os.ReadFile(filepath.Join(dir, "found.yaml")); err != nil || !strings.Contains(string(data), `lost_write: '>0'`) && !strings.Contains(string(data), `lost_write: ">0"`) {
		t.Errorf("found.yaml's expect: %v\n%s", err, data)
	}
	if out, _, _ := acksim(t, dir, "--version"); !strings.HasPrefix(out, "acksim ") {
		t.Errorf("--version: %q", out)
	}
	out, _, code = acksim(t, dir, "check", "--faults", "crash,partition", "--max-down", "3", "--checks", "50", "--json")
	var rep map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep["counterexample_found"] != false || rep["schedules_tried"].(float64) < 50 || rep["seed"] != "1" {
		t.Fatalf("safe check: exit %d\n%s", code, out)
	}
	if _, errOut, code := acksim(t, dir, "check", "--faults", "meteor"); code != 2 || !strings.Contains(errOut, "meteor") {
		t.Fatalf("bad fault kind: exit %d %s", code, errOut)
	}
}

// Sharded and merged, a sweep gives byte for byte the files of one run;
// report rebuilds them from trials.jsonl; merge refuses missing trials.
func TestSweepShardMergeReport(t *testing.T) {
	dir := t.TempDir()
	spec := "name: small\nbase: healthy-cluster\ntrials: 6\nseed: 3\nset: [run.duration=10s]\ngrid:\n  acks: [\"1\", \"all\"]\nfaults:\n  crash: {per_hour: 400, for: 3s}\n"
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(spec), 0o644)
	if _, e, code := acksim(t, dir, "sweep", "s.yaml", "--out", "full", "--workers", "2"); code != 0 {
		t.Fatalf("sweep: %d %s", code, e)
	}
	acksim(t, dir, "sweep", "s.yaml", "--shard", "0/2", "--out", "a")
	cmd := exec.Command(bin, "sweep", "s.yaml", "--shards", "2", "--out", "b", "--workers", "1")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "JOB_COMPLETION_INDEX=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("shard from JOB_COMPLETION_INDEX: %v %s", err, out)
	}
	if _, e, code := acksim(t, dir, "merge", "--out", "merged", "a", "b"); code != 0 {
		t.Fatalf("merge: %d %s", code, e)
	}
	for _, f := range []string{"trials.jsonl", "summary.csv", "summary.json", "report.md", "report.html", "charts/pareto.svg", "charts/loss-by-cell.png"} {
		x, _ := os.ReadFile(filepath.Join(dir, "full", f))
		y, _ := os.ReadFile(filepath.Join(dir, "merged", f))
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s differs between one run and merged shards", f)
		}
	}
	if _, e, code := acksim(t, dir, "merge", "--out", "m2", "a"); code != 2 || !strings.Contains(e, "missing") {
		t.Fatalf("merge of one shard: exit %d %s", code, e)
	}
	if _, e, code := acksim(t, dir, "merge", "--out", "m3", "a", "a", "b"); code != 2 || !strings.Contains(e, "twice") {
		t.Fatalf("merge with a shard twice: exit %d %s", code, e)
	}
	os.Remove(filepath.Join(dir, "full", "report.md"))
	if _, e, code := acksim(t, dir, "report", "full"); code != 0 {
		t.Fatalf("report: %d %s", code, e)
	}
	x, _ := os.ReadFile(filepath.Join(dir, "full", "report.md"))
	y, _ := os.ReadFile(filepath.Join(dir, "merged", "report.md"))
	if !bytes.Equal(x, y) {
		t.Fatal("report did not rebuild the same report.md")
	}
}

// Ctrl-C stops a sweep with what finished saved and exit 130; --resume runs
// the rest, and the results are byte for byte those of an uninterrupted run.
func TestSweepInterruptAndResume(t *testing.T) {
	dir := t.TempDir()
	spec := "name: long\nbase: healthy-cluster\ntrials: 300\nseed: 5\nset: [run.duration=10s]\ngrid:\n  acks: [\"1\", \"all\"]\nfaults:\n  crash: {per_hour: 400, for: 3s}\n"
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(spec), 0o644)
	partial := filepath.Join(dir, "r", "trials.partial.jsonl")
	interruptSweep(t, dir, partial, "sweep", "s.yaml", "--out", "r", "--workers", "1")
	if _, err := os.Stat(filepath.Join(dir, "r", "report.md")); err == nil {
		t.Fatal("an interrupted sweep wrote a report")
	}
	// A kill can leave half a line: resume ignores it and runs that trial.
	f, _ := os.OpenFile(partial, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"cell":1,"tri`)
	f.Close()
	if _, e, code := acksim(t, dir, "sweep", "s.yaml", "--out", "other", "--resume"); code != 2 || !strings.Contains(e, "no interrupted sweep") {
		t.Fatalf("resume without a partial sweep: exit %d %s", code, e)
	}
	if _, e, code := acksim(t, dir, "sweep", "s.yaml", "--out", "r", "--resume", "--seed", "9"); code != 2 || !strings.Contains(e, "different sweep") {
		t.Fatalf("resume with another seed: exit %d %s", code, e)
	}
	// Resume, interrupted again: the torn line must not glue onto the next
	// record, and a second resume must still work.
	interruptSweep(t, dir, partial, "sweep", "s.yaml", "--out", "r", "--workers", "1", "--resume")
	if _, e, code := acksim(t, dir, "sweep", "s.yaml", "--out", "r", "--resume"); code != 0 {
		t.Fatalf("resume: exit %d %s", code, e)
	}
	if _, e, code := acksim(t, dir, "sweep", "s.yaml", "--out", "full"); code != 0 {
		t.Fatalf("full: exit %d %s", code, e)
	}
	for _, f := range []string{"trials.jsonl", "report.html"} {
		x, _ := os.ReadFile(filepath.Join(dir, "full", f))
		y, _ := os.ReadFile(filepath.Join(dir, "r", f))
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s: resumed differs from uninterrupted", f)
		}
	}
	if _, err := os.Stat(partial); err == nil {
		t.Error("the partial file outlived a finished sweep")
	}
}

// run --html writes a page; bad --html-window values are exit 2 with the
// flag and value named, and nothing is written.
func TestRunHTMLFlags(t *testing.T) {
	dir := t.TempDir()
	if _, e, code := acksim(t, dir, "run", "acks1-leader-crash", "--html", "r.html", "--html-window", "2s:3s"); code != 0 || !strings.Contains(e, "wrote r.html") {
		t.Fatalf("exit %d: %s", code, e)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "r.html"))
	if !bytes.Contains(page, []byte("2s to 3s: chosen with --html-window")) {
		t.Error("the page does not draw the chosen window")
	}
	for _, bad := range []string{"3s:2s", "2s", "x:3s", "2s:"} {
		_, e, code := acksim(t, dir, "run", "acks1-leader-crash", "--html", "bad.html", "--html-window", bad)
		if code != 2 || !strings.Contains(e, "--html-window") || !strings.Contains(e, bad) {
			t.Errorf("--html-window %q: exit %d, %s", bad, code, e)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.html")); err == nil {
		t.Error("a rejected run wrote its page")
	}
	if _, e, code := acksim(t, dir, "run", "acks1-leader-crash", "--html-window", "1s:2s"); code != 2 || !strings.Contains(e, "--html") {
		t.Errorf("--html-window without --html: exit %d, %s", code, e)
	}
}

// interruptSweep starts a sweep, waits until five more trials are in the
// partial file, sends Ctrl-C, and requires exit code 130 with the command
// that continues it.
func interruptSweep(t *testing.T, dir, partial string, args ...string) {
	t.Helper()
	before, _ := os.ReadFile(partial)
	n := bytes.Count(before, []byte("\n"))
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		b, _ := os.ReadFile(partial)
		if bytes.Count(b, []byte("\n")) >= n+5 {
			break
		}
		if i > 1000 {
			t.Fatal("no trial finished in 20 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 || !strings.Contains(errOut.String(), "--resume") {
		t.Fatalf("interrupted sweep: %v, stderr %s", err, errOut.String())
	}
}

// A sweep rejected for a bad grid value leaves an existing results
// directory untouched (issue 18, item 5).
func TestRejectedSweepLeavesResultsAlone(t *testing.T) {
	dir := t.TempDir()
	good := "name: g\nbase: healthy-cluster\ntrials: 2\nseed: 3\nset: [run.duration=2s]\ngrid:\n  acks: [\"1\", \"all\"]\nfaults:\n  crash: {per_hour: 100}\n"
	bad := strings.Replace(good, `acks: ["1", "all"]`, `acks: ["1", "most"]`, 1)
	os.WriteFile(filepath.Join(dir, "good.yaml"), []byte(good), 0o644)
	os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte(bad), 0o644)
	if _, e, code := acksim(t, dir, "sweep", "good.yaml", "--out", "r"); code != 0 {
		t.Fatalf("good sweep: exit %d %s", code, e)
	}
	before := map[string][]byte{}
	entries, _ := os.ReadDir(filepath.Join(dir, "r"))
	for _, e := range entries {
		if !e.IsDir() {
			before[e.Name()], _ = os.ReadFile(filepath.Join(dir, "r", e.Name()))
		}
	}
	if _, e, code := acksim(t, dir, "sweep", "bad.yaml", "--out", "r"); code != 2 || !strings.Contains(e, "most") {
		t.Fatalf("bad sweep: exit %d %s", code, e)
	}
	after, _ := os.ReadDir(filepath.Join(dir, "r"))
	if len(after) != len(entries) {
		t.Fatalf("the rejected sweep changed the directory: %d entries, was %d", len(after), len(entries))
	}
	for name, b := range before {
		if now, _ := os.ReadFile(filepath.Join(dir, "r", name)); !bytes.Equal(now, b) {
			t.Errorf("%s changed", name)
		}
	}
	if _, e, code := acksim(t, dir, "report", "r"); code != 0 {
		t.Errorf("report on the untouched directory: exit %d %s", code, e)
	}
}

// Results made on a base scenario whose text changed are not mixed: a
// resume and a merge refuse them (issue 18, item 6); the saved spec.yaml is
// the spec as it ran, whatever the original's style (item 7).
func TestSweepRefusesChangedBase(t *testing.T) {
	dir := t.TempDir()
	base, _ := scenarios.Load("healthy-cluster")
	os.WriteFile(filepath.Join(dir, "base.yaml"), base.Raw, 0o644)
	// Flow style, an explicit document end, and --trials on the command line.
	spec := "{name: b, base: base.yaml, trials: 50, seed: 4, set: [run.duration=2s], grid: {acks: [\"1\", all]}, faults: {crash: {per_hour: 100}}}\n...\n"
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(spec), 0o644)
	for _, shard := range []string{"0/2", "1/2"} {
		if shard == "1/2" {
			// The base changes between the shards.
			os.WriteFile(filepath.Join(dir, "base.yaml"), append(base.Raw, []byte("# edited\n")...), 0o644)
		}
		if _, e, code := acksim(t, dir, "sweep", "s.yaml", "--trials", "4", "--shard", shard, "--out", "s"+shard[:1]); code != 0 {
			t.Fatalf("shard %s: exit %d %s", shard, code, e)
		}
	}
	if _, e, code := acksim(t, dir, "merge", "--out", "m", "s0", "s1"); code != 2 || !strings.Contains(e, "different spec.yaml") {
		t.Fatalf("merge of shards on different bases: exit %d %s", code, e)
	}
	saved, _ := os.ReadFile(filepath.Join(dir, "s1", "spec.yaml"))
	for _, want := range []string{"trials: 4", "seed: 4", "base_sha256: "} {
		if !strings.Contains(string(saved), want) {
			t.Errorf("saved spec lacks %q:\n%s", want, saved)
		}
	}
	// A resume on an edited base is refused too.
	os.Remove(filepath.Join(dir, "s1", "trials.jsonl"))
	os.WriteFile(filepath.Join(dir, "s1", "trials.partial.jsonl"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "base.yaml"), base.Raw, 0o644)
	if _, e, code := acksim(t, dir, "sweep", "s.yaml", "--trials", "4", "--shard", "1/2", "--out", "s1", "--resume"); code != 2 || !strings.Contains(e, "different sweep") {
		t.Fatalf("resume on a changed base: exit %d %s", code, e)
	}
	if _, e, code := acksim(t, dir, "sweep", "s.yaml", "--seed", "0", "--out", "z"); code != 2 || !strings.Contains(e, "--seed") {
		t.Fatalf("--seed 0: exit %d %s", code, e)
	}
}

// Ctrl-C during a long traced run leaves no hidden temporary file, and a
// reused --out keeps no chart of an earlier sweep (issue 18, smaller items).
func TestNoLeftoverFiles(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(bin, "run", "healthy-cluster", "--set", "run.duration=600s", "--set", "workload.rate=5000", "--trace", "t.jsonl")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 500; i++ {
		if m, _ := filepath.Glob(filepath.Join(dir, ".t.jsonl.tmp-*")); len(m) > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("interrupted run: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".t.jsonl.tmp-*")); len(m) > 0 {
		t.Errorf("temporary trace left behind: %v", m)
	}
	two := "name: a\nbase: healthy-cluster\ntrials: 2\nseed: 1\nset: [run.duration=2s]\ngrid:\n  acks: [\"1\", all]\n  min.insync.replicas: [\"1\", \"2\"]\nfaults:\n  crash: {per_hour: 100}\n"
	one := "name: b\nbase: healthy-cluster\ntrials: 2\nseed: 1\nset: [run.duration=2s]\ngrid:\n  acks: [\"1\", all]\nfaults:\n  crash: {per_hour: 100}\n"
	os.WriteFile(filepath.Join(dir, "two.yaml"), []byte(two), 0o644)
	os.WriteFile(filepath.Join(dir, "one.yaml"), []byte(one), 0o644)
	for _, s := range []string{"two.yaml", "one.yaml"} {
		if _, e, code := acksim(t, dir, "sweep", s, "--out", "r"); code != 0 {
			t.Fatalf("%s: exit %d %s", s, code, e)
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, "r", "report.md"))
	charts, _ := filepath.Glob(filepath.Join(dir, "r", "charts", "*.svg"))
	for _, c := range charts {
		if !strings.Contains(string(md), filepath.Base(c)) {
			t.Errorf("stale chart %s from the earlier sweep", filepath.Base(c))
		}
	}
}

// --properties on run and sweep (issue 13): a server.properties applies
// what acksim models, warns about the rest with file and line, and a bad
// value is a file:line error with exit code 2. A sweep saves the applied
// settings in its spec.yaml, so a resume sees them.
func TestPropertiesFlag(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "server.properties"), []byte("broker.id=1\nmin.insync.replicas=2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.properties"), []byte("# bad\nacks=7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _, code := acksim(t, dir, "run", "healthy-cluster", "--properties", "server.properties", "--set", "run.duration=2s")
	if code != 0 || !strings.Contains(stdout, "warning: server.properties:1: broker.id: not modelled by acksim; ignored") ||
		!strings.Contains(stdout, "--properties server.properties") {
		t.Errorf("run: exit %d\n%s", code, stdout)
	}
	_, stderr, code := acksim(t, dir, "run", "healthy-cluster", "--properties", "bad.properties")
	if code != 2 || !strings.Contains(stderr, `bad.properties:2: acks: "7"`) {
		t.Errorf("bad value: exit %d, %s", code, stderr)
	}
	_, stderr, code = acksim(t, dir, "sweep", "--properties", "server.properties", "--trials", "1", "--out", "sw")
	spec, err := os.ReadFile(filepath.Join(dir, "sw", "spec.yaml"))
	if code != 0 || err != nil || !strings.Contains(string(spec), "- min.insync.replicas=2") || !strings.Contains(stderr, "server.properties:1: broker.id") {
		t.Errorf("sweep: exit %d, %v, stderr %s\nspec.yaml:\n%s", code, err, stderr, spec)
	}
	_, stderr, code = acksim(t, dir, "sweep", "--properties", "bad.properties", "--trials", "1", "--out", "sw2")
	if code != 2 || !strings.Contains(stderr, `bad.properties:2: acks`) {
		t.Errorf("sweep, bad value: exit %d, %s", code, stderr)
	}
}

// summary.json names the sweep it describes (issue 18 item 6, issue 17):
// the hash of the spec.yaml beside it, the base scenario's hash, and the
// seed as a string.
func TestSummaryJSONMetadata(t *testing.T) {
	dir := t.TempDir()
	if _, errOut, code := acksim(t, dir, "sweep", "--trials", "1", "--seed", "18446744073709551615", "--out", "o"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(filepath.Join(dir, "o", "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := os.ReadFile(filepath.Join(dir, "o", "spec.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Schema     int               `json:"schema"`
		SpecSHA256 string            `json:"spec_sha256"`
		BaseSHA256 string            `json:"base_sha256"`
		Seed       string            `json:"seed"`
		Cells      []json.RawMessage `json:"cells"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	// summary.csv: a column per grid axis, and the JSON's names for the rest.
	csvData, err := os.ReadFile(filepath.Join(dir, "o", "summary.csv"))
	if err != nil {
		t.Fatal(err)
	}
	header := strings.Split(strings.SplitN(string(csvData), "\n", 2)[0], ",")
	var cell map[string]any
	if err := json.Unmarshal(m.Cells[0], &cell); err != nil {
		t.Fatal(err)
	}
	values, _ := cell["values"].(map[string]any)
	for _, col := range header {
		_, inJSON := cell[col]
		_, isAxis := values[col]
		if !inJSON && !isAxis {
			t.Errorf("summary.csv column %q is neither a summary.json field nor a grid axis (%v)", col, values)
		}
	}
	if !slices.Contains(header, "acks") || !slices.Contains(header, "min.insync.replicas") {
		t.Errorf("summary.csv header %v lacks the grid axes", header)
	}
	sum := sha256.Sum256(spec)
	if m.Schema != 2 || m.SpecSHA256 != hex.EncodeToString(sum[:]) || len(m.BaseSHA256) != 64 || m.Seed != "18446744073709551615" || len(m.Cells) == 0 {
		t.Errorf("summary.json metadata: %+v (spec hash %x)", m, sum)
	}
}

// Shell completion suggests scenario names, releases, config keys and
// fault kinds (issue 17).
func TestCompletion(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"__complete", "run", "acks1-l"}, "acks1-leader-crash\t"},
		{[]string{"__complete", "check", "--faults", "crash,link"}, "crash,link-delay"},
		{[]string{"__complete", "run", "x", "--set", "min.insync"}, "min.insync.replicas="},
		{[]string{"__complete", "run", "x", "--set", "kafka=3.0."}, "kafka=3.0.0"},
		{[]string{"__complete", "run", "x", "--kafka", ""}, "4.1"},
	} {
		out, _, _ := acksim(t, dir, c.args...)
		if !strings.Contains(out, c.want) {
			t.Errorf("%v: %q lacks %q", c.args, out, c.want)
		}
	}
	if out, _, code := acksim(t, dir, "completion", "bash"); code != 0 || !strings.Contains(out, "bash completion") {
		t.Errorf("completion bash: exit %d", code)
	}
}

// "-" reads the scenario from standard input (issue 17): the same run as
// from the file, and errors name <stdin> and the line.
func TestScenarioFromStdin(t *testing.T) {
	yamlText, _, _ := acksim(t, t.TempDir(), "scenarios", "show", "acks1-leader-crash")
	run := func(in string) (string, string, int) {
		cmd := exec.Command(bin, "run", "-")
		cmd.Stdin = strings.NewReader(in)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return o.String(), e.String(), code
	}
	fromFile, _, _ := acksim(t, t.TempDir(), "run", "acks1-leader-crash")
	out, _, code := run(yamlText)
	hash := func(s string) string { _, h, _ := strings.Cut(s, "trace "); h, _, _ = strings.Cut(h, "\n"); return h }
	if code != 0 || hash(out) == "" || hash(out) != hash(fromFile) {
		t.Errorf("exit %d, trace %q vs the built-in's %q", code, hash(out), hash(fromFile))
	}
	_, errOut, code := run("name: x\nproducers:\n  - name: p1\n    config: {acks: 7}\n")
	if code != 2 || !strings.Contains(errOut, "<stdin>:4: producers[0].config.acks") {
		t.Errorf("bad stdin: exit %d, %s", code, errOut)
	}
}

// acksim risk writes its report, data and charts; a bad spec is exit 2
// with the file and field, and nothing is written.
func TestRiskCommand(t *testing.T) {
	dir := t.TempDir()
	spec := "name: small\nbase: baseline\ngrid:\n  acks: [\"1\", \"all\"]\nfailures:\n  pause: {per_year: 0}\npilot: 2\nbudget: 60\n"
	if err := os.WriteFile(filepath.Join(dir, "r.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := acksim(t, dir, "risk", "r.yaml", "--out", "out", "--workers", "2")
	if code != 0 || !strings.Contains(stdout, "| 1 | acks=all |") || !strings.Contains(stdout, "cluster-power-loss") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, f := range []string{"report.md", "risk.json", "risk.csv", "charts/loss-per-year.svg", "charts/risk-vs-latency.svg", "charts/attribution.svg"} {
		if fi, err := os.Stat(filepath.Join(dir, "out", f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	var j struct {
		Cells []struct {
			Settings   string  `json:"settings"`
			LossEvents float64 `json:"loss_events_per_year"`
		} `json:"cells"`
	}
	data, _ := os.ReadFile(filepath.Join(dir, "out", "risk.json"))
	if err := json.Unmarshal(data, &j); err != nil || len(j.Cells) != 2 || j.Cells[1].LossEvents <= 0 {
		t.Errorf("risk.json: %v %+v", err, j.Cells)
	}
	bad := strings.Replace(spec, "pause: {per_year: 0}", "pause: {per_year: -2}", 1)
	os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte(bad), 0o644)
	_, stderr, code = acksim(t, dir, "risk", "bad.yaml", "--out", "out2")
	if code != 2 || !strings.Contains(stderr, "bad.yaml") || !strings.Contains(stderr, "failures.pause.per_year") {
		t.Errorf("bad spec: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out2")); err == nil {
		t.Errorf("a rejected spec created its --out directory")
	}
}

// sweep --json prints summary.json; --quiet prints nothing, and both still
// write the files (issue 17).
func TestSweepJSONAndQuiet(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, code := acksim(t, dir, "sweep", "--trials", "2", "--json", "--out", "j")
	var sum struct {
		Schema int `json:"schema"`
		Cells  []struct {
			Values map[string]string `json:"values"`
		} `json:"cells"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &sum) != nil || sum.Schema == 0 || len(sum.Cells) == 0 {
		t.Fatalf("--json: exit %d, stdout %.200s, stderr %s", code, stdout, stderr)
	}
	stdout, stderr, code = acksim(t, dir, "sweep", "--trials", "2", "--quiet", "--out", "q")
	if code != 0 || stdout != "" || stderr != "" {
		t.Errorf("--quiet: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "q", "report.md")); err != nil {
		t.Errorf("--quiet wrote no report.md: %v", err)
	}
}

// acksim risk shards merge into the files of one run, byte for byte, and a
// resumed estimate reuses the saved cells (issue 16).
func TestRiskShardMergeResume(t *testing.T) {
	dir := t.TempDir()
	spec := "name: small\nbase: baseline\ngrid:\n  acks: [\"1\", \"all\"]\nfailures:\n  pause: {per_year: 0}\npilot: 2\nbudget: 60\n"
	os.WriteFile(filepath.Join(dir, "r.yaml"), []byte(spec), 0o644)
	run := func(args ...string) {
		t.Helper()
		if _, stderr, code := acksim(t, dir, args...); code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, stderr)
		}
	}
	run("risk", "r.yaml", "--out", "whole", "--quiet")
	run("risk", "r.yaml", "--shard", "0/2", "--out", "s0")
	run("risk", "r.yaml", "--shard", "1/2", "--out", "s1")
	run("merge", "--out", "merged", "s0", "s1")
	for _, f := range []string{"risk.json", "risk.csv", "report.md", "estimates.jsonl", "charts/loss-per-year.svg"} {
		a, _ := os.ReadFile(filepath.Join(dir, "whole", f))
		b, _ := os.ReadFile(filepath.Join(dir, "merged", f))
		if len(a) == 0 || string(a) != string(b) {
			t.Errorf("%s differs between one run and merged shards", f)
		}
	}
	if _, stderr, code := acksim(t, dir, "merge", "--out", "m2", "s0"); code != 2 || !strings.Contains(stderr, "missing") {
		t.Errorf("merge of one shard: exit %d %s", code, stderr)
	}
	// An interrupted run's saved cells (one whole, one line torn by a
	// kill) are kept by --resume, which gives the same result.
	lines := strings.SplitAfter(string(must(os.ReadFile(filepath.Join(dir, "whole", "estimates.jsonl")))), "\n")
	os.MkdirAll(filepath.Join(dir, "part"), 0o755)
	os.WriteFile(filepath.Join(dir, "part", "spec.yaml"), must(os.ReadFile(filepath.Join(dir, "whole", "spec.yaml"))), 0o644)
	os.WriteFile(filepath.Join(dir, "part", "estimates.partial.jsonl"), []byte(lines[0]+lines[1][:20]), 0o644)
	run("risk", "r.yaml", "--out", "part", "--resume", "--quiet")
	a, _ := os.ReadFile(filepath.Join(dir, "whole", "risk.json"))
	b, _ := os.ReadFile(filepath.Join(dir, "part", "risk.json"))
	if string(a) != string(b) {
		t.Errorf("resumed risk.json differs from one run")
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// "-" as an output file writes it to standard output, and what the command
// would print besides goes to standard error (issue 17).
func TestDashOutputs(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, code := acksim(t, dir, "sweep", "--export", "0:0", "--out", "-")
	if code != 0 || !strings.HasPrefix(stdout, "name: default-cell0-trial0\n") || strings.Contains(stdout, "wrote") {
		t.Errorf("sweep --export --out -: exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = acksim(t, dir, "run", "acks1-leader-crash", "--html", "-")
	if code != 0 || !strings.HasPrefix(stdout, "<!DOCTYPE html>") || !strings.Contains(stderr, "LOST") {
		t.Errorf("run --html -: exit %d, stdout %.60q, stderr %.200q", code, stdout, stderr)
	}
	stdout, stderr, code = acksim(t, dir, "check", "--set", "acks=1", "--out", "-")
	if code != 1 || !strings.HasPrefix(stdout, "name: healthy-cluster-counterexample\n") || !strings.Contains(stderr, "counterexample:") {
		t.Errorf("check --out -: exit %d, stdout %.80q, stderr %.200q", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "-")); err == nil {
		t.Errorf("a file named - was written")
	}
}

// scenarios and compare take --json too (issue 17).
func TestListAndCompareJSON(t *testing.T) {
	dir := t.TempDir()
	stdout, _, code := acksim(t, dir, "scenarios", "--json")
	var list []struct {
		Name    string   `json:"name"`
		Expects []string `json:"expects"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &list) != nil || len(list) < 40 {
		t.Fatalf("scenarios --json: exit %d, %d entries", code, len(list))
	}
	stdout, _, code = acksim(t, dir, "compare", "acks1-leader-crash", "--b", "acks=all", "--json")
	var cmpOut []struct {
		Changes []string            `json:"changes"`
		Causes  map[string][]string `json:"causes"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &cmpOut) != nil || len(cmpOut) != 1 || len(cmpOut[0].Causes["lost_write"]) == 0 {
		t.Errorf("compare --json: exit %d\n%s", code, stdout)
	}
}

// run and check take --quiet: nothing on standard output, the exit code
// and the files as usual (issue 17).
func TestRunCheckQuiet(t *testing.T) {
	dir := t.TempDir()
	if stdout, _, code := acksim(t, dir, "run", "acks1-leader-crash", "--quiet"); code != 0 || stdout != "" {
		t.Errorf("run --quiet: exit %d, stdout %q", code, stdout)
	}
	if _, _, code := acksim(t, dir, "run", "acks1-leader-crash", "--set", "acks=all", "--quiet"); code != 1 {
		t.Errorf("run --quiet with a broken expectation: exit %d; want 1", code)
	}
	stdout, _, code := acksim(t, dir, "check", "--set", "acks=1", "--quiet", "--out", "ce.yaml")
	if _, err := os.Stat(filepath.Join(dir, "ce.yaml")); code != 1 || stdout != "" || err != nil {
		t.Errorf("check --quiet: exit %d, stdout %q, file %v", code, stdout, err)
	}
}
