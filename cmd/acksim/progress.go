package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"acksim/sim"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress reports a sweep's progress: a bar with a rate and an ETA on a
// terminal, plain lines every few seconds otherwise (logs, CI, pipes).
type progress struct {
	w     io.Writer
	bar   *progressbar.ProgressBar
	start time.Time
	last  time.Time
	prior int    // trials done before this run (resume): not in the rate
	label string // "sweep", or the command it reports for
}

func newProgress(w io.Writer, prior int) *progress {
	return &progress{w: w, start: time.Now(), last: time.Now(), prior: prior, label: "sweep"}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// update is called (serially) after each trial.
func (p *progress) update(done, total int) {
	if isTerminal(p.w) {
		if p.bar == nil {
			p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription(p.label),
				progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("trials"),
				progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionSetWidth(30), progressbar.OptionClearOnFinish())
			p.bar.Set(done - 1)
		}
		p.bar.Set(done)
		return
	}
	if time.Since(p.last) < 2*time.Second && done != total {
		return
	}
	p.last = time.Now()
	el := time.Since(p.start)
	ran := max(done-p.prior, 1)
	eta := time.Duration(float64(el) / float64(ran) * float64(total-done))
	fmt.Fprintf(p.w, "%s: %d/%d trials, %s elapsed, ETA %s\n", p.label, done, total, el.Round(time.Second), eta.Round(time.Second))
}

// finish clears the bar after a complete run; after an interrupted one it
// leaves the bar where it stopped (not filled) and ends its line.
func (p *progress) finish(interrupted bool) {
	switch {
	case p.bar == nil:
	case interrupted:
		p.bar.Exit()
		fmt.Fprintln(p.w)
	default:
		p.bar.Finish()
	}
}

// runProgress shows a long run's progress on a terminal: simulated seconds
// of the faulty phase done (recovery follows).
func runProgress(w io.Writer) func(done, total sim.Time) {
	var bar *progressbar.ProgressBar
	return func(done, total sim.Time) {
		if bar == nil {
			bar = progressbar.NewOptions64(int64(total/sim.Time(sim.Millisecond)), progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("run (simulated ms)"),
				progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionSetWidth(30), progressbar.OptionClearOnFinish())
		}
		bar.Set64(int64(done / sim.Time(sim.Millisecond)))
		if done == total {
			bar.Finish()
		}
	}
}
