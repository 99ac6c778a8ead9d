package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"

	"acksim/scenarios"

	"github.com/spf13/cobra"
)

// Version is set at build time (-ldflags "-X main.Version=...").
var Version = "0.1.0-dev"

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "acksim",
		Short: "Which Kafka settings lose acknowledged messages, under which faults, how often",
		Long: `acksim is a deterministic simulator of Kafka replication: brokers, page cache,
fsync, crashes, power loss, partitions, ISR, elections, producers and consumers.

It shows which settings (acks, min.insync.replicas, flush policy, unclean
election, idempotence, consumer commits, Kafka version) lose messages the
producer was told were safe, under which faults, and why.`,
		Example: `  acksim scenarios                         # the built-in failure catalogue
  acksim run acks1-leader-crash            # run one, see what was lost and why
  acksim run acks1-leader-crash --set acks=all --timeline
  acksim run my-scenario.yaml --json`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	root.SetVersionTemplate("acksim {{.Version}}\n")
	root.AddCommand(newVersion(), newScenarios(), newRun(), newCheck(), newCompare(), newSweep(), newRisk(), newMerge(), newReport(), newDemo())
	return root
}

// replayHash runs a fixed built-in scenario and returns its trace hash, so
// two machines can check they simulate identically.
func replayHash() (string, error) {
	s, err := scenarios.Load("acks1-leader-crash")
	if err != nil {
		return "", err
	}
	res, err := scenarios.Run(s, scenarios.Options{})
	if err != nil {
		return "", err
	}
	return res.Verdict.TraceHash, nil
}

func newVersion() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, the Go version, and the determinism hash of a fixed run",
		Long: `Print acksim's version, the Go version it was built with, and the trace hash of
the built-in scenario acks1-leader-crash with seed 1. Two machines that print
the same hash simulate identically.

Exit codes: 0 done.`,
		Example: `  acksim version
  acksim --version          # the version line only`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := replayHash()
			if err != nil {
				return err
			}
			v := Version
			if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
				v = bi.Main.Version
			}
			fmt.Fprintf(cmd.OutOrStdout(), "acksim %s\ngo %s %s/%s\ndeterminism hash %s (acks1-leader-crash, seed 1)\n", v, runtime.Version(), runtime.GOOS, runtime.GOARCH, h)
			return nil
		},
	}
}

// writeOutput writes an output file, or standard output for "-".
func writeOutput(cmd *cobra.Command, path string, data []byte) error {
	if path == "-" {
		_, err := cmd.OutOrStdout().Write(data)
		return err
	}
	return writeAtomic(path, data)
}

// writeAtomic writes data to path through a temporary file and a rename,
// so an interrupted run never leaves half a file.
// The files acksim's result directories hold: --out is refused when it
// holds anything else, so acksim replaces only files it wrote.
var (
	sweepFiles = []string{"spec.yaml", "trials.jsonl", "trials.partial.jsonl", "summary.csv", "summary.json", "report.md", "report.html", "charts"}
	riskFiles  = []string{"spec.yaml", "estimates.jsonl", "estimates.partial.jsonl", "report.md", "risk.json", "risk.csv", "charts"}
)

// claimOutDir checks that --out is new, empty, or a directory of the
// files acksim writes there (own; "charts" holding only .svg and .png, and
// acksim's hidden temporary files): a mistyped --out (a home directory, a
// project) must not have its report.md or spec.yaml replaced.
func claimOutDir(out string, own []string) error {
	fi, err := os.Stat(out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &exitError{exitBadInput, fmt.Sprintf("--out %s: %v", out, err)}
	}
	if !fi.IsDir() {
		return &scenarios.Error{File: out, Allowed: "is not a directory: --out names a directory for the results"}
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		return &exitError{exitBadInput, fmt.Sprintf("--out %s: %v", out, err)}
	}
	var foreign []string
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp-"):
			continue // a temporary file of writeAtomic's
		case name == "charts" && e.IsDir():
			charts, _ := os.ReadDir(filepath.Join(out, name))
			for _, c := range charts {
				if ext := filepath.Ext(c.Name()); c.Type().IsRegular() && (ext == ".svg" || ext == ".png") {
					continue
				}
				foreign = append(foreign, filepath.Join(name, c.Name()))
			}
			continue
		case slices.Contains(own, name) && e.Type().IsRegular():
			continue
		case slices.Contains(own, name) && e.Type()&os.ModeSymlink != 0:
			continue // replaced, never written through (writeAtomic renames over it)
		}
		foreign = append(foreign, name)
	}
	if len(foreign) == 0 {
		return nil
	}
	more := ""
	if len(foreign) > 3 {
		more = fmt.Sprintf(" and %d more", len(foreign)-3)
		foreign = foreign[:3]
	}
	return &scenarios.Error{File: out, Allowed: fmt.Sprintf("holds %s%s, which acksim did not write; give a new or empty directory, or one acksim wrote (it replaces only its own files: %s)", strings.Join(foreign, ", "), more, strings.Join(own, ", "))}
}

func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil { // CreateTemp makes it 0600
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp) // never leave a hidden temporary file behind
		return err
	}
	return nil
}
