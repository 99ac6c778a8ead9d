package model

import (
	"fmt"

	"acksim/sim"
)

// InvariantError is a broken model invariant: a bug in acksim, not a
// finding. It carries enough to replay the run.
type InvariantError struct {
	Seed uint64
	Step uint64
	At   string
	What string
}

func (e *InvariantError) Error() string {
	return fmt.Sprintf("model invariant violated at %s (step %d, seed %d): %s", e.At, e.Step, e.Seed, e.What)
}

func violate(e *sim.Engine, seed uint64, format string, args ...any) {
	panic(&InvariantError{Seed: seed, Step: e.Steps(), At: e.Now().String(), What: fmt.Sprintf(format, args...)})
}

func (c *Cluster) violate(format string, args ...any) { violate(c.E, c.Seed, format, args...) }
