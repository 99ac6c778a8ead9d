package model

import (
	"acksim/history"
	"fmt"

	"acksim/sim"
)

// ErrCode is a Kafka protocol error code (by name; values are internal).
type ErrCode uint8

// Protocol errors the model produces (org.apache.kafka.common.protocol.Errors).
const (
	ErrNone ErrCode = iota
	ErrNotLeader
	ErrNotEnoughReplicas
	ErrNotEnoughReplicasAfterAppend
	ErrRequestTimedOut
	ErrOutOfOrderSequence
	ErrFencedLeaderEpoch
	ErrUnknownLeaderEpoch
	ErrOffsetOutOfRange
	ErrDisconnected // client side: connection lost or request timed out on the client
	ErrDeliveryTimeout
	ErrInvalidUpdate
	ErrIneligibleReplica
	// RocketMQ's PutMessageStatus values that the client returns as a
	// successful send with degraded durability (SendStatus; not
	// exceptions): the message is stored on the master, but not flushed,
	// or not on a slave (../shared/replication-designs.md §3.1).
	ErrFlushDiskTimeout
	ErrFlushSlaveTimeout
	ErrSlaveNotAvailable
	// IN_SYNC_REPLICAS_NOT_ENOUGH: RocketMQ controller mode refuses a put
	// while the SyncStateSet is below minInSyncReplicas (not written).
	ErrInSyncReplicasNotEnough
	// Transactions (KIP-98, KIP-890).
	ErrInvalidProducerEpoch    // a stale producer epoch: the producer was fenced
	ErrProducerFenced          // the coordinator knows a newer epoch
	ErrInvalidTxnState         // the request does not fit the transaction's state
	ErrConcurrentTransactions  // the previous transaction is still completing (retriable)
	ErrNotCoordinator          // the broker is not (or no longer) the transaction coordinator
	ErrCoordinatorNotAvailable // the coordinator cannot write its log (its ISR is below min ISR)
	// Consume-transform-produce (KIP-447).
	ErrIllegalGeneration    // TxnOffsetCommit from a member of an older group generation
	ErrUnstableOffsetCommit // OffsetFetch: a transaction's offsets for the partition are pending
)

var errNames = [...]string{"NONE", "NOT_LEADER_OR_FOLLOWER", "NOT_ENOUGH_REPLICAS",
	"NOT_ENOUGH_REPLICAS_AFTER_APPEND", "REQUEST_TIMED_OUT", "OUT_OF_ORDER_SEQUENCE_NUMBER",
	"FENCED_LEADER_EPOCH", "UNKNOWN_LEADER_EPOCH", "OFFSET_OUT_OF_RANGE", "NETWORK_EXCEPTION",
	"DELIVERY_TIMEOUT", "INVALID_UPDATE_VERSION", "INELIGIBLE_REPLICA",
	"FLUSH_DISK_TIMEOUT", "FLUSH_SLAVE_TIMEOUT", "SLAVE_NOT_AVAILABLE", "IN_SYNC_REPLICAS_NOT_ENOUGH",
	"INVALID_PRODUCER_EPOCH", "PRODUCER_FENCED", "INVALID_TXN_STATE", "CONCURRENT_TRANSACTIONS",
	"NOT_COORDINATOR", "COORDINATOR_NOT_AVAILABLE", "ILLEGAL_GENERATION", "UNSTABLE_OFFSET_COMMIT"}

func (e ErrCode) String() string { return errNames[e] }

// Retriable reports whether the producer retries after e (RetriableException).
func (e ErrCode) Retriable() bool {
	switch e {
	case ErrNotLeader, ErrNotEnoughReplicas, ErrNotEnoughReplicasAfterAppend, ErrRequestTimedOut,
		ErrOutOfOrderSequence, ErrDisconnected, ErrFencedLeaderEpoch, ErrUnknownLeaderEpoch, ErrInSyncReplicasNotEnough,
		ErrConcurrentTransactions:
		return true
	}
	return false
}

// Degraded reports whether e is a RocketMQ send status that is a success
// with degraded durability: the message was stored on the master.
func (e ErrCode) Degraded() bool {
	return e == ErrFlushDiskTimeout || e == ErrFlushSlaveTimeout || e == ErrSlaveNotAvailable
}

// Ambiguous reports whether a request that failed with e may still have been
// written (so its records' outcome is unknown, not not-written).
func (e ErrCode) Ambiguous() bool {
	switch e {
	case ErrNotEnoughReplicasAfterAppend, ErrRequestTimedOut, ErrDisconnected, ErrDeliveryTimeout:
		return true
	}
	return false
}

type produceReq struct {
	corr    int64
	tp      int
	batch   *prodBatch
	acks    int
	timeout sim.Duration
	// verified: the transaction coordinator verified (or added) the
	// batch's partition (KIP-890).
	verified bool
}

func (m *produceReq) Describe() string {
	return fmt.Sprintf("produce p%d tp=%d records=%d seq=%d acks=%d", m.batch.producer+1, m.tp, len(m.batch.records), m.batch.seq, m.acks)
}

type produceResp struct {
	corr int64
	tp   int
	err  ErrCode
	base int64
}

func (m *produceResp) Describe() string {
	return fmt.Sprintf("produce-response tp=%d err=%s offset=%d", m.tp, m.err, m.base)
}

type fetchReq struct {
	tp          int
	replica     int // broker id, or -1 for a consumer
	offset      int64
	epoch       int32 // current leader epoch the fetcher knows (KIP-320)
	session     int64 // fetcher generation, echoed back
	maxRecords  int
	consumer    *Consumer
	brokerEpoch int64
	// readCommitted: a consumer with isolation.level=read_committed.
	readCommitted bool
}

func (m *fetchReq) Describe() string {
	return fmt.Sprintf("fetch tp=%d replica=%d offset=%d epoch=%d", m.tp, m.replica, m.offset, m.epoch)
}

type fetchResp struct {
	tp      int
	err     ErrCode
	batches []*history.Batch
	// aborted marks, for a read_committed consumer, the batches of
	// aborted transactions (nil if none).
	aborted []bool
	hw      int64
	leo     int64
	session int64
	offset  int64
}

func (m *fetchResp) Describe() string {
	n := 0
	for _, b := range m.batches {
		n += len(b.Records)
	}
	return fmt.Sprintf("fetch-response tp=%d err=%s from=%d records=%d hw=%d", m.tp, m.err, m.offset, n, m.hw)
}

type epochReq struct {
	tp      int
	epoch   int32 // follower's latest epoch
	current int32 // leader epoch the follower believes current
	session int64
}

func (m *epochReq) Describe() string {
	return fmt.Sprintf("offsets-for-leader-epoch tp=%d epoch=%d", m.tp, m.epoch)
}

type epochResp struct {
	tp      int
	err     ErrCode
	epoch   int32
	end     int64
	session int64
}

func (m *epochResp) Describe() string {
	return fmt.Sprintf("epoch-end tp=%d epoch=%d end=%d err=%s", m.tp, m.epoch, m.end, m.err)
}

type heartbeat struct {
	broker      int
	brokerEpoch int64
	// known is what the broker knows of each of its partitions: the
	// controller re-sends states that differ (KRaft brokers catch up on the
	// metadata log after a partition heals).
	known []knownState
}

type knownState struct {
	tp            int
	epoch, pEpoch int32
}

func (m *heartbeat) Describe() string { return fmt.Sprintf("heartbeat broker=%d", m.broker) }

type register struct {
	broker int
	clean  bool // the previous shutdown was clean (KIP-966 unclean shutdown detection)
}

func (m *register) Describe() string {
	return fmt.Sprintf("register broker=%d clean=%v", m.broker, m.clean)
}

type registered struct{ brokerEpoch int64 }

func (m *registered) Describe() string { return fmt.Sprintf("registered epoch=%d", m.brokerEpoch) }

// partitionState is the controller's record of a partition, sent to brokers
// (LeaderAndIsr / KRaft PartitionRecord).
type partitionState struct {
	tp             int
	leader         int // broker id, -1 none
	epoch          int32
	isr            []int
	elr            []int
	partitionEpoch int32
	replicas       []int
	lastLeader     int // the leader before the partition went offline (ELR), -1 none
}

func (m *partitionState) Describe() string {
	return fmt.Sprintf("leader-and-isr tp=%d leader=%d epoch=%d isr=%v", m.tp, m.leader, m.epoch, m.isr)
}

type alterPartition struct {
	tp             int
	leader         int
	epoch          int32
	partitionEpoch int32
	isr            []int
	brokerEpochs   []int64 // each member's broker epoch, as the leader knows it (KIP-903)
}

func (m *alterPartition) Describe() string {
	return fmt.Sprintf("alter-partition tp=%d isr=%v", m.tp, m.isr)
}

type alterPartitionResp struct {
	tp  int
	err ErrCode
	st  *partitionState
}

func (m *alterPartitionResp) Describe() string {
	return fmt.Sprintf("alter-partition-response tp=%d err=%s", m.tp, m.err)
}

type shutdownReq struct{ broker int }

func (m *shutdownReq) Describe() string {
	return fmt.Sprintf("controlled-shutdown broker=%d", m.broker)
}

type shutdownResp struct{}

func (m *shutdownResp) Describe() string { return "controlled-shutdown-response" }

type metadataReq struct{}

func (m *metadataReq) Describe() string { return "metadata" }

type metadataResp struct {
	leaders []int
	// coordinator is the transaction coordinator (the leader of the
	// transaction log partition; FindCoordinator); -1 none or no
	// transactions.
	coordinator int
}

func (m *metadataResp) Describe() string { return fmt.Sprintf("metadata leaders=%v", m.leaders) }

// Consumer group messages (the coordinator lives on the controller node).
type joinGroup struct {
	member int
	gen    int64 // member incarnation
}

func (m *joinGroup) Describe() string { return fmt.Sprintf("join-group member=%d", m.member) }

type assignment struct {
	generation int64
	tps        []int
	committed  []int64 // committed offset per tp (-1 none)
}

func (m *assignment) Describe() string {
	return fmt.Sprintf("assignment gen=%d tps=%v", m.generation, m.tps)
}

type commitReq struct {
	member     int
	generation int64
	tps        []int
	offsets    []int64
	sync       bool
}

func (m *commitReq) Describe() string {
	return fmt.Sprintf("offset-commit member=%d tps=%v offsets=%v", m.member, m.tps, m.offsets)
}

type commitResp struct {
	ok   bool
	sync bool
}

func (m *commitResp) Describe() string { return fmt.Sprintf("offset-commit-response ok=%v", m.ok) }

type groupHeartbeat struct {
	member     int
	generation int64
}

func (m *groupHeartbeat) Describe() string { return fmt.Sprintf("group-heartbeat member=%d", m.member) }

// rst is the OS refusing a connection to a dead process.
type rst struct{ broker int }

func (m *rst) Describe() string { return fmt.Sprintf("connection refused by broker %d", m.broker) }
