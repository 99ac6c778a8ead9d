package sim

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

type recorder struct{ got []int64 }

func (r *recorder) Handle(e *Engine, ev *Event) { r.got = append(r.got, ev.A) }

func TestEqualTimesFireInSchedulingOrder(t *testing.T) {
	e := NewEngine()
	r := &recorder{}
	h := e.Register(r)
	e.At(5, Event{H: h, A: 1})
	e.At(3, Event{H: h, A: 2})
	e.At(5, Event{H: h, A: 3})
	e.At(3, Event{H: h, A: 4})
	e.At(0, Event{H: h, A: 5})
	e.Run()
	if diff := cmp.Diff([]int64{5, 2, 4, 1, 3}, r.got); diff != "" {
		t.Fatalf("order (-want +got):\n%s", diff)
	}
	if e.Now() != 5 {
		t.Fatalf("now = %v, want 5ns", e.Now())
	}
}

func TestHeapOrdersManyEvents(t *testing.T) {
	e := NewEngine()
	var last Time
	var n int
	h := e.Register(HandlerFunc(func(e *Engine, ev *Event) {
		if e.Now() < last {
			t.Fatalf("time went back: %v after %v", e.Now(), last)
		}
		last = e.Now()
		n++
	}))
	x := uint64(1)
	for i := 0; i < 10000; i++ {
		x = splitmix(x)
		e.At(Time(x%1000), Event{H: h})
	}
	e.Run()
	if n != 10000 {
		t.Fatalf("ran %d events, want 10000", n)
	}
}

func TestPastIsClampedToNow(t *testing.T) {
	e := NewEngine()
	var at []Time
	var h HandlerID
	h = e.Register(HandlerFunc(func(e *Engine, ev *Event) {
		at = append(at, e.Now())
		if ev.A == 0 {
			e.At(1, Event{H: h, A: 1})
		}
	}))
	e.At(10, Event{H: h})
	e.Run()
	if diff := cmp.Diff([]Time{10, 10}, at); diff != "" {
		t.Fatal(diff)
	}
}

func TestCancel(t *testing.T) {
	e := NewEngine()
	r := &recorder{}
	h := e.Register(r)
	a := e.At(1, Event{H: h, A: 1})
	b := e.At(2, Event{H: h, A: 2})
	e.At(3, Event{H: h, A: 3})
	if !e.Cancel(b) {
		t.Fatal("cancel of a pending timer reported false")
	}
	if e.Cancel(b) {
		t.Fatal("second cancel reported true")
	}
	if e.Pending() != 2 {
		t.Fatalf("pending = %d, want 2", e.Pending())
	}
	e.Run()
	if diff := cmp.Diff([]int64{1, 3}, r.got); diff != "" {
		t.Fatal(diff)
	}
	// a fired: cancelling it now does nothing, even once its slot is reused.
	c := e.At(10, Event{H: h, A: 4})
	if e.Cancel(a) || e.Cancel(Timer{}) {
		t.Fatal("cancel of a fired timer reported true")
	}
	if !e.IsPending(c) {
		t.Fatal("reused slot lost its event")
	}
	e.Run()
	if diff := cmp.Diff([]int64{1, 3, 4}, r.got); diff != "" {
		t.Fatal(diff)
	}
}

func TestCancelFromHandler(t *testing.T) {
	e := NewEngine()
	r := &recorder{}
	h := e.Register(r)
	var later Timer
	k := e.Register(HandlerFunc(func(e *Engine, ev *Event) { e.Cancel(later) }))
	e.At(1, Event{H: k})
	later = e.At(1, Event{H: h, A: 9})
	e.Run()
	if len(r.got) != 0 {
		t.Fatalf("cancelled event ran: %v", r.got)
	}
}

func TestRunUntil(t *testing.T) {
	e := NewEngine()
	r := &recorder{}
	h := e.Register(r)
	for i := int64(1); i <= 5; i++ {
		e.At(Time(i*10), Event{H: h, A: i})
	}
	e.RunUntil(30)
	if diff := cmp.Diff([]int64{1, 2, 3}, r.got); diff != "" {
		t.Fatal(diff)
	}
	e.RunUntil(45)
	if e.Now() != 45 || len(r.got) != 4 {
		t.Fatalf("now=%v got=%v, want 45ns and 4 events", e.Now(), r.got)
	}
}

func TestRunSteps(t *testing.T) {
	e := NewEngine()
	r := &recorder{}
	h := e.Register(r)
	for i := int64(1); i <= 5; i++ {
		e.At(Time(i), Event{H: h, A: i})
	}
	e.RunSteps(2)
	if len(r.got) != 2 || e.Steps() != 2 {
		t.Fatalf("got %v after 2 steps", r.got)
	}
}

func TestRunWhileAndStop(t *testing.T) {
	e := NewEngine()
	n := 0
	var h HandlerID
	h = e.Register(HandlerFunc(func(e *Engine, ev *Event) {
		n++
		if n == 7 {
			e.Stop()
		}
		e.After(1, Event{H: h})
	}))
	e.At(0, Event{H: h})
	if !e.RunWhile(Never, func() bool { return n < 3 }) {
		t.Fatal("condition never became false")
	}
	if n != 3 {
		t.Fatalf("n = %d, want 3", n)
	}
	e.Run()
	if n != 7 {
		t.Fatalf("Stop from a handler: n = %d, want 7", n)
	}
	limit := e.Now().Add(5)
	if ok := e.RunWhile(limit, func() bool { return true }); ok || e.Now() > limit {
		t.Fatalf("RunWhile past its limit: ok=%v now=%v", ok, e.Now())
	}
}

func TestDurationPrintsLikeGo(t *testing.T) {
	for _, c := range []struct {
		d    Duration
		want string
	}{{1500 * Millisecond, "1.5s"}, {250 * Microsecond, "250µs"}, {0, "0s"}, {2 * Minute, "2m0s"}} {
		if got := c.d.String(); got != c.want {
			t.Errorf("%d: got %q want %q", int64(c.d), got, c.want)
		}
	}
	if Time(3*Second).Add(Second).Sub(Time(Second)) != 3*Second {
		t.Error("Time arithmetic")
	}
}

func TestNoAllocationPerEventInSteadyState(t *testing.T) {
	e := NewEngine()
	var h HandlerID
	h = e.Register(HandlerFunc(func(e *Engine, ev *Event) { e.After(Duration(ev.A), *ev) }))
	for i := 0; i < 100; i++ {
		e.At(Time(i), Event{H: h, A: int64(i%7 + 1)})
	}
	e.RunSteps(10000)
	allocs := testing.AllocsPerRun(10, func() { e.RunSteps(1000) })
	if allocs != 0 {
		t.Fatalf("allocs per 1000 steps = %v, want 0", allocs)
	}
}

// A handler that schedules itself at the same instant forever is a
// livelock: the engine calls OnStall after StallLimit events instead of
// hanging; a long burst that lets time advance never trips it.
func TestOnStallCatchesLivelock(t *testing.T) {
	e := NewEngine()
	var h HandlerID
	h = e.Register(HandlerFunc(func(e *Engine, ev *Event) { e.At(e.Now(), Event{H: h}) }))
	e.At(5, Event{H: h})
	var stalled uint32
	e.OnStall(func(n uint32) { stalled = n; e.Stop() })
	e.RunUntil(10)
	if stalled < StallLimit || e.Now() != 5 {
		t.Fatalf("stalled after %d events at %v", stalled, e.Now())
	}

	e = NewEngine()
	n := 0
	h = e.Register(HandlerFunc(func(e *Engine, ev *Event) {
		if n++; n < 2*StallLimit {
			e.After(1, Event{H: h})
		}
	}))
	e.At(0, Event{H: h})
	e.OnStall(func(uint32) { t.Fatal("advancing time tripped the livelock guard") })
	e.RunUntil(Time(3 * StallLimit))
}
