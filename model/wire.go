package model

import "acksim/sim"

// WireMessage is one message between two nodes as a space-time diagram
// draws it. Recorded only when the network records (RecordMessages).
type WireMessage struct {
	From, To     int // lane: index into Lanes()
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

// RecordMessages makes the network keep every message from now on, for
// Wire. Call it before Start; it changes nothing in the run.
func (c *Cluster) RecordMessages() {
	c.Net.Record()
	c.pool.off = true // the recording keeps payloads: none may be reused
}

// Lanes names the nodes in the order Wire's From and To index them:
// the controller, the brokers, the producers, the consumers (node ids 1..;
// node 0 is the kernel).
func (c *Cluster) Lanes() []string {
	out := make([]string, c.E.Nodes()-1)
	for i := range out {
		out[i] = c.E.NodeName(sim.NodeID(i + 1))
	}
	return out
}

// Lane is the Lanes index of broker id.
func (c *Cluster) Lane(broker int) int { return int(c.brokers[broker].Node) - 1 }

// Wire returns the recorded messages in send order.
func (c *Cluster) Wire() []WireMessage {
	type key struct {
		producer sim.NodeID
		corr     int64
	}
	inFlight := map[key][]RecordID{}
	msgs := c.Net.Messages()
	out := make([]WireMessage, 0, len(msgs))
	for _, m := range msgs {
		w := WireMessage{From: int(m.From) - 1, To: int(m.To) - 1, Kind: c.E.KindName(m.Kind), Sent: m.Sent, Arrive: m.Arrive, Fate: m.Fate}
		if d, ok := m.P.(sim.Describer); ok {
			w.Text = d.Describe()
		} else {
			w.Text = w.Kind
		}
		switch p := m.P.(type) {
		case *produceReq:
			w.Records = p.batch.records
			inFlight[key{m.From, p.corr}] = p.batch.records
		case *produceResp:
			k := key{m.To, p.corr}
			if p.err == ErrNone {
				w.Records, w.Ack = inFlight[k], true
			}
			delete(inFlight, k)
		case *fetchResp:
			for _, b := range p.batches {
				w.Records = append(w.Records, b.Records...)
			}
			w.Routine = len(w.Records) == 0
		case *fetchReq:
			w.Routine = true
		case *heartbeat:
			w.Routine = true
		}
		out = append(out, w)
	}
	return out
}
