package sim

import (
	"testing"

	"pgregory.net/rapid"
)

// op is one step of a generated schedule.
type op struct {
	Kind     int // 0 send, 1 timer, 2 cancel, 3 partition, 4 heal, 5 pause, 6 resume, 7 isolate, 8 one-way
	From, To int
	Delay    int64
}

type world struct {
	e      *Engine
	nw     *Network
	rec    *Recorder
	timers []Timer
}

func runSchedule(ops []op, jitter bool) (uint64, string) {
	e := NewEngine()
	rec := &Recorder{}
	e.SetTracer(rec)
	var nodes []NodeID
	for _, n := range []string{"n1", "n2", "n3", "n4"} {
		nodes = append(nodes, e.AddNode(n))
	}
	c := LinkConfig{Latency: Millisecond}
	if jitter {
		c.Jitter = 3 * Millisecond
	}
	nw := NewNetwork(e, len(nodes)+1, c, Streams{Master: 3}.Stream("network"))
	w := &world{e: e, nw: nw, rec: rec}
	kMsg, kTimer := e.Kind("msg"), e.Kind("timer")
	var echo HandlerID
	echo = e.Register(HandlerFunc(func(e *Engine, ev *Event) {
		// Each delivery answers once, so the schedule has causal chains.
		if ev.Kind == kMsg {
			if hop := ev.P.(*payload); hop.id < 3 {
				nw.Send(ev.Node, NodeID(ev.A), kMsg, &payload{hop.id + 1})
			}
		}
	}))
	for _, n := range nodes {
		nw.Attach(n, echo)
	}
	ctl := e.Register(HandlerFunc(func(e *Engine, ev *Event) {
		o := ops[ev.A]
		a, b := nodes[o.From%4], nodes[o.To%4]
		switch o.Kind {
		case 0:
			nw.Send(a, b, kMsg, &payload{0})
		case 1:
			w.timers = append(w.timers, e.After(Duration(o.Delay), Event{H: echo, Kind: kTimer, Node: a, A: int64(o.To)}))
		case 2:
			if len(w.timers) > 0 {
				e.Cancel(w.timers[o.To%len(w.timers)])
			}
		case 3:
			nw.Partition([][]NodeID{{a}, {b}})
		case 4:
			nw.Heal()
		case 5:
			nw.Pause(a)
		case 6:
			nw.Resume(a)
		case 7:
			nw.Isolate(a)
		case 8:
			nw.PartitionOneWay([]NodeID{a}, []NodeID{b})
		}
	}))
	for i, o := range ops {
		e.At(Time(o.Delay*int64(i%5)), Event{H: ctl, A: int64(i), Node: nodes[o.From%4]})
	}
	e.Run()
	for _, n := range nodes {
		nw.Resume(n)
	}
	e.Run()
	return e.Hash(), rec.String()
}

func genOps(t *rapid.T) []op {
	return rapid.SliceOfN(rapid.Custom(func(t *rapid.T) op {
		return op{
			Kind:  rapid.IntRange(0, 8).Draw(t, "kind"),
			From:  rapid.IntRange(0, 3).Draw(t, "from"),
			To:    rapid.IntRange(0, 3).Draw(t, "to"),
			Delay: rapid.Int64Range(0, int64(20*Millisecond)).Draw(t, "delay"),
		}
	}), 1, 60).Draw(t, "ops")
}

func TestDeterminismProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ops := genOps(t)
		h1, tr1 := runSchedule(ops, true)
		h2, tr2 := runSchedule(ops, true)
		if h1 != h2 || tr1 != tr2 {
			t.Fatalf("two runs of one schedule differ: %x vs %x", h1, h2)
		}
	})
}

func TestHashChangesWhenOneEventChanges(t *testing.T) {
	ops := []op{{0, 0, 1, 0}, {1, 1, 2, int64(Millisecond)}, {0, 2, 3, int64(2 * Millisecond)}}
	base, _ := runSchedule(ops, false)
	for i := 1; i < len(ops); i++ { // op 0 runs at time 0 whatever its delay
		changed := append([]op(nil), ops...)
		changed[i].Delay++
		if h, _ := runSchedule(changed, false); h == base {
			t.Fatalf("changing the time of op %d left the hash unchanged", i)
		}
	}
	changed := append([]op(nil), ops...)
	changed[0].To = 2
	if h, _ := runSchedule(changed, false); h == base {
		t.Fatal("changing a destination left the hash unchanged")
	}
}

func TestTraceFormats(t *testing.T) {
	e := NewEngine()
	n := e.AddNode("broker-1")
	k := e.Kind("elect")
	var sb []byte
	e.SetTracer(&TextTracer{W: writerFunc(func(p []byte) (int, error) { sb = append(sb, p...); return len(p), nil })})
	e.RunUntil(Time(1500 * Millisecond))
	e.Note(n, k, 2, 3, "leader=2 epoch=3")
	if got, want := string(sb), "0 1.5s broker-1 elect a=2 b=3 leader=2 epoch=3\n"; got != want {
		t.Fatalf("text line: got %q want %q", got, want)
	}
	sb = nil
	e.SetTracer(&JSONTracer{W: writerFunc(func(p []byte) (int, error) { sb = append(sb, p...); return len(p), nil })})
	e.Note(n, k, 2, 3, "x")
	if got, want := string(sb), `{"step":0,"t_ns":1500000000,"node":"broker-1","kind":"elect","a":2,"b":3,"text":"x"}`+"\n"; got != want {
		t.Fatalf("json line: got %q want %q", got, want)
	}
}

func TestHashKeptWithoutTracer(t *testing.T) {
	ops := []op{{0, 0, 1, 5}, {1, 1, 2, 7}}
	e := NewEngine()
	h0 := e.Hash()
	withTracer, _ := runSchedule(ops, true)
	if withTracer == h0 {
		t.Fatal("hash did not move")
	}
}
