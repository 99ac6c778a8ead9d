package risk

import (
	"errors"
	"math"
	"strings"
	"testing"

	"acksim/model"
	"acksim/scenarios"
	"acksim/sim"

	"github.com/google/go-cmp/cmp"
)

func parse(t *testing.T, doc string) *Spec {
	t.Helper()
	s, err := Parse("test.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const small = `name: small
base: baseline
grid:
  acks: ["1", "all"]
failures:
  pause: {per_year: 0}
pilot: 3
budget: 60
`

// Same spec and seed: identical estimates whatever the worker count.
func TestRiskDeterministic(t *testing.T) {
	s := parse(t, small)
	a, err := Run(s, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Run(s, 2, nil)
	if diff := cmp.Diff(a, b, cmp.AllowUnexported(Estimate{}, PatternEstimate{})); diff != "" {
		t.Fatalf("1 vs 2 workers:\n%s", diff)
	}
	if a[0].Trials == 0 || len(a[0].Patterns) != 5+25 {
		t.Fatalf("cell 0: %d trials, %d patterns; want some and 30 (5 kinds, 25 ordered pairs)", a[0].Trials, len(a[0].Patterns))
	}
}

// The pattern estimator agrees with brute-force Monte Carlo where both are
// feasible: at inflated rates, over an exposure of a minute. The brute
// force counts trials with a loss; the estimate predicts 1-exp(-R·exposure).
// The tolerance is the two estimates' 95% intervals combined, plus the rate
// of the patterns the estimator leaves out.
func TestRiskAgreesWithBruteForce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a few hundred trials")
	}
	for _, c := range []struct {
		name, failures, grid string
	}{
		// A whole-cluster power loss every 200 s, no fsync: nearly every
		// one loses what the page caches held.
		{"cluster power loss", "cluster-power-loss: {per_year: 157680, for: 5s}", `acks: ["all"]`},
		// A broker paused every 600 s (each), acks=1: a leader's pause
		// loses, a follower's does not; pairs interact.
		{"pauses", "pause: {per_year: 52560, for: 12s}", `acks: ["1"]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var off []string
			for _, k := range Kinds {
				if !strings.HasPrefix(c.failures, k.Name+":") {
					off = append(off, "  "+k.Name+": {per_year: 0}")
				}
			}
			s := parse(t, "name: v\nbase: baseline\nwindow: 20s\npilot: 60\nbudget: 200\ngrid:\n  "+c.grid+"\nfailures:\n  "+c.failures+"\n"+strings.Join(off, "\n")+"\n")
			ests, err := Run(s, 2, nil)
			if err != nil {
				t.Fatal(err)
			}
			e := ests[0]
			exposure := 60 * sim.Second
			frac := exposure.Seconds() / Year.Seconds()
			pEst := 1 - math.Exp(-e.LossRate*frac)
			seEst := (e.Hi95 - e.Lo95) / 3.92 * frac * math.Exp(-e.LossRate*frac)
			const n = 200
			k, err := BruteForce(s, 0, exposure, 1, n)
			if err != nil {
				t.Fatal(err)
			}
			pBF := float64(k) / n
			seBF := math.Sqrt(math.Max(pBF*(1-pBF), 1.0/n) / n)
			tol := 1.96*math.Sqrt(seEst*seEst+seBF*seBF) + e.Truncated*frac
			t.Logf("estimate %.3f (rate %.4g/yr, %d trials), brute force %.3f (%d/%d), tolerance %.3f", pEst, e.LossRate, e.Trials, pBF, k, n, tol)
			if math.Abs(pEst-pBF) > tol {
				t.Errorf("estimate %.3f and brute force %.3f differ by more than %.3f", pEst, pBF, tol)
			}
		})
	}
}

// Bad specs are errors naming the field and what is allowed.
func TestRiskBadSpecs(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{"name: x\nfailures:\n  meteor: {per_year: 1}\n", "failures.meteor"},
		{"name: x\nfailures:\n  crash: {per_year: -1}\n", "failures.crash.per_year"},
		{"name: x\nfailures:\n  crash: {per_year: .nan}\n", "failures.crash.per_year"},
		{"name: x\nfailures:\n  crash: {per_year: 1, for: forever}\n", "failures.crash.for"},
		{"name: x\nwindow: 1ms\n", "window"},
		{"name: x\ntarget_error: 0\nbudget: -3\n", "budget"},
		{"name: x\ngrid:\n  acks: []\n", "grid.acks"},
		{"name: x\nbogus: 1\n", "bogus"},
		{"name: x\nbudget: 1000000\ngrid:\n  acks: [\"0\", \"1\", \"all\"]\n  min.insync.replicas: [\"1\", \"2\", \"3\", \"1\", \"2\", \"3\"]\n", "budget"},
		{"name: x\nfailures:\n  crash: {per_year: 0}\n  power-loss: {per_year: 0}\n  rack-power-loss: {per_year: 0}\n  cluster-power-loss: {per_year: 0}\n  disk-loss: {per_year: 0}\n  partition: {per_year: 0}\n  pause: {per_year: 0}\n", "failures"},
	} {
		_, err := Parse("bad.yaml", []byte(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "bad.yaml") {
			t.Errorf("%q: got %v; want an error naming bad.yaml and %s", c.doc, err, c.want)
		}
	}
}

// Shards of the cells merge into exactly the estimate of one run, and a
// run resumed around saved cells gives it too.
func TestRiskShardsAndResume(t *testing.T) {
	s := parse(t, small)
	whole, err := Run(s, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := RunWith(s, Options{Workers: 1, Shard: 0, Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := RunWith(s, Options{Workers: 2, Shard: 1, Shards: 2})
	merged, err := Merge(s, b, a)
	if err != nil {
		t.Fatal(err)
	}
	opt := cmp.AllowUnexported(Estimate{}, PatternEstimate{})
	if diff := cmp.Diff(whole, merged, opt); diff != "" {
		t.Fatalf("merged shards differ from one run:\n%s", diff)
	}
	if _, err := Merge(s, a); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("a merge without shard 1: %v; want a missing cell", err)
	}
	if _, err := Merge(s, a, a, b); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("a shard merged twice: %v; want a cell twice", err)
	}
	resumed, err := RunWith(s, Options{Workers: 2, Prior: whole[:1]})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(whole, resumed, opt); diff != "" {
		t.Fatalf("resumed run differs:\n%s", diff)
	}
	stop := make(chan struct{})
	close(stop)
	more := parse(t, strings.Replace(small, "budget: 60", "budget: 300", 1))
	if part, err := RunWith(more, Options{Workers: 2, Stop: stop}); !errors.Is(err, ErrStopped) || len(part) == len(whole) {
		t.Errorf("stopped at once: %d cells, %v; want fewer and ErrStopped", len(part), err)
	}
}

// A failure kind asked for explicitly needs components to fail: racks for
// rack-power-loss.
func TestRiskRackNeedsRacks(t *testing.T) {
	s := parse(t, "name: r\nbase: baseline\nfailures:\n  rack-power-loss: {per_year: 1}\n")
	if _, err := Run(s, 1, nil); err == nil || !strings.Contains(err.Error(), "failures.rack-power-loss") || !strings.Contains(err.Error(), "cluster.racks") {
		t.Errorf("got %v; want an error naming failures.rack-power-loss and cluster.racks", err)
	}
}

// A broken model invariant during an estimate is reported as a bug with
// the trial that broke it, never as a crash or an estimate.
func TestRiskReportsBrokenInvariant(t *testing.T) {
	scenarios.TestHookStart = func(c *model.Cluster) {
		h := c.E.Register(sim.HandlerFunc(func(e *sim.Engine, ev *sim.Event) {
			panic(&model.InvariantError{Seed: c.Seed, Step: e.Steps(), At: e.Now().String(), What: "planted by the test"})
		}))
		c.E.At(sim.Time(3*sim.Second), sim.Event{H: h})
	}
	t.Cleanup(func() { scenarios.TestHookStart = nil })
	_, err := Run(parse(t, small), 2, nil)
	var bug *TrialBug
	if !errors.As(err, &bug) || !strings.Contains(bug.Error(), "planted") {
		t.Fatalf("got %v; want a TrialBug naming the planted violation", err)
	}
}
