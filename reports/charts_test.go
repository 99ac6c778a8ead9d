package reports

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"acksim/scenarios/sweep"

	"github.com/google/go-cmp/cmp"
)

// synthetic builds a spec and per-cell summaries without running trials:
// loss(cell) gives each cell's losing trials out of n.
func synthetic(t *testing.T, grid string, n int, loss func(c sweep.Cell) int) (*sweep.Spec, []sweep.Cell, []sweep.Summary) {
	t.Helper()
	spec, err := sweep.Parse("t.yaml", []byte(fmt.Sprintf("name: t\ntrials: %d\ngrid:\n%s", n, grid)))
	if err != nil {
		t.Fatal(err)
	}
	cells := spec.Cells()
	var ts []sweep.Trial
	for _, c := range cells {
		k := loss(c)
		for i := 0; i < n; i++ {
			tr := sweep.Trial{Cell: c.Index, Trial: i, P99Ms: float64(10 + 5*c.Index), P50Ms: 2}
			if i < k {
				tr.LostWrite = 3
			}
			ts = append(ts, tr)
		}
	}
	return spec, cells, sweep.Summarize(cells, ts)
}

func names(cs []Chart) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func TestSweepChartsPerGridShape(t *testing.T) {
	cases := []struct {
		name, grid string
		want       []string
	}{
		{"all four", "  acks: [\"1\", all]\n  min.insync.replicas: [\"1\", \"2\"]\n  log.flush.interval.ms: [\"100\", \"1000\", never]\n",
			[]string{"loss-by-cell", "heatmap", "loss-vs-x", "pareto"}},
		{"one axis: no heatmap, acks is not numeric", "  acks: [\"0\", \"1\", all]\n",
			[]string{"loss-by-cell", "pareto"}},
		{"no numeric axis", "  acks: [\"1\", all]\n  unclean.leader.election.enable: [\"false\", \"true\"]\n",
			[]string{"loss-by-cell", "heatmap", "pareto"}},
		{"versions are not a quantity", "  acks: [\"1\", all]\n  kafka: [\"2.8\", \"3.9\"]\n",
			[]string{"loss-by-cell", "heatmap", "pareto"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec, cells, sums := synthetic(t, c.grid, 10, func(c sweep.Cell) int { return c.Index % 3 })
			charts, err := SweepCharts(spec, cells, sums)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, names(charts)); diff != "" {
				t.Fatalf("charts (-want +got):\n%s", diff)
			}
			for _, ch := range charts {
				if !bytes.Contains(ch.SVG, []byte("<svg")) || !bytes.HasPrefix(ch.PNG, []byte("\x89PNG")) {
					t.Errorf("%s: not an SVG and a PNG", ch.Name)
				}
			}
		})
	}
}

// Zero loss everywhere (the safe configurations) must draw, not panic or
// divide by zero; axis labels carry Kafka's config names.
func TestSweepChartsAllZeroLoss(t *testing.T) {
	spec, cells, sums := synthetic(t, "  acks: [all]\n  min.insync.replicas: [\"1\", \"2\"]\n", 40, func(sweep.Cell) int { return 0 })
	charts, err := SweepCharts(spec, cells, sums)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range charts {
		if bytes.Contains(ch.SVG, []byte("NaN")) {
			t.Errorf("%s: NaN in the SVG", ch.Name)
		}
	}
	if !bytes.Contains(charts[1].SVG, []byte("min.insync.replicas")) {
		t.Error("heatmap axis not labelled with the config name")
	}
}

func TestChartsAreDeterministic(t *testing.T) {
	grid := "  acks: [\"1\", all]\n  log.flush.interval.messages: [\"1\", \"100\"]\n"
	spec, cells, sums := synthetic(t, grid, 8, func(c sweep.Cell) int { return c.Index })
	a, _ := SweepCharts(spec, cells, sums)
	b, _ := SweepCharts(spec, cells, sums)
	for i := range a {
		if !bytes.Equal(a[i].SVG, b[i].SVG) || !bytes.Equal(a[i].PNG, b[i].PNG) {
			t.Errorf("%s differs between two renderings", a[i].Name)
		}
	}
}

// The Pareto frontier: no frontier cell is dominated, every other cell is.
func TestFrontier(t *testing.T) {
	sums := []sweep.Summary{
		{P99Ms: 5, PLoss: 0.5},  // fastest
		{P99Ms: 10, PLoss: 0.2}, // on the frontier
		{P99Ms: 12, PLoss: 0.3}, // dominated by 1
		{P99Ms: 30, PLoss: 0},   // safest
		{P99Ms: 40, PLoss: 0},   // dominated by 3 (slower, as safe)
		{P99Ms: 10, PLoss: 0.2}, // ties with 1: neither dominates
	}
	if diff := cmp.Diff([]int{0, 1, 5, 3}, Frontier(sums)); diff != "" {
		t.Fatalf("frontier (-want +got):\n%s", diff)
	}
}

func TestSweepHTML(t *testing.T) {
	grid := "  acks: [\"1\", all]\n  min.insync.replicas: [\"1\", \"2\"]\n"
	spec, cells, sums := synthetic(t, grid, 10, func(c sweep.Cell) int { return 3 - c.Index })
	charts, err := SweepCharts(spec, cells, sums)
	if err != nil {
		t.Fatal(err)
	}
	page, err := SweepHTML(SweepReport{Spec: spec, SpecText: "name: t", Cells: cells, Sums: sums,
		Losing: map[int][]int{0: {0, 1}}, Charts: charts})
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	if got := strings.Count(s, "<svg"); got != len(charts) {
		t.Errorf("%d inline SVGs, want %d", got, len(charts))
	}
	for _, want := range []string{`<table class="sortable" id="summary">`, "acksim sweep spec.yaml --export 0:1 --out trial-0-1.yaml &amp;&amp; acksim run trial-0-1.yaml --html trial-0-1.html",
		"<th class=\"s\">min.insync.replicas</th>", `<tr class="lossy">`} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(s, "<?xml") || strings.Contains(s, "src=") || strings.Contains(s, `href="http`) {
		t.Error("report is not self-contained")
	}
	// Transaction anomalies get a column only when a trial had one.
	if strings.Contains(s, "aborted-read or torn trials") {
		t.Error("a transaction column without transactions")
	}
	sums[1].TxnAnomalyTrials = 7
	page, _ = SweepHTML(SweepReport{Spec: spec, SpecText: "name: t", Cells: cells, Sums: sums, Charts: charts})
	if s = string(page); !strings.Contains(s, "aborted-read or torn trials</th>") || !strings.Contains(s, "<td>7</td></tr>") {
		t.Error("no transaction column for a cell with anomalies")
	}
}

// Names and settings from a user are inert in report.md.
func TestMarkdownEscapesNames(t *testing.T) {
	md := SweepMarkdown("x | <script>alert(1)</script> [a](b)", 1, []sweep.Summary{{Settings: "acks=all|retries=*1*"}}, nil, nil, nil, nil)
	for _, bad := range []string{"<script>", "[a](b)", "all|retries"} {
		if strings.Contains(md, bad) {
			t.Errorf("report.md contains %q unescaped:\n%s", bad, md)
		}
	}
}
