package check

import (
	"slices"

	"acksim/history"
	"acksim/sim"
)

// Counts of produced records by outcome.
type Counts struct {
	Sent       int `json:"sent"`
	Acked      int `json:"acked"`
	NotWritten int `json:"not_written"`
	Unknown    int `json:"unknown"`
}

// Anomalies found in the final state.
type Anomalies struct {
	LostWrite         int `json:"lost_write"`
	UnackedLost       int `json:"unacked_lost"`
	Duplicate         int `json:"duplicate"`
	Reorder           int `json:"reorder"`
	ConsumerLoss      int `json:"consumer_loss"`
	ConsumerDuplicate int `json:"consumer_duplicate"`
	Divergence        int `json:"divergence"`
	InconsistentRead  int `json:"inconsistent_read"`
}

// Latency percentiles of acknowledged records, in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
}

// Verdict is the result of one run. Field names are stable (JSON API).
type Verdict struct {
	Scenario string `json:"scenario"`
	Seed     uint64 `json:"seed"`
	Kafka    string `json:"kafka"`
	// Rules are the version-dependent rules the release's profile
	// followed (Kafka's ISR design only).
	Rules     []string  `json:"rules,omitempty"`
	Records   Counts    `json:"records"`
	Anomalies Anomalies `json:"anomalies"`
	// UnavailableMs is availability as a producer sees it: the longest
	// stretch in which records waited and none was acknowledged.
	UnavailableMs float64 `json:"unavailable_ms"`
	// OfflineMs is the controller's view: the longest time (summed per
	// partition) it named no live leader, or refused acks=all writes.
	OfflineMs float64 `json:"offline_ms"`
	// UnderMinISRMs: the longest time (per partition) the ISR was below
	// min.insync.replicas.
	UnderMinISRMs float64 `json:"under_min_isr_ms"`
	// ProduceErrors counts the produce errors producers met, by code.
	ProduceErrors    map[string]int `json:"produce_errors"`
	AtRiskMs         float64        `json:"at_risk_ms"`
	LatencyMs        Latency        `json:"latency_ms"`
	UncleanElections int            `json:"unclean_elections"`
	// Stranded counts acknowledged records of partitions that ended
	// offline which a replica still holds: out of reach, not lost.
	Stranded  int  `json:"stranded"`
	Converged bool `json:"converged"`
	// Gone lists the brokers a permanent fault took: recovery converged
	// without them.
	Gone        []int   `json:"gone,omitempty"`
	SimulatedMs float64 `json:"simulated_ms"`
	Steps       uint64  `json:"steps"`
	// Transactions: present when a producer is transactional.
	Transactions *TxnVerdict `json:"transactions,omitempty"`
	// ExactlyOnce: present with a consume-transform-produce application.
	ExactlyOnce  *EOSVerdict        `json:"exactly_once,omitempty"`
	Explanations []Explanation      `json:"explanations"`
	TraceHash    string             `json:"trace_hash"`
	Lost         []history.RecordID `json:"-"`
}

// Run applies every checker to h.
func Run(h *history.Run) *Verdict {
	v := &Verdict{Converged: h.Converged, Gone: h.Gone, UncleanElections: h.UncleanElections, SimulatedMs: sim.Duration(h.End).Milliseconds()}
	for i := range h.Records {
		v.Records.Sent++
		switch h.Records[i].Outcome {
		case history.OutcomeAcked:
			v.Records.Acked++
		case history.OutcomeNotWritten:
			v.Records.NotWritten++
		default:
			v.Records.Unknown++
		}
	}
	ix := indexCommitted(h)
	stranded := Stranded(h, ix)
	lost := LostWrites(h, ix, stranded)
	for _, s := range stranded {
		if s {
			v.Stranded++
		}
	}
	dups, extra := Duplicates(h, ix)
	reordered := Reordered(h)
	v.Lost = lost
	v.Anomalies = Anomalies{
		LostWrite:         len(lost),
		UnackedLost:       UnackedLost(h, ix),
		Duplicate:         extra,
		Reorder:           len(reordered),
		ConsumerLoss:      ConsumerLoss(h),
		ConsumerDuplicate: ConsumerDuplicates(h),
		Divergence:        Divergence(h),
		InconsistentRead:  InconsistentReads(h),
	}
	v.UnavailableMs = Unavailable(h).Milliseconds()
	v.ProduceErrors = h.ProduceErrors
	if len(h.UnderMinISR) > 0 {
		v.UnderMinISRMs = slices.Max(h.UnderMinISR).Milliseconds()
	}
	if len(h.Offline) > 0 {
		v.OfflineMs = slices.Max(h.Offline).Milliseconds()
	}
	v.AtRiskMs = h.AtRisk.Milliseconds()
	v.LatencyMs.P50, v.LatencyMs.P99, v.LatencyMs.P999 = latencies(h.Latencies())
	v.Transactions = txnVerdict(h, ix)
	v.Explanations = append(explainLost(h, lost), explainDuplicates(h, ix, dups)...)
	v.Explanations = append(v.Explanations, explainStranded(h, stranded)...)
	v.Explanations = append(v.Explanations, explainReorders(h, reordered)...)
	v.Explanations = append(v.Explanations, explainTxns(h, ix)...)
	eos, eosDups, eosLost := eosCheck(h)
	v.ExactlyOnce = eos
	v.Explanations = append(v.Explanations, explainEOS(h, eosDups, eosLost)...)
	if v.Anomalies.ConsumerLoss > 0 || v.Anomalies.ConsumerDuplicate > 0 {
		v.Explanations = append(v.Explanations, explainConsumer(h, v)...)
	}
	return v
}

// Get returns an anomaly or count by its JSON name (for expectations).
func (v *Verdict) Get(name string) (float64, bool) {
	switch name {
	case "lost_write":
		return float64(v.Anomalies.LostWrite), true
	case "stranded":
		return float64(v.Stranded), true
	case "unacked_lost":
		return float64(v.Anomalies.UnackedLost), true
	case "duplicate":
		return float64(v.Anomalies.Duplicate), true
	case "reorder":
		return float64(v.Anomalies.Reorder), true
	case "consumer_loss":
		return float64(v.Anomalies.ConsumerLoss), true
	case "consumer_duplicate":
		return float64(v.Anomalies.ConsumerDuplicate), true
	case "divergence":
		return float64(v.Anomalies.Divergence), true
	case "inconsistent_read":
		return float64(v.Anomalies.InconsistentRead), true
	case "sent":
		return float64(v.Records.Sent), true
	case "acked":
		return float64(v.Records.Acked), true
	case "not_written":
		return float64(v.Records.NotWritten), true
	case "unknown":
		return float64(v.Records.Unknown), true
	case "unavailable_ms":
		return v.UnavailableMs, true
	case "offline_ms":
		return v.OfflineMs, true
	case "under_min_isr_ms":
		return v.UnderMinISRMs, true
	case "at_risk_ms":
		return v.AtRiskMs, true
	case "unclean_elections":
		return float64(v.UncleanElections), true
	case "unconverged":
		// Liveness: 1 if recovery did not converge (a stuck client, a
		// hanging transaction, a partition that never comes back).
		if v.Converged {
			return 0, true
		}
		return 1, true
	case "p99_ms":
		return v.LatencyMs.P99, true
	}
	t := v.Transactions
	if t == nil {
		t = &TxnVerdict{}
	}
	switch name {
	case "aborted_read":
		return float64(t.AbortedRead), true
	case "torn_transaction":
		return float64(t.TornTransaction), true
	case "lso_stall_ms":
		return t.LSOStallMs, true
	case "fenced":
		return float64(t.Fenced), true
	case "txn_committed":
		return float64(t.Committed), true
	case "txn_aborted":
		return float64(t.Aborted), true
	}
	e := v.ExactlyOnce
	if e == nil {
		e = &EOSVerdict{}
	}
	switch name {
	case "eos_duplicate":
		return float64(e.Duplicate), true
	case "eos_loss":
		return float64(e.Loss), true
	}
	return 0, false
}

// Fields lists the names Get accepts.
var Fields = []string{"lost_write", "stranded", "unacked_lost", "duplicate", "reorder", "consumer_loss", "consumer_duplicate",
	"divergence", "inconsistent_read", "sent", "acked", "not_written", "unknown", "unavailable_ms", "offline_ms", "under_min_isr_ms", "at_risk_ms",
	"unclean_elections", "p99_ms", "aborted_read", "torn_transaction", "lso_stall_ms", "fenced", "txn_committed", "txn_aborted", "eos_duplicate", "eos_loss", "unconverged"}
