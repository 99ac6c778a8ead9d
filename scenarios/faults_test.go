package scenarios

import (
	"slices"
	"testing"

	"acksim/sim"
)

// Every drawn fault kind fires actions of the table, on targets the parser
// accepts, with the fields those actions need; the draw orders are what
// the schedules of existing checks and sweeps depend on.
func TestFaultTableConsistent(t *testing.T) {
	s := baseSc(t)
	s.Racks = []string{"a", "b", "a"}
	s.Consumers = []ConsumerDef{{Name: "c1"}}
	for _, f := range faultKinds {
		if !f.check && f.sweep == 0 {
			t.Errorf("fault kind %s is drawn by neither check nor sweep", f.name)
		}
		for _, target := range f.targets(s) {
			for _, restartAll := range []bool{true, false} {
				do, undo := f.steps(target, 3*sim.Second, restartAll)
				for _, st := range []*Step{do, undo} {
					if st == nil {
						continue
					}
					a := lookupAction(st.Action)
					if a == nil {
						t.Fatalf("%s fires unknown action %q", f.name, st.Action)
					}
					if a.needs != nil {
						if _, missing := a.needs(st); missing != "" {
							t.Errorf("%s on %s: %s", f.name, target, missing)
						}
					}
					if a.target != noTarget && a.target != groupsTarget && len(st.Target) == 0 {
						t.Errorf("%s on %s: %s without a target", f.name, target, st.Action)
					}
				}
			}
		}
	}
	if got := Names(CheckFaultKinds()); !slices.Equal(got, []string{"crash", "power-loss", "partition", "one-way-partition", "isolate", "pause",
		"slow-disk", "drop-responses", "disk-loss", "rack-power-loss", "producer-crash", "consumer-crash", "link-delay", "permanent-disk-loss", "controller-outage", "producer-pause", "delayed-end-txn", "delayed-produce"}) {
		t.Errorf("check's draw order changed: %v", got)
	}
	if got := Names(SweepFaultKinds()); !slices.Equal(got, []string{"crash", "power-loss", "cluster-power-loss", "partition", "pause",
		"disk-loss", "drop-responses", "rack-power-loss", "consumer-crash", "link-delay", "permanent-disk-loss", "controller-outage", "producer-pause", "delayed-end-txn", "delayed-produce"}) {
		t.Errorf("the sweep's draw order changed: %v", got)
	}
	if s.MissingFor("rack-power-loss") != "" || (&Scenario{}).MissingFor("rack-power-loss") == "" || (&Scenario{}).MissingFor("consumer-crash") == "" {
		t.Error("MissingFor does not report a scenario without racks or consumers")
	}
}
