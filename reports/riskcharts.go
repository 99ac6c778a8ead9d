package reports

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// riskFloor is where the log axis of a risk chart ends: a cell estimated
// below it (or at 0) is drawn there.
const riskFloor = 1e-9

// decades labels every third power of ten of a log axis (1e-09, 1e-06,
// 0.001, 1, 1000) and marks the others, so labels never overprint.
type decades struct{}

func (decades) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		v := math.Pow(10, e)
		if v < lo || v > hi {
			continue
		}
		t := plot.Tick{Value: v}
		if int(e)%3 == 0 {
			t.Label = fmt.Sprintf("%g", v)
		}
		out = append(out, t)
	}
	return out
}

// RiskCharts draws the risk report's charts: loss events per year per cell
// (log scale, with intervals), the same against fault-free p99 latency
// with the Pareto frontier, and the attribution as stacked bars.
func RiskCharts(axes []string, cells []RiskCell) ([]Chart, error) {
	var out []Chart
	add := func(name, title, caption string, p *plot.Plot, w, h vg.Length) error {
		c, err := newChart(name, title, caption, p, w, h)
		out = append(out, c)
		return err
	}
	n := len(cells)
	names := make([]string, n)
	for i, c := range cells {
		names[n-1-i] = c.Settings
	}
	floor := func(x float64) float64 { return math.Max(x, riskFloor) }

	// 1. Loss events per year, log scale, with intervals.
	p := newPlot("Loss events per year, 95% intervals", "loss events per year (log scale)", "")
	p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, decades{}
	pts := make(plotter.XYs, n)
	errs := make(plotter.XErrors, n)
	for i, c := range cells {
		y := float64(n - 1 - i)
		pts[i] = plotter.XY{X: floor(c.LossEvents), Y: y}
		errs[i].Low, errs[i].High = pts[i].X-floor(c.Lo95), floor(c.Hi95)-pts[i].X
	}
	bars, err := plotter.NewXErrorBars(struct {
		plotter.XYs
		plotter.XErrors
	}{pts, errs})
	if err != nil {
		return nil, err
	}
	bars.LineStyle.Color = grey
	sc, _ := plotter.NewScatter(pts)
	sc.GlyphStyle.Shape, sc.GlyphStyle.Color = draw.CircleGlyph{}, red
	p.Add(plotter.NewGrid(), bars, sc)
	p.NominalY(names...)
	p.Y.Tick.Label.Font.Size = font.Length(8)
	p.X.Min = riskFloor
	if err := add("loss-per-year", "Loss events per year per cell",
		fmt.Sprintf("Each row is a cell; the dot is the estimated loss events per year, the bar its 95%% interval. Cells estimated below %g a year (or with no loss seen) sit at the left edge: their bar's right end is what the trials show for sure.", riskFloor),
		p, 9*vg.Inch, vg.Length(1.2+0.25*float64(n))*vg.Inch); err != nil {
		return nil, err
	}

	// 2. Against fault-free p99 latency, with the Pareto frontier.
	p = newPlot("Loss events per year against fault-free p99 latency", "p99 produce latency without failures, ms", "loss events per year (log scale)")
	p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, decades{}
	all := make(plotter.XYs, n)
	var lx, ly []float64
	var groups [][]map[string]string
	at := map[plotter.XY]int{}
	for i, c := range cells {
		all[i] = plotter.XY{X: c.FaultFreeP99, Y: floor(c.LossEvents)}
		if j, ok := at[all[i]]; ok {
			groups[j] = append(groups[j], c.Values)
			continue
		}
		at[all[i]] = len(lx)
		lx, ly = append(lx, all[i].X), append(ly, all[i].Y)
		groups = append(groups, []map[string]string{c.Values})
	}
	texts := make([]string, len(groups))
	for i, g := range groups {
		texts[i] = settingsLabel(axes, g)
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if all[a].X != all[b].X {
			if all[a].X < all[b].X {
				return -1
			}
			return 1
		}
		if all[a].Y < all[b].Y {
			return -1
		}
		if all[a].Y > all[b].Y {
			return 1
		}
		return 0
	})
	var front plotter.XYs
	best := math.Inf(1)
	for _, i := range order {
		if all[i].Y < best {
			best = all[i].Y
			front = append(front, all[i])
		}
	}
	sc, _ = plotter.NewScatter(all)
	sc.GlyphStyle.Shape, sc.GlyphStyle.Color = draw.CircleGlyph{}, grey
	fl, _ := plotter.NewLine(front)
	fl.LineStyle.Color, fl.LineStyle.Dashes = red, []vg.Length{vg.Points(4), vg.Points(3)}
	fs, _ := plotter.NewScatter(front)
	fs.GlyphStyle.Shape, fs.GlyphStyle.Color, fs.GlyphStyle.Radius = draw.CircleGlyph{}, red, vg.Points(4)
	p.Add(plotter.NewGrid(), fl, sc, fs, newPlacedLabels(lx, ly, texts))
	p.Y.Min = riskFloor
	if err := add("risk-vs-latency", "Loss events per year against fault-free p99 latency",
		"Each point is a cell, labelled with its settings in axis order ("+strings.Join(axes, " / ")+"; \"*\" where cells drawn at one point differ, \"–\" where an axis is not the cell's design; a label with no free room is left out): left is faster without failures, low loses less often. Red points are the Pareto frontier: no other cell is both faster and safer.",
		p, 7*vg.Inch, 5*vg.Inch); err != nil {
		return nil, err
	}

	// 3. Attribution: each lossy cell's loss events by pattern, stacked.
	var lossy []RiskCell
	for _, c := range cells {
		if c.LossEvents > 0 {
			lossy = append(lossy, c)
		}
	}
	if len(lossy) == 0 {
		return out, nil
	}
	// The patterns that are some cell's top three, the rest as "other".
	var keys []string
	for _, c := range lossy {
		for i, a := range c.Attribution {
			if i < 3 && a.Share >= 0.02 && !slices.Contains(keys, a.Pattern) {
				keys = append(keys, a.Pattern)
			}
		}
	}
	keys = append(keys, "other")
	p = newPlot("What the expected loss comes from", "share of the loss events per year", "")
	p.Legend.Top, p.Legend.Left = true, false // right of the bars, which end at 1
	var prev *plotter.BarChart
	w := vg.Points(12)
	for ki, k := range keys {
		vals := make(plotter.Values, len(lossy))
		for i, c := range lossy {
			rest := 1.0
			for _, a := range c.Attribution {
				if a.Pattern == k {
					vals[len(lossy)-1-i] = a.Share
				}
				if slices.Contains(keys[:len(keys)-1], a.Pattern) {
					rest -= a.Share
				}
			}
			if k == "other" {
				vals[len(lossy)-1-i] = math.Max(rest, 0)
			}
		}
		bc, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return nil, err
		}
		bc.Horizontal = true
		bc.Color = lineColours[ki%len(lineColours)]
		bc.LineStyle.Width = 0
		if prev != nil {
			bc.StackOn(prev)
		}
		prev = bc
		p.Add(bc)
		p.Legend.Add(k, bc)
	}
	ln := make([]string, len(lossy))
	for i, c := range lossy {
		ln[len(lossy)-1-i] = c.Settings
	}
	p.NominalY(ln...)
	p.Y.Tick.Label.Font.Size = font.Length(8)
	p.X.Min, p.X.Max = 0, 1.7
	p.X.Tick.Marker = plot.ConstantTicks([]plot.Tick{{Value: 0, Label: "0"}, {Value: 0.25, Label: "25%"}, {Value: 0.5, Label: "50%"}, {Value: 0.75, Label: "75%"}, {Value: 1, Label: "100%"}})
	if err := add("attribution", "What the expected loss comes from",
		"For each cell that can lose data, the share of its expected loss events per year that each failure pattern contributes (\"a then b\": b within the window after a).",
		p, 10*vg.Inch, vg.Length(1.8+0.3*float64(len(lossy))+0.2*float64(len(keys)))*vg.Inch); err != nil {
		return nil, err
	}
	return out, nil
}
