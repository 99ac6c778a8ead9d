package check

import (
	"slices"

	"acksim/sim"
)

// Percentile returns the q-quantile (0..1) of ds by nearest rank, or 0.
func Percentile(sorted []sim.Duration, q float64) sim.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

// latencies sorts ds in place.
func latencies(ds []sim.Duration) (p50, p99, p999 float64) {
	s := ds
	slices.Sort(s)
	return Percentile(s, 0.5).Milliseconds(), Percentile(s, 0.99).Milliseconds(), Percentile(s, 0.999).Milliseconds()
}
