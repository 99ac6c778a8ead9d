package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"acksim/scenarios"

	"github.com/spf13/cobra"
)

func newScenarios() *cobra.Command {
	var listJSON bool
	list := &cobra.Command{
		Use:   "scenarios",
		Short: "List the built-in failure scenarios",
		Long:  "List the built-in scenarios: name, title and the outcome the scenario expects.",
		Example: `  acksim scenarios
  acksim scenarios show acks1-leader-crash > mine.yaml   # a starting point for your own`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			all, err := scenarios.Catalog()
			if err != nil {
				return err
			}
			if listJSON {
				type entry struct {
					Name    string   `json:"name"`
					Title   string   `json:"title"`
					Expects []string `json:"expects"`
					Source  string   `json:"source"`
				}
				var out []entry
				for _, s := range all {
					e := entry{Name: s.Name, Title: s.Title, Expects: []string{}, Source: s.Source}
					for _, x := range s.Expect {
						e.Expects = append(e.Expects, x.String())
					}
					out = append(out, e)
				}
				b, _ := json.MarshalIndent(out, "", "  ")
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
				return nil
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tEXPECTS\tTITLE")
			for _, s := range all {
				var ex []string
				for _, e := range s.Expect {
					ex = append(ex, e.String())
				}
				fmt.Fprintf(w, "%s\t%s\t%s\n", s.Name, strings.Join(ex, ", "), s.Title)
			}
			return w.Flush()
		},
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print the list as JSON: name, title, expects, source")
	show := &cobra.Command{
		Use:     "show NAME",
		Short:   "Print a built-in scenario's YAML",
		Example: "  acksim scenarios show cluster-power-loss-no-flush",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, ok := scenarios.Builtin(args[0])
			if !ok {
				_, err := scenarios.Load(args[0])
				return err
			}
			_, err := cmd.OutOrStdout().Write(b)
			return err
		},
	}
	list.AddCommand(show)
	return list
}
