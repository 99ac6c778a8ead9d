package sim

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

type msg struct {
	From NodeID
	At   Time
	ID   int
}

type inbox struct{ got []msg }

func (b *inbox) Handle(e *Engine, ev *Event) {
	b.got = append(b.got, msg{NodeID(ev.A), e.Now(), ev.P.(*payload).id})
}

type payload struct{ id int }

func newNet(t *testing.T, c LinkConfig) (*Engine, *Network, []*inbox, KindID) {
	t.Helper()
	e := NewEngine()
	ids := []NodeID{e.AddNode("a"), e.AddNode("b"), e.AddNode("c")}
	nw := NewNetwork(e, len(ids)+1, c, Streams{Master: 1}.Stream("network"))
	var boxes []*inbox
	for _, id := range ids {
		b := &inbox{}
		boxes = append(boxes, b)
		nw.Attach(id, e.Register(b))
	}
	return e, nw, boxes, e.Kind("m")
}

func ids(ms []msg) []int {
	var out []int
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func TestLinkLatency(t *testing.T) {
	e, nw, box, k := newNet(t, LinkConfig{Latency: 2 * Millisecond})
	nw.Send(1, 2, k, &payload{1})
	e.Run()
	if diff := cmp.Diff([]msg{{1, Time(2 * Millisecond), 1}}, box[1].got); diff != "" {
		t.Fatal(diff)
	}
}

func TestLinkIsFIFOUnderJitter(t *testing.T) {
	e, nw, box, k := newNet(t, LinkConfig{Latency: Millisecond, Jitter: 10 * Millisecond})
	for i := 0; i < 200; i++ {
		nw.Send(1, 2, k, &payload{i})
	}
	e.Run()
	for i, m := range box[1].got {
		if m.ID != i {
			t.Fatalf("message %d arrived as #%d: link not FIFO", m.ID, i)
		}
	}
	if len(box[1].got) != 200 {
		t.Fatalf("delivered %d of 200", len(box[1].got))
	}
}

// A delayed link delivers late, keeps FIFO order (a message sent after the
// delay ended waits behind the delayed one), and other links overtake it.
func TestLinkDelay(t *testing.T) {
	e, nw, box, k := newNet(t, LinkConfig{Latency: Millisecond})
	nw.Delay(1, 2, 3*Second)
	nw.Send(1, 2, k, &payload{1}) // arrives at 3.001 s
	nw.Delay(1, 2, 0)
	e.RunUntil(Time(Second))
	nw.Send(1, 2, k, &payload{2}) // behind #1: also at 3.001 s
	nw.Send(3, 2, k, &payload{3}) // another link: at 1.001 s
	e.Run()
	want := []msg{{3, Time(Second + Millisecond), 3}, {1, Time(3*Second + Millisecond), 1}, {1, Time(3*Second + Millisecond), 2}}
	if diff := cmp.Diff(want, box[1].got); diff != "" {
		t.Fatal(diff)
	}
}

func TestMessageDrop(t *testing.T) {
	e, nw, box, k := newNet(t, LinkConfig{Latency: Millisecond, Drop: 0.5})
	for i := 0; i < 1000; i++ {
		nw.Send(1, 2, k, &payload{i})
	}
	e.Run()
	if n := len(box[1].got); n < 400 || n > 600 {
		t.Fatalf("delivered %d of 1000 at drop=0.5", n)
	}
}

func TestSymmetricPartitionDropsInFlightAndHeals(t *testing.T) {
	e, nw, box, k := newNet(t, LinkConfig{Latency: 10 * Millisecond})
	nw.Send(1, 2, k, &payload{1}) // in flight when the cut comes
	e.RunUntil(Time(5 * Millisecond))
	nw.Partition([][]NodeID{{1}, {2, 3}})
	if nw.Send(2, 1, k, &payload{2}) {
		t.Fatal("send across a partition reported success")
	}
	nw.Send(2, 3, k, &payload{3}) // same side: delivered
	e.Run()
	if len(box[1].got) != 0 || len(box[0].got) != 0 {
		t.Fatalf("delivered across the partition: %v %v", box[0].got, box[1].got)
	}
	if diff := cmp.Diff([]int{3}, ids(box[2].got)); diff != "" {
		t.Fatal(diff)
	}
	nw.Heal()
	nw.Send(1, 2, k, &payload{4})
	e.Run()
	if diff := cmp.Diff([]int{4}, ids(box[1].got)); diff != "" {
		t.Fatal(diff)
	}
}

func TestOneWayPartition(t *testing.T) {
	e, nw, box, k := newNet(t, LinkConfig{Latency: Millisecond})
	nw.PartitionOneWay([]NodeID{1}, []NodeID{2})
	nw.Send(1, 2, k, &payload{1})
	nw.Send(2, 1, k, &payload{2})
	e.Run()
	if len(box[1].got) != 0 || len(box[0].got) != 1 {
		t.Fatalf("one-way cut: b got %v, a got %v", box[1].got, box[0].got)
	}
}

func TestIsolate(t *testing.T) {
	e, nw, box, k := newNet(t, LinkConfig{Latency: Millisecond})
	nw.Isolate(3)
	nw.Send(1, 3, k, &payload{1})
	nw.Send(3, 2, k, &payload{2})
	nw.Send(1, 2, k, &payload{3})
	e.Run()
	if len(box[2].got) != 0 || !cmp.Equal([]int{3}, ids(box[1].got)) {
		t.Fatalf("isolate: c got %v, b got %v", box[2].got, box[1].got)
	}
}

func TestPausedNodeReceivesNothingUntilResumed(t *testing.T) {
	e, nw, box, k := newNet(t, LinkConfig{Latency: Millisecond})
	nw.Pause(2)
	nw.Send(1, 2, k, &payload{1})
	nw.Send(3, 2, k, &payload{2})
	e.RunUntil(Time(100 * Millisecond))
	if len(box[1].got) != 0 {
		t.Fatalf("paused node received %v", box[1].got)
	}
	nw.Resume(2)
	e.Run()
	if diff := cmp.Diff([]msg{{1, Time(100 * Millisecond), 1}, {3, Time(100 * Millisecond), 2}}, box[1].got); diff != "" {
		t.Fatal(diff)
	}
}

// Recording keeps each message's fate and does not change the trace hash.
func TestRecordedFates(t *testing.T) {
	run := func(record bool) (*Network, uint64) {
		e, nw, _, k := newNet(t, LinkConfig{Latency: 2 * Millisecond})
		if record {
			nw.Record()
		}
		nw.Send(1, 2, k, &payload{1}) // delivered at 2ms
		nw.Cut(1, 0)
		nw.Send(1, 0, k, &payload{2}) // dropped at send
		nw.Send(2, 0, k, &payload{3}) // cut while in flight
		nw.Pause(1)
		nw.Send(0, 1, k, &payload{4}) // held by the pause, handed over at 5ms
		e.At(Time(Millisecond), Event{H: e.Register(HandlerFunc(func(*Engine, *Event) { nw.Cut(2, 0) }))})
		e.At(Time(5*Millisecond), Event{H: e.Register(HandlerFunc(func(*Engine, *Event) { nw.Resume(1) }))})
		nw.Send(0, 2, k, &payload{5})
		e.RunUntil(Time(Millisecond))
		e.Run()
		return nw, e.Hash()
	}
	nw, h1 := run(true)
	_, h2 := run(false)
	if h1 != h2 {
		t.Fatal("recording changed the trace hash")
	}
	type view struct {
		From, To NodeID
		Arrive   Time
		Fate     Fate
	}
	var got []view
	for _, m := range nw.Messages() {
		got = append(got, view{m.From, m.To, m.Arrive, m.Fate})
	}
	ms := Time(Millisecond)
	want := []view{{1, 2, 2 * ms, Delivered}, {1, 0, 0, DroppedAtSend}, {2, 0, 2 * ms, DroppedInFlight},
		{0, 1, 2 * ms, Delivered}, {0, 2, 2 * ms, Delivered}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("fates (-want +got):\n%s", diff)
	}
}
