package main

import (
	"strings"

	"acksim/model"
	"acksim/scenarios"

	"github.com/spf13/cobra"
)

// Shell completion (cobra's `acksim completion bash|zsh|fish|powershell`):
// scenario names for the scenario argument (files too), Kafka releases for
// --kafka, config keys for --set and --a/--b, fault kinds for --faults.

// completeScenario suggests the built-in scenarios, and lets the shell
// complete file names as well.
func completeScenario(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	all, err := scenarios.Catalog()
	if err != nil {
		return nil, cobra.ShellCompDirectiveDefault
	}
	var out []string
	for _, s := range all {
		if strings.HasPrefix(s.Name, toComplete) {
			out = append(out, s.Name+"\t"+s.Title)
		}
	}
	return out, cobra.ShellCompDirectiveDefault
}

func completeKafka(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return model.ProfileNames(), cobra.ShellCompDirectiveNoFileComp
}

// completeSet suggests key= for a --set pair, and the releases after kafka=.
func completeSet(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if v, ok := strings.CutPrefix(toComplete, "kafka="); ok {
		var out []string
		for _, n := range model.ProfileNames() {
			if strings.HasPrefix(n, v) {
				out = append(out, "kafka="+n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, k := range scenarios.SetKeys() {
		if strings.HasPrefix(k, toComplete) {
			out = append(out, k+"=")
		}
	}
	return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
}

// completeFaults completes the last of a comma-separated list of fault kinds.
func completeFaults(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	done, last := "", toComplete
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		done, last = toComplete[:i+1], toComplete[i+1:]
	}
	var out []string
	for _, k := range scenarios.CheckFaultKinds() {
		if strings.HasPrefix(k.Name, last) {
			out = append(out, done+k.Name)
		}
	}
	return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
}

// withCompletion registers the completions a command's flags and argument
// take (the flags it has). Cobra looks one-letter long flags up as
// shorthands when completing, so compare's --a and --b get no suggestions.
func withCompletion(cmd *cobra.Command) *cobra.Command {
	cmd.ValidArgsFunction = completeScenario
	for name, f := range map[string]cobra.CompletionFunc{"kafka": completeKafka, "set": completeSet, "faults": completeFaults} {
		if cmd.Flags().Lookup(name) != nil {
			_ = cmd.RegisterFlagCompletionFunc(name, f)
		}
	}
	return cmd
}
