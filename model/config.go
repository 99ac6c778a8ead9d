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
	"slices"

	"acksim/sim"
)

// Profile is a Kafka version profile (../shared/kafka-semantics.md §2), in
// three parts: the rules the broker follows, the features the version has
// (used to validate scenarios) and the configuration defaults.
type Profile struct {
	Name     string
	Rules    Rules
	Features Features
	Defaults Defaults
}

// Rules are the behaviour switches that changed over Kafka's history. The
// broker configuration embeds them, so a scenario can override one.
type Rules struct {
	EpochTruncation bool // KIP-101 (0.11): followers truncate by leader epoch, not to their HW
	StrictMinISRHW  bool // KAFKA-15583 (3.7): the HW does not advance while |ISR| < min.insync.replicas
	ELR             bool // KIP-966 (4.1 default): eligible leader replicas
	// IneligibleStaleEpoch: KIP-903 (3.5, KRaft): an ISR expansion naming a
	// broker epoch that is not the broker's current one is refused.
	IneligibleStaleEpoch bool
	// LagMaxMessages is replica.lag.max.messages (0.8 only; 0: the rule
	// does not exist): a follower more than this many messages behind the
	// leader's log end leaves the ISR however recently it fetched. KIP-16
	// removed it in 0.9: under a burst it dropped healthy followers.
	LagMaxMessages int64
	// BounceDetected: KIP-380 (2.2; KRaft always): a broker that restarts
	// before its session expires registers with a new broker epoch, and
	// the controller treats it as a new incarnation (it leaves the ISR).
	// Before, the controller missed the bounce and the broker kept its ISR
	// membership until the leader's lag check removed it.
	BounceDetected bool
}

// truncation is the truncation rule the broker follows.
func (r Rules) truncation() truncationRule {
	if r.EpochTruncation {
		return epochTruncation{}
	}
	return hwTruncation{}
}

// Features is what a version supports; scenarios that ask for more are
// rejected.
type Features struct {
	KRaft           bool // KRaft controller (3.3+ production); else ZooKeeper
	Idempotence     bool // KIP-98 (0.11): the idempotent producer
	DeliveryTimeout bool // KIP-91 (2.1): delivery.timeout.ms bounds retries
	MinISR          bool // min.insync.replicas exists from 0.8.2 (KAFKA-1555)
	// IdempotentInFlight is the most requests in flight an idempotent
	// producer may have: 1 in 0.11, 5 from 1.0 (KAFKA-5494).
	IdempotentInFlight int
	// EpochBump: the idempotent producer recovers from a sequence gap by
	// bumping its epoch (KIP-360, 2.5).
	EpochBump bool
	// StrictIdempotence (4.0): a setting that rules idempotence out (more
	// than 5 requests in flight) is a configuration error even when
	// idempotence is the default, instead of turning it off quietly.
	StrictIdempotence bool
	// TxnVerification (3.6, KIP-890 part 1): a partition leader checks with
	// the transaction coordinator that a transactional batch belongs to an
	// ongoing transaction before appending it (the default of
	// transaction.partition.verification.enable).
	TxnVerification bool
	// TxnVersion2 (4.0, KIP-890 part 2): transaction.version 2 is the
	// default: the producer epoch is bumped on every transaction and
	// partitions are added implicitly by the partition leader.
	TxnVersion2 bool
	// GroupFencing (2.5, KIP-447): TxnOffsetCommit carries the consumer's
	// group metadata, and the group coordinator refuses it from a member of
	// an older generation; OffsetFetch answers UNSTABLE_OFFSET_COMMIT while
	// a transaction's offsets for the partition are pending.
	GroupFencing bool
}

// Defaults are the configuration defaults of a version.
type Defaults struct {
	// Broker.
	UncleanElection        bool
	ReplicaLagTimeMax      sim.Duration
	SessionTimeout         sim.Duration // ZK session or broker.session.timeout.ms
	HeartbeatInterval      sim.Duration
	FlushIntervalMessages  int64        // log.flush.interval.messages; 0 = never
	FlushSchedulerInterval sim.Duration // log.flush.scheduler.interval.ms; 0 = never
	// Clients.
	Acks            int
	Retries         int
	Idempotence     bool
	LingerMs        sim.Duration
	ConsumerSession sim.Duration
}

// profiles lists the version profiles in version order.
var profiles = []Profile{
	// 0.8.2: the Scala producer defaulted to acks=0 (request.required.acks),
	// unclean election on (KIP-106 changed it in 0.11), HW truncation.
	{Name: "0.8", Rules: Rules{LagMaxMessages: 4000}, Features: Features{MinISR: true},
		Defaults: Defaults{UncleanElection: true, ReplicaLagTimeMax: 10 * sim.Second, SessionTimeout: 6 * sim.Second,
			HeartbeatInterval: 2 * sim.Second, Acks: 0, Retries: 0, ConsumerSession: 10 * sim.Second}},
	{Name: "0.10", Features: Features{MinISR: true},
		Defaults: Defaults{UncleanElection: true, ReplicaLagTimeMax: 10 * sim.Second, SessionTimeout: 6 * sim.Second,
			HeartbeatInterval: 2 * sim.Second, Acks: 1, Retries: 0, ConsumerSession: 10 * sim.Second}},
	{Name: "0.11", Rules: Rules{EpochTruncation: true}, Features: Features{Idempotence: true, MinISR: true, IdempotentInFlight: 1},
		Defaults: Defaults{ReplicaLagTimeMax: 10 * sim.Second, SessionTimeout: 6 * sim.Second, HeartbeatInterval: 2 * sim.Second,
			Acks: 1, Retries: 0, ConsumerSession: 10 * sim.Second}},
	{Name: "2.8", Rules: Rules{EpochTruncation: true, BounceDetected: true},
		Features: Features{DeliveryTimeout: true, Idempotence: true, MinISR: true, IdempotentInFlight: 5, EpochBump: true, GroupFencing: true},
		Defaults: Defaults{ReplicaLagTimeMax: 30 * sim.Second, SessionTimeout: 18 * sim.Second, HeartbeatInterval: 2 * sim.Second,
			Acks: 1, Retries: maxInt32, ConsumerSession: 10 * sim.Second}},
	{Name: "3.6", Rules: Rules{EpochTruncation: true, IneligibleStaleEpoch: true, BounceDetected: true},
		Features: Features{DeliveryTimeout: true, Idempotence: true, KRaft: true, MinISR: true, IdempotentInFlight: 5, EpochBump: true, GroupFencing: true},
		Defaults: Defaults{ReplicaLagTimeMax: 30 * sim.Second, SessionTimeout: 9 * sim.Second, HeartbeatInterval: 2 * sim.Second,
			Acks: -1, Retries: maxInt32, Idempotence: true, ConsumerSession: 45 * sim.Second}},
	{Name: "3.9", Rules: Rules{EpochTruncation: true, StrictMinISRHW: true, IneligibleStaleEpoch: true, BounceDetected: true},
		Features: Features{DeliveryTimeout: true, Idempotence: true, KRaft: true, MinISR: true, IdempotentInFlight: 5, EpochBump: true, GroupFencing: true},
		Defaults: Defaults{ReplicaLagTimeMax: 30 * sim.Second, SessionTimeout: 9 * sim.Second, HeartbeatInterval: 2 * sim.Second,
			Acks: -1, Retries: maxInt32, Idempotence: true, ConsumerSession: 45 * sim.Second}},
	{Name: "4.1", Rules: Rules{EpochTruncation: true, StrictMinISRHW: true, ELR: true, IneligibleStaleEpoch: true, BounceDetected: true},
		Features: Features{DeliveryTimeout: true, Idempotence: true, KRaft: true, MinISR: true, IdempotentInFlight: 5, EpochBump: true, GroupFencing: true},
		Defaults: Defaults{ReplicaLagTimeMax: 30 * sim.Second, SessionTimeout: 9 * sim.Second, HeartbeatInterval: 2 * sim.Second,
			Acks: -1, Retries: maxInt32, Idempotence: true, LingerMs: 5 * sim.Millisecond, ConsumerSession: 45 * sim.Second}},
}

// DefaultProfile is used when a scenario names none.
const DefaultProfile = "3.9"

const maxInt32 = 1<<31 - 1

// release is a Kafka release a scenario may name (kafka: "x.y"): the
// profile of its era and what the release changes in it. Sources: the
// defaults-by-version table of ../shared/kafka-semantics.md §2.
type release struct {
	names  []string // "x.y", and for patch releases that differ "x.y.z"
	base   string   // a profile of profiles
	adjust func(p *Profile)
}

func inFlight5(p *Profile) { p.Features.IdempotentInFlight = 5 } // KAFKA-5494 (1.0)
func deliveryTimeout(p *Profile) { // KIP-91 (2.1): retries MAX_INT bounded by delivery.timeout.ms
	inFlight5(p)
	p.Features.DeliveryTimeout, p.Defaults.Retries = true, maxInt32
}
func kafka30(p *Profile) { // KIP-679 (3.0): acks=all and idempotence by default; KIP-735: consumer session 45 s
	p.Defaults.Acks, p.Defaults.Idempotence, p.Defaults.ConsumerSession = -1, true, 45*sim.Second
}
func kafka40(p *Profile) { // 4.0: linger.ms 5 (KIP-1030); idempotence no longer quietly off for in-flight > 5; TV2 (KIP-890)
	p.Defaults.LingerMs = 5 * sim.Millisecond
	p.Features.StrictIdempotence = true
	p.Features.TxnVersion2 = true
}

// txnVerification: transaction.partition.verification.enable, on by
// default from 3.6.0 (../shared/replication-designs.md §1.1, KIP-890 part 1).
func txnVerification(p *Profile) { p.Features.TxnVerification = true }

// releases lists every release from 0.8.2 to 4.1 in version order.
var releases = []release{
	{names: []string{"0.8", "0.8.2"}, base: "0.8"},
	// 0.9: the Java producer (acks=1 by default) replaces the Scala one.
	{names: []string{"0.9"}, base: "0.8", adjust: func(p *Profile) { p.Defaults.Acks = 1; p.Rules.LagMaxMessages = 0 }},
	{names: []string{"0.10", "0.10.0", "0.10.1", "0.10.2"}, base: "0.10"},
	{names: []string{"0.11"}, base: "0.11"},
	{names: []string{"1.0", "1.1", "2.0"}, base: "0.11", adjust: inFlight5},
	{names: []string{"2.1"}, base: "0.11", adjust: deliveryTimeout},
	// 2.2: the controller detects a quick bounce by the broker epoch (KIP-380).
	{names: []string{"2.2", "2.3", "2.4"}, base: "0.11", adjust: func(p *Profile) { deliveryTimeout(p); p.Rules.BounceDetected = true }},
	// 2.5: replica.lag.time.max.ms 30 s and ZooKeeper session 18 s
	// (KIP-537), the producer's epoch bump (KIP-360).
	{names: []string{"2.5", "2.6", "2.7", "2.8"}, base: "2.8"},
	// 3.0.0 and 3.1.0 meant to enable idempotence by default and did not
	// (KAFKA-13598, fixed in 3.0.1, 3.1.1 and 3.2.0).
	{names: []string{"3.0.0", "3.1.0"}, base: "2.8", adjust: func(p *Profile) { kafka30(p); p.Defaults.Idempotence = false }},
	{names: []string{"3.0", "3.1", "3.2"}, base: "2.8", adjust: kafka30},
	// 3.3: KRaft ready for production; acksim runs 3.3 on in KRaft mode.
	// KIP-903 came in 3.5.
	{names: []string{"3.3", "3.4"}, base: "3.6", adjust: func(p *Profile) { p.Rules.IneligibleStaleEpoch = false }},
	{names: []string{"3.5"}, base: "3.6"},
	// 3.6: transaction partition verification (KIP-890 part 1).
	{names: []string{"3.6"}, base: "3.6", adjust: txnVerification},
	// 3.7: the HW waits for min.insync.replicas (KAFKA-15583).
	{names: []string{"3.7", "3.8", "3.9"}, base: "3.9", adjust: txnVerification},
	// 4.0: KRaft only; ELR available but off (KIP-966).
	{names: []string{"4.0"}, base: "3.9", adjust: func(p *Profile) { kafka40(p); txnVerification(p) }},
	// 4.1: ELR on by default.
	{names: []string{"4.1"}, base: "4.1", adjust: func(p *Profile) { kafka40(p); txnVerification(p) }},
}

// LookupProfile returns the profile a release runs with, named after the
// release.
func LookupProfile(name string) (Profile, bool) {
	for _, r := range releases {
		if !slices.Contains(r.names, name) {
			continue
		}
		for _, p := range profiles {
			if p.Name == r.base {
				if r.adjust != nil {
					r.adjust(&p)
				}
				p.Name = name
				return p, true
			}
		}
	}
	return Profile{}, false
}

// ProfileNames returns the releases a scenario may name, in version order.
func ProfileNames() []string {
	var names []string
	for _, r := range releases {
		names = append(names, r.names...)
	}
	return names
}

// RuleNames says which of acksim's version-dependent rules a profile
// follows, for the verdict.
func (p Profile) RuleNames() []string {
	var out []string
	add := func(on bool, name string) {
		if on {
			out = append(out, name)
		}
	}
	if p.Features.KRaft {
		out = append(out, "KRaft controller")
	} else {
		out = append(out, "ZooKeeper controller")
	}
	if p.Rules.EpochTruncation {
		out = append(out, "leader-epoch truncation (KIP-101)")
	} else {
		out = append(out, "high-watermark truncation")
	}
	add(p.Rules.StrictMinISRHW, "HW waits for min.insync.replicas (KAFKA-15583)")
	add(p.Rules.IneligibleStaleEpoch, "stale broker epochs refused (KIP-903)")
	add(p.Rules.ELR, "eligible leader replicas (KIP-966)")
	add(p.Features.EpochBump, "producer epoch bump (KIP-360)")
	add(p.Rules.LagMaxMessages > 0, "followers lagging replica.lag.max.messages leave the ISR")
	add(!p.Rules.BounceDetected, "a quick broker restart keeps its ISR membership (before KIP-380)")
	return out
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
	// Rules: the version's rule switches (Rules.ELR is
	// eligible.leader.replicas.enable, KIP-966).
	Rules
	// Transactions (the transaction coordinator's settings and the
	// partition leaders' checks).
	TxnVerification  bool         // transaction.partition.verification.enable (3.6+)
	TxnAbortInterval sim.Duration // transaction.abort.timed.out.transaction.cleanup.interval.ms (10 s)
	TxnMaxTimeout    sim.Duration // transaction.max.timeout.ms (15 min)
	// The transaction log, __transaction_state (TransactionLogConfig:
	// RF 3, min ISR 2).
	TxnStateRF     int // transaction.state.log.replication.factor
	TxnStateMinISR int // transaction.state.log.min.isr
	// TxnVersion is the cluster's finalized transaction.version feature:
	// 2 from Kafka 4.0 (KIP-890 part 2), else 0. Producers follow it.
	TxnVersion int
	// Raft holds the Raft design's settings (Spec.Replication "raft").
	Raft RaftConfig
	// RocketMQ holds the RocketMQ design's settings (Spec.Replication
	// "rocketmq").
	RocketMQ RocketMQConfig
}

// RocketMQConfig holds the RocketMQ master-slave design's settings, under
// RocketMQ's names (MessageStoreConfig; ../shared/replication-designs.md
// §3.1, apache/rocketmq@8fc57f1468 and rocketmq-all-4.9.8).
type RocketMQConfig struct {
	// Version (acksim.rocketmq.version): 4 is rocketmq-all-4.9.8's
	// SYNC_MASTER (wait for a slave only if one is connected and within
	// haSlaveFallbehindMax, else SLAVE_NOT_AVAILABLE at once); 5 is
	// 5.0.0-5.3.3's (wait for inSyncReplicas-1 slaves, none by default).
	Version int
	// SyncFlush (flushDiskType SYNC_FLUSH; default ASYNC_FLUSH): the
	// GroupCommitService fsyncs before the put completes, or answers
	// FLUSH_DISK_TIMEOUT after SyncFlushTimeout (syncFlushTimeout, 5 s).
	SyncFlush        bool
	SyncFlushTimeout sim.Duration
	// SyncMaster (brokerRole SYNC_MASTER; default ASYNC_MASTER): the role of
	// each broker group's master. SlaveTimeout (slaveTimeout, 3 s) bounds
	// the wait for slaves, after which the put answers FLUSH_SLAVE_TIMEOUT.
	SyncMaster   bool
	SlaveTimeout sim.Duration
	// ASYNC_FLUSH's FlushRealTimeService: every FlushInterval
	// (flushIntervalCommitLog, 500 ms) it flushes once FlushLeastPages
	// (flushCommitLogLeastPages, 4) pages of 4 KiB are dirty, and
	// everything once FlushThorough (flushCommitLogThoroughInterval, 10 s)
	// has passed since the last full flush.
	FlushInterval   sim.Duration
	FlushLeastPages int64
	FlushThorough   sim.Duration
	// MaxGapNotInSync (haSlaveFallbehindMax in 4.x, haMaxGapNotInSync in
	// 5.x; 256 MiB): how far behind, in bytes, a slave may be and still be
	// waited for (4.x isSlaveOK).
	MaxGapNotInSync int64
	// InSyncReplicas (inSyncReplicas, 5.x; 1): the replicas, master
	// included, a SYNC_MASTER put waits for; 1 waits for none.
	InSyncReplicas int
	// HeartbeatInterval (haSendHeartbeatInterval, 5 s): a slave reports its
	// offset at least this often; Housekeeping (haHousekeepingInterval,
	// 20 s): a connection with nothing read for this long is closed.
	HeartbeatInterval sim.Duration
	Housekeeping      sim.Duration
	// Controller mode (enableControllerMode, 5.x, RIP-44): a controller
	// keeps each group's master, MasterEpoch and SyncStateSet and elects a
	// new master when the master's heartbeats stop
	// (controllerHeartBeatTimeoutMills, the broker's SessionTimeout here);
	// the master is forced to SYNC_MASTER.
	ControllerMode bool
	// MinInSyncReplicas (minInSyncReplicas, 1): a put is refused with
	// IN_SYNC_REPLICAS_NOT_ENOUGH while the SyncStateSet is smaller.
	MinInSyncReplicas int
	// AllAckInSyncStateSet (allAckInSyncStateSet, false): a put waits for
	// every member of the SyncStateSet, and consumers read only up to what
	// all of them hold (confirmOffset).
	AllAckInSyncStateSet bool
	// MaxTimeSlaveNotCatchup (haMaxTimeSlaveNotCatchup, 15 s): a slave not
	// caught up for this long leaves the SyncStateSet.
	MaxTimeSlaveNotCatchup sim.Duration
	// DLedger (enableDLegerCommitLog, 4.5+): a DLedger Raft group of the
	// group's brokers replaces the CommitLog and its master-slave
	// replication; acksim runs it on the Raft design with DLedger's
	// settings (DLedgerRaft).
	DLedger bool
}

// DLedgerRaft is DLedger's Raft (openmessaging/dledger@d054548,
// DLedgerConfig; ../shared/replication-designs.md §3.1): an entry counts
// once a quorum has appended it to its mmap (write caching), the
// FlushDataService flushes every flushFileInterval (10 ms), term and
// votedFor are written without fsync (MemberState.persistState), a
// follower stands for election after maxHeartBeatLeak (3) missed
// heartbeats of heartBeatTimeIntervalMs (2 s), and there is no pre-vote.
func DLedgerRaft() RaftConfig {
	return RaftConfig{WriteCaching: true, FlushMs: 10 * sim.Millisecond, FlushBytes: 1 << 62, ElectionTimeout: 6 * sim.Second,
		HeartbeatInterval: 2 * sim.Second, PreVote: false, VoteFsync: false}
}

// DefaultRocketMQ returns RocketMQ 5.3.3's defaults (MessageStoreConfig).
func DefaultRocketMQ() RocketMQConfig {
	return RocketMQConfig{Version: 5, SyncFlushTimeout: 5 * sim.Second, SlaveTimeout: 3 * sim.Second,
		FlushInterval: 500 * sim.Millisecond, FlushLeastPages: 4, FlushThorough: 10 * sim.Second,
		MaxGapNotInSync: 256 << 20, InSyncReplicas: 1, HeartbeatInterval: 5 * sim.Second, Housekeeping: 20 * sim.Second,
		MinInSyncReplicas: 1, MaxTimeSlaveNotCatchup: 15 * sim.Second}
}

// RaftConfig holds the Raft design's settings, under Redpanda's names
// (../shared/replication-designs.md §2.1; redpanda-data/redpanda
// src/v/config/configuration.cc, topic properties).
type RaftConfig struct {
	// write.caching (topic; cluster write_caching_default, false): acks=all
	// is acknowledged once a majority holds the entry in memory or page
	// cache, without waiting for fsync. Off, every replica fsyncs an entry
	// before it counts toward the majority (Redpanda's default; KIP-595's
	// rule for KRaft's log).
	WriteCaching bool
	// flush.ms (100 ms; raft_replica_max_flush_delay_ms) and flush.bytes
	// (262144; raft_replica_max_pending_flush_bytes): the background flush
	// of what no acknowledgement waited for, whichever comes first.
	FlushMs    sim.Duration
	FlushBytes int64
	// election_timeout_ms (1500 ms): a follower that hears no leader for
	// this, plus a jitter uniform in [0, half of it) (simple_time_jitter),
	// stands for election.
	ElectionTimeout sim.Duration
	// raft_heartbeat_interval_ms (150 ms): the leader's heartbeat.
	HeartbeatInterval sim.Duration
	// PreVote (acksim.raft.prevote; Redpanda always pre-votes,
	// consensus::dispatch_prevote): a candidate first asks whether it could
	// win, without raising its term.
	PreVote bool
	// VoteFsync (acksim.raft.vote.fsync): the term and vote are durable
	// before a vote is answered or an election started, as Raft presumes.
	// Off, they reach the disk only with the log's next flush, so a power
	// loss can make a node vote twice in a term (robustmq#2039).
	VoteFsync bool
	// NewVoterOnDiskLoss (acksim.raft.disk.loss: new-voter; KIP-853's
	// dynamic quorum, Kafka 3.9+): a node back with an empty disk is a new
	// replica, a learner that neither votes nor counts toward a commit
	// until it holds the log up to the commit index, when it is added as a
	// voter in place of its old self. Off (same-voter, before KIP-853): it
	// rejoins as the voter it was, with an empty log and no memory of its
	// votes, and can help elect a leader that lacks committed entries.
	NewVoterOnDiskLoss bool
}

// DefaultRaft returns Redpanda's defaults.
func DefaultRaft() RaftConfig {
	return RaftConfig{FlushMs: 100 * sim.Millisecond, FlushBytes: 262144, ElectionTimeout: 1500 * sim.Millisecond,
		HeartbeatInterval: 150 * sim.Millisecond, PreVote: true, VoteFsync: true}
}

// OSConfig models Linux writeback of dirty page-cache data.
type OSConfig struct {
	DirtyExpire    sim.Duration // vm.dirty_expire_centisecs (30 s)
	DirtyWriteback sim.Duration // vm.dirty_writeback_centisecs (5 s)
	Writeback      bool         // false: dirty data reaches disk only by fsync (worst case)
	// AlignedWriteback: every machine's flusher wakes at the same instants
	// (multiples of DirtyWriteback since the machine powered on). Off (the
	// default), each machine's first wakeup after power-on comes at its own
	// phase, uniform in (0, DirtyWriteback], drawn from the seed: machines
	// booted at different times do not flush in lock step, so a correlated
	// power loss leaves replicas with different durable prefixes
	// (KAFKA-3919: followers came back 2,228 records ahead of the leader).
	AlignedWriteback bool
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
	// EpochBump: on a sequence gap the idempotent producer bumps its epoch
	// and retries (KIP-360, 2.5+); before, it fails the batch.
	EpochBump bool
	// RequireSendOK (acksim.require.send.ok; RocketMQ only): the
	// application treats a send that returned FLUSH_DISK_TIMEOUT,
	// FLUSH_SLAVE_TIMEOUT or SLAVE_NOT_AVAILABLE as failed. RocketMQ's
	// Java client returns them as results, not exceptions, so an
	// application that only catches exceptions (false, the default) takes
	// them as success (docs/en/best_practice.md).
	RequireSendOK bool

	// Transactions (KIP-98). TransactionalID non-empty makes the producer
	// transactional: it runs InitProducerId, then transactions of
	// TxnRecords records each, committing each one.
	TransactionalID    string       // transactional.id
	TransactionTimeout sim.Duration // transaction.timeout.ms (60 s)
	TxnRecords         int          // acksim.transaction.records: records per transaction (100)
	// TxnVersion is the transaction protocol the producer runs: 0 or 1
	// (the classic protocol: the client adds partitions, one epoch for
	// every transaction) or 2 (KIP-890: an epoch per transaction, the
	// partition leader adds partitions). Resolved from transaction.version
	// and the release.
	TxnVersion int
	// TxnOnFenced (acksim.transaction.on.fenced): what the application
	// does when its producer is fenced: "reinit" (close it and initialise
	// a new one with the same transactional.id, the default) or "stop"
	// (exit, as a zombie instance should: a newer one has taken over).
	TxnOnFenced string
}

// Transactional reports whether the producer runs transactions.
func (c *ProducerConfig) Transactional() bool { return c.TransactionalID != "" }

// Workload says what a producer sends.
type Workload struct {
	Records    int          // total records; 0 = until Duration
	Duration   sim.Duration // stop sending after this; 0 = until Records
	Rate       float64      // records per second
	Poisson    bool         // exponential inter-arrival times instead of constant
	Keys       int          // 0: no keys; K: keys uniform over K
	RecordSize int          // bytes
	OnError    string       // "give-up" or "resend"
	// OnRestart: "resend-unacked": after a producer restart the
	// application sends again every record it had not seen acknowledged
	// (the at-least-once pattern), under the new producer id, so the
	// broker cannot recognise the ones that were written. "" does nothing.
	OnRestart string
	Start     sim.Duration // first record at this time
}

// ConsumerConfig holds consumer settings under Kafka's names.
type ConsumerConfig struct {
	AutoCommit         bool         // enable.auto.commit
	AutoCommitInterval sim.Duration // auto.commit.interval.ms
	MaxPollRecords     int          // max.poll.records
	SessionTimeout     sim.Duration // session.timeout.ms
	HeartbeatInterval  sim.Duration // heartbeat.interval.ms
	ResetLatest        bool         // auto.offset.reset=latest (else earliest)
	// ValidatePosition: KIP-320 (2.1 clients): after a leader change the
	// consumer asks the new leader where the epoch of its last consumed
	// record ends (OffsetsForLeaderEpoch) and, if the log was truncated
	// under its position, moves back to that point instead of meeting
	// OFFSET_OUT_OF_RANGE and applying auto.offset.reset.
	ValidatePosition bool
	ProcessingTime   sim.Duration // per record
	Async            bool         // hand records to a worker and poll on (auto-commit can overtake processing)
	// CommitBefore (enable.auto.commit=false): the application commits the
	// positions poll returned (commitSync) before it processes the records,
	// at-most-once; otherwise it commits what it processed, after.
	CommitBefore bool
	// ReadCommitted: isolation.level=read_committed. The consumer reads
	// only below the last stable offset and skips records of aborted
	// transactions (KIP-98).
	ReadCommitted bool
	// SeekOnAbort: a consume-transform-produce application seeks back to
	// the group's committed offsets after its transaction aborts. Without
	// it the consumer's position stays past the aborted records
	// (KAFKA-17582: the position does not revert).
	SeekOnAbort bool
}

// DefaultBroker returns broker defaults for a profile.
func DefaultBroker(p Profile) BrokerConfig {
	d := &p.Defaults
	return BrokerConfig{
		MinISR:                 1,
		UncleanElection:        d.UncleanElection,
		ReplicaLagTimeMax:      d.ReplicaLagTimeMax,
		FetchWaitMax:           500 * sim.Millisecond,
		FetchBackoff:           1 * sim.Second,
		ReplicaSocketTimeout:   30 * sim.Second,
		FlushIntervalMessages:  d.FlushIntervalMessages,
		FlushSchedulerInterval: d.FlushSchedulerInterval,
		HWCheckpointInterval:   5 * sim.Second,
		SessionTimeout:         d.SessionTimeout,
		HeartbeatInterval:      d.HeartbeatInterval,
		Rules:                  p.Rules,
		TxnVerification:        p.Features.TxnVerification,
		TxnAbortInterval:       10 * sim.Second, // TransactionStateManagerConfig (../shared/replication-designs.md §1.1)
		TxnMaxTimeout:          15 * sim.Minute,
		TxnVersion:             txnVersionDefault(p),
		TxnStateRF:             3,
		TxnStateMinISR:         2,
		Raft:                   DefaultRaft(),
		RocketMQ:               DefaultRocketMQ(),
	}
}

// DefaultOS returns Linux defaults.
func DefaultOS() OSConfig {
	return OSConfig{DirtyExpire: 30 * sim.Second, DirtyWriteback: 5 * sim.Second, Writeback: true}
}

// DefaultProducer returns producer defaults for a profile.
func DefaultProducer(p Profile) ProducerConfig {
	d := &p.Defaults
	dt := 120 * sim.Second
	if !p.Features.DeliveryTimeout {
		dt = 24 * sim.Hour // before KIP-91 only `retries` bounds a batch's life
	}
	return ProducerConfig{
		Acks: d.Acks, Retries: d.Retries, RetryBackoff: 100 * sim.Millisecond,
		DeliveryTimeout: dt, RequestTimeout: 30 * sim.Second, MaxInFlight: 5,
		Idempotence: d.Idempotence, BatchSize: 16384, Linger: d.LingerMs, BufferMemory: 32 << 20,
		MaxBlock: 60 * sim.Second, Partitioner: "sticky", EpochBump: p.Features.EpochBump,
		TransactionTimeout: 60 * sim.Second, TxnRecords: 100, TxnVersion: txnVersionDefault(p),
	}
}

func txnVersionDefault(p Profile) int {
	if p.Features.TxnVersion2 {
		return 2
	}
	return 0
}

// DefaultConsumer returns consumer defaults for a profile.
func DefaultConsumer(p Profile) ConsumerConfig {
	return ConsumerConfig{
		AutoCommit: true, AutoCommitInterval: 5 * sim.Second, MaxPollRecords: 500,
		SessionTimeout: p.Defaults.ConsumerSession, HeartbeatInterval: 3 * sim.Second, ResetLatest: true,
		ValidatePosition: p.Features.DeliveryTimeout, // 2.1 clients: KIP-91 and KIP-320 came together
		ProcessingTime:   100 * sim.Microsecond,
	}
}
