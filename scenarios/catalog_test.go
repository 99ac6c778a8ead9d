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
