// Package history is the record of a run: what every application record
// went through, the model events worth telling a user, the records removed
// from replicas' logs, each partition's final state, and (on request) the
// messages a space-time diagram draws. The checkers (model/check) and the
// reports read it and nothing else, so they work for every replication
// design the model hosts and on saved runs.
//
// It imports only sim: it is a leaf, and knows nothing of any protocol.
package history

import (
	"fmt"

	"acksim/sim"
)

// RecordID identifies one application message in the ledger (index + 1; 0 is
// never a record).
type RecordID int32

// Batch is an immutable record batch as a leader wrote it. Replicas share
// the same *Batch; offsets are fixed at the leader's append.
type Batch struct {
	Base     int64 // offset of the first record
	PID      int64 // producer id; -1 when not idempotent
	Records  []RecordID
	Producer int   // producer index, for checkers
	Epoch    int32 // leader epoch (Raft: term) at append
	Seq      int32 // base sequence (idempotence)
	Bytes    int32 // the records' size (a Raft design's flush.bytes counts it)
	PEpoch   int16 // producer epoch (transactions; 0 otherwise)
	Txn      TxnMark
}

// TxnMark says what a batch is to transactions (KIP-98).
type TxnMark uint8

// Batch kinds.
const (
	NotTxn    TxnMark = iota
	TxnData           // records of a transaction (the batch's isTransactional flag)
	TxnCommit         // a COMMIT control batch: the transaction marker
	TxnAbort          // an ABORT control batch
)

// Control reports whether b is a transaction marker: a control batch of
// one control record, which takes one offset and carries no application
// record (ControlRecordType in apache/kafka).
func (b *Batch) Control() bool { return b.Txn >= TxnCommit }

// End is the offset after the batch's last record.
func (b *Batch) End() int64 {
	if b.Txn >= TxnCommit {
		return b.Base + 1
	}
	return b.Base + int64(len(b.Records))
}

// Outcome is what the producer learned of a record.
type Outcome uint8

// Outcomes (../shared/kafka-semantics.md §5).
const (
	OutcomePending    Outcome = iota // still buffered or in flight
	OutcomeAcked                     // the producer was told it is written
	OutcomeNotWritten                // a definite error: not written
	OutcomeUnknown                   // timed out or in flight at the end
)

func (o Outcome) String() string {
	return [...]string{"pending", "acked", "not-written", "unknown"}[o]
}

// Record is the life of one application message.
//
// Memory: 48 bytes a record (a 10-minute run at 100,000 records/s holds 60
// million of them), so what is the same for every record of a batch (where
// and how the leader acknowledged it) is kept once, in Run.AckSites.
type Record struct {
	Sent sim.Time
	// Done is when the producer learned the outcome: the acknowledgement
	// (Outcome acked), or when it gave up on the record (not written or
	// unknown); 0 while pending.
	Done   sim.Time
	Offset int64 // offset in the produce response (-1 for acks=0)
	TP     int32
	Key    int32
	Seq    int32 // position in the producer's send order
	// AckSite indexes Run.AckSites: where the leader appended and
	// acknowledged it (for explanations); -1 none (never appended).
	AckSite  int32
	Producer int16
	Sends    int16 // application sends (1 + resends)
	Attempts int16 // produce requests that carried it
	Outcome  Outcome
}

// AckSite is where and how a leader acknowledged a batch: shared by the
// batch's records.
type AckSite struct {
	At     sim.Time
	Epoch  int32 // leader epoch (Raft: term)
	Quorum int32 // indexes Run.Quorums: the replicas whose copies counted (Kafka: the ISR; Raft: the voters); -1 none
	Broker int16
	Acks   int8 // the request's acks: 0, 1 or -1 (all)
}

// Processed is one record handed to the consumer application.
type Processed struct {
	Member int
	TP     int
	Offset int64
	ID     RecordID
	At     sim.Time
}

// Commit is one accepted offset commit.
type Commit struct {
	TP     int
	Offset int64
	At     sim.Time
	Member int
}

// Event is a model event worth telling a user (a fault, an election, an ISR
// change, a truncation).
type Event struct {
	At     sim.Time `json:"t_ns"`
	Broker int      `json:"broker"` // -1 if none
	TP     int      `json:"partition"`
	Kind   Kind     `json:"kind"`
	Text   string   `json:"text"`
}

// Removal is records leaving a replica's log.
type Removal struct {
	At      sim.Time
	Broker  int
	TP      int
	Verb    Kind // Truncated or Lost
	Why     string
	From    int64
	To      int64
	Batches []*Batch
}

// PartitionFinal is one partition's final state after recovery.
type PartitionFinal struct {
	TP        int
	Leader    int      // -1: offline at the end
	Committed []*Batch // the leader's log below its HW
	HW        int64
	Replicas  []ReplicaFinal
	Group     int64 // the group's committed offset (-1 none)
}

// ReplicaFinal is one replica's final log.
type ReplicaFinal struct {
	Broker  int
	HW      int64
	Batches []*Batch
}

// Run is everything a checker needs, independent of the simulator.
type Run struct {
	Records          []Record
	AckSites         []AckSite // referenced by Record.AckSite
	Quorums          [][]int   // quorum snapshots referenced by AckSite.Quorum
	Why              map[RecordID]string
	Partitions       []PartitionFinal
	Processed        []Processed
	Commits          []Commit
	Events           []Event
	Removals         []Removal
	Offline          []sim.Duration // per partition: time the controller named no live leader (or acks=all was refused)
	UnderMinISR      []sim.Duration // per partition: time the ISR was below min.insync.replicas
	ProduceErrors    map[string]int // produce error responses and client-side failures, by error code
	AtRisk           sim.Duration
	UncleanElections int
	TopicName        string
	Design           string // the replication design: "kafka" or "raft"
	Converged        bool
	Gone             []int // brokers a permanent fault took (never restarted)
	End              sim.Time

	// Transactions (KIP-98), empty when no producer is transactional.
	Txns []Txn
	// RecTxn is, by record index, the record's transaction in Txns (-1:
	// none); nil when no producer is transactional.
	RecTxn []int32
	// ReadCommitted is, by consumer member, whether it reads with
	// isolation.level=read_committed.
	ReadCommitted []bool
	// LSOStall is, per partition, the longest time its last stable offset
	// stayed put below the high watermark (an open or hanging transaction
	// holding read_committed consumers back).
	LSOStall []sim.Duration
	// Fenced counts producer instances fenced by a newer epoch (a zombie,
	// or a transaction the coordinator timed out).
	Fenced int

	// Consume-transform-produce: the output topic's partitions are
	// Partitions[OutputFrom:] (0: no output topic), and Derived maps each
	// output record to the input record it was made from, where it was
	// read.
	OutputFrom int
	Derived    map[RecordID]Input
}

// TxnOutcome is how a transaction ended, as its application learned it.
type TxnOutcome uint8

// Transaction outcomes.
const (
	TxnOpen      TxnOutcome = iota // still open at the end of the run
	TxnCommitted                   // commitTransaction returned
	TxnAborted                     // abortTransaction returned, or the producer was fenced before committing
	TxnUnknown                     // the commit's answer never came (fenced or crashed with EndTxn(commit) in flight)
)

func (o TxnOutcome) String() string {
	return [...]string{"open", "committed", "aborted", "unknown"}[o]
}

// Txn is one transaction of a transactional producer.
type Txn struct {
	Producer     int
	PID          int64
	Epoch        int16 // the producer epoch its batches carry
	Outcome      TxnOutcome
	Records      []RecordID
	Began, Ended sim.Time
	Why          string // how it ended
}

// TxnOf is the index in Txns of record id's transaction, or -1.
func (h *Run) TxnOf(id RecordID) int {
	if h.RecTxn == nil || int(id) <= 0 || int(id) > len(h.RecTxn) {
		return -1
	}
	return int(h.RecTxn[id-1])
}

// AckOf is where the leader acknowledged r, or nil if no leader appended it.
func (h *Run) AckOf(r *Record) *AckSite {
	if r.AckSite < 0 || int(r.AckSite) >= len(h.AckSites) {
		return nil
	}
	return &h.AckSites[r.AckSite]
}

// Latencies are the acknowledged records' send-to-acknowledgement times,
// in record order (a new slice: the caller may sort it).
func (h *Run) Latencies() []sim.Duration {
	n := 0
	for i := range h.Records {
		if h.Records[i].Outcome == OutcomeAcked {
			n++
		}
	}
	out := make([]sim.Duration, 0, n)
	for i := range h.Records {
		if r := &h.Records[i]; r.Outcome == OutcomeAcked {
			out = append(out, r.Done.Sub(r.Sent))
		}
	}
	return out
}

// TPName formats a partition name.
func (h *Run) TPName(tp int) string {
	out := -1
	if h.OutputFrom > 0 {
		out = h.OutputFrom
	}
	return PartitionName(h.TopicName, tp, out)
}

// Input is a record as a consume-transform-produce application read it:
// its partition and offset (a record written twice, at two offsets, is
// two inputs).
type Input struct {
	ID     RecordID
	TP     int32
	Offset int64
}

// PartitionName names partition tp: of the topic, or from outTP0 on (if
// not negative) of the output topic "<topic>-out" of a
// consume-transform-produce application.
func PartitionName(topic string, tp, outTP0 int) string {
	if outTP0 >= 0 && tp >= outTP0 {
		return fmt.Sprintf("%s-out-%d", topic, tp-outTP0)
	}
	return fmt.Sprintf("%s-%d", topic, tp)
}
