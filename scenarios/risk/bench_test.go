package risk

import (
	"math"
	"testing"
)

// BenchmarkDefaultRisk runs the default risk estimate (acksim risk with no
// spec) on 2 workers and reports, besides its time, the variance-reduction
// ratio for the cell with the largest loss rate: the simulated time a
// brute-force estimate at real rates would need for the same relative
// precision (a Poisson count of (1.96/h)² loss events at rate R: that many
// years / R) over the simulated time the pattern estimator spent on it.
func BenchmarkDefaultRisk(b *testing.B) {
	for i := 0; i < b.N; i++ {
		s, err := Default()
		if err != nil {
			b.Fatal(err)
		}
		ests, err := Run(s, 2, nil)
		if err != nil {
			b.Fatal(err)
		}
		best := -1
		for j, e := range ests {
			if e.Done(s.TargetError) && (best < 0 || e.LossRate > ests[best].LossRate) {
				best = j
			}
		}
		if best >= 0 {
			e := ests[best]
			h := (e.Hi95 - e.Lo95) / 2 / e.LossRate
			years := math.Pow(1.96/h, 2) / e.LossRate
			b.ReportMetric(years*Year.Seconds()/e.SimSeconds, "variance-reduction")
		}
		within := 0
		for _, e := range ests {
			if e.LossRate > 1e-6 && e.Done(s.TargetError) {
				within++
			}
		}
		b.ReportMetric(float64(within), "cells-within-target")
	}
}
