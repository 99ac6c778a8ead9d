// Package model is acksim's Kafka: brokers with logs in page cache and on
// disk, replica fetchers, partition leader state (ISR, HW, leader epochs), a
// controller that fences brokers and elects leaders, producers and consumers,
// the per-record ledger, and the checkers that turn a run into a verdict.
//
// Every component is a state machine stepped by the sim kernel: it reacts to
// a message, a timer or a fault and asks the kernel to send, schedule or
// cancel. Each Kafka rule names its source in a comment.
package model

import (
	"fmt"
	"sort"

	"acksim/sim"
)

// Profile is a Kafka version profile: the defaults and rule switches that
// changed over Kafka's history (../shared/kafka-semantics.md §2).
type Profile struct {
	Name string
	// Rule switches.
	EpochTruncation      bool // KIP-101 (0.11): followers truncate by leader epoch, not to their HW
	StrictMinISRHW       bool // KAFKA-15583 (3.7): the HW does not advance while |ISR| < min.insync.replicas
	ELR                  bool // KIP-966 (4.1 default): eligible leader replicas
	KRaft                bool // KRaft controller (3.3+ production); else ZooKeeper
	IdempotenceAvailable bool // KIP-98 (0.11)
	DeliveryTimeout      bool // KIP-91 (2.1): delivery.timeout.ms bounds retries
	// Broker defaults.
	UncleanElection        bool
	MinISRAvailable        bool // min.insync.replicas exists from 0.8.2 (KAFKA-1555)
	ReplicaLagTimeMax      sim.Duration
	SessionTimeout         sim.Duration // ZK session or broker.session.timeout.ms
	HeartbeatInterval      sim.Duration
	FlushIntervalMessages  int64        // log.flush.interval.messages; 0 = never
	FlushSchedulerInterval sim.Duration // log.flush.scheduler.interval.ms; 0 = never
	// Client defaults.
	Acks            int
	Retries         int
	Idempotence     bool
	LingerMs        sim.Duration
	ConsumerSession sim.Duration
}

// Profiles lists the version profiles by name.
var Profiles = map[string]Profile{
	// 0.8.2: the Scala producer defaulted to acks=0 (request.required.acks),
	// unclean election on (KIP-106 changed it in 0.11), HW truncation.
	"0.8": {Name: "0.8", UncleanElection: true, MinISRAvailable: true, ReplicaLagTimeMax: 10 * sim.Second,
		SessionTimeout: 6 * sim.Second, HeartbeatInterval: 2 * sim.Second, Acks: 0, Retries: 0,
		ConsumerSession: 10 * sim.Second},
	"0.10": {Name: "0.10", UncleanElection: true, MinISRAvailable: true, ReplicaLagTimeMax: 10 * sim.Second,
		SessionTimeout: 6 * sim.Second, HeartbeatInterval: 2 * sim.Second, Acks: 1, Retries: 0,
		ConsumerSession: 10 * sim.Second},
	"0.11": {Name: "0.11", EpochTruncation: true, IdempotenceAvailable: true, MinISRAvailable: true,
		ReplicaLagTimeMax: 10 * sim.Second, SessionTimeout: 6 * sim.Second, HeartbeatInterval: 2 * sim.Second,
		Acks: 1, Retries: 0, ConsumerSession: 10 * sim.Second},
	"2.8": {Name: "2.8", DeliveryTimeout: true, EpochTruncation: true, IdempotenceAvailable: true, MinISRAvailable: true,
		ReplicaLagTimeMax: 30 * sim.Second, SessionTimeout: 18 * sim.Second, HeartbeatInterval: 2 * sim.Second,
		Acks: 1, Retries: maxInt32, ConsumerSession: 10 * sim.Second},
	"3.6": {Name: "3.6", DeliveryTimeout: true, EpochTruncation: true, IdempotenceAvailable: true, KRaft: true, MinISRAvailable: true,
		ReplicaLagTimeMax: 30 * sim.Second, SessionTimeout: 9 * sim.Second, HeartbeatInterval: 2 * sim.Second,
		Acks: -1, Retries: maxInt32, Idempotence: true, ConsumerSession: 45 * sim.Second},
	"3.9": {Name: "3.9", DeliveryTimeout: true, EpochTruncation: true, StrictMinISRHW: true, IdempotenceAvailable: true, KRaft: true,
		MinISRAvailable: true, ReplicaLagTimeMax: 30 * sim.Second, SessionTimeout: 9 * sim.Second,
		HeartbeatInterval: 2 * sim.Second, Acks: -1, Retries: maxInt32, Idempotence: true,
		ConsumerSession: 45 * sim.Second},
	"4.1": {Name: "4.1", DeliveryTimeout: true, EpochTruncation: true, StrictMinISRHW: true, ELR: true, IdempotenceAvailable: true,
		KRaft: true, MinISRAvailable: true, ReplicaLagTimeMax: 30 * sim.Second, SessionTimeout: 9 * sim.Second,
		HeartbeatInterval: 2 * sim.Second, Acks: -1, Retries: maxInt32, Idempotence: true,
		LingerMs: 5 * sim.Millisecond, ConsumerSession: 45 * sim.Second},
}

// DefaultProfile is used when a scenario names none.
const DefaultProfile = "3.9"

const maxInt32 = 1<<31 - 1

// ProfileNames returns the profile names in version order.
func ProfileNames() []string {
	names := make([]string, 0, len(Profiles))
	for n := range Profiles {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return versionLess(names[i], names[j]) })
	return names
}

func versionLess(a, b string) bool {
	var a1, a2, b1, b2 int
	fmt.Sscanf(a, "%d.%d", &a1, &a2)
	fmt.Sscanf(b, "%d.%d", &b1, &b2)
	return a1 < b1 || (a1 == b1 && a2 < b2)
}

// BrokerConfig holds broker and topic settings under Kafka's names.
type BrokerConfig struct {
	MinISR                 int          // min.insync.replicas
	UncleanElection        bool         // unclean.leader.election.enable
	ReplicaLagTimeMax      sim.Duration // replica.lag.time.max.ms
	FetchWaitMax           sim.Duration // replica.fetch.wait.max.ms (500 ms)
	FetchBackoff           sim.Duration // replica.fetch.backoff.ms (1 s)
	ReplicaSocketTimeout   sim.Duration // replica.socket.timeout.ms (30 s)
	FlushIntervalMessages  int64        // log.flush.interval.messages; 0 = never (Long.MAX)
	FlushInterval          sim.Duration // log.flush.interval.ms; 0 = follows the scheduler
	FlushSchedulerInterval sim.Duration // log.flush.scheduler.interval.ms; 0 = never (Long.MAX)
	HWCheckpointInterval   sim.Duration // replica.high.watermark.checkpoint.interval.ms (5 s)
	SessionTimeout         sim.Duration // broker.session.timeout.ms (KRaft) or zookeeper.session.timeout.ms
	HeartbeatInterval      sim.Duration // broker.heartbeat.interval.ms
	ELR                    bool         // eligible.leader.replicas.version (KIP-966)
	EpochTruncation        bool         // KIP-101 (0.11+)
	StrictMinISRHW         bool         // KAFKA-15583 (3.7+)
}

// OSConfig models Linux writeback of dirty page-cache data.
type OSConfig struct {
	DirtyExpire    sim.Duration // vm.dirty_expire_centisecs (30 s)
	DirtyWriteback sim.Duration // vm.dirty_writeback_centisecs (5 s)
	Writeback      bool         // false: dirty data reaches disk only by fsync (worst case)
}

// DiskConfig models fsync latency.
type DiskConfig struct {
	Fsync       sim.Duration // mean fsync latency
	FsyncJitter sim.Duration // extra, uniform in [0, jitter)
}

// NetConfig models the network.
type NetConfig struct {
	Latency sim.Duration
	Jitter  sim.Duration
}

// ProducerConfig holds producer settings under Kafka's names.
type ProducerConfig struct {
	Acks            int          // acks: 0, 1 or -1 (all)
	Retries         int          // retries
	RetryBackoff    sim.Duration // retry.backoff.ms
	DeliveryTimeout sim.Duration // delivery.timeout.ms
	RequestTimeout  sim.Duration // request.timeout.ms
	MaxInFlight     int          // max.in.flight.requests.per.connection
	Idempotence     bool         // enable.idempotence (effective value)
	BatchSize       int          // batch.size, bytes
	Linger          sim.Duration // linger.ms
	BufferMemory    int64        // buffer.memory, bytes
	MaxBlock        sim.Duration // max.block.ms
	Partitioner     string       // "sticky" or "round-robin" for records without keys
}

// Workload says what a producer sends.
type Workload struct {
	Records    int          // total records; 0 = until Duration
	Duration   sim.Duration // stop sending after this; 0 = until Records
	Rate       float64      // records per second
	Poisson    bool         // exponential inter-arrival times instead of constant
	Keys       int          // 0: no keys; K: keys uniform over K
	RecordSize int          // bytes
	OnError    string       // "give-up" or "resend"
	Start      sim.Duration // first record at this time
}

// ConsumerConfig holds consumer settings under Kafka's names.
type ConsumerConfig struct {
	AutoCommit         bool         // enable.auto.commit
	AutoCommitInterval sim.Duration // auto.commit.interval.ms
	MaxPollRecords     int          // max.poll.records
	SessionTimeout     sim.Duration // session.timeout.ms
	HeartbeatInterval  sim.Duration // heartbeat.interval.ms
	ResetLatest        bool         // auto.offset.reset=latest (else earliest)
	ProcessingTime     sim.Duration // per record
	Async              bool         // hand records to a worker and poll on (auto-commit can overtake processing)
}

// DefaultBroker returns broker defaults for a profile.
func DefaultBroker(p Profile) BrokerConfig {
	return BrokerConfig{
		MinISR:                 1,
		UncleanElection:        p.UncleanElection,
		ReplicaLagTimeMax:      p.ReplicaLagTimeMax,
		FetchWaitMax:           500 * sim.Millisecond,
		FetchBackoff:           1 * sim.Second,
		ReplicaSocketTimeout:   30 * sim.Second,
		FlushIntervalMessages:  p.FlushIntervalMessages,
		FlushSchedulerInterval: p.FlushSchedulerInterval,
		HWCheckpointInterval:   5 * sim.Second,
		SessionTimeout:         p.SessionTimeout,
		HeartbeatInterval:      p.HeartbeatInterval,
		ELR:                    p.ELR,
		EpochTruncation:        p.EpochTruncation,
		StrictMinISRHW:         p.StrictMinISRHW,
	}
}

// DefaultOS returns Linux defaults.
func DefaultOS() OSConfig {
	return OSConfig{DirtyExpire: 30 * sim.Second, DirtyWriteback: 5 * sim.Second, Writeback: true}
}

// DefaultProducer returns producer defaults for a profile.
func DefaultProducer(p Profile) ProducerConfig {
	dt := 120 * sim.Second
	if !p.DeliveryTimeout {
		dt = 24 * sim.Hour // before KIP-91 only `retries` bounds a batch's life
	}
	return ProducerConfig{
		Acks: p.Acks, Retries: p.Retries, RetryBackoff: 100 * sim.Millisecond,
		DeliveryTimeout: dt, RequestTimeout: 30 * sim.Second, MaxInFlight: 5,
		Idempotence: p.Idempotence, BatchSize: 16384, Linger: p.LingerMs, BufferMemory: 32 << 20,
		MaxBlock: 60 * sim.Second, Partitioner: "sticky",
	}
}

// DefaultConsumer returns consumer defaults for a profile.
func DefaultConsumer(p Profile) ConsumerConfig {
	return ConsumerConfig{
		AutoCommit: true, AutoCommitInterval: 5 * sim.Second, MaxPollRecords: 500,
		SessionTimeout: p.ConsumerSession, HeartbeatInterval: 3 * sim.Second, ResetLatest: true,
		ProcessingTime: 100 * sim.Microsecond,
	}
}
