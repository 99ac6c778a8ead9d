package sweep

import (
	"runtime/debug"
	"testing"
)

// BenchmarkDefaultSweep runs the first 4 trials of every cell of the
// embedded default sweep (96 trials) on 1 and 2 workers, at acksim's GC
// setting, and reports trials per second.
func BenchmarkDefaultSweep(b *testing.B) {
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	for _, workers := range []int{1, 2} {
		b.Run(map[int]string{1: "workers=1", 2: "workers=2"}[workers], func(b *testing.B) {
			s, err := Default()
			if err != nil {
				b.Fatal(err)
			}
			s.Trials = 4
			b.ReportAllocs()
			n := 0
			for i := 0; i < b.N; i++ {
				_, ts, err := Run(s, workers, nil)
				if err != nil {
					b.Fatal(err)
				}
				n += len(ts)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "trials/s")
		})
	}
}
