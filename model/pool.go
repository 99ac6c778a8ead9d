package model

import "acksim/history"

// pool recycles what every replicated record costs: a follower's fetch
// request, the leader's fetch response, the produce request and response,
// and the delayed produce that waits in the purgatory. Each has one owner at
// a time (sender, then network, then receiver), and the receiver hands it
// back only once nothing refers to it: the leader after answering a
// follower's fetch or a produce, the follower after appending every batch of
// a response (not while an fsync closure still holds it), the producer after
// handling a response. Consumers' fetches are never recycled. Recording
// messages for a diagram turns recycling off, since the recording keeps
// every payload.
type pool struct {
	off          bool
	fetchReqs    freeList[fetchReq]
	fetchResps   freeList[fetchResp]
	produceReqs  freeList[produceReq]
	produceResps freeList[produceResp]
	delayeds     freeList[delayedProduce]
	// The RocketMQ design's: a put waiting on its master, a slave's report
	// and a master's transfer (returned by their receiver once handled).
	rmqPuts      freeList[rmqPut]
	rmqReports   freeList[rmqReport]
	rmqTransfers freeList[rmqTransfer]
	batches      []history.Batch    // a slab (see batch)
	ids          []history.RecordID // a slab (see recordIDs)
}

// freeList is a stack of spare *T.
type freeList[T any] struct{ free []*T }

// get returns a spare T (holding whatever it held) or a new zero one.
func (f *freeList[T]) get() *T {
	if n := len(f.free); n > 0 {
		m := f.free[n-1]
		f.free = f.free[:n-1]
		return m
	}
	return new(T)
}

func (f *freeList[T]) put(m *T) { f.free = append(f.free, m) }

func (p *pool) fetchReq() *fetchReq { return p.fetchReqs.get() }

func (p *pool) rmqPut() *rmqPut { return p.rmqPuts.get() }

// putRmqPut takes back a put its master has answered (not a message:
// recording does not keep it).
func (p *pool) putRmqPut(m *rmqPut) {
	*m = rmqPut{}
	p.rmqPuts.put(m)
}

func (p *pool) rmqReport() *rmqReport { return p.rmqReports.get() }

// putRmqReport takes back a report its master has handled; the epochs
// slice is kept for the next handshake.
func (p *pool) putRmqReport(m *rmqReport) {
	if p.off {
		return
	}
	*m = rmqReport{epochs: m.epochs[:0]}
	p.rmqReports.put(m)
}

func (p *pool) rmqTransfer() *rmqTransfer { return p.rmqTransfers.get() }

// putRmqTransfer takes back a transfer its slave has handled; the entries
// slice is kept.
func (p *pool) putRmqTransfer(m *rmqTransfer) {
	if p.off {
		return
	}
	clear(m.entries)
	*m = rmqTransfer{entries: m.entries[:0]}
	p.rmqTransfers.put(m)
}

// putFetchReq takes back a follower's fetch request the leader is done with.
func (p *pool) putFetchReq(m *fetchReq) {
	if p.off || m.replica < 0 {
		return
	}
	*m = fetchReq{}
	p.fetchReqs.put(m)
}

func (p *pool) fetchResp() *fetchResp { return p.fetchResps.get() }

// putFetchResp takes back a fetch response a follower is done with; its
// batches slice is kept for the next response.
func (p *pool) putFetchResp(m *fetchResp) {
	if p.off {
		return
	}
	clear(m.batches)
	*m = fetchResp{batches: m.batches[:0]}
	p.fetchResps.put(m)
}

// produceResp returns a produce response holding v.
func (p *pool) produceResp(v produceResp) *produceResp {
	m := p.produceResps.get()
	*m = v
	return m
}

func (p *pool) putProduceResp(m *produceResp) {
	if !p.off {
		p.produceResps.put(m)
	}
}

func (p *pool) produceReq() *produceReq { return p.produceReqs.get() }

func (p *pool) putProduceReq(m *produceReq) {
	if !p.off {
		*m = produceReq{}
		p.produceReqs.put(m)
	}
}

func (p *pool) delayed() *delayedProduce { return p.delayeds.get() }

// putDelayed takes back a delayed produce that left the purgatory (it is
// not a message: recording does not keep it).
func (p *pool) putDelayed(d *delayedProduce) {
	*d = delayedProduce{}
	p.delayeds.put(d)
}

// batch hands out a log batch from a slab: batches live in logs until the
// run ends, so allocating them 256 at a time costs nothing in retention and
// saves most of their allocations.
func (p *pool) batch() *history.Batch {
	if len(p.batches) == 0 {
		p.batches = make([]history.Batch, 256)
	}
	b := &p.batches[0]
	p.batches = p.batches[1:]
	return b
}

// recordIDs copies a producer batch's record ids for a log batch, into a
// slab, at their exact length: the producer's slice has room to grow (or
// lives inside its batch), and logs keep their batches until the run ends.
func (p *pool) recordIDs(ids []history.RecordID) []history.RecordID {
	if len(ids) > len(p.ids) {
		p.ids = make([]history.RecordID, max(4096, len(ids)))
	}
	out := p.ids[:len(ids):len(ids)]
	copy(out, ids)
	p.ids = p.ids[len(ids):]
	return out
}
