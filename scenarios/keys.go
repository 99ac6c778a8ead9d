package scenarios

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"acksim/model"
	"acksim/sim"
)

// scope says which part of a scenario a setting belongs to.
type scope int

const (
	scopeBroker scope = iota
	scopeProducer
	scopeConsumer
	scopeOS
	scopeDisk
	scopeNet
)

var scopeNames = map[scope]string{scopeBroker: "cluster.config", scopeProducer: "producers[].config",
	scopeConsumer: "consumers[].config", scopeOS: "cluster.os", scopeDisk: "cluster.disk", scopeNet: "cluster.network"}

// target is what a setting is applied to.
type target struct {
	prof model.Profile
	b    *model.BrokerConfig
	os   *model.OSConfig
	disk *model.DiskConfig
	net  *model.NetConfig
	p    *model.ProducerConfig
	pset map[string]bool // producer keys set explicitly
	c    *model.ConsumerConfig
	rf   int
}

// setting is one config key: its name, what it accepts, and how it applies.
type setting struct {
	name  string
	scope scope
	help  string // what is allowed, for errors and the reference
	apply func(t *target, v string) (ok bool, allowed string)
}

func parseBool(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// MaxDuration is the longest duration a scenario accepts anywhere: 10
// years. Simulated time is int64 nanoseconds (292 years), so a run's end
// (run.duration plus recovery.timeout) plus any timeout the model adds to
// it stays far from overflow; longer values are refused, never wrapped.
const MaxDuration = 10 * 365 * 24 * sim.Hour

// parseMs reads a Kafka *.ms value: an integer number of milliseconds, or a
// Go duration such as 30s. Values past MaxDuration are refused, and so are
// non-zero values below a millisecond: Kafka's *.ms settings count whole
// milliseconds (a 1ns flush scheduler or timeout would also flood the event
// queue).
func parseMs(v string) (sim.Duration, bool) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 || n > int64(MaxDuration/sim.Millisecond) {
			return 0, false
		}
		return sim.Duration(n) * sim.Millisecond, true
	}
	d, ok := parseDuration(v)
	if !ok || d > 0 && d < sim.Millisecond {
		return 0, false
	}
	return d, true
}

// parseDuration reads a Go duration (30s, 5ms, 1m30s), at most MaxDuration.
func parseDuration(v string) (sim.Duration, bool) {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || sim.Duration(d) > MaxDuration {
		return 0, false
	}
	return sim.Duration(d), true
}

func intIn(v string, lo, hi int64) (int64, bool) {
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n >= lo && n <= hi
}

func msKey(name string, sc scope, lo sim.Duration, field func(t *target) *sim.Duration) setting {
	allowed := fmt.Sprintf("a duration from %s to 10 years in whole milliseconds: milliseconds (30000) or a Go duration (30s)", lo)
	return setting{name: name, scope: sc, help: allowed, apply: func(t *target, v string) (bool, string) {
		d, ok := parseMs(v)
		if !ok || d < lo {
			return false, allowed
		}
		*field(t) = d
		return true, ""
	}}
}

func durKey(name string, sc scope, field func(t *target) *sim.Duration) setting {
	allowed := "a Go duration such as 2ms, 500us or 1s, at most 10 years"
	return setting{name: name, scope: sc, help: allowed, apply: func(t *target, v string) (bool, string) {
		d, ok := parseDuration(v)
		if !ok {
			return false, allowed
		}
		*field(t) = d
		return true, ""
	}}
}

func boolKey(name string, sc scope, field func(t *target) *bool) setting {
	return setting{name: name, scope: sc, help: "true or false", apply: func(t *target, v string) (bool, string) {
		b, ok := parseBool(v)
		if !ok {
			return false, "true or false"
		}
		*field(t) = b
		return true, ""
	}}
}

func intKey(name string, sc scope, lo, hi int64, field func(t *target, n int64)) setting {
	allowed := fmt.Sprintf("an integer from %d to %d", lo, hi)
	return setting{name: name, scope: sc, help: allowed, apply: func(t *target, v string) (bool, string) {
		n, ok := intIn(v, lo, hi)
		if !ok {
			return false, allowed
		}
		field(t, n)
		return true, ""
	}}
}

// settings is every config key a scenario accepts. A key not listed here is
// rejected: acksim never silently ignores a setting.
var settings = []setting{
	// Broker and topic configuration (Kafka broker configs).
	intKey("min.insync.replicas", scopeBroker, 1, 100, func(t *target, n int64) { t.b.MinISR = int(n) }),
	boolKey("unclean.leader.election.enable", scopeBroker, func(t *target) *bool { return &t.b.UncleanElection }),
	msKey("replica.lag.time.max.ms", scopeBroker, sim.Millisecond, func(t *target) *sim.Duration { return &t.b.ReplicaLagTimeMax }),
	msKey("replica.fetch.wait.max.ms", scopeBroker, 0, func(t *target) *sim.Duration { return &t.b.FetchWaitMax }),
	msKey("replica.fetch.backoff.ms", scopeBroker, 0, func(t *target) *sim.Duration { return &t.b.FetchBackoff }),
	msKey("replica.socket.timeout.ms", scopeBroker, sim.Millisecond, func(t *target) *sim.Duration { return &t.b.ReplicaSocketTimeout }),
	{name: "log.flush.interval.messages", scope: scopeBroker, help: "a positive integer, or never",
		apply: func(t *target, v string) (bool, string) {
			if v == "never" {
				t.b.FlushIntervalMessages = 0
				return true, ""
			}
			n, ok := intIn(v, 1, math.MaxInt64)
			if !ok {
				return false, "a positive integer, or never"
			}
			t.b.FlushIntervalMessages = n
			return true, ""
		}},
	msKey("log.flush.interval.ms", scopeBroker, 0, func(t *target) *sim.Duration { return &t.b.FlushInterval }),
	{name: "log.flush.scheduler.interval.ms", scope: scopeBroker, help: "a positive duration (ms or Go duration), or never",
		apply: func(t *target, v string) (bool, string) {
			if v == "never" {
				t.b.FlushSchedulerInterval = 0
				return true, ""
			}
			d, ok := parseMs(v)
			if !ok || d <= 0 {
				return false, "a positive duration (ms or Go duration), or never"
			}
			t.b.FlushSchedulerInterval = d
			return true, ""
		}},
	msKey("replica.high.watermark.checkpoint.interval.ms", scopeBroker, sim.Millisecond, func(t *target) *sim.Duration { return &t.b.HWCheckpointInterval }),
	{name: "broker.session.timeout.ms", scope: scopeBroker, help: "a duration; KRaft profiles only (3.6+)",
		apply: func(t *target, v string) (bool, string) {
			if !t.prof.Features.KRaft {
				return false, "not a setting of ZooKeeper-era profile " + t.prof.Name + "; use zookeeper.session.timeout.ms"
			}
			d, ok := parseMs(v)
			if !ok || d <= 0 {
				return false, "a positive duration"
			}
			t.b.SessionTimeout = d
			return true, ""
		}},
	{name: "zookeeper.session.timeout.ms", scope: scopeBroker, help: "a duration; ZooKeeper profiles only (before 3.6)",
		apply: func(t *target, v string) (bool, string) {
			if t.prof.Features.KRaft {
				return false, "not a setting of KRaft profile " + t.prof.Name + "; use broker.session.timeout.ms"
			}
			d, ok := parseMs(v)
			if !ok || d <= 0 {
				return false, "a positive duration"
			}
			t.b.SessionTimeout = d
			return true, ""
		}},
	msKey("broker.heartbeat.interval.ms", scopeBroker, sim.Millisecond, func(t *target) *sim.Duration { return &t.b.HeartbeatInterval }),
	{name: "eligible.leader.replicas.enable", scope: scopeBroker, help: "true or false; needs a KRaft profile",
		apply: func(t *target, v string) (bool, string) {
			b, ok := parseBool(v)
			if !ok {
				return false, "true or false"
			}
			if b && !t.prof.Features.KRaft {
				return false, "eligible leader replicas (KIP-966) need KRaft; profile " + t.prof.Name + " uses ZooKeeper"
			}
			t.b.ELR = b
			return true, ""
		}},
	// Transactions (KIP-98, KIP-890; ../shared/replication-designs.md §1.1).
	{name: "transaction.version", scope: scopeBroker, help: "0, 1 or 2 (2, the default from Kafka 4.0, bumps the producer epoch on every transaction: KIP-890)",
		apply: func(t *target, v string) (bool, string) {
			n, ok := intIn(v, 0, 2)
			if !ok {
				return false, "0, 1 or 2"
			}
			if n == 2 && !t.prof.Features.TxnVersion2 {
				return false, "transaction version 2 (KIP-890) needs Kafka 4.0+; profile " + t.prof.Name
			}
			if !t.prof.Features.Idempotence {
				return false, "transactions need Kafka 0.11+ (KIP-98); profile " + t.prof.Name
			}
			t.b.TxnVersion = int(n)
			return true, ""
		}},
	{name: "transaction.partition.verification.enable", scope: scopeBroker, help: "true or false; Kafka 3.6+ (KIP-890 part 1)",
		apply: func(t *target, v string) (bool, string) {
			b, ok := parseBool(v)
			if !ok {
				return false, "true or false"
			}
			if !t.prof.Features.TxnVerification {
				return false, "transaction partition verification (KIP-890 part 1) came in Kafka 3.6; profile " + t.prof.Name
			}
			t.b.TxnVerification = b
			return true, ""
		}},
	intKey("transaction.state.log.replication.factor", scopeBroker, 1, 64, func(t *target, n int64) { t.b.TxnStateRF = int(n) }),
	intKey("transaction.state.log.min.isr", scopeBroker, 1, 64, func(t *target, n int64) { t.b.TxnStateMinISR = int(n) }),
	msKey("transaction.abort.timed.out.transaction.cleanup.interval.ms", scopeBroker, sim.Millisecond, func(t *target) *sim.Duration { return &t.b.TxnAbortInterval }),
	msKey("transaction.max.timeout.ms", scopeBroker, sim.Millisecond, func(t *target) *sim.Duration { return &t.b.TxnMaxTimeout }),
	// Rule switches (not Kafka configs: the behaviour changes between versions).
	{name: "acksim.truncation", scope: scopeBroker, help: "leader-epoch (KIP-101, 0.11+) or high-watermark (before 0.11)",
		apply: func(t *target, v string) (bool, string) {
			switch v {
			case "leader-epoch":
				t.b.EpochTruncation = true
			case "high-watermark":
				t.b.EpochTruncation = false
			default:
				return false, "leader-epoch or high-watermark"
			}
			return true, ""
		}},
	boolKey("acksim.strict.min.isr.hw", scopeBroker, func(t *target) *bool { return &t.b.StrictMinISRHW }),
	boolKey("acksim.isr.broker.epochs", scopeBroker, func(t *target) *bool { return &t.b.IneligibleStaleEpoch }),
	boolKey("acksim.restart.detected", scopeBroker, func(t *target) *bool { return &t.b.BounceDetected }),
	{name: "replica.lag.max.messages", scope: scopeBroker, help: "a positive integer (Kafka 0.8 only)", apply: func(t *target, v string) (bool, string) {
		if t.prof.Rules.LagMaxMessages == 0 {
			return false, "replica.lag.max.messages exists only in Kafka 0.8 (KIP-16 removed it in 0.9); profile " + t.prof.Name
		}
		n, ok := intIn(v, 1, math.MaxInt64)
		if !ok {
			return false, "a positive integer"
		}
		t.b.LagMaxMessages = n
		return true, ""
	}},

	// The Raft design (cluster.replication: raft), under Redpanda's names.
	boolKey("write.caching", scopeBroker, func(t *target) *bool { return &t.b.Raft.WriteCaching }),
	msKey("flush.ms", scopeBroker, sim.Millisecond, func(t *target) *sim.Duration { return &t.b.Raft.FlushMs }),
	intKey("flush.bytes", scopeBroker, 1, math.MaxInt64, func(t *target, n int64) { t.b.Raft.FlushBytes = n }),
	msKey("election_timeout_ms", scopeBroker, sim.Millisecond, func(t *target) *sim.Duration { return &t.b.Raft.ElectionTimeout }),
	msKey("raft_heartbeat_interval_ms", scopeBroker, sim.Millisecond, func(t *target) *sim.Duration { return &t.b.Raft.HeartbeatInterval }),
	boolKey("acksim.raft.prevote", scopeBroker, func(t *target) *bool { return &t.b.Raft.PreVote }),
	boolKey("acksim.raft.vote.fsync", scopeBroker, func(t *target) *bool { return &t.b.Raft.VoteFsync }),
	{name: "acksim.raft.disk.loss", scope: scopeBroker, help: "same-voter (before KIP-853) or new-voter (KIP-853)", apply: func(t *target, v string) (bool, string) {
		switch v {
		case "same-voter":
			t.b.Raft.NewVoterOnDiskLoss = false
		case "new-voter":
			t.b.Raft.NewVoterOnDiskLoss = true
		default:
			return false, "same-voter (a node back with an empty disk rejoins as the voter it was, before KIP-853) or new-voter (it is a learner until caught up, then added as a voter: KIP-853)"
		}
		return true, ""
	}},

	// The RocketMQ design (cluster.replication: rocketmq), under RocketMQ's
	// names (MessageStoreConfig).
	{name: "acksim.rocketmq.version", scope: scopeBroker, help: "4 (rocketmq-all-4.9.8) or 5 (5.0.0-5.3.3)", apply: func(t *target, v string) (bool, string) {
		switch v {
		case "4", "4.9.8":
			t.b.RocketMQ.Version = 4
		case "5", "5.3.3":
			t.b.RocketMQ.Version = 5
		default:
			return false, "4 (rocketmq-all-4.9.8) or 5 (5.0.0-5.3.3)"
		}
		return true, ""
	}},
	{name: "flushDiskType", scope: scopeBroker, help: "SYNC_FLUSH or ASYNC_FLUSH", apply: func(t *target, v string) (bool, string) {
		switch v {
		case "SYNC_FLUSH":
			t.b.RocketMQ.SyncFlush = true
		case "ASYNC_FLUSH":
			t.b.RocketMQ.SyncFlush = false
		default:
			return false, "SYNC_FLUSH or ASYNC_FLUSH"
		}
		return true, ""
	}},
	{name: "brokerRole", scope: scopeBroker, help: "SYNC_MASTER or ASYNC_MASTER (the role of each group's master; the other replicas are its slaves)", apply: func(t *target, v string) (bool, string) {
		switch v {
		case "SYNC_MASTER":
			t.b.RocketMQ.SyncMaster = true
		case "ASYNC_MASTER":
			t.b.RocketMQ.SyncMaster = false
		case "SLAVE":
			return false, "SYNC_MASTER or ASYNC_MASTER: the role of each broker group's master; a group's other replicas are its slaves"
		default:
			return false, "SYNC_MASTER or ASYNC_MASTER"
		}
		return true, ""
	}},
	msKey("syncFlushTimeout", scopeBroker, sim.Millisecond, func(t *target) *sim.Duration { return &t.b.RocketMQ.SyncFlushTimeout }),
	msKey("slaveTimeout", scopeBroker, sim.Millisecond, func(t *target) *sim.Duration { return &t.b.RocketMQ.SlaveTimeout }),
	msKey("flushIntervalCommitLog", scopeBroker, sim.Millisecond, func(t *target) *sim.Duration { return &t.b.RocketMQ.FlushInterval }),
	intKey("flushCommitLogLeastPages", scopeBroker, 0, 1<<30, func(t *target, n int64) { t.b.RocketMQ.FlushLeastPages = n }),
	msKey("flushCommitLogThoroughInterval", scopeBroker, sim.Millisecond, func(t *target) *sim.Duration { return &t.b.RocketMQ.FlushThorough }),
	intKey("haMaxGapNotInSync", scopeBroker, 1, math.MaxInt32, func(t *target, n int64) { t.b.RocketMQ.MaxGapNotInSync = n }),
	intKey("haSlaveFallbehindMax", scopeBroker, 1, math.MaxInt32, func(t *target, n int64) { t.b.RocketMQ.MaxGapNotInSync = n }),
	intKey("inSyncReplicas", scopeBroker, 1, 64, func(t *target, n int64) { t.b.RocketMQ.InSyncReplicas = int(n) }),
	msKey("haSendHeartbeatInterval", scopeBroker, sim.Millisecond, func(t *target) *sim.Duration { return &t.b.RocketMQ.HeartbeatInterval }),
	msKey("haHousekeepingInterval", scopeBroker, sim.Millisecond, func(t *target) *sim.Duration { return &t.b.RocketMQ.Housekeeping }),
	boolKey("enableControllerMode", scopeBroker, func(t *target) *bool { return &t.b.RocketMQ.ControllerMode }),
	boolKey("enableDLegerCommitLog", scopeBroker, func(t *target) *bool { return &t.b.RocketMQ.DLedger }),
	intKey("minInSyncReplicas", scopeBroker, 1, 64, func(t *target, n int64) { t.b.RocketMQ.MinInSyncReplicas = int(n) }),
	boolKey("allAckInSyncStateSet", scopeBroker, func(t *target) *bool { return &t.b.RocketMQ.AllAckInSyncStateSet }),
	msKey("haMaxTimeSlaveNotCatchup", scopeBroker, sim.Millisecond, func(t *target) *sim.Duration { return &t.b.RocketMQ.MaxTimeSlaveNotCatchup }),
	boolKey("enableElectUncleanMaster", scopeBroker, func(t *target) *bool { return &t.b.UncleanElection }),
	msKey("controllerHeartBeatTimeoutMills", scopeBroker, sim.Millisecond, func(t *target) *sim.Duration { return &t.b.SessionTimeout }),
	msKey("brokerHeartbeatInterval", scopeBroker, sim.Millisecond, func(t *target) *sim.Duration { return &t.b.HeartbeatInterval }),

	// OS writeback (Linux sysctls) and disk.
	intKey("vm.dirty_expire_centisecs", scopeOS, 1, 360000, func(t *target, n int64) { t.os.DirtyExpire = sim.Duration(n) * 10 * sim.Millisecond }),
	intKey("vm.dirty_writeback_centisecs", scopeOS, 1, 360000, func(t *target, n int64) { t.os.DirtyWriteback = sim.Duration(n) * 10 * sim.Millisecond }),
	boolKey("writeback", scopeOS, func(t *target) *bool { return &t.os.Writeback }),
	{name: "writeback.phase", scope: scopeOS, help: "random or aligned", apply: func(t *target, v string) (bool, string) {
		switch v {
		case "random":
			t.os.AlignedWriteback = false
		case "aligned":
			t.os.AlignedWriteback = true
		default:
			return false, "random (each machine's flusher at its own phase, drawn from the seed) or aligned (every machine in lock step)"
		}
		return true, ""
	}},
	durKey("fsync", scopeDisk, func(t *target) *sim.Duration { return &t.disk.Fsync }),
	durKey("fsync.jitter", scopeDisk, func(t *target) *sim.Duration { return &t.disk.FsyncJitter }),
	durKey("latency", scopeNet, func(t *target) *sim.Duration { return &t.net.Latency }),
	durKey("jitter", scopeNet, func(t *target) *sim.Duration { return &t.net.Jitter }),

	// Producer configs.
	{name: "acks", scope: scopeProducer, help: "0, 1, all or -1", apply: func(t *target, v string) (bool, string) {
		switch v {
		case "0":
			t.p.Acks = 0
		case "1":
			t.p.Acks = 1
		case "all", "-1":
			t.p.Acks = -1
		default:
			return false, "0, 1, all or -1"
		}
		t.pset["acks"] = true
		return true, ""
	}},
	intKey("retries", scopeProducer, 0, math.MaxInt32, func(t *target, n int64) { t.p.Retries = int(n); t.pset["retries"] = true }),
	msKey("retry.backoff.ms", scopeProducer, 0, func(t *target) *sim.Duration { return &t.p.RetryBackoff }),
	{name: "delivery.timeout.ms", scope: scopeProducer, help: "a duration; Kafka 2.1+ (KIP-91)", apply: func(t *target, v string) (bool, string) {
		if !t.prof.Features.DeliveryTimeout {
			return false, "delivery.timeout.ms does not exist before Kafka 2.1 (KIP-91); profile " + t.prof.Name
		}
		d, ok := parseMs(v)
		if !ok || d <= 0 {
			return false, "a positive duration"
		}
		t.p.DeliveryTimeout = d
		t.pset["delivery.timeout.ms"] = true
		return true, ""
	}},
	msKey("request.timeout.ms", scopeProducer, sim.Millisecond, func(t *target) *sim.Duration { return &t.p.RequestTimeout }),
	intKey("max.in.flight.requests.per.connection", scopeProducer, 1, 1000, func(t *target, n int64) {
		t.p.MaxInFlight = int(n)
		t.pset["max.in.flight.requests.per.connection"] = true
	}),
	{name: "enable.idempotence", scope: scopeProducer, help: "true or false; Kafka 0.11+", apply: func(t *target, v string) (bool, string) {
		b, ok := parseBool(v)
		if !ok {
			return false, "true or false"
		}
		if b && !t.prof.Features.Idempotence {
			return false, "the idempotent producer does not exist before Kafka 0.11 (KIP-98); profile " + t.prof.Name
		}
		t.p.Idempotence = b
		t.pset["enable.idempotence"] = true
		return true, ""
	}},
	intKey("batch.size", scopeProducer, 1, 1<<30, func(t *target, n int64) { t.p.BatchSize = int(n) }),
	msKey("linger.ms", scopeProducer, 0, func(t *target) *sim.Duration { return &t.p.Linger }),
	intKey("buffer.memory", scopeProducer, 1024, 1<<40, func(t *target, n int64) { t.p.BufferMemory = n }),
	msKey("max.block.ms", scopeProducer, 0, func(t *target) *sim.Duration { return &t.p.MaxBlock }),
	{name: "partitioner.class", scope: scopeProducer, help: "default (sticky) or RoundRobinPartitioner",
		apply: func(t *target, v string) (bool, string) {
			switch v {
			case "default":
				t.p.Partitioner = "sticky"
			case "RoundRobinPartitioner", "org.apache.kafka.clients.producer.RoundRobinPartitioner":
				t.p.Partitioner = "round-robin"
			default:
				return false, "default (sticky) or RoundRobinPartitioner"
			}
			return true, ""
		}},

	boolKey("acksim.require.send.ok", scopeProducer, func(t *target) *bool { return &t.p.RequireSendOK }),
	{name: "transactional.id", scope: scopeProducer, help: "a name of letters, digits and . _ - (makes the producer transactional; Kafka 0.11+)",
		apply: func(t *target, v string) (bool, string) {
			if !t.prof.Features.Idempotence {
				return false, "transactions need Kafka 0.11+ (KIP-98); profile " + t.prof.Name
			}
			if v == "" || len(v) > 249 || strings.IndexFunc(v, func(r rune) bool {
				return !(r == '.' || r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
			}) >= 0 {
				return false, "a name of 1 to 249 letters, digits and . _ -"
			}
			t.p.TransactionalID = v
			t.pset["transactional.id"] = true
			return true, ""
		}},
	msKey("transaction.timeout.ms", scopeProducer, sim.Millisecond, func(t *target) *sim.Duration { return &t.p.TransactionTimeout }),
	intKey("acksim.transaction.records", scopeProducer, 1, 1_000_000, func(t *target, n int64) { t.p.TxnRecords = int(n) }),
	{name: "acksim.transaction.on.fenced", scope: scopeProducer, help: "reinit (default) or stop: what the application does when its producer is fenced",
		apply: func(t *target, v string) (bool, string) {
			if v != "reinit" && v != "stop" {
				return false, "reinit or stop"
			}
			t.p.TxnOnFenced = v
			return true, ""
		}},

	// Consumer configs.
	boolKey("enable.auto.commit", scopeConsumer, func(t *target) *bool { return &t.c.AutoCommit }),
	{name: "isolation.level", scope: scopeConsumer, help: "read_uncommitted or read_committed (Kafka 0.11+)", apply: func(t *target, v string) (bool, string) {
		switch v {
		case "read_uncommitted":
			t.c.ReadCommitted = false
		case "read_committed":
			if !t.prof.Features.Idempotence {
				return false, "read_committed needs Kafka 0.11+ (KIP-98); profile " + t.prof.Name
			}
			t.c.ReadCommitted = true
		default:
			return false, "read_uncommitted or read_committed"
		}
		return true, ""
	}},
	boolKey("acksim.consumer.validate.position", scopeConsumer, func(t *target) *bool { return &t.c.ValidatePosition }),
	msKey("auto.commit.interval.ms", scopeConsumer, sim.Millisecond, func(t *target) *sim.Duration { return &t.c.AutoCommitInterval }),
	intKey("max.poll.records", scopeConsumer, 1, 1<<20, func(t *target, n int64) { t.c.MaxPollRecords = int(n) }),
	msKey("session.timeout.ms", scopeConsumer, sim.Millisecond, func(t *target) *sim.Duration { return &t.c.SessionTimeout }),
	msKey("heartbeat.interval.ms", scopeConsumer, sim.Millisecond, func(t *target) *sim.Duration { return &t.c.HeartbeatInterval }),
	{name: "auto.offset.reset", scope: scopeConsumer, help: "latest or earliest", apply: func(t *target, v string) (bool, string) {
		switch v {
		case "latest":
			t.c.ResetLatest = true
		case "earliest":
			t.c.ResetLatest = false
		default:
			return false, "latest or earliest"
		}
		return true, ""
	}},
}

// Replications are the replication designs cluster.replication accepts.
var Replications = []string{"kafka", "raft", "rocketmq"}

// designOf names the replication design a broker key belongs to; a key not
// listed belongs to every design (membership, OS, disk, clients). Setting a
// key of another design is an error, never ignored.
var designOf = map[string]string{
	"min.insync.replicas": "kafka", "unclean.leader.election.enable": "kafka", "replica.lag.time.max.ms": "kafka",
	"replica.fetch.wait.max.ms": "kafka", "replica.fetch.backoff.ms": "kafka", "replica.socket.timeout.ms": "kafka",
	"replica.lag.max.messages": "kafka", "acksim.restart.detected": "kafka", "log.flush.interval.messages": "kafka", "log.flush.interval.ms": "kafka", "log.flush.scheduler.interval.ms": "kafka",
	"replica.high.watermark.checkpoint.interval.ms": "kafka", "eligible.leader.replicas.enable": "kafka",
	"acksim.truncation": "kafka", "acksim.strict.min.isr.hw": "kafka", "acksim.isr.broker.epochs": "kafka",
	"write.caching": "raft", "flush.ms": "raft", "flush.bytes": "raft", "election_timeout_ms": "raft",
	"raft_heartbeat_interval_ms": "raft", "acksim.raft.prevote": "raft", "acksim.raft.vote.fsync": "raft", "acksim.raft.disk.loss": "raft",
	"acksim.rocketmq.version": "rocketmq", "flushDiskType": "rocketmq", "brokerRole": "rocketmq", "syncFlushTimeout": "rocketmq",
	"slaveTimeout": "rocketmq", "flushIntervalCommitLog": "rocketmq", "flushCommitLogLeastPages": "rocketmq",
	"flushCommitLogThoroughInterval": "rocketmq", "haMaxGapNotInSync": "rocketmq", "haSlaveFallbehindMax": "rocketmq",
	"inSyncReplicas": "rocketmq", "haSendHeartbeatInterval": "rocketmq", "haHousekeepingInterval": "rocketmq",
	"acksim.require.send.ok": "rocketmq", "enableControllerMode": "rocketmq", "minInSyncReplicas": "rocketmq", "enableDLegerCommitLog": "rocketmq",
	"allAckInSyncStateSet": "rocketmq", "haMaxTimeSlaveNotCatchup": "rocketmq", "enableElectUncleanMaster": "rocketmq",
	"controllerHeartBeatTimeoutMills": "rocketmq", "brokerHeartbeatInterval": "rocketmq",
	"transaction.version": "kafka", "transaction.partition.verification.enable": "kafka",
	"transaction.abort.timed.out.transaction.cleanup.interval.ms": "kafka", "transaction.max.timeout.ms": "kafka",
	"transaction.state.log.replication.factor": "kafka", "transaction.state.log.min.isr": "kafka",
}

// notForDesign lists the producer settings a design refuses (RocketMQ's
// send has no acks and no idempotence).
var notForDesign = map[string][]string{"acks": {"rocketmq"}, "enable.idempotence": {"rocketmq"},
	"transactional.id": {"raft", "rocketmq"}, "transaction.timeout.ms": {"raft", "rocketmq"}, "acksim.transaction.records": {"raft", "rocketmq"}, "acksim.transaction.on.fenced": {"raft", "rocketmq"},
	"isolation.level": {"raft", "rocketmq"}}

// AppliesTo reports whether --set key k means something on replication
// design d: a setting of another design, or one d refuses, does not (a
// sweep's replication axis leaves such axes out of d's cells).
func AppliesTo(k, d string) bool {
	if t, ok := strings.CutPrefix(k, "topic."); ok {
		return topicKeys[d][t] != ""
	}
	if o := designOf[k]; o != "" && o != d {
		return false
	}
	return !slices.Contains(notForDesign[k], d)
}

func findSetting(sc scope, name string) *setting {
	for i := range settings {
		if settings[i].scope == sc && settings[i].name == name {
			return &settings[i]
		}
	}
	return nil
}

func namesIn(sc scope) string {
	var n []string
	for _, s := range settings {
		if s.scope == sc {
			n = append(n, s.name)
		}
	}
	sort.Strings(n)
	return strings.Join(n, ", ")
}

// setFields are the scenario fields --set takes besides config keys.
var setFields = []string{"kafka", "replication", "seed", "cluster.brokers", "cluster.partitions", "cluster.replication.factor",
	"run.duration", "run.recovery", "workload.records", "workload.rate", "workload.keys", "workload.on.error", "processing.on.abort"}

// SetKeys lists what --set accepts: the scenario fields and every config
// key (for shell completion), sorted.
func SetKeys() []string {
	out := slices.Clone(setFields)
	for _, st := range settings {
		if !slices.Contains(out, st.name) {
			out = append(out, st.name)
		}
	}
	for _, k := range strings.Split(topicKeyNames(), ", ") {
		out = append(out, "topic."+k)
	}
	sort.Strings(out)
	return out
}

// SettingsReference lists every config key, by section, with what it accepts.
func SettingsReference() []string {
	var out []string
	for _, sc := range []scope{scopeBroker, scopeOS, scopeDisk, scopeNet, scopeProducer, scopeConsumer} {
		for _, s := range settings {
			if s.scope == sc {
				out = append(out, fmt.Sprintf("%s | `%s` | %s", scopeNames[sc], s.name, s.help))
			}
		}
	}
	return out
}

// topicKeys maps, per replication design, each topic-level config name to
// the broker setting it overrides. A topic's value beats the broker's
// whatever the order they are given in (Kafka: LogConfig's topic
// overrides of the broker defaults, e.g. flush.messages over
// log.flush.interval.messages; Redpanda: topic properties over cluster
// defaults).
var topicKeys = map[string]map[string]string{
	"kafka": {"flush.messages": "log.flush.interval.messages", "flush.ms": "log.flush.interval.ms",
		"min.insync.replicas": "min.insync.replicas", "unclean.leader.election.enable": "unclean.leader.election.enable"},
	"raft": {"write.caching": "write.caching", "flush.ms": "flush.ms", "flush.bytes": "flush.bytes"},
	// RocketMQ's flush and replication are broker settings; a topic has none.
	"rocketmq": {},
}

// topicKeyNames lists the topic-level names of every design, sorted.
func topicKeyNames() string {
	all := map[string]string{}
	for _, d := range topicKeys {
		maps.Copy(all, d)
	}
	return strings.Join(sortedKeys(all), ", ")
}

func isTopicKey(k string) bool {
	for _, d := range topicKeys {
		if d[k] != "" {
			return true
		}
	}
	return false
}
