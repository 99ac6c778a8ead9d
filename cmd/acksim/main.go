// Command acksim runs Kafka durability scenarios on a deterministic
// simulator. See README.md.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	"acksim/model"
	"acksim/scenarios"
)

// Exit codes.
const (
	exitOK       = 0
	exitFinding  = 1 // an expectation was contradicted, or check found a counterexample
	exitBadInput = 2 // bad input: nothing ran
	// exitInterrupted: Ctrl-C or SIGTERM stopped a sweep; what finished is
	// saved (128 + SIGINT, as shells report it).
	exitInterrupted = 130
	// exitBug: a model invariant broke (a bug in acksim).
	exitBug = 3
	// exitLimit: the input is valid but its estimated cost is past a limit
	// (--max-memory); nothing ran.
	exitLimit = 4
)

// exitError carries an exit code up to main.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func main() {
	// The simulator allocates many short-lived messages over a small live
	// heap; a lazier GC pace is worth ~25% of run time.
	debug.SetGCPercent(400)
	defer func() {
		// A broken model invariant is a bug in acksim, not a finding: say
		// so, with what replays it, instead of a Go stack trace.
		if r := recover(); r != nil {
			ie, ok := r.(*model.InvariantError)
			if !ok {
				panic(r)
			}
			fmt.Fprintf(os.Stderr, "acksim: internal error, a bug in acksim and not a finding about Kafka:\n  %v\nThe same command with the same seed replays it; please report it.\n", ie)
			os.Exit(exitBug)
		}
	}()
	root := newRoot()
	err := root.Execute()
	if err == nil {
		return
	}
	var ee *exitError
	var le *scenarios.LimitError
	var se scenarios.Errors
	var one *scenarios.Error
	switch {
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintln(os.Stderr, "acksim:", ee.msg)
		}
		os.Exit(ee.code)
	case errors.As(err, &le):
		fmt.Fprintln(os.Stderr, "acksim:", err)
		os.Exit(exitLimit)
	case errors.As(err, &se), errors.As(err, &one):
		fmt.Fprintln(os.Stderr, err)
		os.Exit(exitBadInput)
	default:
		// Flag and argument errors from cobra are bad input too.
		fmt.Fprintln(os.Stderr, "acksim:", err)
		os.Exit(exitBadInput)
	}
}
