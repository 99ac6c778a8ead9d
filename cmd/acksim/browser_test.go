package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// chromium finds Debian's headless Chromium. Locally the browser tests skip
// when it is absent; under CI=true (where .ci/run installs it) a missing
// browser is a failure.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but no Chromium on PATH: .ci/run must install Debian's chromium package")
	}
	t.Skip("Chromium not installed (apt-get install chromium); browser tests skipped")
	return ""
}

// browse loads file in headless Chromium and returns the DOM after the
// page's scripts ran, and every console message the page logged.
func browse(t *testing.T, browser, file string, extra ...string) (dom string, console []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0"}, extra...)
	args = append(args, "file://"+file)
	cmd := exec.CommandContext(ctx, browser, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, e.String())
	}
	for _, line := range strings.Split(e.String(), "\n") {
		if strings.Contains(line, ":CONSOLE") {
			console = append(console, line)
		}
	}
	return o.String(), console
}

var bodyAttrs = regexp.MustCompile(`<body data-ready="(\w+)" data-errors="(\d+)" data-svgs="(\d+)" data-tables="(\d+)"[^>]*>`)

// checkPage loads a report, fails on any console message or script error,
// checks its charts (SVGs) and tables are in the rendered DOM, and takes a
// screenshot (kept in $ACKSIM_SCREENSHOTS when set).
func checkPage(t *testing.T, browser, file string, minSVGs int, ids ...string) {
	t.Helper()
	dom, console := browse(t, browser, file, "--dump-dom")
	if len(console) > 0 {
		t.Errorf("%s: console messages:\n%s", file, strings.Join(console, "\n"))
	}
	m := bodyAttrs.FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("%s: the page's script did not run (no data-ready on body)", file)
	}
	if m[1] != "ok" || m[2] != "0" {
		t.Errorf("%s: ready=%s, script errors=%s", file, m[1], m[2])
	}
	if svgs := atoi(m[3]); svgs < minSVGs {
		t.Errorf("%s: %d SVGs rendered, want at least %d", file, svgs, minSVGs)
	}
	if m[4] == "0" {
		t.Errorf("%s: no table rendered", file)
	}
	for _, id := range ids {
		if !strings.Contains(dom, `id="`+id+`"`) {
			t.Errorf("%s: no element with id %q", file, id)
		}
	}
	dir := os.Getenv("ACKSIM_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	shot, _ := filepath.Abs(filepath.Join(dir, strings.TrimSuffix(filepath.Base(file), ".html")+".png"))
	browse(t, browser, file, "--screenshot="+shot, "--window-size=1280,1600", "--hide-scrollbars")
	if b, err := os.ReadFile(shot); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) || len(b) < 10000 {
		t.Errorf("%s: no screenshot (%v, %d bytes)", file, err, len(b))
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestSweepReportInBrowser(t *testing.T) {
	browser := chromium(t)
	dir := t.TempDir()
	if _, errOut, code := acksim(t, dir, "sweep", "--trials", "4", "--out", "res"); code != 0 {
		t.Fatalf("sweep exit %d: %s", code, errOut)
	}
	checkPage(t, browser, filepath.Join(dir, "res", "report.html"), 4,
		"summary", "chart-loss-by-cell", "chart-heatmap", "chart-loss-vs-x", "chart-pareto")
}

// A run's page at 20,000 records/s (thousands of messages in a diagram's
// window, issue 17) loads without errors, and its diagrams fit the page
// width as it opens, with zoom buttons.
func TestRunReportInBrowser(t *testing.T) {
	browser := chromium(t)
	dir := t.TempDir()
	if _, errOut, code := acksim(t, dir, "run", "acks1-leader-crash", "--set", "workload.rate=20000", "--html", "run.html"); code != 0 {
		t.Fatalf("run exit %d: %s", code, errOut)
	}
	page := filepath.Join(dir, "run.html")
	checkPage(t, browser, page, 1, "verdict", "timeline")
	dom, _ := browse(t, browser, page, "--dump-dom", "--window-size=1280,1600")
	m := regexp.MustCompile(`data-fit="(\d)" data-diagrams="(\d+)"`).FindStringSubmatch(dom)
	if m == nil || m[1] != "1" || m[2] == "0" {
		t.Fatalf("diagrams do not fit the page (data-fit, data-diagrams: %v)", m)
	}
	if strings.Count(dom, `data-z="fit"`) != atoi(m[2]) {
		t.Errorf("not every diagram has zoom buttons")
	}
}

var chartAttrs = regexp.MustCompile(`<body data-texts="(\d+)" data-overlaps="(\d+)" data-fonts="(\d+)"(?: data-first="([^"]*)")?>`)

// The charts as a browser draws them (issue 17): their fonts are embedded,
// they have text, and no two pieces of text overlap (labels, ticks,
// legends, titles) by more than 2 px: a browser's text box is a line's
// full height, a little taller than the glyphs gonum places.
func TestChartsInBrowser(t *testing.T) {
	browser := chromium(t)
	dir := t.TempDir()
	if _, errOut, code := acksim(t, dir, "sweep", "--trials", "4", "--out", "res", "--quiet"); code != 0 {
		t.Fatalf("sweep exit %d: %s", code, errOut)
	}
	charts, _ := filepath.Glob(filepath.Join(dir, "res", "charts", "*.svg"))
	if len(charts) < 4 {
		t.Fatalf("%d charts", len(charts))
	}
	const script = `<script>
const ts = [...document.querySelectorAll('svg text')].filter(t => t.textContent.trim() !== '');
const rs = ts.map(t => t.getBoundingClientRect());
let ov = 0, first = '';
for (let i = 0; i < rs.length; i++) for (let j = i + 1; j < rs.length; j++) {
  const a = rs[i], b = rs[j];
  if (a.left < b.right - 2 && b.left < a.right - 2 && a.top < b.bottom - 2 && b.top < a.bottom - 2) {
    ov++;
    const dx = Math.min(a.right, b.right) - Math.max(a.left, b.left), dy = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    if (!first) first = ts[i].textContent + ' | ' + ts[j].textContent + ' by ' + dx.toFixed(1) + 'x' + dy.toFixed(1) + 'px';
  }
}
const fonts = [...document.querySelectorAll('svg style')].filter(s => s.textContent.includes('@font-face')).length;
document.body.dataset.texts = ts.length; document.body.dataset.overlaps = ov; document.body.dataset.fonts = fonts;
if (first) document.body.dataset.first = first;
</script>`
	for _, c := range charts {
		svg, err := os.ReadFile(c)
		if err != nil {
			t.Fatal(err)
		}
		svg = regexp.MustCompile(`^<\?xml[^>]*\?>`).ReplaceAll(svg, nil)
		page := filepath.Join(dir, strings.TrimSuffix(filepath.Base(c), ".svg")+".html")
		os.WriteFile(page, []byte("<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>"+string(svg)+script+"</body></html>"), 0o644)
		dom, _ := browse(t, browser, page, "--dump-dom")
		m := chartAttrs.FindStringSubmatch(dom)
		if m == nil {
			t.Errorf("%s: the check did not run", filepath.Base(c))
			continue
		}
		if atoi(m[1]) < 3 || m[3] == "0" {
			t.Errorf("%s: %s texts, %s embedded font styles; want text and an embedded font", filepath.Base(c), m[1], m[3])
		}
		if m[2] != "0" {
			t.Errorf("%s: %s overlapping pairs of text, the first: %s", filepath.Base(c), m[2], m[4])
		}
	}
}
