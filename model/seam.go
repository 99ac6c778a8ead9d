package model

import (
	"acksim/history"
	"acksim/sim"
)

// The replication seam. A replication design (Kafka's ISR replication
// today; Raft and RocketMQ's master-slave next) plugs in at two points:
//
//   - design, once per cluster: it places each broker's replica of each
//     partition, names the broker-wide periodic tasks its replicas need,
//     and answers, for the cluster, who leads a partition, which replicas'
//     copies count, whether replication has settled, and its invariants.
//   - hosted, once per partition replica on a broker: the broker routes to
//     it the client protocol (produce, fetch), the design's own messages
//     and timers, and the fate of the process and the storage.
//
// The broker keeps what every design shares: the process and its
// incarnations, the OS and page cache, the disk and fsync, membership with
// the controller. Producers, consumers, the checkers, the scenario format
// and the reports see neither interface: clients speak the produce and
// fetch protocol, and everything else reads the history. docs/design.md
// draws who calls whom.

// design is a replication design as a cluster hosts it. Its constructor
// (newISR, newRaft) places a replica of each partition on each broker of
// the partition's assignment (broker.reps).
type design interface {
	// tasks are the broker-wide periodic tasks of the design: each broker
	// runs each one every interval from its process start, and hands the
	// timer to every replica it hosts (hosted.step).
	tasks() []periodicTask
	// leader is the broker the design's authority names leader of tp (-1
	// none); quorum is the replicas whose copies count toward an ack
	// (Kafka: the ISR); replicas is the assignment.
	leader(tp int) int
	quorum(tp int) []int
	replicas(tp int) []int
	// settled reports whether tp's replication has converged: a live
	// leader, every replica in the quorum holding the leader's log and
	// high watermark. committed is the leader's committed offset.
	settled(tp int) (ok bool, committed int64)
	// checkInvariants panics (through host.violate) on a broken invariant.
	checkInvariants()
}

// periodicTask is a broker-wide timer a design needs.
type periodicTask struct {
	kind     sim.KindID
	interval func(*BrokerConfig) sim.Duration
}

// hosted is a partition replica as its broker hosts it.
type hosted interface {
	// produce answers a producer; serveFetch answers a fetch (a consumer's,
	// or a follower's where the design pulls).
	produce(from sim.NodeID, m *produceReq)
	serveFetch(from sim.NodeID, m *fetchReq)
	// step handles a message of the design (a partitionMsg for this
	// partition) or one of its timers (the partition in A's low 16 bits, or
	// a broker-wide task).
	step(ev *sim.Event)
	// peerDown: broker id's process died (its OS refused a connection).
	peerDown(id int)
	// known is the replica's partition metadata as the controller keeps it,
	// for the broker's heartbeat (false: the design keeps none there).
	known() (knownState, bool)

	// start: the process (re)started; recover from what the disk holds.
	start()
	// stop: the process stopped; in-memory state is gone.
	stop()
	// storageLost: the machine died; with disk, the log directory is gone,
	// else the page cache is. It returns what the log lost.
	storageLost(disk bool) []*history.Batch
	// flushAll: a clean shutdown flushes the log and writes checkpoints.
	flushAll()

	// Views for the cluster: the partition, the log, the high watermark
	// (what consumers may read), and whether the replica believes it leads.
	partition() int
	log() *Log
	highWatermark() int64
	leads() bool
}

// partitionMsg is a design's message to one partition's replica.
type partitionMsg interface{ partition() int }

func (m *fetchResp) partition() int          { return m.tp }
func (m *epochReq) partition() int           { return m.tp }
func (m *epochResp) partition() int          { return m.tp }
func (m *partitionState) partition() int     { return m.tp }
func (m *alterPartitionResp) partition() int { return m.tp }

// partitionOf is the partition a replica timer is for (see fetchTimerArg).
func partitionOf(a int64) int { return int(a & 0xffff) }
