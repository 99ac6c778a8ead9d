package scenarios

import (
	"fmt"
	"slices"
	"strings"

	"acksim/model"
	"acksim/model/check"
	"acksim/sim"
)

// Comparison is one scenario run under two variants (A and B, each a list
// of --set pairs), what changed in the verdict, and which single
// difference between the variants, applied to A alone, reproduces B's
// outcome.
type Comparison struct {
	Scenario string
	A, B     *check.Verdict
	// Changes lists the verdict fields that differ, as "field a -> b".
	Changes []string
	// Causes are, per anomaly that changed ("lost_write"), the
	// differences (key=value of B) that, applied to A alone, give B's
	// count of it; Tried lists every difference tried.
	Causes map[string][]string
	Tried  []string
	// Untestable are differences between the two versions that no setting
	// switches alone (client features of a release).
	Untestable []string
}

// Compare runs s under variants a and b and explains the difference.
// Each run is a full simulation; the attribution runs A once more per
// difference between the variants.
func Compare(s *Scenario, a, b []string) (*Comparison, error) {
	run := func(extra ...string) (*Result, error) {
		c := *s
		c.Settings = slices.Clone(s.Settings)
		c.Producers, c.Consumers = slices.Clone(s.Producers), slices.Clone(s.Consumers)
		for _, kv := range append(slices.Clone(a), extra...) {
			if err := c.Set(kv); err != nil {
				return nil, err
			}
		}
		return Run(&c, Options{})
	}
	ra, err := run()
	if err != nil {
		return nil, err
	}
	rb, err := run(b...)
	if err != nil {
		return nil, err
	}
	cmp := &Comparison{Scenario: s.Name, A: ra.Verdict, B: rb.Verdict, Changes: verdictChanges(ra.Verdict, rb.Verdict)}
	if ra.Verdict.Anomalies == rb.Verdict.Anomalies && ra.Verdict.Stranded == rb.Verdict.Stranded {
		return cmp, nil
	}
	cands, untestable := differences(s, ra.Scenario, rb.Scenario, a, b)
	cmp.Untestable = untestable
	cmp.Causes = map[string][]string{}
	wantA, wantB := anomalyCounts(ra.Verdict), anomalyCounts(rb.Verdict)
	for _, kv := range cands {
		cmp.Tried = append(cmp.Tried, kv)
		r, err := run(kv)
		if err != nil {
			continue // not a setting of A's version: cannot be tried alone
		}
		got := anomalyCounts(r.Verdict)
		for f, n := range wantB {
			if n != wantA[f] && got[f] == n {
				cmp.Causes[f] = append(cmp.Causes[f], kv)
			}
		}
	}
	return cmp, nil
}

// AnomalyNames are the anomalies Compare attributes, in report order.
var AnomalyNames = []string{"lost_write", "stranded", "duplicate", "reorder", "consumer_loss", "consumer_duplicate", "divergence",
	"aborted_read", "torn_transaction", "eos_duplicate", "eos_loss"}

func anomalyCounts(v *check.Verdict) map[string]int {
	a := v.Anomalies
	ar, _ := v.Get("aborted_read")
	torn, _ := v.Get("torn_transaction")
	eosDup, _ := v.Get("eos_duplicate")
	eosLoss, _ := v.Get("eos_loss")
	return map[string]int{"lost_write": a.LostWrite, "stranded": v.Stranded, "duplicate": a.Duplicate, "reorder": a.Reorder,
		"consumer_loss": a.ConsumerLoss, "consumer_duplicate": a.ConsumerDuplicate, "divergence": a.Divergence,
		"aborted_read": int(ar), "torn_transaction": int(torn), "eos_duplicate": int(eosDup), "eos_loss": int(eosLoss)}
}

func verdictChanges(a, b *check.Verdict) []string {
	var out []string
	add := func(name string, x, y any) {
		if fmt.Sprint(x) != fmt.Sprint(y) {
			out = append(out, fmt.Sprintf("%s %v -> %v", name, x, y))
		}
	}
	add("lost_write", a.Anomalies.LostWrite, b.Anomalies.LostWrite)
	add("stranded", a.Stranded, b.Stranded)
	add("duplicate", a.Anomalies.Duplicate, b.Anomalies.Duplicate)
	add("reorder", a.Anomalies.Reorder, b.Anomalies.Reorder)
	add("consumer_loss", a.Anomalies.ConsumerLoss, b.Anomalies.ConsumerLoss)
	add("consumer_duplicate", a.Anomalies.ConsumerDuplicate, b.Anomalies.ConsumerDuplicate)
	add("divergence", a.Anomalies.Divergence, b.Anomalies.Divergence)
	for _, f := range []string{"aborted_read", "torn_transaction", "eos_duplicate", "eos_loss"} {
		x, _ := a.Get(f)
		y, _ := b.Get(f)
		add(f, x, y)
	}
	add("acked", a.Records.Acked, b.Records.Acked)
	add("unavailable_ms", int64(a.UnavailableMs), int64(b.UnavailableMs))
	add("converged", a.Converged, b.Converged)
	return out
}

// differences lists what differs between variant A and B as settings to
// try on A: B's own settings, and, when the versions differ, each default
// and rule switch of B's version that a setting reaches (producer and
// consumer defaults only where the scenario leaves them to the version).
func differences(s, sa, sb *Scenario, a, b []string) (cands, untestable []string) {
	seen := map[string]bool{}
	for _, kv := range b {
		if k, _, _ := strings.Cut(kv, "="); k != "kafka" && !slices.Contains(a, kv) {
			cands = append(cands, kv)
			seen[k] = true
		}
	}
	pa, okA := model.LookupProfile(sa.Kafka)
	pb, okB := model.LookupProfile(sb.Kafka)
	if !okA || !okB || sa.Kafka == sb.Kafka {
		return cands, nil
	}
	set := func(key string) bool {
		for _, st := range s.Settings {
			if st.Key == key {
				return true
			}
		}
		return seen[key]
	}
	add := func(key, va, vb string, client bool) {
		if va != vb && !seen[key] && !(client && set(key)) {
			cands = append(cands, key+"="+vb)
		}
	}
	ms := func(d sim.Duration) string { return d.String() }
	session := "zookeeper.session.timeout.ms"
	if pa.Features.KRaft {
		session = "broker.session.timeout.ms"
	}
	da, db := pa.Defaults, pb.Defaults
	add(session, ms(da.SessionTimeout), ms(db.SessionTimeout), false)
	add("replica.lag.time.max.ms", ms(da.ReplicaLagTimeMax), ms(db.ReplicaLagTimeMax), false)
	add("unclean.leader.election.enable", fmt.Sprint(da.UncleanElection), fmt.Sprint(db.UncleanElection), true)
	trunc := map[bool]string{true: "leader-epoch", false: "high-watermark"}
	add("acksim.truncation", trunc[pa.Rules.EpochTruncation], trunc[pb.Rules.EpochTruncation], false)
	add("acksim.strict.min.isr.hw", fmt.Sprint(pa.Rules.StrictMinISRHW), fmt.Sprint(pb.Rules.StrictMinISRHW), false)
	add("acksim.isr.broker.epochs", fmt.Sprint(pa.Rules.IneligibleStaleEpoch), fmt.Sprint(pb.Rules.IneligibleStaleEpoch), false)
	add("eligible.leader.replicas.enable", fmt.Sprint(pa.Rules.ELR), fmt.Sprint(pb.Rules.ELR), true)
	add("acksim.restart.detected", fmt.Sprint(pa.Rules.BounceDetected), fmt.Sprint(pb.Rules.BounceDetected), false)
	acks := map[int]string{0: "0", 1: "1", -1: "all"}
	add("acks", acks[da.Acks], acks[db.Acks], true)
	add("enable.idempotence", fmt.Sprint(da.Idempotence), fmt.Sprint(db.Idempotence), true)
	add("retries", fmt.Sprint(da.Retries), fmt.Sprint(db.Retries), true)
	add("linger.ms", ms(da.LingerMs), ms(db.LingerMs), true)
	add("session.timeout.ms", ms(da.ConsumerSession), ms(db.ConsumerSession), true)
	fa, fb := pa.Features, pb.Features
	feature := func(name string, x, y any) {
		if fmt.Sprint(x) != fmt.Sprint(y) {
			untestable = append(untestable, fmt.Sprintf("%s %v -> %v", name, x, y))
		}
	}
	feature("KRaft", fa.KRaft, fb.KRaft)
	feature("producer epoch bump (KIP-360)", fa.EpochBump, fb.EpochBump)
	feature("idempotent requests in flight", fa.IdempotentInFlight, fb.IdempotentInFlight)
	feature("delivery.timeout.ms (KIP-91)", fa.DeliveryTimeout, fb.DeliveryTimeout)
	feature("replica.lag.max.messages", pa.Rules.LagMaxMessages, pb.Rules.LagMaxMessages)
	if len(transactionalNames(s)) > 0 {
		// A transaction setting B's release has and A's lacks cannot be
		// tried on A; one A has can be set to B's value.
		tv := func(p model.Profile) int { return map[bool]int{true: 2, false: 0}[p.Features.TxnVersion2] }
		switch {
		case tv(pa) == tv(pb):
		case fa.TxnVersion2:
			add("transaction.version", fmt.Sprint(tv(pa)), fmt.Sprint(tv(pb)), false)
		default:
			feature("transaction version (KIP-890)", tv(pa), tv(pb))
		}
		switch {
		case fa.TxnVerification == fb.TxnVerification:
		case fa.TxnVerification:
			add("transaction.partition.verification.enable", "true", "false", false)
		default:
			feature("transaction partition verification (KIP-890 part 1)", false, true)
		}
		if slices.ContainsFunc(s.Consumers, func(c ConsumerDef) bool { return c.Output != "" }) {
			feature("transactional offsets fenced by group generation (KIP-447)", fa.GroupFencing, fb.GroupFencing)
		}
	}
	return cands, untestable
}
