package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var updateREADME = flag.Bool("update", false, "rewrite the command outputs shown in ../../README.md")

// The README cannot drift: every command output it shows sits in a code
// block announced by a marker,
//
//	<!-- readme: ARGS -->            the whole output of `acksim ARGS`
//	<!-- readme: ARGS | keep RE -->  only the lines matching RE; "..." marks each run of lines left out
//
// and this test runs each command with the binary under test and requires
// the block to be what it prints (stdout, then stderr). Wall-clock figures
// (seconds of real time, trials per second) are compared as placeholders.
// A yaml block after `<!-- readme-file: NAME -->` is written to NAME in
// the commands' working directory first. go test ./cmd/acksim -run README
// -update rewrites the blocks.
func TestREADMEOutputs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every command the README shows")
	}
	const path = "../../README.md"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	dir := t.TempDir()
	// The README's commands name files under docs/ as a reader in the
	// repository would.
	if err := os.CopyFS(filepath.Join(dir, "docs"), os.DirFS("../../docs")); err != nil {
		t.Fatal(err)
	}
	var out []string
	blocks := 0
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		out = append(out, line)
		file, isFile := strings.CutPrefix(line, "<!-- readme-file: ")
		spec, isCmd := strings.CutPrefix(line, "<!-- readme: ")
		if !isFile && !isCmd {
			continue
		}
		if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "```") {
			t.Fatalf("README.md:%d: a readme marker must be followed by a code block", i+1)
		}
		end := i + 2
		for end < len(lines) && lines[end] != "```" {
			end++
		}
		if end == len(lines) {
			t.Fatalf("README.md:%d: unclosed code block", i+2)
		}
		body := strings.Join(lines[i+2:end], "\n")
		if isFile {
			if err := os.WriteFile(filepath.Join(dir, strings.TrimSuffix(file, " -->")), []byte(body+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		blocks++
		spec = strings.TrimSuffix(spec, " -->")
		args, keep, _ := strings.Cut(spec, " | keep ")
		stdout, stderr, _ := acksim(t, dir, strings.Fields(args)...)
		ex := excerpt(t, stdout+stderr, keep)
		if keep != "" && strings.Trim(strings.ReplaceAll(ex, "...", ""), "\n") == "" {
			t.Errorf("README.md:%d: `acksim %s` printed nothing the excerpt keeps (it failed?):\n%s", i+1, args, stdout+stderr)
		}
		got := "$ acksim " + args + "\n" + ex
		if *updateREADME {
			out = append(out, lines[i+1])
			out = append(out, strings.Split(got, "\n")...)
			i = end - 1
			continue
		}
		if diff := cmp.Diff(wallClock(body), wallClock(got)); diff != "" {
			t.Errorf("README.md:%d: the output of `acksim %s` differs (-README +now); go test ./cmd/acksim -run README -update rewrites it:\n%s", i+1, args, diff)
		}
	}
	if blocks < 5 {
		t.Fatalf("found %d command blocks in README.md; the markers are gone?", blocks)
	}
	if *updateREADME {
		if err := os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// excerpt keeps the lines matching keep (all when keep is empty), and the
// blank lines after kept ones, marking each run of left-out lines with
// "...".
func excerpt(t *testing.T, text, keep string) string {
	text = strings.TrimRight(text, "\n")
	if keep == "" {
		return text
	}
	re, err := regexp.Compile(keep)
	if err != nil {
		t.Fatalf("keep %q: %v", keep, err)
	}
	var b []string
	for _, l := range strings.Split(text, "\n") {
		switch {
		case l == "":
			// Blank lines separate sections: kept after a kept line.
			if len(b) > 0 && b[len(b)-1] != "" && b[len(b)-1] != "..." {
				b = append(b, "")
			}
		case re.MatchString(l):
			b = append(b, l)
		case len(b) == 0 || b[len(b)-1] != "...":
			b = append(b, "...")
		}
	}
	for len(b) > 0 && b[len(b)-1] == "" {
		b = b[:len(b)-1]
	}
	return strings.Join(b, "\n")
}

var wallClockRE = regexp.MustCompile(`(simulated seconds, |trials in )[0-9.]+(µs|ms|s)|(\()[0-9]+ trials/s, [0-9]+ workers?`)

// wallClock replaces figures of real time, which differ run to run.
func wallClock(s string) string { return wallClockRE.ReplaceAllString(s, "${1}<wall clock>") }
