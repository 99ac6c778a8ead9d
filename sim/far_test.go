package sim

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// The far buckets change nothing: with any mix of near and far events
// (beyond the ring too), cancellations and RunUntil stops, events run in
// the same order at the same times as with everything in the heap.
func TestFarQueueOrdersLikeHeap(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ops := rapid.SliceOfN(rapid.IntRange(0, 99), 300, 1000).Draw(t, "ops")
		// Fixed delays around the thresholds, and arbitrary ones.
		delays := []Duration{0, 300 * Microsecond, 49 * Millisecond, 50 * Millisecond, 51 * Millisecond,
			500 * Millisecond, 2 * Second, 30 * Second, 45 * Second, 90 * Second}
		for _, d := range rapid.SliceOfN(rapid.Int64Range(0, int64(60*Second)), 3, 3).Draw(t, "delays") {
			delays = append(delays, Duration(d))
		}
		// Dense around the near/far threshold and the bucket width, so near
		// and far events often fall in the same bucket.
		for _, d := range rapid.SliceOfN(rapid.Int64Range(0, int64(120*Millisecond)), 20, 20).Draw(t, "near") {
			delays = append(delays, Duration(d))
		}
		run := func(off bool) []int64 {
			e := NewEngine()
			e.far.off = off
			var got []int64
			var timers []Timer
			var h HandlerID
			i := 0
			h = e.Register(HandlerFunc(func(e *Engine, ev *Event) {
				got = append(got, ev.A, int64(e.Now()), int64(e.Pending()))
				for n := 0; n < 3 && i < len(ops); n, i = n+1, i+1 {
					if op := ops[i]; op < 70 {
						timers = append(timers, e.After(delays[op%len(delays)], Event{H: h, A: int64(i)}))
					} else if len(timers) > 0 {
						tm := timers[op%len(timers)]
						got = append(got, -2, b2i(e.IsPending(tm)), b2i(e.Cancel(tm)))
					}
				}
			}))
			for j := 0; j < 3; j++ {
				e.After(Duration(j)*20*Millisecond, Event{H: h, A: -1})
			}
			for stop := Time(0); e.Pending() > 0; stop = stop.Add(7 * Second) {
				e.RunUntil(stop)
			}
			return got
		}
		if diff := cmp.Diff(run(true), run(false)); diff != "" {
			t.Fatalf("far buckets change the run (-heap only +far):\n%s", diff)
		}
	})
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// A near event scheduled after a far one, due just after it in the same
// bucket, must still run after it.
func TestFarEventBeforeLaterNearOne(t *testing.T) {
	e := NewEngine()
	var got []int64
	var h HandlerID
	h = e.Register(HandlerFunc(func(e *Engine, ev *Event) {
		got = append(got, ev.A)
		if ev.A == 1 { // at 60 ms: B, 42 ms ahead (near), due at 102 ms
			e.After(42*Millisecond, Event{H: h, A: 3})
		}
	}))
	e.After(100*Millisecond, Event{H: h, A: 2}) // A: far, due at 100 ms
	e.After(60*Millisecond, Event{H: h, A: 1})
	e.Run()
	if diff := cmp.Diff([]int64{1, 2, 3}, got); diff != "" {
		t.Fatalf("order (-want +got):\n%s", diff)
	}
}
