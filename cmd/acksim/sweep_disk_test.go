package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// fullDisk accepts n writes, then fails as a full disk does.
type fullDisk struct {
	n int
	f io.WriteCloser
}

func (d *fullDisk) Write(p []byte) (int, error) {
	if d.n <= 0 {
		return 0, syscall.ENOSPC
	}
	d.n--
	return d.f.Write(p)
}
func (d *fullDisk) Close() error { return d.f.Close() }

// A sweep whose partial results cannot be written stops at the first
// failed write with exit code 2 and keeps what was written (issue 18,
// item 8), instead of running every trial and keeping nothing.
func TestSweepStopsOnFullDisk(t *testing.T) {
	defer func(o func(string, int) (io.WriteCloser, error)) { openPartial = o }(openPartial)
	openPartial = func(path string, flag int) (io.WriteCloser, error) {
		f, err := os.OpenFile(path, flag, 0o644)
		return &fullDisk{n: 3, f: f}, err
	}
	dir := t.TempDir()
	spec := filepath.Join(dir, "s.yaml")
	os.WriteFile(spec, []byte("name: s\nbase: healthy-cluster\ntrials: 200\nseed: 2\nset: [run.duration=2s]\ngrid:\n  acks: [\"1\", \"all\"]\nfaults:\n  crash: {per_hour: 100}\n"), 0o644)
	out := filepath.Join(dir, "r")
	cmd := newSweep()
	cmd.SetArgs([]string{spec, "--out", out, "--workers", "1"})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.Execute()
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitBadInput || !strings.Contains(ee.msg, "no space left") {
		t.Fatalf("got %v, want exit %d naming the full disk", err, exitBadInput)
	}
	b, _ := os.ReadFile(filepath.Join(out, "trials.partial.jsonl"))
	if n := strings.Count(string(b), "\n"); n != 3 {
		t.Errorf("%d trials kept, want the 3 written", n)
	}
	if _, err := os.Stat(filepath.Join(out, "report.md")); err == nil {
		t.Error("a report was written")
	}
	// It stopped early: far fewer than the 400 trials ran.
	var n int
	if i := strings.Index(ee.msg, "stopped, "); i < 0 {
		t.Errorf("message: %s", ee.msg)
	} else if fmt.Sscanf(ee.msg[i+len("stopped, "):], "%d", &n); n >= 400 || n < 3 {
		t.Errorf("%d trials finished: it did not stop at the first failed write", n)
	}
}

// The partial file is never written through a symlink (issue 18, item 9).
func TestSweepRefusesSymlinkedPartial(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "precious.txt")
	os.WriteFile(victim, []byte("keep me"), 0o644)
	out := filepath.Join(dir, "r")
	os.MkdirAll(out, 0o755)
	os.Symlink(victim, filepath.Join(out, "trials.partial.jsonl"))
	_, e, code := acksim(t, dir, "sweep", "--out", "r", "--trials", "2")
	if code != 2 || !strings.Contains(e, "symbolic link") {
		t.Fatalf("exit %d, stderr %s", code, e)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep me" {
		t.Fatalf("the symlink's target was changed: %q", b)
	}
}

// acksim never truncates or replaces a file it did not write (issue 18,
// item 9): an --out that holds other files is refused before anything is
// written, and a fresh sweep replaces a partial file by renaming a new one
// over it, so a hard link's other name keeps its data.
func TestOutDirHoldsOnlyAcksimFiles(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	os.MkdirAll(home, 0o755)
	os.WriteFile(filepath.Join(home, "report.md"), []byte("my notes"), 0o644)
	os.WriteFile(filepath.Join(home, "thesis.tex"), []byte("chapter 1"), 0o644)
	for _, args := range [][]string{
		{"sweep", "--out", "home", "--trials", "2"},
		{"risk", "--out", "home"},
	} {
		_, e, code := acksim(t, dir, args...)
		if code != exitBadInput || !strings.Contains(e, "thesis.tex") || !strings.Contains(e, "did not write") {
			t.Errorf("%v: exit %d, stderr %s", args, code, e)
		}
		if b, _ := os.ReadFile(filepath.Join(home, "report.md")); string(b) != "my notes" {
			t.Fatalf("%v replaced report.md: %q", args, b)
		}
		if _, err := os.Stat(filepath.Join(home, "spec.yaml")); err == nil {
			t.Fatalf("%v wrote spec.yaml into a directory it does not own", args)
		}
	}
	// A file given as --out is not a directory.
	if _, e, code := acksim(t, dir, "sweep", "--out", "home/thesis.tex", "--trials", "2"); code != exitBadInput || !strings.Contains(e, "not a directory") {
		t.Errorf("--out a file: exit %d, stderr %s", code, e)
	}

	// A directory acksim wrote is reused, and a hard link into it keeps its
	// data when the fresh sweep starts a new partial file.
	out := filepath.Join(dir, "r")
	if _, e, code := acksim(t, dir, "sweep", "--out", "r", "--trials", "2"); code > 1 {
		t.Fatalf("first sweep: exit %d, stderr %s", code, e)
	}
	kept := filepath.Join(dir, "kept.jsonl")
	os.WriteFile(kept, []byte("precious\n"), 0o644)
	if err := os.Link(kept, filepath.Join(out, "trials.partial.jsonl")); err != nil {
		t.Skip("no hard links here:", err)
	}
	if _, e, code := acksim(t, dir, "sweep", "--out", "r", "--trials", "2"); code > 1 {
		t.Fatalf("second sweep into its own directory: exit %d, stderr %s", code, e)
	}
	if b, _ := os.ReadFile(kept); string(b) != "precious\n" {
		t.Fatalf("the hard link's data was truncated or written: %q", b)
	}
}
