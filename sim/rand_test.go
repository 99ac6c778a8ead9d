package sim

import "testing"

func TestStreamsAreReproducible(t *testing.T) {
	a := Streams{Master: 42, Trial: 7}.Stream("faults")
	b := Streams{Master: 42, Trial: 7}.Stream("faults")
	for i := 0; i < 100; i++ {
		if a.Uint64() != b.Uint64() {
			t.Fatal("same (seed, trial, domain) gave different sequences")
		}
	}
}

func TestStreamsAreIndependent(t *testing.T) {
	// Drawing extra numbers from "workload" must not change "faults".
	s := Streams{Master: 42, Trial: 7}
	w1, f1 := s.Stream("workload"), s.Stream("faults")
	var base []uint64
	for i := 0; i < 50; i++ {
		base = append(base, f1.Uint64())
	}
	_ = w1
	w2, f2 := s.Stream("workload"), s.Stream("faults")
	for i := 0; i < 1000; i++ {
		w2.Uint64()
	}
	for i := 0; i < 50; i++ {
		if f2.Uint64() != base[i] {
			t.Fatal("draws in one domain changed another")
		}
	}
}

func TestStreamsDiffer(t *testing.T) {
	first := func(s Streams, d string) uint64 { return s.Stream(d).Uint64() }
	seen := map[uint64]string{}
	for _, c := range []struct {
		s Streams
		d string
	}{{Streams{1, 0}, "faults"}, {Streams{1, 0}, "workload"}, {Streams{1, 1}, "faults"}, {Streams{2, 0}, "faults"}, {Streams{0, 1}, "faults"}, {Streams{1, 0}, "network"}} {
		v := first(c.s, c.d)
		if prev, ok := seen[v]; ok {
			t.Fatalf("%v/%s collides with %s", c.s, c.d, prev)
		}
		seen[v] = c.d
	}
	if TrialSeed(1, 0) == TrialSeed(1, 1) || TrialSeed(1, 0) == TrialSeed(2, 0) {
		t.Fatal("trial seeds collide")
	}
}
