package model

import (
	"acksim/history"
	"acksim/sim"
)

// RecordMessages makes the network keep every message from now on, for
// Recording. Call it before Start; it changes nothing in the run.
func (c *Cluster) RecordMessages() {
	c.Net.Record()
	c.h.pool.off = true // the recording keeps payloads: none may be reused
}

// Recording returns what a space-time diagram needs: the nodes as lanes
// (the controller, the brokers, the producers, the consumers: node ids
// 1..; node 0 is the kernel) and the recorded messages in send order. It is
// empty of messages unless RecordMessages was called before Start.
func (c *Cluster) Recording() *history.Recording {
	rec := &history.Recording{Lanes: make([]string, c.E.Nodes()-1), BrokerLane: make([]int, len(c.brokers))}
	for i := range rec.Lanes {
		rec.Lanes[i] = c.E.NodeName(sim.NodeID(i + 1))
	}
	for _, b := range c.brokers[1:] {
		rec.BrokerLane[b.ID] = int(b.Node) - 1
	}
	rec.Messages = c.wire()
	return rec
}

// wire turns the network's recorded messages into diagram messages.
func (c *Cluster) wire() []history.Message {
	type key struct {
		producer sim.NodeID
		corr     int64
	}
	inFlight := map[key][]history.RecordID{}
	msgs := c.Net.Messages()
	out := make([]history.Message, 0, len(msgs))
	for _, m := range msgs {
		w := history.Message{From: int(m.From) - 1, To: int(m.To) - 1, Kind: c.E.KindName(m.Kind), Sent: m.Sent, Arrive: m.Arrive, Fate: m.Fate}
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
		case *appendReq:
			for _, b := range p.entries {
				w.Records = append(w.Records, b.Records...)
			}
			w.Routine = len(w.Records) == 0
		case *appendResp:
			w.Routine = p.ok
		}
		out = append(out, w)
	}
	return out
}
