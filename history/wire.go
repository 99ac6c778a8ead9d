package history

import "acksim/sim"

// Message is one message between two nodes as a space-time diagram draws
// it. Recorded only when a run is asked to record messages.
type Message struct {
	From, To     int // lane: index into Recording.Lanes
	Kind         string
	Sent, Arrive sim.Time
	Fate         sim.Fate
	Text         string
	// Records are the application records the message carries (a produce
	// request's batch, a fetch response's batches) or, for a produce
	// response without error, the records it acknowledged.
	Records []RecordID
	Ack     bool // a produce response that acknowledged its records
	// Routine is background traffic a diagram may leave out: heartbeats,
	// and fetches and fetch responses that carry no records.
	Routine bool
}

// Recording is what a space-time diagram needs of a run: the nodes as
// lanes, and every message in send order.
type Recording struct {
	Lanes      []string  // the controller, the brokers, the producers, the consumers
	BrokerLane []int     // Lanes index of broker id (index 0 unused)
	Messages   []Message // in send order
}

// Lane is the Lanes index of broker id.
func (r *Recording) Lane(broker int) int { return r.BrokerLane[broker] }
