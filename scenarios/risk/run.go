package risk

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"

	"acksim/model"
	"acksim/model/check"
	"acksim/scenarios"
	"acksim/scenarios/sweep"
	"acksim/sim"
)

// job is one trial to run: cell, pattern, trial index.
type job struct{ cell, pat, trial int }

type outcome struct {
	lost bool
	recs int
	sim  float64 // simulated seconds
}

// Run estimates every cell on `workers` goroutines. Trials run in rounds:
// first Pilot trials of every pattern, then batches that go to the
// patterns where one more trial shrinks the variance of the cell's total
// most, until the cell's 95% interval is within TargetError of its rate or
// its Budget is spent. Allocation depends only on finished rounds and
// every trial's seed on (cell, pattern, index), so results do not depend
// on the worker count. progress, if set, is told the trials run so far and
// the most the run may take.
func Run(s *Spec, workers int, progress func(done, max int)) ([]Estimate, error) {
	return RunWith(s, Options{Workers: workers, Progress: progress})
}

// Options run part of an estimate: a shard of the cells, around cells
// already estimated (a resumed run), reporting each cell as it finishes.
type Options struct {
	Workers       int
	Shard, Shards int // estimate the cells whose index is Shard modulo Shards (Shards 0 or 1: all)
	// Prior are cells estimated before (an interrupted run): kept, not run.
	Prior []Estimate
	// OnCell is called, one call at a time, as each cell finishes.
	OnCell   func(Estimate)
	Progress func(done, max int)
	// Stop, when closed, starts no new round; RunWith returns ErrStopped
	// with the cells finished so far.
	Stop <-chan struct{}
}

// ErrStopped reports a run that Stop cut short.
var ErrStopped = errors.New("risk estimate stopped before every cell finished")

// RunWith estimates the cells of one shard, in cell order (Prior included).
// A cell's estimate depends only on the spec and the cell, never on which
// other cells run with it, so shards merge into the result of one run.
func RunWith(s *Spec, o Options) ([]Estimate, error) {
	workers, progress := o.Workers, o.Progress
	if err := s.Check(); err != nil {
		return nil, err
	}
	shards := max(o.Shards, 1)
	all := s.Cells()
	prior := map[int]Estimate{}
	for _, e := range o.Prior {
		if e.Cell.Index < 0 || e.Cell.Index >= len(all) || e.Cell.Index%shards != o.Shard || e.Cell.String() != all[e.Cell.Index].String() {
			return nil, fmt.Errorf("saved cell %d (%s) is not part of this estimate or shard", e.Cell.Index, e.Cell)
		}
		prior[e.Cell.Index] = e
	}
	var cells []sweep.Cell
	for _, c := range all {
		if _, ok := prior[c.Index]; !ok && c.Index%shards == o.Shard {
			cells = append(cells, c)
		}
	}
	bases := make([]*scenarios.Scenario, len(cells))
	ests := make([]Estimate, len(cells))
	for i, c := range cells {
		sc, err := s.sweep.CellScenario(c)
		if err != nil {
			return nil, err
		}
		bases[i] = sc
		// A kind the spec asks for explicitly must have components to fail
		// (a default one without them, rack-power-loss on a cluster without
		// racks, is simply absent).
		for k := range Kinds {
			if f, set := s.Failures[Kinds[k].Name]; set && f.PerYear > 0 && components(&Kinds[k], sc) == 0 {
				return nil, &scenarios.Error{File: s.file, Field: "failures." + Kinds[k].Name, Value: fmt.Sprint(f.PerYear),
					Allowed: "needs brokers with racks in the base scenario (cluster.racks); set its per_year to 0 to leave it out"}
			}
		}
		pats, trunc := s.Patterns(sc)
		ests[i] = Estimate{Cell: c, Truncated: trunc}
		for _, p := range pats {
			ests[i].Patterns = append(ests[i].Patterns, PatternEstimate{Pattern: p})
		}
	}
	maxTrials := len(cells) * s.Budget
	done := 0
	var bug *TrialBug // the first trial that broke a model invariant
	runJobs := func(jobs []job) []outcome {
		out := make([]outcome, len(jobs))
		var wg sync.WaitGroup
		var mu sync.Mutex
		next := 0
		for w := 0; w < max(workers, 1); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					mu.Lock()
					j := next
					next++
					mu.Unlock()
					if j >= len(jobs) {
						return
					}
					jb := jobs[j]
					e := &ests[jb.cell]
					sc := s.trialScenario(bases[jb.cell], e.Patterns[jb.pat].Pattern, e.Cell.Index, jb.pat, jb.trial)
					r, err := sc.Resolve()
					if err != nil {
						continue // checked before; cannot happen
					}
					v, ie := runSafe(sc, r)
					if ie != nil {
						mu.Lock()
						if bug == nil {
							bug = &TrialBug{Cell: e.Cell.Index, Pattern: e.Patterns[jb.pat].String(), Trial: jb.trial, Err: ie}
						}
						mu.Unlock()
						continue
					}
					out[j] = outcome{lost: v.Anomalies.LostWrite > 0, recs: v.Anomalies.LostWrite, sim: float64(v.SimulatedMs) / 1000}
					mu.Lock()
					done++
					if progress != nil {
						progress(done, maxTrials)
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return out
	}
	// Fault-free latency: one run of each cell without failures.
	for i := range cells {
		sc := *bases[i]
		sc.Seed = sim.TrialSeed(s.Seed, uint64(cells[i].Index)<<40|1<<39)
		sc.Duration = 20 * sim.Second
		r, err := sc.Resolve()
		if err != nil {
			return nil, err
		}
		v, ie := runSafe(&sc, r)
		if ie != nil {
			return nil, &TrialBug{Cell: cells[i].Index, Pattern: "none (the fault-free run)", Err: ie}
		}
		ests[i].P50, ests[i].P99, ests[i].P999 = v.LatencyMs.P50, v.LatencyMs.P99, v.LatencyMs.P999
	}
	record := func(jobs []job, res []outcome) {
		for j, jb := range jobs {
			pe := &ests[jb.cell].Patterns[jb.pat]
			pe.Trials++
			ests[jb.cell].SimSeconds += res[j].sim
			if res[j].lost {
				pe.Losses++
				pe.LostRecords += res[j].recs
			}
		}
		for i := range ests {
			ests[i].combine()
		}
	}
	// The pilot round.
	var jobs []job
	for ci := range ests {
		for pi := range ests[ci].Patterns {
			for t := 0; t < s.Pilot && len(ests[ci].Patterns)*t < s.Budget; t++ {
				jobs = append(jobs, job{ci, pi, t})
			}
		}
	}
	res := runJobs(jobs)
	if bug != nil {
		return nil, bug
	}
	record(jobs, res)
	// Adaptive rounds.
	batch := max(16, 2*s.Pilot)
	finished := make([]bool, len(ests))
	stopped := false
	for {
		jobs = jobs[:0]
		for ci := range ests {
			e := &ests[ci]
			if e.Done(s.TargetError) || e.Trials >= s.Budget || len(e.Patterns) == 0 {
				if !finished[ci] && o.OnCell != nil {
					o.OnCell(*e)
				}
				finished[ci] = true
				continue
			}
			jobs = append(jobs, e.allocate(ci, min(batch, s.Budget-e.Trials))...)
		}
		if len(jobs) == 0 {
			break
		}
		select {
		case <-o.Stop:
			stopped = true
		default:
		}
		if stopped {
			break
		}
		res := runJobs(jobs)
		if bug != nil {
			return nil, bug
		}
		record(jobs, res)
	}
	out := make([]Estimate, 0, len(prior)+len(ests))
	for _, e := range prior {
		out = append(out, e)
	}
	for ci, e := range ests {
		if finished[ci] {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b Estimate) int { return a.Cell.Index - b.Cell.Index })
	if stopped {
		return out, ErrStopped
	}
	return out, nil
}

// Merge checks that parts (shards' estimates) hold every cell of the spec
// exactly once, and returns them in cell order.
func Merge(s *Spec, parts ...[]Estimate) ([]Estimate, error) {
	all := s.Cells()
	seen := make([]bool, len(all))
	var out []Estimate
	for _, p := range parts {
		for _, e := range p {
			i := e.Cell.Index
			if i < 0 || i >= len(all) || e.Cell.String() != all[i].String() {
				return nil, fmt.Errorf("cell %d (%s) is not a cell of this spec", i, e.Cell)
			}
			if seen[i] {
				return nil, fmt.Errorf("cell %d (%s) appears twice", i, e.Cell)
			}
			seen[i] = true
			out = append(out, e)
		}
	}
	for i, ok := range seen {
		if !ok {
			return nil, fmt.Errorf("cell %d (%s) is missing", i, all[i])
		}
	}
	slices.SortFunc(out, func(a, b Estimate) int { return a.Cell.Index - b.Cell.Index })
	return out, nil
}

// TrialBug is a trial that broke a model invariant: a bug in acksim, not a
// finding.
type TrialBug struct {
	Cell    int
	Pattern string
	Trial   int
	Err     *model.InvariantError
}

func (e *TrialBug) Error() string {
	return fmt.Sprintf("cell %d, pattern %s, trial %d: %v", e.Cell, e.Pattern, e.Trial, e.Err)
}

// runSafe runs a trial and returns a broken model invariant as a value
// instead of crashing every worker.
func runSafe(sc *scenarios.Scenario, r *scenarios.Resolved) (v *check.Verdict, ie *model.InvariantError) {
	defer func() {
		if rec := recover(); rec != nil {
			var ok bool
			if ie, ok = rec.(*model.InvariantError); !ok {
				panic(rec)
			}
		}
	}()
	return scenarios.RunSpec(sc, r, scenarios.Options{}).Verdict, nil
}

// allocate gives n more trials, one at a time, to the pattern where one
// more trial reduces the variance of the cell's total most:
// rate²·q(1-q)·(1/k - 1/(k+1)) for a pattern with k trials (q smoothed).
func (e *Estimate) allocate(ci, n int) []job {
	extra := make([]int, len(e.Patterns))
	var out []job
	for ; n > 0; n-- {
		best, gain := -1, -1.0
		for pi := range e.Patterns {
			pe := &e.Patterns[pi]
			k := float64(pe.Trials + extra[pi])
			q := pe.ps()
			g := pe.Rate * pe.Rate * q * (1 - q) * (1/k - 1/(k+1))
			if g > gain {
				best, gain = pi, g
			}
		}
		out = append(out, job{ci, best, e.Patterns[best].Trials + extra[best]})
		extra[best]++
	}
	return out
}

// BruteForce runs n trials of cell c with every failure kind drawn as a
// Poisson process over `exposure` of the workload (from warmup on) at the
// spec's rates multiplied by `scale`, and counts the trials that lost
// acknowledged data: the direct estimate the pattern estimator is checked
// against, feasible only at inflated rates.
func BruteForce(s *Spec, c int, exposure sim.Duration, scale float64, n int) (losing int, err error) {
	cells := s.Cells()
	base, err := s.sweep.CellScenario(cells[c])
	if err != nil {
		return 0, err
	}
	for t := 0; t < n; t++ {
		sc := *base
		sc.Seed = sim.TrialSeed(s.Seed^0x5eed, uint64(t))
		rng := sim.Streams{Master: sc.Seed}.Stream("brute-force")
		type timed struct {
			at sim.Duration
			st scenarios.Step
		}
		var ts []timed
		end := warmup + exposure
		for i := range Kinds {
			k := &Kinds[i]
			per, d := s.rate(k)
			d = min(d, MaxOutage)
			mean := per * scale * float64(components(k, &sc)) * exposure.Seconds() / Year.Seconds()
			for m := poisson(rng, mean); m > 0; m-- {
				at := warmup + sim.Duration(rng.Int64N(int64(exposure)))
				do, undo := scenarios.SweepSteps(k.Name, &sc, rng, fmt.Sprint(1+rng.IntN(sc.Brokers)), d)
				ts = append(ts, timed{at, *do})
				if undo != nil {
					ts = append(ts, timed{at + d, *undo})
				}
				end = max(end, at+d)
			}
		}
		slices.SortStableFunc(ts, func(a, b timed) int { return int(a.at - b.at) })
		sc.Steps = nil
		for _, x := range ts {
			st := x.st
			st.Trigger = scenarios.Trigger{Kind: "at", At: x.at}
			sc.Steps = append(sc.Steps, st)
		}
		sc.Duration = end + 10*sim.Second
		r, err := sc.Resolve()
		if err != nil {
			return 0, err
		}
		if scenarios.RunSpec(&sc, r, scenarios.Options{}).Verdict.Anomalies.LostWrite > 0 {
			losing++
		}
	}
	return losing, nil
}

func poisson(r *rand.Rand, mean float64) int {
	n, t := 0, r.ExpFloat64()
	for t < mean {
		n++
		t += r.ExpFloat64()
	}
	return n
}
