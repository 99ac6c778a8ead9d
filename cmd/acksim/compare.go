package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"acksim/scenarios"

	"github.com/spf13/cobra"
)

func newCompare() *cobra.Command {
	var a, b []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "compare SCENARIO|all --a KEY=VALUE ... --b KEY=VALUE ...",
		Short: "Run a scenario (or the catalogue) under two versions or settings, and say what changed and why",
		Long: `Run a scenario under variant A and variant B (each a list of --set pairs, such as two
Kafka versions), print what changed in the verdict, and find the cause: every difference
between the variants (B's settings, and when the versions differ every default and rule
switch of B's version a setting reaches) is applied to A alone, and those that give B's
outcome are named. Differences no setting switches alone (client features of a release)
are listed. "all" compares every built-in and prints only those whose verdict changed.

Exit codes: 0 done, 2 bad input.`,
		Example: `  acksim compare acks1-leader-crash --a kafka=2.8 --b kafka=4.1
  acksim compare all --a kafka=3.6 --b kafka=3.9
  acksim compare cluster-power-loss-no-flush --b log.flush.interval.messages=1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var list []*scenarios.Scenario
			if args[0] == "all" {
				all, err := scenarios.Catalog()
				if err != nil {
					return err
				}
				list = all
			} else {
				s, err := scenarios.Load(args[0])
				if err != nil {
					return err
				}
				list = []*scenarios.Scenario{s}
			}
			out := cmd.OutOrStdout()
			changed := 0
			type jsonComparison struct {
				Scenario   string              `json:"scenario"`
				A          any                 `json:"a"`
				B          any                 `json:"b"`
				Changes    []string            `json:"changes"`
				Causes     map[string][]string `json:"causes"`
				Tried      []string            `json:"tried"`
				Untestable []string            `json:"untestable"`
			}
			var js []jsonComparison
			for _, s := range list {
				c, err := scenarios.Compare(s, a, b)
				if err != nil {
					return err
				}
				if len(c.Changes) == 0 && len(list) > 1 {
					continue
				}
				changed++
				if asJSON {
					js = append(js, jsonComparison{c.Scenario, c.A, c.B, c.Changes, c.Causes, c.Tried, c.Untestable})
					continue
				}
				printComparison(out, c, a, b)
			}
			if asJSON {
				if js == nil {
					js = []jsonComparison{}
				}
				enc, _ := json.MarshalIndent(js, "", "  ")
				fmt.Fprintln(out, string(enc))
				return nil
			}
			if len(list) > 1 {
				fmt.Fprintf(out, "%d of %d scenarios changed\n", changed, len(list))
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&a, "a", nil, "variant A: key=value as for --set (repeatable; none: the scenario as it is)")
	cmd.Flags().StringArrayVar(&b, "b", nil, "variant B: key=value as for --set (repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the comparisons as JSON: each scenario's verdicts A and B, the changes and their causes")
	return withCompletion(cmd)
}

func printComparison(w io.Writer, c *scenarios.Comparison, a, b []string) {
	name := func(v []string) string {
		if len(v) == 0 {
			return "as written"
		}
		return strings.Join(v, " ")
	}
	fmt.Fprintf(w, "%s: A (%s) -> B (%s)\n", c.Scenario, name(a), name(b))
	if len(c.Changes) == 0 {
		fmt.Fprintln(w, "  the verdict is the same")
		return
	}
	for _, ch := range c.Changes {
		fmt.Fprintf(w, "  %s", ch)
		field, _, _ := strings.Cut(ch, " ")
		if !slices.Contains(scenarios.AnomalyNames, field) || c.Causes == nil {
			fmt.Fprintln(w)
			continue
		}
		switch causes := c.Causes[field]; {
		case len(causes) > 0:
			fmt.Fprintf(w, "   because of %s (applied to A alone, it gives B's count)\n", strings.Join(causes, " or "))
		case len(c.Tried) > 0:
			fmt.Fprintf(w, "   (no single difference explains it)\n")
		default:
			fmt.Fprintln(w, "   (no setting differs that could be tried alone)")
		}
	}
	if len(c.Tried) > 0 {
		fmt.Fprintf(w, "  differences tried: %s\n", strings.Join(c.Tried, ", "))
	}
	if len(c.Untestable) > 0 {
		fmt.Fprintf(w, "  also different, not testable alone: %s\n", strings.Join(c.Untestable, "; "))
	}
}
