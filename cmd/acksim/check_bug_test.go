package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"acksim/model"
	"acksim/scenarios"
	"acksim/sim"
)

// A model invariant that breaks during a search stops check with exit code
// 3, the invariant, its seed and step, and the schedule written for replay;
// it is never reported as "no counterexample" (exit 0).
func TestCheckReportsBrokenInvariant(t *testing.T) {
	scenarios.TestHookStart = func(c *model.Cluster) {
		h := c.E.Register(sim.HandlerFunc(func(e *sim.Engine, ev *sim.Event) {
			panic(&model.InvariantError{Seed: c.Seed, Step: e.Steps(), At: e.Now().String(), What: "planted by the test"})
		}))
		c.E.At(sim.Time(3*sim.Second), sim.Event{H: h})
	}
	defer func() { scenarios.TestHookStart = nil }()
	s, err := scenarios.Load("healthy-cluster")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set("acks=1"); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "bug.yaml")
	f := &checkFlags{checks: 20, out: out}
	f.seed = 1
	rep, ce, err := runCheck(s, scenarios.ExploreOptions{}, []string{"lost_write"}, f)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitBug {
		t.Fatalf("got report %v, counterexample %v, error %v: want exit code %d", rep, ce, err, exitBug)
	}
	for _, want := range []string{"planted by the test", "seed 1", "step ", "acksim run " + out} {
		if !strings.Contains(ee.msg, want) {
			t.Errorf("message lacks %q: %s", want, ee.msg)
		}
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := scenarios.Parse(out, data); err != nil {
		t.Fatalf("the written schedule does not parse: %v", err)
	}
}

// Printed commands can be pasted into a shell as they are.
func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"acks1-leader-crash": "acks1-leader-crash", "out/x.yaml": "out/x.yaml", "acks=all": "acks=all",
		"sp ace": "'sp ace'", "it's": `'it'\''s'`, "": "''", "a;rm -rf": "'a;rm -rf'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// Counts and limits out of range are errors, not silently clamped.
func TestFlagRangesChecked(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"check", "--max-faults", "0"}, {"check", "--checks", "0"}, {"check", "--checks", "-5"}, {"check", "--max-down", "-1"},
		{"sweep", "--trials", "-3", "--out", "x"}, {"sweep", "--workers", "0", "--out", "x"}, {"sweep", "--workers", "1000000", "--out", "x"},
		{"sweep", "--shard", "1/2", "--shards", "2", "--out", "x"}, {"sweep", "--shards", "-1", "--out", "x"},
	} {
		if _, e, code := acksim(t, dir, args...); code != 2 || !strings.Contains(e, args[1]) {
			t.Errorf("%v: exit %d, stderr %q", args, code, e)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
		t.Error("a rejected sweep created its --out directory")
	}
}

// A run estimated past --max-memory is refused before it starts with exit
// code 4 (a resource limit, not bad input) and the estimate.
func TestMemoryLimitExit4(t *testing.T) {
	dir := t.TempDir()
	big := []string{"--set", "run.duration=600s", "--set", "workload.rate=100000", "--set", "cluster.partitions=50", "--set", "cluster.brokers=9"}
	for _, cmd := range []string{"run", "check"} {
		args := append([]string{cmd, "healthy-cluster"}, big...)
		if _, e, code := acksim(t, dir, args...); code != exitLimit || !strings.Contains(e, "--max-memory") || !strings.Contains(e, "GiB") {
			t.Errorf("%s: exit %d, stderr %q", cmd, code, e)
		}
	}
	if _, e, code := acksim(t, dir, "run", "healthy-cluster", "--max-memory", "lots"); code != exitBadInput || !strings.Contains(e, "--max-memory") {
		t.Errorf("bad --max-memory: exit %d, stderr %q", code, e)
	}
	if _, e, code := acksim(t, dir, "sweep", "--out", "s", "--max-memory", "1MiB"); code != exitLimit || !strings.Contains(e, "sweep") {
		t.Errorf("sweep: exit %d, stderr %q", code, e)
	}
	if _, err := os.Stat(filepath.Join(dir, "s")); err == nil {
		t.Error("a refused sweep created its --out directory")
	}
}
