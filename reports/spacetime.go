package reports

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"slices"
	"strings"

	"acksim/history"
	"acksim/scenarios"
	"acksim/sim"
)

// Window is a stretch of simulated time a space-time diagram draws, and
// why it was chosen.
type Window struct {
	From, To sim.Time
	Why      string
}

// AutoWindows picks the interesting stretches of a run, each at most a few
// seconds (wider windows smear arrows into blocks): around the first fault
// and the acknowledgements of records later lost, and around the
// truncation or power loss that removed them, when that is later.
func AutoWindows(res *scenarios.Result) []Window {
	h := res.History
	end := h.End
	fault := sim.Time(-1)
	for _, f := range res.Fired {
		if !f.Skipped {
			fault = f.At
			break
		}
	}
	lost := lostSet(res)
	firstAck, lastAck := sim.Time(-1), sim.Time(-1)
	for id := range lost {
		at := sim.Time(0) // acks=0, never appended
		if a := h.AckOf(&h.Records[id-1]); a != nil {
			at = a.At
		}
		if firstAck < 0 || at < firstAck {
			firstAck = at
		}
		lastAck = max(lastAck, at)
	}
	removal := sim.Time(-1)
	for _, rm := range h.Removals {
		if removesAny(rm, lost) {
			removal = rm.At
			break
		}
	}
	clip := func(w Window) Window { // to the run, on whole milliseconds
		ms := sim.Time(sim.Millisecond)
		w.From, w.To = max(0, w.From/ms*ms), min(end, (w.To+ms-1)/ms*ms)
		return w
	}
	var out []Window
	switch {
	case fault < 0 && firstAck < 0:
		return []Window{clip(Window{0, sim.Time(2 * sim.Second), "the start of the run (no fault fired)"})}
	case firstAck < 0:
		out = append(out, clip(Window{fault.Add(-500 * sim.Millisecond), fault.Add(1500 * sim.Millisecond), "around the first fault"}))
	default:
		from := firstAck
		if fault >= 0 {
			from = min(from, fault)
		}
		to := max(lastAck, fault)
		from = max(from.Add(-100*sim.Millisecond), to.Add(-2*sim.Second))
		out = append(out, clip(Window{from, to.Add(750 * sim.Millisecond), "the acknowledgements of records later lost, and the first fault"}))
	}
	if removal >= 0 && removal > out[0].To {
		out = append(out, clip(Window{removal.Add(-sim.Second), removal.Add(500 * sim.Millisecond), "the removal of the lost records from the log"}))
	}
	return out
}

func lostSet(res *scenarios.Result) map[history.RecordID]bool {
	out := make(map[history.RecordID]bool, len(res.Verdict.Lost))
	for _, id := range res.Verdict.Lost {
		out[id] = true
	}
	return out
}

// removalAt names a removal by when and where, as the history's "truncated"
// and "lost" events do.
type removalAt struct {
	at     sim.Time
	broker int
}

// lossRemovals are the removals that took a record later lost.
func lossRemovals(res *scenarios.Result, lost map[history.RecordID]bool) map[removalAt]bool {
	out := map[removalAt]bool{}
	for _, rm := range res.History.Removals {
		if removesAny(rm, lost) {
			out[removalAt{rm.At, rm.Broker}] = true
		}
	}
	return out
}

// isLossRemoval reports whether history event e is a removal of lost records.
func isLossRemoval(e history.Event, rms map[removalAt]bool) bool {
	return e.Kind.Removal() && rms[removalAt{e.At, e.Broker}]
}

func removesAny(rm history.Removal, lost map[history.RecordID]bool) bool {
	for _, b := range rm.Batches {
		for _, id := range b.Records {
			if lost[id] {
				return true
			}
		}
	}
	return false
}

// Diagram is a drawn space-time diagram and what it left out.
type Diagram struct {
	SVG      template.HTML
	Window   Window
	Drawn    int // messages drawn
	Arrows   int // arrows they were drawn as (close messages share one)
	Routine  int // heartbeats and empty fetches in the window, not drawn
	LostMsgs int // drawn messages that carried a record later lost
}

// SpaceTime draws a run as lanes (controller, brokers, clients) against
// time, with messages as arrows from sender at send time to receiver at
// arrival. Faults are vertical lines; a broker's down or paused time is
// shaded; model events (elections, ISR changes, truncations) are dots with
// their text as a tooltip. Messages that carried a record that was later
// lost, and the truncations that removed it, are red. The run must have
// been made with RecordMessages.
func SpaceTime(res *scenarios.Result, w Window) Diagram {
	rec := res.Recording
	lanes := rec.Lanes
	lost := lostSet(res)
	// The window never reaches past the run (a window of hours over a run
	// of seconds drew millions of empty ticks).
	w.From, w.To = max(w.From, 0), min(w.To, res.History.End)
	if w.To <= w.From {
		w.To = w.From + sim.Time(sim.Millisecond)
	}
	span := float64(w.To-w.From) / float64(sim.Second)
	// Fit the window in about a screen's width: the story (a band of red
	// acknowledgements, the fault, the election) should be visible at once;
	// --html-window zooms in. A long window is never wider than maxWidth.
	const maxWidth = 20000.0
	pxPerSec := min(20000, max(min(200, maxWidth/span), 1400/max(span, 0.001)))
	const left, top, laneGap = 110.0, 60.0, 46.0
	x := func(t sim.Time) float64 { return left + float64(t-w.From)/float64(sim.Second)*pxPerSec }
	y := func(lane int) float64 { return top + float64(lane)*laneGap }
	width := x(w.To) + 40
	height := y(len(lanes)-1) + 40
	in := func(t sim.Time) bool { return t >= w.From && t <= w.To }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="spacetime" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f">`, width, height, width, height)
	b.WriteString(`<defs><marker id="ah" viewBox="0 0 6 6" refX="6" refY="3" markerWidth="5" markerHeight="5" orient="auto"><path d="M0,0L6,3L0,6z" fill="#555"/></marker>` +
		`<marker id="ahr" viewBox="0 0 6 6" refX="6" refY="3" markerWidth="5" markerHeight="5" orient="auto"><path d="M0,0L6,3L0,6z" fill="#c00"/></marker></defs>`)
	// Time axis.
	step := tickStep(pxPerSec)
	for t := (w.From + sim.Time(step) - 1) / sim.Time(step) * sim.Time(step); t <= w.To; t = t.Add(step) {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#eee"/><text x="%.1f" y="%.0f" class="lane" text-anchor="middle">%s</text>`,
			x(t), top-14, x(t), height-20, x(t), top-18, t.String())
	}
	// Down and paused time per broker, from the history.
	type span2 struct {
		from sim.Time
		open bool
	}
	down := map[int]*span2{}
	paused := map[int]*span2{}
	shade := func(broker int, from, to sim.Time, colour, what string) {
		from, to = max(from, w.From), min(to, w.To)
		if to <= from {
			return
		}
		ly := y(rec.Lane(broker))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="14" fill="%s" opacity="0.5"><title>broker %d %s %s–%s</title></rect>`,
			x(from), ly-7, x(to)-x(from), colour, broker, what, from.String(), to.String())
	}
	for _, e := range res.History.Events {
		if e.Broker <= 0 {
			continue
		}
		switch {
		case e.Kind.Down():
			if down[e.Broker] == nil || !down[e.Broker].open {
				down[e.Broker] = &span2{e.At, true}
			}
		case e.Kind == history.Restart:
			if s := down[e.Broker]; s != nil && s.open {
				shade(e.Broker, s.from, e.At, "#999", "down")
				s.open = false
			}
		case e.Kind == history.Pause:
			paused[e.Broker] = &span2{e.At, true}
		case e.Kind == history.Resume:
			if s := paused[e.Broker]; s != nil && s.open {
				shade(e.Broker, s.from, e.At, "#e0b000", "paused")
				s.open = false
			}
		}
	}
	for id, s := range down {
		if s.open {
			shade(id, s.from, w.To, "#999", "down")
		}
	}
	for id, s := range paused {
		if s.open {
			shade(id, s.from, w.To, "#e0b000", "paused")
		}
	}
	// Lanes.
	for i, name := range lanes {
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#bbb"/><text x="8" y="%.1f" class="lane">%s</text>`,
			left, y(i), x(w.To), y(i), y(i)+4, template.HTMLEscapeString(name))
	}
	// Messages. Those between the same two lanes, of one kind and fate,
	// that leave within groupPx of the first of them are one arrow, thicker
	// with their number: at a thousand messages a window, single arrows
	// a pixel apart are a grey smear (issue 17). Groups are drawn in the
	// order of their first message, so the picture is deterministic.
	const groupPx = 12.0
	type groupKey struct {
		from, to int
		kind     string
		fate     sim.Fate
		lost     bool
	}
	type group struct {
		key          groupKey
		first, last  *history.Message
		n            int
		sentX, arrX  float64 // sums, for the mean
		firstArrival sim.Time
		lastArrival  sim.Time
	}
	d := Diagram{Window: w}
	var groups []*group
	open := map[groupKey]*group{}
	for i := range rec.Messages {
		m := &rec.Messages[i]
		if !in(m.Sent) {
			continue
		}
		if m.Routine {
			d.Routine++
			continue
		}
		carriesLost := false
		for _, id := range m.Records {
			if lost[id] {
				carriesLost = true
				break
			}
		}
		if carriesLost {
			d.LostMsgs++
		}
		d.Drawn++
		arrive := m.Arrive
		if m.Fate == sim.InFlight {
			arrive = w.To
		}
		arrive = min(arrive, w.To)
		k := groupKey{m.From, m.To, m.Kind, m.Fate, carriesLost}
		g := open[k]
		if g == nil || x(m.Sent)-x(g.first.Sent) > groupPx {
			g = &group{key: k, first: m, firstArrival: arrive}
			open[k] = g
			groups = append(groups, g)
		}
		g.last, g.lastArrival = m, arrive
		g.n++
		g.sentX += x(m.Sent)
		g.arrX += x(arrive)
	}
	for _, g := range groups {
		m := g.first
		x1, y1, x2, y2 := g.sentX/float64(g.n), y(m.From), g.arrX/float64(g.n), y(m.To)
		if m.Fate == sim.DroppedAtSend || m.Fate == sim.DroppedInFlight {
			// The arrow stops part way, at an x.
			frac := 0.5
			if m.Fate == sim.DroppedAtSend {
				frac = 0.25
				x2 = x1 + 4
			}
			x2, y2 = x1+(x2-x1)*frac, y1+(y2-y1)*frac
		}
		stroke, marker, width := "#888", "ah", 0.7
		if g.key.lost {
			stroke, marker, width = "#c00", "ahr", 1.6
		}
		width = min(width+math.Log2(float64(g.n))*0.4, 3)
		what := m.Text
		if g.n > 1 {
			what = fmt.Sprintf("%d messages sent %s–%s; first: %s; last: %s", g.n, m.Sent.String(), g.last.Sent.String(), m.Text, g.last.Text)
		}
		if g.key.lost {
			what += " (carries records later lost)"
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%.1f" marker-end="url(#%s)"><title>%s→%s %s–%s: %s</title></line>`,
			x1, y1, x2, y2, stroke, width, marker, template.HTMLEscapeString(lanes[m.From]), template.HTMLEscapeString(lanes[m.To]),
			m.Sent.String(), g.lastArrival.String(), template.HTMLEscapeString(what))
		if m.Fate == sim.DroppedAtSend || m.Fate == sim.DroppedInFlight {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="%s" font-size="10" text-anchor="middle">×</text>`, x2, y2+3, stroke)
		}
		d.Arrows++
	}
	// Model events as dots on their lane; removals of lost records in red.
	lossRms := lossRemovals(res, lost)
	for _, e := range res.History.Events {
		if !in(e.At) || e.Kind == history.Group {
			continue
		}
		lane := 0 // the controller's
		if e.Broker > 0 {
			lane = rec.Lane(e.Broker)
		}
		fill := "#2060c0"
		switch {
		case isLossRemoval(e, lossRms):
			fill = "#c00"
		case e.Kind.Removal():
			fill = "#e08000"
		}
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="4" fill="%s"><title>%s %s: %s</title></circle>`,
			x(e.At), y(lane), fill, e.At.String(), e.Kind, template.HTMLEscapeString(e.Text))
	}
	// Faults: vertical lines labelled at the top, staggered.
	n := 0
	for _, f := range res.Fired {
		if f.Skipped || !in(f.At) {
			continue
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#c00" stroke-dasharray="4 3"/><text x="%.1f" y="%d" fill="#c00" class="lane">%s</text>`,
			x(f.At), top-10, x(f.At), height-20, x(f.At)+3, 12+12*(n%2), template.HTMLEscapeString(f.Text))
		n++
	}
	b.WriteString(`</svg>`)
	d.SVG = template.HTML(b.String())
	return d
}

// tickStep picks a time-axis step at least 90 px wide.
func tickStep(pxPerSec float64) sim.Duration {
	for _, s := range []sim.Duration{10 * sim.Millisecond, 20 * sim.Millisecond, 50 * sim.Millisecond, 100 * sim.Millisecond,
		200 * sim.Millisecond, 500 * sim.Millisecond, sim.Second, 2 * sim.Second, 5 * sim.Second, 10 * sim.Second,
		30 * sim.Second, sim.Minute, 5 * sim.Minute, 10 * sim.Minute, 30 * sim.Minute} {
		if float64(s)/float64(sim.Second)*pxPerSec >= 90 {
			return s
		}
	}
	return sim.Hour
}

// RunHTML renders one scenario run as a self-contained page: the verdict in
// words, the space-time diagram of the window, and the timeline.
func RunHTML(res *scenarios.Result, replay string, windows []Window) ([]byte, error) {
	var ds []Diagram
	for _, w := range windows {
		ds = append(ds, SpaceTime(res, w))
	}
	type ev struct {
		At, Broker, Kind, Text string
		Lost                   bool
	}
	lossRms := lossRemovals(res, lostSet(res))
	var events []ev
	var at []sim.Time // events' times, to place the acked rows
	for _, e := range res.History.Events {
		br := "-"
		if e.Broker > 0 {
			br = fmt.Sprint(e.Broker)
		}
		events = append(events, ev{e.At.Short(), br, e.Kind.String(), e.Text, isLossRemoval(e, lossRms)})
		at = append(at, e.At)
	}
	// The acknowledgements of records later lost, as in the text timeline.
	for _, bu := range lostAckBursts(res.History, res.Verdict.Lost, sim.Second) {
		i, _ := slices.BinarySearch(at, bu.first+1) // after the events at the same instant
		text := fmt.Sprintf("%d record(s) later lost acknowledged to the producer", bu.n)
		if bu.last > bu.first {
			text += " between " + bu.first.Short() + " and " + bu.last.Short()
		}
		events = slices.Insert(events, i, ev{bu.first.Short(), bu.brokers, "acked", text + " (" + bu.how + ")", true})
		at = slices.Insert(at, i, bu.first)
	}
	var buf bytes.Buffer
	err := runTmpl.Execute(&buf, map[string]any{
		"Name": res.Scenario.Name, "Verdict": Verdict(res, replay), "Diagrams": ds, "Events": events,
		"Style": template.CSS(pageStyle), "Script": template.JS(pageScript), "ZoomScript": template.JS(zoomScript),
	})
	return buf.Bytes(), err
}

var runTmpl = template.Must(template.New("run").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>acksim run: {{.Name}}</title>
<style>{{.Style}}
.diagram { overflow-x: auto; border: 1px solid #ddd; }
.diagram svg.fit { width: 100%; height: auto; }
.zoom { font-size: 12px; color: #555; margin: 4px 0; }
.zoom button { font-size: 12px; }
tr.lost td { color: #b00; font-weight: 600; }
</style></head>
<body>
<h1>acksim run: {{.Name}}</h1>
<pre id="verdict">{{.Verdict}}</pre>
<h2>Space-time diagrams</h2>
<p>Lanes are nodes; time runs left to right. Each arrow is a message from its sender at send time to its receiver at arrival;
an arrow that ends in × was lost (a cut link). <b style="color:#c00">Red</b> arrows carried a record that was acknowledged and later lost, red dots are the truncations or power losses that removed it, and red dashed lines are the injected faults.
Grey shading: broker down; yellow: paused. Blue dots are elections, ISR changes and other model events (hover for details).
Routine messages (heartbeats, fetches without records) are left out. Choose another stretch with <code>--html-window FROM:TO</code>.</p>
{{range $i, $d := .Diagrams}}<h3>{{$d.Window.From}} to {{$d.Window.To}}: {{$d.Window.Why}}</h3>
<p>{{$d.Drawn}} messages drawn as {{$d.Arrows}} arrows ({{$d.LostMsgs}} carrying lost records); {{$d.Routine}} routine messages left out.
Messages between the same two nodes, of one kind, sent within 12 pixels of each other, are one arrow, thicker the more it stands for (hover for them).</p>
<div class="zoom">zoom: <button data-z="fit">fit the page</button> <button data-z="1">1:1</button> <button data-z="2">2×</button> <button data-z="4">4×</button></div>
<div class="diagram">{{$d.SVG}}</div>
{{end}}
<h2>Timeline</h2>
<table id="timeline"><thead><tr><th>time</th><th>broker</th><th class="s">event</th><th class="s">what</th></tr></thead><tbody>
{{range .Events}}<tr{{if .Lost}} class="lost"{{end}}><td>{{.At}}</td><td>{{.Broker}}</td><td class="s">{{.Kind}}</td><td class="s">{{.Text}}</td></tr>
{{end}}</tbody></table>
<script>{{.Script}}</script>
<script>{{.ZoomScript}}</script>
</body></html>
`))

// zoomScript fits each space-time diagram to the page at first and lets
// the reader magnify it (1:1 is the drawing's own scale, where close
// messages were grouped; --html-window draws a shorter stretch wider). It
// records in data-fit whether every diagram fits its box, for the
// browser test.
const zoomScript = `
(function () {
  document.querySelectorAll('.zoom').forEach(function (bar) {
    var box = bar.nextElementSibling, svg = box.querySelector('svg');
    var w = parseFloat(svg.getAttribute('width')), h = parseFloat(svg.getAttribute('height'));
    function zoom(z) {
      if (z === 'fit') {
        svg.classList.add('fit'); svg.style.width = ''; svg.style.height = '';
      } else {
        svg.classList.remove('fit'); svg.style.width = (w * z) + 'px'; svg.style.height = (h * z) + 'px';
      }
    }
    bar.querySelectorAll('button').forEach(function (b) {
      b.addEventListener('click', function () { zoom(b.dataset.z === 'fit' ? 'fit' : parseFloat(b.dataset.z)); });
    });
    zoom('fit');
  });
  var fit = 1;
  document.querySelectorAll('.diagram').forEach(function (box) {
    var svg = box.querySelector('svg');
    if (svg.getBoundingClientRect().width > box.clientWidth + 1) { fit = 0; }
  });
  document.body.dataset.fit = fit;
  document.body.dataset.diagrams = document.querySelectorAll('.diagram').length;
})();
`
