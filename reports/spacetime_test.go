package reports

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"acksim/scenarios"
	"acksim/sim"
)

func runRecorded(t *testing.T, name string, opt scenarios.Options) *scenarios.Result {
	t.Helper()
	s, err := scenarios.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	res, err := scenarios.Run(s, opt)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// The diagram of acks=1 losing data shows the acknowledgements of the
// records later lost in red, in a window that holds the first fault, and a
// second window around their truncation.
func TestSpaceTimeShowsTheLoss(t *testing.T) {
	res := runRecorded(t, "acks1-leader-crash", scenarios.Options{RecordMessages: true})
	ws := AutoWindows(res)
	if len(ws) != 2 {
		t.Fatalf("windows %+v, want one around the acks and one around the truncation", ws)
	}
	fault := res.Fired[0].At
	if fault < ws[0].From || fault > ws[0].To || ws[0].To-ws[0].From > sim.Time(3*sim.Second) {
		t.Errorf("first window %v-%v misses the first fault at %v or is too wide", ws[0].From, ws[0].To, fault)
	}
	d := SpaceTime(res, ws[0])
	if d.LostMsgs == 0 || d.Drawn <= d.LostMsgs {
		t.Errorf("drawn %d, carrying lost records %d", d.Drawn, d.LostMsgs)
	}
	if !strings.Contains(string(d.SVG), `stroke="#c00"`) {
		t.Error("no red arrow")
	}
	d2 := SpaceTime(res, ws[1])
	if !strings.Contains(string(d2.SVG), `fill="#c00"><title>`) {
		t.Error("the truncation of the lost records is not marked red")
	}
}

// A safe run has no red, and recording does not change the run.
func TestSpaceTimeSafeRunAndDeterminism(t *testing.T) {
	res := runRecorded(t, "acksall-leader-crash", scenarios.Options{RecordMessages: true})
	plain := runRecorded(t, "acksall-leader-crash", scenarios.Options{})
	if res.Verdict.TraceHash != plain.Verdict.TraceHash {
		t.Fatal("recording messages changed the trace")
	}
	ws := AutoWindows(res)
	a, err := RunHTML(res, "replay", ws)
	if err != nil {
		t.Fatal(err)
	}
	if d := SpaceTime(res, ws[0]); d.LostMsgs != 0 || d.Drawn == 0 {
		t.Errorf("safe run: drawn %d, lost %d", d.Drawn, d.LostMsgs)
	}
	again := runRecorded(t, "acksall-leader-crash", scenarios.Options{RecordMessages: true})
	b, _ := RunHTML(again, "replay", AutoWindows(again))
	if !bytes.Equal(a, b) {
		t.Error("the run page differs between two identical runs")
	}
}

// The Raft design draws the same way: the append-entries that carried the
// records later lost are red, and recording does not change the run.
func TestSpaceTimeRaft(t *testing.T) {
	res := runRecorded(t, "raft-write-caching-power-loss-election", scenarios.Options{RecordMessages: true})
	plain := runRecorded(t, "raft-write-caching-power-loss-election", scenarios.Options{})
	if res.Verdict.TraceHash != plain.Verdict.TraceHash {
		t.Fatal("recording messages changed the trace")
	}
	lost := 0
	for _, w := range AutoWindows(res) {
		d := SpaceTime(res, w)
		lost += d.LostMsgs
	}
	if lost == 0 {
		t.Fatal("no message carrying a lost record is drawn")
	}
	var appends int
	for _, m := range res.Recording.Messages {
		if m.Kind == "raft.append-entries" && len(m.Records) > 0 {
			appends++
		}
	}
	if appends == 0 {
		t.Fatal("no append-entries carries records")
	}
}

// A window far longer than the run is clipped to it and drawn at most
// about 20,000 px wide (a 1000-hour window ran out of memory; issue 18).
func TestSpaceTimeHugeWindow(t *testing.T) {
	res := runRecorded(t, "acks1-leader-crash", scenarios.Options{RecordMessages: true})
	d := SpaceTime(res, Window{From: 1, To: sim.Time(1000 * sim.Hour)})
	if n := len(d.SVG); n > 20<<20 {
		t.Fatalf("a 1000-hour window drew %d MB", n>>20)
	}
	if d.Window.To != res.History.End {
		t.Errorf("window not clipped to the run: %v", d.Window)
	}
	var w float64
	fmt.Sscanf(string(d.SVG)[strings.Index(string(d.SVG), `width="`)+7:], "%f", &w)
	if w > 20100 {
		t.Errorf("%.0f px wide", w)
	}
}

// At thousands of messages a window (issue 17), close messages of one kind
// between the same two lanes are drawn as one arrow whose tooltip counts
// them: every message is still accounted for, the red ones stay red and
// apart from the grey, and the arrows are few enough to tell apart.
func TestSpaceTimeGroupsDenseTraffic(t *testing.T) {
	s, err := scenarios.Load("acks1-leader-crash")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set("workload.rate=20000"); err != nil {
		t.Fatal(err)
	}
	res, err := scenarios.Run(s, scenarios.Options{RecordMessages: true})
	if err != nil {
		t.Fatal(err)
	}
	w := AutoWindows(res)[0]
	d := SpaceTime(res, w)
	if d.Drawn < 1000 || d.Arrows*10 > d.Drawn || d.Arrows == 0 {
		t.Fatalf("%d messages drawn as %d arrows: want 1,000+ messages grouped at least tenfold", d.Drawn, d.Arrows)
	}
	svg := string(d.SVG)
	if got := strings.Count(svg, "<line") - strings.Count(svg, `stroke="#eee"`) - strings.Count(svg, `stroke="#bbb"`) - strings.Count(svg, `stroke-dasharray`); got != d.Arrows {
		t.Errorf("%d message lines in the SVG, Diagram says %d arrows", got, d.Arrows)
	}
	// The tooltips' counts add up to the messages drawn.
	total := 0
	for _, part := range strings.Split(svg, "<title>")[1:] {
		if i := strings.Index(part, ": "); i >= 0 && strings.Contains(part[:i], "→") {
			n := 1
			fmt.Sscanf(part[i+2:], "%d messages", &n)
			total += n
		}
	}
	if total != d.Drawn {
		t.Errorf("tooltips count %d messages, %d drawn", total, d.Drawn)
	}
	if d.LostMsgs == 0 || !strings.Contains(svg, `stroke="#c00"`) {
		t.Error("the messages carrying lost records are not drawn red")
	}
}

// --timeline-around keeps the causes of a loss, not only the truncation
// (issue 17): the acknowledgements of the records later lost (an "acked"
// row), the faults and elections between them and the truncation, however
// far apart, and not what explains nothing (the followers resuming).
func TestTimelineAroundKeepsTheCauses(t *testing.T) {
	res := runRecorded(t, "acks1-leader-crash", scenarios.Options{})
	around := Timeline(res.History, res.Verdict.Lost, 500*sim.Millisecond)
	for _, want := range []string{
		"acked            500 record(s) later lost acknowledged to the producer between 2.001s and 2.5s (by leader broker 1 in epoch 0)",
		"2.5s           1      crash",
		"11.25s         2      elect",
		"truncated        broker 1 truncated offsets 2000-2499",
	} {
		if !strings.Contains(around, want) {
			t.Errorf("--timeline-around 500ms lacks %q:\n%s", want, around)
		}
	}
	full := Timeline(res.History, res.Verdict.Lost, 0)
	if resume := "5s             2      resume"; !strings.Contains(full, resume) || strings.Contains(around, resume) {
		t.Errorf("the followers resuming belongs in the full timeline only:\n%s", around)
	}
	if strings.Count(full, "\n") <= strings.Count(around, "\n") {
		t.Error("--timeline-around kept everything")
	}
	page, err := RunHTML(runRecorded(t, "acks1-leader-crash", scenarios.Options{RecordMessages: true}), "replay", nil)
	if err != nil || !strings.Contains(string(page), `<td>2.001s</td><td>1</td><td class="s">acked</td>`) {
		t.Errorf("the page's timeline has no acked row (%v)", err)
	}
	safe := runRecorded(t, "acksall-leader-crash", scenarios.Options{})
	if s := Timeline(safe.History, safe.Verdict.Lost, 0); strings.Contains(s, "acked ") {
		t.Errorf("an acked row in a run that lost nothing:\n%s", s)
	}
}
