package sim

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The kernel benchmark: N processes, each repeatedly scheduling a timeout
// drawn from Exp(1) (mean 1µs of virtual time). It reports events/s.
func BenchmarkKernel(b *testing.B) {
	for _, n := range []int{10, 1000, 100000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			e := NewEngine()
			rng := Streams{Master: 1}.Stream("bench")
			var h HandlerID
			h = e.Register(HandlerFunc(func(e *Engine, ev *Event) {
				e.After(ExpDuration(rng, Microsecond), *ev)
			}))
			for i := 0; i < n; i++ {
				e.At(Time(ExpDuration(rng, Microsecond)), Event{H: h, A: int64(i)})
			}
			e.RunSteps(uint64(2 * n)) // warm up: slab and heap at full size
			b.ReportAllocs()
			b.ResetTimer()
			e.RunSteps(uint64(b.N))
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkBaselineHeap is the yardstick: a minimal hand-written typed-heap
// loop on the same workload, with no handlers, slab, cancellation or hash.
func BenchmarkBaselineHeap(b *testing.B) {
	type item struct {
		at   int64
		seq  uint64
		proc int32
	}
	for _, n := range []int{10, 1000, 100000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			h := make([]item, 0, n)
			var seq uint64
			lessf := func(a, b item) bool { return a.at < b.at || (a.at == b.at && a.seq < b.seq) }
			push := func(it item) {
				h = append(h, it)
				i := len(h) - 1
				for i > 0 {
					p := (i - 1) / 2
					if !lessf(h[i], h[p]) {
						break
					}
					h[i], h[p] = h[p], h[i]
					i = p
				}
			}
			pop := func() item {
				top := h[0]
				n := len(h) - 1
				h[0] = h[n]
				h = h[:n]
				i := 0
				for {
					c := 2*i + 1
					if c >= n {
						break
					}
					if c+1 < n && lessf(h[c+1], h[c]) {
						c++
					}
					if !lessf(h[c], h[i]) {
						break
					}
					h[i], h[c] = h[c], h[i]
					i = c
				}
				return top
			}
			for i := 0; i < n; i++ {
				seq++
				push(item{int64(rng.ExpFloat64() * 1000), seq, int32(i)})
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				it := pop()
				seq++
				push(item{it.at + int64(rng.ExpFloat64()*1000), seq, it.proc})
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
