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
	Epoch    int32 // leader epoch (Raft: term) at append
	PID      int64 // producer id; -1 when not idempotent
	Seq      int32 // base sequence (idempotence)
	Records  []RecordID
	Producer int   // producer index, for checkers
	Bytes    int32 // the records' size (a Raft design's flush.bytes counts it)
}

// End is the offset after the batch's last record.
func (b *Batch) End() int64 { return b.Base + int64(len(b.Records)) }

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
// Memory: about 100 bytes a record, independent of the number of events.
type Record struct {
	Producer int16
	TP       int32
	Key      int32
	Seq      int32 // position in the producer's send order
	Sends    int16 // application sends (1 + resends)
	Attempts int16 // produce requests that carried it
	Outcome  Outcome
	Sent     sim.Time
	Acked    sim.Time
	Offset   int64 // offset in the produce response (-1 for acks=0)
	// Where the leader appended and acknowledged it (for explanations).
	AckBroker int16
	AckAcks   int8
	AckEpoch  int32
	AckAt     sim.Time
	// Ended is when the producer gave up on the record (not written or
	// unknown); 0 while pending or when acknowledged.
	Ended sim.Time
	// AckQuorum indexes Run.Quorums: the replicas whose copies counted
	// when the record was acknowledged (Kafka: the ISR; Raft: the voters);
	// -1 none.
	AckQuorum int32
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
	Quorums          [][]int // quorum snapshots referenced by Record.AckQuorum
	Why              map[RecordID]string
	Latencies        []sim.Duration
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
}

// TPName formats a partition name.
func (h *Run) TPName(tp int) string { return fmt.Sprintf("%s-%d", h.TopicName, tp) }
