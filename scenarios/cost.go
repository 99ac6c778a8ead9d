package scenarios

import (
	"fmt"
	"math"
)

// Cost is what a run needs, estimated from the resolved scenario before it
// starts, so that a run too big for the machine is refused with the
// figures instead of run until the machine gives out.
type Cost struct {
	Records int64 // application records the producers send
	Events  int64 // kernel events, about
	Bytes   int64 // memory held at the end of the run, about
}

// Per record, measured with runtime.MemStats (TestCostCoversMeasuredHeap):
// the ledger's record (48 bytes) and what the checkers allocate while they
// read the run (about 60 bytes a record: indexes, latencies, waits). Per
// record and replica: the log batch, its acknowledgement and every
// replica's log entry, measured when every batch holds one record (low
// rates, linger.ms=0): about 18 bytes a replica at RF 5. Larger batches
// (high rates) cost less, so this is an upper bound: a 10-minute run at
// 100,000 records/s at RF 3 is estimated at 9.5 GiB and peaks at 5.5 GiB
// (resident, with cmd/acksim's GC pacing), most of it the ledger.
const (
	bytesPerRecord        = 110
	bytesPerRecordReplica = 20
	eventsPerRecord       = 6
	// DefaultMaxMemory is the estimated memory a run may need before it is
	// refused (--max-memory raises it).
	DefaultMaxMemory = 4 << 30
)

// Cost estimates a run of the scenario: each producer sends at its rate for
// run.duration (or its workload's own duration, or until its records are
// sent), and every record is held in the ledger and in every replica's log.
func (r *Resolved) Cost(s *Scenario) Cost {
	var records float64
	for _, p := range r.Spec.Producers {
		d := s.Duration
		if p.WL.Duration > 0 && p.WL.Duration < d {
			d = p.WL.Duration
		}
		n := p.WL.Rate * d.Seconds()
		if p.WL.Records > 0 {
			n = math.Min(n, float64(p.WL.Records))
		}
		records += n
	}
	for _, c := range r.Spec.Consumers {
		if c.Output != "" {
			records *= 2 // a consume-transform-produce application writes one output record per input record
			break
		}
	}
	recs := int64(math.Min(records, math.MaxInt64/1024))
	return Cost{Records: recs, Events: recs * eventsPerRecord,
		Bytes: recs * (bytesPerRecord + bytesPerRecordReplica*int64(r.Spec.RF))}
}

// LimitError is a run refused because its estimated cost is past a limit:
// not bad input, a resource the machine (or the user) caps.
type LimitError struct {
	What        string // what is estimated, e.g. "the run"
	Need, Limit int64  // bytes
	Flag        string // the flag that raises the limit
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s would need about %s of memory, over the limit of %s; raise it with %s, or shorten the run", e.What, sizeText(e.Need), sizeText(e.Limit), e.Flag)
}

// CheckMemory refuses a cost past max bytes.
func (c Cost) CheckMemory(what string, max int64) error {
	if c.Bytes > max {
		return &LimitError{What: fmt.Sprintf("%s (%d records)", what, c.Records), Need: c.Bytes, Limit: max, Flag: "--max-memory"}
	}
	return nil
}

func sizeText(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", b>>10)
}
