package history

import "fmt"

// Kind is the kind of an Event. Its String is the name users see in the
// timeline, the JSON output and the trace ("event.<name>"); explanations
// and diagrams match kinds, never names, so renaming one cannot silently
// break them.
type Kind uint8

// Event kinds.
const (
	KindNone Kind = iota
	// Faults and lifecycle of a broker.
	Crash     // kill -9 of a broker process
	PowerLoss // a machine lost power: page cache gone
	DiskLoss  // a machine lost its log directory
	Restart   // a broker process started again
	Shutdown  // a controlled shutdown began or ended
	Pause     // a GC or VM stall began
	Resume    // a stall ended
	SlowDisk  // fsync slowed
	// Faults of the network (applied by the scenario).
	Partition     // the network split
	Heal          // the network healed
	Isolate       // one node cut off from every other
	DropResponses // responses to some nodes are lost
	FaultTimeout  // a triggered fault step gave up waiting
	// Replication.
	Stuck     // a follower cannot append the leader's batch (pre-0.11)
	Fence     // the controller fenced a broker
	Unfence   // the controller unfenced a broker
	Elect     // a leader was elected
	ISR       // an ISR (quorum) change was accepted (or, for KIP-903, refused)
	Offline   // a partition has no eligible leader
	Truncated // a replica truncated its log
	Lost      // a replica's storage lost records (power or disk loss)
	Recovery  // the recovery phase began
	// Clients.
	Group            // the group coordinator removed a member
	OffsetReset      // a consumer applied auto.offset.reset
	ProducerCrash    // a producer process died
	ProducerRestart  // a producer process started again
	ConsumerCrash    // a consumer process died
	ConsumerRestart  // a consumer process started again
	Halt             // a broker stopped itself (pre-0.11: truncation not allowed)
	Delay            // links became slow (a delay fault) or fast again
	Gone             // a broker will never come back (a permanent fault)
	ControllerOutage // the controller quorum became unreachable, or came back
	TxnEnd           // the transaction coordinator prepared or completed a commit or an abort
	TxnFence         // the transaction coordinator fenced a producer (a new instance, or a timed-out transaction)
	numKinds
)

var kindNames = [numKinds]string{"", "crash", "power-loss", "disk-loss", "restart", "shutdown", "pause",
	"resume", "slow-disk", "partition", "heal", "isolate", "drop-responses", "fault-timeout", "stuck",
	"fence", "unfence", "elect", "isr", "offline", "truncated", "lost", "recovery", "group",
	"offset-reset", "producer-crash", "producer-restart", "consumer-crash", "consumer-restart", "halt", "delay", "gone", "controller-outage", "txn-end", "txn-fence"}

// NumKinds is the number of kinds (for tables indexed by Kind).
const NumKinds = int(numKinds)

func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// MarshalText writes the kind's name (JSON output keeps today's strings).
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name.
func (k *Kind) UnmarshalText(b []byte) error {
	for i, n := range kindNames {
		if i > 0 && n == string(b) {
			*k = Kind(i)
			return nil
		}
	}
	return fmt.Errorf("unknown event kind %q", b)
}

// Fault reports whether the kind is a fault that explanations of a lost
// record tell whatever partition it is on.
func (k Kind) Fault() bool {
	switch k {
	case Crash, PowerLoss, DiskLoss, Partition, Isolate, Pause, Shutdown, Fence, DropResponses, Halt, Delay, ControllerOutage:
		return true
	}
	return false
}

// PartitionChange reports whether the kind is a change of one partition's
// leadership or quorum (told only for that partition).
func (k Kind) PartitionChange() bool { return k == Elect || k == ISR || k == Offline }

// Down reports whether the kind takes a broker down (until Restart).
func (k Kind) Down() bool {
	return k == Crash || k == PowerLoss || k == DiskLoss || k == Shutdown || k == Halt
}

// Removal reports whether the kind removes records from a log.
func (k Kind) Removal() bool { return k == Truncated || k == Lost }
