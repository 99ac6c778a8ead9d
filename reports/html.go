package reports

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"

	"acksim/scenarios/sweep"
)

// SweepReport is everything the HTML report of a sweep shows.
type SweepReport struct {
	Spec     *sweep.Spec
	SpecText string // the spec as saved (spec.yaml)
	Cells    []sweep.Cell
	Sums     []sweep.Summary
	Paired   []string
	Losing   map[int][]int // cell -> first losing trials
	Charts   []Chart
}

// inlineSVG strips the XML prolog so an SVG can sit inside HTML.
func inlineSVG(b []byte) template.HTML {
	s := string(b)
	if i := strings.Index(s, "<svg"); i >= 0 {
		s = s[i:]
	}
	return template.HTML(s)
}

type htmlRow struct {
	Sum      sweep.Summary
	Values   []string
	Interval string
	Lossy    bool
}

type htmlLosing struct {
	Settings string
	Cmds     []string
}

// SweepHTML renders a self-contained HTML report: the charts as inline SVG,
// the summary table (sortable), replay commands for the losing trials, and
// the paired comparison. It loads nothing from the network.
func SweepHTML(r SweepReport) ([]byte, error) {
	axes := r.Spec.Axes()
	var rows []htmlRow
	txn := false // a column for transaction anomalies, when a trial had one
	for _, s := range r.Sums {
		txn = txn || s.TxnAnomalyTrials > 0
	}
	for i, s := range r.Sums {
		row := htmlRow{Sum: s, Lossy: s.LossTrials > 0}
		for _, k := range axes {
			row.Values = append(row.Values, r.Cells[i].Value(k))
		}
		row.Interval = fmt.Sprintf("%.3f – %.3f", s.Lo95, s.Hi95)
		if s.LossTrials == 0 {
			row.Interval = fmt.Sprintf("≤ %.3f", s.Hi95)
		}
		rows = append(rows, row)
	}
	var losing []htmlLosing
	for _, s := range r.Sums {
		ts := r.Losing[s.Cell]
		if len(ts) == 0 {
			continue
		}
		l := htmlLosing{Settings: s.Settings}
		for _, t := range ts {
			f := fmt.Sprintf("trial-%d-%d.yaml", s.Cell, t)
			l.Cmds = append(l.Cmds, fmt.Sprintf("acksim sweep spec.yaml --export %d:%d --out %s && acksim run %s --html %s", s.Cell, t, f, f, strings.TrimSuffix(f, ".yaml")+".html"))
		}
		losing = append(losing, l)
	}
	type chartView struct {
		Chart
		Inline template.HTML
	}
	var charts []chartView
	for _, c := range r.Charts {
		charts = append(charts, chartView{c, inlineSVG(c.SVG)})
	}
	var b bytes.Buffer
	err := sweepTmpl.Execute(&b, map[string]any{
		"Name": r.Spec.Name, "Base": r.Spec.Base, "Trials": r.Spec.Trials, "Seed": r.Spec.Seed,
		"NCells": len(r.Cells), "Axes": axes, "Rows": rows, "Losing": losing, "Paired": r.Paired, "Txn": txn,
		"Charts": charts, "SpecText": r.SpecText, "Style": template.CSS(pageStyle), "Script": template.JS(pageScript),
	})
	return b.Bytes(), err
}

// pageStyle is shared by every acksim HTML page.
const pageStyle = `
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: right; }
th { cursor: pointer; background: #f5f5f5; position: sticky; top: 0; }
td.s, th.s { text-align: left; }
tr.lossy td.p { color: #b00; font-weight: 600; }
figure { margin: 1.5em 0; } figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 13px; max-width: 800px; }
code, pre { font: 12px/1.4 ui-monospace, monospace; background: #f6f6f6; }
pre { padding: 8px; overflow-x: auto; }
.lane { font: 11px ui-monospace, monospace; }
.wide { overflow-x: auto; }
`

// pageScript makes tables sortable and records that the page loaded
// without errors (the browser test reads data-ready and data-errors).
const pageScript = `
(function () {
  var errors = 0;
  window.addEventListener('error', function () { errors++; document.body.dataset.errors = errors; });
  document.querySelectorAll('table.sortable th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var tbody = th.closest('table').tBodies[0];
      var rows = Array.prototype.slice.call(tbody.rows);
      var asc = th.dataset.asc !== '1';
      th.dataset.asc = asc ? '1' : '0';
      rows.sort(function (a, b) {
        var x = a.cells[col].dataset.v || a.cells[col].textContent;
        var y = b.cells[col].dataset.v || b.cells[col].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return asc ? c : -c;
      });
      rows.forEach(function (r) { tbody.appendChild(r); });
    });
  });
  document.body.dataset.ready = 'ok';
  document.body.dataset.errors = errors;
  document.body.dataset.svgs = document.querySelectorAll('svg').length;
  document.body.dataset.tables = document.querySelectorAll('table').length;
})();
`

var sweepTmpl = template.Must(template.New("sweep").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>acksim sweep: {{.Name}}</title>
<style>{{.Style}}</style></head>
<body>
<h1>acksim sweep: {{.Name}}</h1>
<p>{{.NCells}} cells × {{.Trials}} trials on base scenario <code>{{.Base}}</code>, master seed {{.Seed}}.
Trial <i>i</i> of every cell faced the same fault schedule and the same workload (common random numbers), so cells are compared on the same bad luck.</p>
<p><b>How to read it.</b> A <i>lost write</i> is a record the producer was told was written (acknowledged) that is not in the final log of the partition.
P(lost write) is the fraction of trials that lost at least one. The interval is a 95% Wilson interval; when no trial lost anything it is the one-sided 95% upper bound (about 3/trials): zero losses in a few dozen trials is not proof of safety.
Latencies are produce latencies (send to acknowledgement), median over trials of each trial's p50 and p99.</p>

<h2>Charts</h2>
{{range .Charts}}<figure id="chart-{{.Name}}">{{.Inline}}
<figcaption><b>{{.Title}}.</b> {{.Caption}} (<a href="charts/{{.Name}}.svg">SVG</a>, <a href="charts/{{.Name}}.png">PNG</a>)</figcaption></figure>
{{end}}
<h2>Summary</h2>
<p>Click a column to sort.</p>
<div class="wide"><table class="sortable" id="summary"><thead><tr><th>cell</th>{{range .Axes}}<th class="s">{{.}}</th>{{end}}<th>trials</th><th>lost-write trials</th><th>P(lost write)</th><th>95% interval</th><th>mean lost</th><th>max lost</th><th>dup trials</th><th>consumer-loss trials</th><th>unavailable ms</th><th>p50 ms</th><th>p99 ms</th><th>pooled p99 ms</th><th>fault-free p99 ms</th>{{if .Txn}}<th>aborted-read or torn trials</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr{{if .Lossy}} class="lossy"{{end}}><td>{{.Sum.Cell}}</td>{{range .Values}}<td class="s">{{.}}</td>{{end}}<td>{{.Sum.Trials}}</td><td>{{.Sum.LossTrials}}</td><td class="p">{{printf "%.3f" .Sum.PLoss}}</td><td data-v="{{.Sum.Hi95}}">{{.Interval}}</td><td>{{printf "%.1f" .Sum.MeanLost}}</td><td>{{.Sum.MaxLost}}</td><td>{{.Sum.DupTrials}}</td><td>{{.Sum.ConsumerLossTrials}}</td><td>{{printf "%.0f" .Sum.MeanUnavailMs}}</td><td>{{printf "%.1f" .Sum.P50Ms}}</td><td>{{printf "%.1f" .Sum.P99Ms}}</td><td>{{printf "%.1f" .Sum.PooledP99Ms}}</td><td>{{printf "%.1f" .Sum.FaultFreeP99Ms}}</td>{{if $.Txn}}<td>{{.Sum.TxnAnomalyTrials}}</td>{{end}}</tr>
{{end}}</tbody></table></div>
{{if .Losing}}
<h2>Losing trials: replay them</h2>
<p>Run these in this report's folder (it holds <code>spec.yaml</code>). Each command writes the trial as a scenario file, runs it, explains the loss, and writes a page with its timeline and space-time diagram.</p>
{{range .Losing}}<h3>{{.Settings}}</h3>
{{range .Cmds}}<pre>{{.}}</pre>
{{end}}{{end}}{{end}}
{{if .Paired}}
<h2>Paired comparison</h2>
<ul>{{range .Paired}}<li>{{.}}</li>
{{end}}</ul>{{end}}
<h2>Sweep spec</h2>
<pre>{{.SpecText}}</pre>
<script>{{.Script}}</script>
</body></html>
`))
