package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"slices"
	"sort"
	"strings"

	"acksim/scenarios/sweep"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	_ "gonum.org/v1/plot/vg/vgimg" // registers "png"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Chart is one rendered chart of a sweep report.
type Chart struct {
	Name    string // file stem: loss-by-cell, heatmap, loss-vs-x, pareto
	Title   string
	Caption string // how to read it
	SVG     []byte
	PNG     []byte
}

// Colours: one per line, colour-blind safe (Okabe & Ito 2008).
var lineColours = []color.RGBA{
	{0, 114, 178, 255}, {213, 94, 0, 255}, {0, 158, 115, 255}, {204, 121, 167, 255},
	{230, 159, 0, 255}, {86, 180, 233, 255}, {0, 0, 0, 255}, {240, 228, 66, 255},
}

var (
	red  = color.RGBA{200, 30, 30, 255}
	grey = color.RGBA{120, 120, 120, 255}
)

// pooled is P(lost write) over a group of cells: trials are pooled (every
// cell ran the same schedules, so this is the average over the other axes).
type pooled struct{ k, n int }

func (p pooled) p() float64 {
	if p.n == 0 {
		return 0
	}
	return float64(p.k) / float64(p.n)
}

// SweepCharts draws the four sweep charts. Charts whose axes the grid does
// not have (a heatmap needs two axes, the line chart a numeric one) are left
// out.
func SweepCharts(spec *sweep.Spec, cells []sweep.Cell, sums []sweep.Summary) ([]Chart, error) {
	var out []Chart
	add := func(name, title, caption string, p *plot.Plot, w, h vg.Length) error {
		c, err := newChart(name, title, caption, p, w, h)
		out = append(out, c)
		return err
	}
	axes := spec.Axes()

	// 1. P(lost write) per cell, with its interval.
	p, h := lossByCell(axes, cells, sums)
	if err := add("loss-by-cell", "P(lost write) per cell",
		"Each row is one cell of the grid; the dot is the fraction of trials that lost an acknowledged record, the bar its 95% interval (Wilson; when nothing was lost, the one-sided 95% upper bound from 0). Rows whose bar reaches far right are unsafe under this fault model; a bar that stays near 0 over many trials is evidence of safety, not proof.",
		p, 8*vg.Inch, h); err != nil {
		return nil, err
	}

	// 2. Heatmap of two axes.
	if hx, hy := heatmapAxes(spec, axes); hx != "" {
		p, err := heatmap(spec, cells, sums, hx, hy)
		if err != nil {
			return nil, err
		}
		if err := add("heatmap", fmt.Sprintf("P(lost write): %s x %s", hx, hy),
			fmt.Sprintf("Each square pools every cell with that %s and %s (the other settings averaged over, on the same schedules). The colour scale is absolute, P from 0 (white) to 1 (dark red), with its bar at the right, so two sweeps' heatmaps compare.", hx, hy),
			p, 6*vg.Inch, 4.5*vg.Inch); err != nil {
			return nil, err
		}
	}

	// 3. P(lost write) against a numeric axis, one line per value of another.
	if x, lines := lineAxes(spec, axes); x != "" {
		p := lossVsX(spec, cells, sums, x, lines)
		if err := add("loss-vs-x", "P(lost write) against "+x,
			fmt.Sprintf("P(lost write) as %s changes, one line per %s (other settings pooled), with 95%% intervals. A word such as \"never\" sits past the largest number; values spanning two decades or more are on a log axis.", x, lines),
			p, 7*vg.Inch, 4.5*vg.Inch); err != nil {
			return nil, err
		}
	}

	// 4. Durability against latency.
	p, err := pareto(axes, cells, sums)
	if err != nil {
		return nil, err
	}
	if err := add("pareto", "Durability against p99 produce latency",
		"Each point is a cell, labelled with its settings in axis order ("+strings.Join(axes, " / ")+"; \"*\" where cells drawn at one point differ, \"–\" where an axis is not the cell's design; a label with no free room is left out): left is faster (the p99 produce latency of a run of the cell without faults, so the price of the settings is not drowned by failover waits; the table has the latency under faults), low is safer. Red points are the Pareto frontier: no other cell is both at least as fast and at least as safe. A cell off the frontier pays latency for nothing, or loses data for nothing.",
		p, 7*vg.Inch, 5*vg.Inch); err != nil {
		return nil, err
	}
	return out, nil
}

// newChart renders p as SVG and PNG.
func newChart(name, title, caption string, p *plot.Plot, w, h vg.Length) (Chart, error) {
	svg, err := render(p, w, h, "svg")
	if err != nil {
		return Chart{}, fmt.Errorf("chart %s: %w", name, err)
	}
	png, err := render(p, w, h, "png")
	if err != nil {
		return Chart{}, fmt.Errorf("chart %s: %w", name, err)
	}
	return Chart{Name: name, Title: title, Caption: caption, SVG: svg, PNG: png}, nil
}

// render draws p as SVG or PNG. SVGs embed their fonts: a browser without
// Liberation fonts would otherwise measure text differently from gonum
// and clip axis titles and overlap legends.
func render(p *plot.Plot, w, h vg.Length, format string) ([]byte, error) {
	var b bytes.Buffer
	if format == "svg" {
		c := vgsvg.NewWith(vgsvg.UseWH(w, h), vgsvg.EmbedFonts(true))
		p.Draw(draw.New(c))
		if _, err := c.WriteTo(&b); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	wt, err := p.WriterTo(w, h, format)
	if err != nil {
		return nil, err
	}
	if _, err := wt.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Title.TextStyle.Font.Size = font.Length(13)
	// Room between legend entries: gonum spaces them by the font's
	// height, which a browser's text boxes exceed (a test measures it).
	p.Legend.Padding = vg.Points(4)
	return p
}

// cellLabel is the cell's values in axis order ("all / 2 / never / false");
// "–" where the axis does not apply to the cell's design.
func cellLabel(axes []string, c sweep.Cell) string {
	vs := make([]string, len(axes))
	for i, k := range axes {
		if vs[i] = c.Value(k); vs[i] == "" {
			vs[i] = "–"
		}
	}
	return fmt.Sprintf("%d: %s", c.Index, strings.Join(vs, " / "))
}

func lossByCell(axes []string, cells []sweep.Cell, sums []sweep.Summary) (*plot.Plot, vg.Length) {
	p := newPlot("P(lost write) per cell, 95% intervals", "P(lost write) per trial", strings.Join(axes, " / "))
	n := len(cells)
	pts := make(plotter.XYs, n)
	errs := make(plotter.XErrors, n)
	names := make([]string, n)
	for i := range cells {
		// Cell 0 at the top.
		y := float64(n - 1 - i)
		s := sums[i]
		pts[i] = plotter.XY{X: s.PLoss, Y: y}
		errs[i].Low, errs[i].High = s.PLoss-s.Lo95, s.Hi95-s.PLoss
		names[n-1-i] = cellLabel(axes, cells[i])
	}
	bars, _ := plotter.NewXErrorBars(struct {
		plotter.XYs
		plotter.XErrors
	}{pts, errs})
	bars.LineStyle.Color = grey
	sc, _ := plotter.NewScatter(pts)
	sc.GlyphStyle.Shape = draw.CircleGlyph{}
	sc.GlyphStyle.Color = red
	p.Add(plotter.NewGrid(), bars, sc)
	p.NominalY(names...)
	p.X.Min, p.X.Max = 0, 1
	p.Y.Tick.Label.Font.Size = font.Length(8)
	return p, vg.Length(1.2+0.22*float64(n)) * vg.Inch
}

// lossColour is P(lost write) v on an absolute sequential scale: white at
// 0, dark red at 1.
func lossColour(v float64) color.RGBA {
	v = math.Max(0, math.Min(1, v))
	lerp := func(a, b float64) uint8 { return uint8(math.Round(a + (b-a)*v)) }
	return color.RGBA{lerp(255, 150), lerp(255, 0), lerp(255, 10), 255}
}

// lossPalette is lossColour in 64 steps, for the heatmap.
type lossPalette struct{}

func (lossPalette) Colors() []color.Color {
	out := make([]color.Color, 64)
	for i := range out {
		out[i] = lossColour(float64(i) / 63)
	}
	return out
}

// swatch is a colour bar entry of a legend.
type swatch struct{ c color.Color }

func (s swatch) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(s.c, []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}})
}

// heatmapAxes picks the heatmap's two axes.
func heatmapAxes(spec *sweep.Spec, axes []string) (string, string) {
	if len(spec.Charts.Heatmap) == 2 {
		return spec.Charts.Heatmap[0], spec.Charts.Heatmap[1]
	}
	if spec.Grid["acks"] != nil && spec.Grid["min.insync.replicas"] != nil {
		return "acks", "min.insync.replicas"
	}
	if len(axes) >= 2 {
		return axes[0], axes[1]
	}
	return "", ""
}

// pool sums trials over the cells matching every fixed key=value.
func pool(cells []sweep.Cell, sums []sweep.Summary, fixed map[string]string) pooled {
	var out pooled
	for i, c := range cells {
		ok := true
		for k, v := range fixed {
			ok = ok && c.Value(k) == v
		}
		if ok {
			out.k += sums[i].LossTrials
			out.n += sums[i].Trials
		}
	}
	return out
}

type grid struct {
	z    [][]float64 // [row][col]
	cols int
}

func (g grid) Dims() (int, int)   { return g.cols, len(g.z) }
func (g grid) Z(c, r int) float64 { return g.z[r][c] }
func (g grid) X(c int) float64    { return float64(c) }
func (g grid) Y(r int) float64    { return float64(r) }
func (g grid) Min() float64       { return 0 }
func (g grid) Max() float64       { return g.max() }
func (g grid) max() (m float64) {
	for _, row := range g.z {
		for _, v := range row {
			m = max(m, v)
		}
	}
	if m == 0 {
		m = 1 // all safe: keep a valid colour range
	}
	return m
}

func heatmap(spec *sweep.Spec, cells []sweep.Cell, sums []sweep.Summary, hx, hy string) (*plot.Plot, error) {
	xs, ys := spec.Grid[hx], spec.Grid[hy]
	g := grid{cols: len(xs)}
	var labels plotter.XYLabels
	for r, yv := range ys {
		row := make([]float64, len(xs))
		for c, xv := range xs {
			pl := pool(cells, sums, map[string]string{hx: xv, hy: yv})
			row[c] = pl.p()
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(c), Y: float64(r)})
			labels.Labels = append(labels.Labels, fmt.Sprintf("%.2f (%d/%d)", pl.p(), pl.k, pl.n))
		}
		g.z = append(g.z, row)
	}
	// An absolute scale, P from 0 to 1, so two sweeps' heatmaps compare;
	// the legend is the colour bar.
	pal := lossPalette{}
	hm := plotter.NewHeatMap(g, pal)
	hm.Min, hm.Max = 0, 1
	p := newPlot("P(lost write) by "+hx+" and "+hy, hx, hy)
	p.Add(hm)
	for _, v := range []float64{1, 0.75, 0.5, 0.25, 0} {
		p.Legend.Add(fmt.Sprintf("P = %.2f", v), swatch{lossColour(v)})
	}
	p.Legend.Top, p.Legend.Left = true, false
	// Room right of the grid for the colour bar.
	p.X.Max = float64(len(xs)) - 0.5 + 0.8
	lb, err := plotter.NewLabels(labels)
	if err != nil {
		return nil, err
	}
	for i := range lb.TextStyle {
		lb.TextStyle[i].XAlign = draw.XCenter
		lb.TextStyle[i].YAlign = draw.YCenter
		lb.TextStyle[i].Font.Size = font.Length(10)
		if g.z[i/len(xs)][i%len(xs)] > 0.55 { // readable on dark red
			lb.TextStyle[i].Color = color.White
		}
	}
	p.Add(lb)
	p.NominalX(xs...)
	p.NominalY(ys...)
	return p, nil
}

// lineAxes picks the line chart's numeric x axis and its line axis.
func lineAxes(spec *sweep.Spec, axes []string) (string, string) {
	x := spec.Charts.X
	if x == "" {
		cands := slices.Clone(axes)
		// Flush settings first: the seeds' question is what flushing buys.
		sort.SliceStable(cands, func(i, j int) bool {
			return strings.Contains(cands[i], "flush") && !strings.Contains(cands[j], "flush")
		})
		for _, k := range cands {
			// acks (0, 1, all) and kafka (a version) look numeric but are
			// choices, not quantities.
			if k != "acks" && k != "kafka" && len(sweep.NumericValues(spec.Grid[k])) >= 2 {
				x = k
				break
			}
		}
	}
	if x == "" {
		return "", ""
	}
	lines := spec.Charts.Lines
	if lines == "" {
		if spec.Grid["acks"] != nil && x != "acks" {
			lines = "acks"
		} else {
			for _, k := range axes {
				if k != x {
					lines = k
					break
				}
			}
		}
	}
	return x, lines
}

func lossVsX(spec *sweep.Spec, cells []sweep.Cell, sums []sweep.Summary, x, lines string) *plot.Plot {
	num := sweep.NumericValues(spec.Grid[x])
	xvals := make([]string, 0, len(num))
	for _, v := range spec.Grid[x] {
		if _, ok := num[v]; ok {
			xvals = append(xvals, v)
		}
	}
	sort.SliceStable(xvals, func(i, j int) bool { return num[xvals[i]] < num[xvals[j]] })
	// Values that span two decades or more go on a log axis; a word such
	// as "never" (no flush at all) gets a position of its own past the
	// largest number, so it stays on the chart.
	lo0, hi0 := num[xvals[0]], num[xvals[len(xvals)-1]]
	logAxis := lo0 > 0 && hi0/lo0 >= 100
	for _, v := range spec.Grid[x] {
		if _, ok := num[v]; !ok {
			pos := hi0 + (hi0-lo0)*0.25 + 1
			if logAxis {
				pos = hi0 * 10
			}
			num[v] = pos
			xvals = append(xvals, v)
			hi0 = pos
		}
	}
	p := newPlot("P(lost write) against "+x, x, "P(lost write) per trial")
	if logAxis {
		p.X.Scale = plot.LogScale{}
	}
	p.Add(plotter.NewGrid())
	lineVals := []string{""}
	if lines != "" {
		lineVals = spec.Grid[lines]
	}
	for li, lv := range lineVals {
		pts := make(plotter.XYs, len(xvals))
		errs := make(plotter.YErrors, len(xvals))
		for i, xv := range xvals {
			fixed := map[string]string{x: xv}
			if lines != "" {
				fixed[lines] = lv
			}
			pl := pool(cells, sums, fixed)
			lo, hi := sweep.Wilson(pl.k, pl.n)
			pts[i] = plotter.XY{X: num[xv], Y: pl.p()}
			errs[i].Low, errs[i].High = pl.p()-lo, hi-pl.p()
		}
		col := lineColours[li%len(lineColours)]
		l, s, _ := plotter.NewLinePoints(pts)
		l.Color, s.Color = col, col
		eb, _ := plotter.NewYErrorBars(struct {
			plotter.XYs
			plotter.YErrors
		}{pts, errs})
		eb.LineStyle.Color = col
		p.Add(l, s, eb)
		if lines != "" {
			p.Legend.Add(lines+"="+lv, l, s)
		}
	}
	p.Legend.Top = true
	p.Y.Min, p.Y.Max = 0, 1
	ticks := make([]plot.Tick, len(xvals))
	for i, xv := range xvals {
		ticks[i] = plot.Tick{Value: num[xv], Label: xv}
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	lo, hi := num[xvals[0]], num[xvals[len(xvals)-1]]
	if logAxis {
		p.X.Min, p.X.Max = lo/1.5, hi*1.5
		return p
	}
	pad := (hi - lo) * 0.05
	p.X.Min, p.X.Max = lo-pad, hi+pad
	return p
}

// latencyOf is the latency a durability-latency chart puts a cell at: its
// fault-free p99 when it was measured, else the median p99 under faults.
func latencyOf(s sweep.Summary) float64 {
	if s.FaultFreeP99Ms > 0 {
		return s.FaultFreeP99Ms
	}
	return s.P99Ms
}

// Frontier returns the indexes of the cells on the Pareto frontier of
// (p99 latency, P(lost write)), both to be minimised, sorted by latency.
func Frontier(sums []sweep.Summary) []int {
	var out []int
	for i, a := range sums {
		dominated := false
		for j, b := range sums {
			if j != i && latencyOf(b) <= latencyOf(a) && b.PLoss <= a.PLoss && (latencyOf(b) < latencyOf(a) || b.PLoss < a.PLoss) {
				dominated = true
				break
			}
		}
		if !dominated {
			out = append(out, i)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return latencyOf(sums[out[i]]) < latencyOf(sums[out[j]]) })
	return out
}

func pareto(axes []string, cells []sweep.Cell, sums []sweep.Summary) (*plot.Plot, error) {
	xlabel := "p99 produce latency, ms (median over trials)"
	for _, s := range sums {
		if s.FaultFreeP99Ms > 0 {
			xlabel = "p99 produce latency without faults, ms"
			break
		}
	}
	p := newPlot("Durability against p99 produce latency", xlabel, "P(lost write) per trial")
	p.Add(plotter.NewGrid())
	all := make(plotter.XYs, len(sums))
	// Cells drawn at the same point share a label: their settings, "*"
	// where they differ.
	var xs, ys []float64
	var groups [][]map[string]string
	at := map[plotter.XY]int{}
	for i, s := range sums {
		all[i] = plotter.XY{X: latencyOf(s), Y: s.PLoss}
		if j, ok := at[all[i]]; ok {
			groups[j] = append(groups[j], s.Values)
			continue
		}
		at[all[i]] = len(xs)
		xs, ys = append(xs, all[i].X), append(ys, all[i].Y)
		groups = append(groups, []map[string]string{s.Values})
	}
	texts := make([]string, len(groups))
	for i, g := range groups {
		texts[i] = settingsLabel(axes, g)
	}
	sc, _ := plotter.NewScatter(all)
	sc.GlyphStyle.Color = grey
	sc.GlyphStyle.Shape = draw.CircleGlyph{}
	front := Frontier(sums)
	fpts := make(plotter.XYs, len(front))
	for i, c := range front {
		fpts[i] = all[c]
	}
	fl, fs, _ := plotter.NewLinePoints(fpts)
	fl.Color, fs.Color = red, red
	fl.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	fs.Shape = draw.CircleGlyph{}
	fs.Radius = vg.Points(4)
	p.Add(sc, fl, fs, newPlacedLabels(xs, ys, texts))
	p.Legend.Add("cell", sc)
	p.Legend.Add("Pareto frontier", fl, fs)
	p.Legend.Top = true
	maxX := 0.0
	for _, s := range sums {
		maxX = max(maxX, latencyOf(s))
	}
	p.X.Min, p.X.Max = 0, math.Max(1, maxX*1.1)
	p.Y.Min, p.Y.Max = 0, 1.05
	return p, nil
}
