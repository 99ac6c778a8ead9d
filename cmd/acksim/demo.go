package main

import (
	"fmt"
	"text/tabwriter"

	"acksim/scenarios"

	"github.com/spf13/cobra"
)

// demoNames is the story the demonstration tells: the same faults against
// weaker and stronger settings.
var demoNames = []string{
	"acks0-leader-crash", "acks1-leader-crash", "acks1-sync-flush-failover", "acksall-leader-crash",
	"stale-isr-election-acks1", "stale-isr-election-acksall",
	"isr-shrink-unclean-election", "isr-shrink-clean-wait", "minisr2-rejects-writes",
	"last-replica-standing", "last-replica-standing-elr", "followers-power-loss-after-leader-crash",
	"cluster-power-loss-no-flush", "cluster-power-loss-flush-interval", "cluster-power-loss-flush-every-message", "cluster-process-crash",
	"retries-duplicate", "inflight-reorder", "idempotent-producer",
	"producer-crash-buffered", "consumer-autocommit-crash", "consumer-commit-after-process",
}

func newDemo() *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Run the built-in catalogue and print one line per scenario",
		Long: `Run the built-in failure scenarios and print, for each, what was acknowledged,
what was lost, and the other anomalies: the seed articles' failure modes at a
glance ('make run' runs the default sweep instead).

Exit codes: 0 every scenario's verdict matches its expect:, 1 one does not.`,
		Example: `  acksim demo
  acksim demo | sort -k4 -n     # by records lost`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			w := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(w, "scenario\tkafka\tacked\tlost\tdup\treorder\tconsumer-loss\tunavailable s\tp99 ms\t")
			failed := 0
			for _, n := range demoNames {
				s, err := scenarios.Load(n)
				if err != nil {
					return err
				}
				res, err := scenarios.Run(s, scenarios.Options{})
				if err != nil {
					return err
				}
				v := res.Verdict
				a := v.Anomalies
				fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t\n", n, v.Kafka, v.Records.Acked, a.LostWrite, a.Duplicate, a.Reorder, a.ConsumerLoss, v.UnavailableMs/1000, v.LatencyMs.P99)
				failed += len(res.Failed)
			}
			w.Flush()
			fmt.Fprintln(out, "\nlost = acknowledged records missing after recovery. Explain any row with: acksim run NAME")
			if failed > 0 {
				return &exitError{exitFinding, fmt.Sprintf("%d expectation(s) contradicted", failed)}
			}
			return nil
		},
	}
}
