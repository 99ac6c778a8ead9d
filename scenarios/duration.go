package scenarios

import "acksim/sim"

// durationT is a parsed duration before it becomes a sim.Duration.
type durationT int64

func (d durationT) d() sim.Duration { return sim.Duration(d) }
