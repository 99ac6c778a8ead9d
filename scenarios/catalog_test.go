package scenarios

import (
	"strings"
	"testing"
)

// Every built-in scenario's expectations are checked by running it: the
// verdict comes from the simulator, the expectation from the file.
func TestCatalogExpectations(t *testing.T) {
	all, err := Catalog()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 19 {
		t.Fatalf("catalogue has %d scenarios, want at least 19", len(all))
	}
	for _, s := range all {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			if s.Title == "" || s.Source == "" || s.Description == "" || len(s.Expect) == 0 {
				t.Fatalf("built-in %s needs title, description, source and expect", s.Name)
			}
			res, err := Run(s, Options{})
			if err != nil {
				t.Fatal(err)
			}
			v := res.Verdict
			t.Logf("%s: records=%+v anomalies=%+v unavail=%.0fms converged=%v hash=%s", s.Name, v.Records, v.Anomalies, v.UnavailableMs, v.Converged, v.TraceHash)
			for _, f := range res.Fired {
				t.Logf("  %s %s", f.At, f.Text)
			}
			for _, e := range res.Failed {
				got, _ := v.Get(e.Field)
				var story []string
				for _, x := range v.Explanations {
					story = append(story, strings.Join(x.Story, "\n    "))
				}
				t.Errorf("expect %s, got %g\n  %s", e, got, strings.Join(story, "\n  "))
			}
			if s.Recovery && !v.Converged {
				t.Errorf("recovery did not converge")
			}
		})
	}
}

// Every reorder, lost write and consumer anomaly of every built-in is
// explained (issue 12, also): the explanations of a kind account for all of
// its records, and each tells a story.
func TestEveryAnomalyExplained(t *testing.T) {
	all, err := Catalog()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, s := range all {
		res, err := Run(s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		v := res.Verdict
		want := map[string]int{"lost-write": v.Anomalies.LostWrite, "reorder": v.Anomalies.Reorder,
			"consumer-loss": v.Anomalies.ConsumerLoss, "consumer-duplicate": v.Anomalies.ConsumerDuplicate}
		got := map[string]int{}
		for _, e := range v.Explanations {
			got[e.Anomaly] += e.Count
			if len(e.Story) == 0 {
				t.Errorf("%s: %s explanation without a story", s.Name, e.Anomaly)
			}
		}
		torn := 0
		for _, e := range v.Explanations {
			if e.Anomaly == "torn-transaction" {
				torn++ // one explanation a transaction
			}
		}
		if tx := v.Transactions; tx != nil {
			want["aborted-read"] = tx.AbortedRead
			if torn != tx.TornTransaction {
				t.Errorf("%s: %d torn transaction(s), %d explained", s.Name, tx.TornTransaction, torn)
			}
			seen["torn-transaction"] = seen["torn-transaction"] || torn > 0
		}
		for k, n := range want {
			if got[k] != n {
				t.Errorf("%s: %d %s, explanations account for %d", s.Name, n, k, got[k])
			}
			seen[k] = seen[k] || n > 0
		}
	}
	for _, k := range []string{"lost-write", "reorder", "consumer-loss", "consumer-duplicate", "aborted-read", "torn-transaction"} {
		if !seen[k] {
			t.Errorf("no built-in shows %s: the test checks nothing for it", k)
		}
	}
}
