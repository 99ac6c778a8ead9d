package model

// pool recycles the messages every replicated record costs most of: a
// follower's fetch request, the leader's fetch response, the produce
// response. Each has one
// owner at a time (sender, then network, then receiver), and the receiver
// hands it back only once nothing refers to it: the leader after answering a
// follower's fetch, the follower after appending every batch of a response
// (not while an fsync closure still holds it). Consumers' fetches are never
// recycled. Recording messages for a diagram turns recycling off, since the
// recording keeps every payload.
type pool struct {
	off        bool
	fetchReqs  []*fetchReq
	fetchResps []*fetchResp
	// produceResps are recycled; batches is a slab (see batch).
	produceResps []*produceResp
	batches      []Batch
	// produceReqs come back from the leader once answered; delayed
	// produces once they leave the purgatory.
	produceReqs []*produceReq
	delayeds    []*delayedProduce
}

func (p *pool) fetchReq() *fetchReq {
	if n := len(p.fetchReqs); n > 0 {
		m := p.fetchReqs[n-1]
		p.fetchReqs = p.fetchReqs[:n-1]
		return m
	}
	return &fetchReq{}
}

// putFetchReq takes back a follower's fetch request the leader is done with.
func (p *pool) putFetchReq(m *fetchReq) {
	if p.off || m.replica < 0 {
		return
	}
	*m = fetchReq{}
	p.fetchReqs = append(p.fetchReqs, m)
}

func (p *pool) fetchResp() *fetchResp {
	if n := len(p.fetchResps); n > 0 {
		m := p.fetchResps[n-1]
		p.fetchResps = p.fetchResps[:n-1]
		return m
	}
	return &fetchResp{}
}

// putFetchResp takes back a fetch response a follower is done with; its
// batches slice is kept for the next response.
func (p *pool) putFetchResp(m *fetchResp) {
	if p.off {
		return
	}
	clear(m.batches)
	*m = fetchResp{batches: m.batches[:0]}
	p.fetchResps = append(p.fetchResps, m)
}

// produceResp returns a produce response holding v. The producer hands it
// back after handling it (onResponse keeps nothing of it).
func (p *pool) produceResp(v produceResp) *produceResp {
	if n := len(p.produceResps); n > 0 {
		m := p.produceResps[n-1]
		p.produceResps = p.produceResps[:n-1]
		*m = v
		return m
	}
	m := v
	return &m
}

func (p *pool) putProduceResp(m *produceResp) {
	if !p.off {
		p.produceResps = append(p.produceResps, m)
	}
}

// batch hands out a log batch from a slab: batches live in logs until the
// run ends, so allocating them 256 at a time costs nothing in retention and
// saves most of their allocations.
func (p *pool) batch() *Batch {
	if len(p.batches) == 0 {
		p.batches = make([]Batch, 256)
	}
	b := &p.batches[0]
	p.batches = p.batches[1:]
	return b
}

func (p *pool) produceReq() *produceReq {
	if n := len(p.produceReqs); n > 0 {
		m := p.produceReqs[n-1]
		p.produceReqs = p.produceReqs[:n-1]
		return m
	}
	return &produceReq{}
}

func (p *pool) putProduceReq(m *produceReq) {
	if !p.off {
		*m = produceReq{}
		p.produceReqs = append(p.produceReqs, m)
	}
}

func (p *pool) delayed() *delayedProduce {
	if n := len(p.delayeds); n > 0 {
		d := p.delayeds[n-1]
		p.delayeds = p.delayeds[:n-1]
		return d
	}
	return &delayedProduce{}
}

func (p *pool) putDelayed(d *delayedProduce) {
	*d = delayedProduce{}
	p.delayeds = append(p.delayeds, d)
}
