package reports

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// placedLabels draws a label next to each point where it overlaps no
// label already drawn and no point: it tries right, left, above, below and
// the diagonals, in that order, and a label with no free place is left out
// (the point keeps its marker; the report's table has every cell).
type placedLabels struct {
	xs, ys []float64 // data coordinates
	labels []string
	style  text.Style
}

// settingsLabel is what the cells drawn at one point share, in axis
// order: a value where they agree, "*" where they differ, "–" where the
// axis is not theirs ("all/1/*/kafka/false").
func settingsLabel(axes []string, values []map[string]string) string {
	out := ""
	for i, a := range axes {
		v := values[0][a]
		for _, m := range values[1:] {
			if m[a] != v {
				v = "*"
				break
			}
		}
		if v == "" {
			v = "–"
		}
		if r := []rune(v); len(r) > 20 {
			v = string(r[:19]) + "…" // a design with long settings of its own
		}
		if i > 0 {
			out += "/"
		}
		out += v
	}
	return out
}

func newPlacedLabels(xs, ys []float64, labels []string) *placedLabels {
	sty := text.Style{Color: color.Black, Font: font.From(plot.DefaultFont, 7), Handler: plot.DefaultTextHandler}
	sty.Font.Size = font.Length(7)
	return &placedLabels{xs: xs, ys: ys, labels: labels, style: sty}
}

// Plot implements plot.Plotter.
func (l *placedLabels) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	type box struct{ min, max vg.Point }
	overlaps := func(a, b box) bool {
		return a.min.X < b.max.X && b.min.X < a.max.X && a.min.Y < b.max.Y && b.min.Y < a.max.Y
	}
	var taken []box
	r := vg.Points(3)
	for i := range l.xs {
		x, y := trX(l.xs[i]), trY(l.ys[i])
		taken = append(taken, box{vg.Point{X: x - r, Y: y - r}, vg.Point{X: x + r, Y: y + r}})
	}
	// The legend, drawn after the plotters, over the same area: gonum's
	// Rectangle gives its size (its position is the left corner whatever
	// the side, so it is placed here as Legend.Draw places it), widened as
	// labels are for a browser, with a margin for the legend's canvas,
	// which is the data area before padding.
	if lg := &p.Legend; lg.TextStyle.Font.Size > 0 {
		size := lg.Rectangle(c).Size()
		w, h := size.X*1.12, size.Y
		m := vg.Points(6)
		var b box
		b.min.X, b.max.X = c.Min.X+lg.XOffs-m, c.Min.X+lg.XOffs+w+m
		if !lg.Left {
			b.min.X, b.max.X = c.Max.X+lg.XOffs-w-m, c.Max.X+lg.XOffs+m
		}
		b.min.Y, b.max.Y = c.Min.Y+lg.YOffs-m, c.Min.Y+lg.YOffs+h+m
		if lg.Top {
			b.min.Y, b.max.Y = c.Max.Y+lg.YOffs-h-m, c.Max.Y+lg.YOffs+m
		}
		taken = append(taken, b)
	}
	pad := vg.Points(3)
	for i, txt := range l.labels {
		if txt == "" {
			continue
		}
		x, y := trX(l.xs[i]), trY(l.ys[i])
		// A margin around each label: a browser's text box (a line's full
		// height) is taller than the glyph extent gonum measures, and a
		// browser shapes "–" and "…" from a fallback font, up to a tenth
		// wider than gonum measures the label (TestChartsInBrowser).
		w, h := l.style.Width(txt)*1.12+vg.Points(4), l.style.Height(txt)+vg.Points(6)
		cands := []vg.Point{
			{X: x + pad, Y: y - h/2}, {X: x - pad - w, Y: y - h/2}, {X: x - w/2, Y: y + pad}, {X: x - w/2, Y: y - pad - h},
			{X: x + pad, Y: y + pad}, {X: x + pad, Y: y - pad - h}, {X: x - pad - w, Y: y + pad}, {X: x - pad - w, Y: y - pad - h},
			{X: x + pad, Y: y + pad + h}, {X: x + pad, Y: y - pad - 2*h},
			// Farther below, clear of a legend in a top corner.
			{X: x - w/2, Y: y - pad - 2*h}, {X: x - pad - w, Y: y - pad - 2*h},
			{X: x - w/2, Y: y - pad - 3*h}, {X: x - pad - w, Y: y - pad - 3*h}, {X: x + pad, Y: y - pad - 3*h},
		}
		for _, at := range cands {
			b := box{at, vg.Point{X: at.X + w, Y: at.Y + h}}
			if b.min.X < c.Min.X || b.max.X > c.Max.X || b.min.Y < c.Min.Y || b.max.Y > c.Max.Y {
				continue
			}
			free := true
			for _, t := range taken {
				if overlaps(b, t) {
					free = false
					break
				}
			}
			if free {
				c.FillText(l.style, vg.Point{X: at.X + vg.Points(2), Y: at.Y + vg.Points(3)}, txt)
				taken = append(taken, b)
				break
			}
		}
	}
}
