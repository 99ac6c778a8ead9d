package scenarios

import (
	"slices"
	"strings"
	"testing"
)

// compare finds what a version change does and which difference causes it
// by applying each difference to the old version alone (issue 13).
func TestCompareAttributes(t *testing.T) {
	for _, c := range []struct {
		scenario, a, b, field, cause string
	}{
		// KRaft detects a dead broker in 9 s, ZooKeeper in 18 s: the
		// followers' power loss now comes after the election.
		{"followers-power-loss-after-leader-crash", "kafka=2.8", "kafka=3.9", "lost_write", "zookeeper.session.timeout.ms=9s"},
		{"stale-fetch-isr-expansion-kip903", "kafka=2.8", "kafka=3.9", "lost_write", "acksim.isr.broker.epochs=true"},
		{"acksall-leader-crash", "kafka=2.8", "kafka=3.9", "duplicate", "enable.idempotence=true"},
		// Kafka 4.0's transaction version 2 against 3.9's classic protocol.
		{"txn-delayed-endtxn-tv1", "kafka=4.0", "kafka=3.9", "torn_transaction", "transaction.version=0"},
	} {
		s, err := Load(c.scenario)
		if err != nil {
			t.Fatal(err)
		}
		cmp, err := Compare(s, []string{c.a}, []string{c.b})
		if err != nil {
			t.Fatal(err)
		}
		if anomalyCounts(cmp.A)[c.field] == anomalyCounts(cmp.B)[c.field] {
			t.Errorf("%s: %s did not change (%v)", c.scenario, c.field, cmp.Changes)
			continue
		}
		if !slices.Contains(cmp.Causes[c.field], c.cause) {
			t.Errorf("%s: causes of %s %v (tried %v), want %s", c.scenario, c.field, cmp.Causes[c.field], cmp.Tried, c.cause)
		}
	}
	// KIP-447 is a protocol change of 2.5, not a setting: compare reports
	// the zombie's duplicates and names the feature it cannot try alone.
	zs, _ := Load("eos-zombie-kip447")
	zc, err := Compare(zs, []string{"kafka=2.4"}, []string{"kafka=3.9"})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := anomalyCounts(zc.A)["eos_duplicate"], anomalyCounts(zc.B)["eos_duplicate"]; a == 0 || b != 0 {
		t.Errorf("eos-zombie-kip447 2.4 -> 3.9: eos_duplicate %d -> %d, want some -> 0", a, b)
	}
	if !slices.ContainsFunc(zc.Untestable, func(u string) bool { return strings.Contains(u, "KIP-447") }) {
		t.Errorf("eos-zombie-kip447: untestable differences %v do not name KIP-447", zc.Untestable)
	}
	// The same variant twice: nothing changes, nothing is tried.
	s, _ := Load("acks1-leader-crash")
	cmp, err := Compare(s, nil, []string{"kafka=3.9"})
	if err != nil || len(cmp.Changes) != 0 || len(cmp.Tried) != 0 {
		t.Errorf("3.9 against itself: %v, changes %v, tried %v", err, cmp.Changes, cmp.Tried)
	}
}
