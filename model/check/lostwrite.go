package check

import (
	"fmt"
	"slices"

	"acksim/history"
)

// LostWrites returns the acknowledged records that are not in the final
// committed log and that no replica holds: the producer was told they were
// written, and they are gone. (acks=0 records count as acknowledged: send()
// reported success.) A record of a partition that ended offline, still held
// by a replica, is stranded, not lost (see Stranded).
func LostWrites(h *history.Run, ix *committedIndex, stranded []bool) []history.RecordID {
	var out []history.RecordID
	for i := range h.Records {
		id := history.RecordID(i + 1)
		if h.Records[i].Outcome == history.OutcomeAcked && ix.copies(id) == 0 && !stranded[id] {
			out = append(out, id)
		}
	}
	return out
}

// Stranded marks the acknowledged records of partitions that ended offline
// (no eligible leader) which some replica still holds: not lost, but out
// of reach until that replica leads (an unclean election, or the return of
// an eligible one). Indexed by record id.
func Stranded(h *history.Run, ix *committedIndex) []bool {
	out := make([]bool, len(h.Records)+1)
	for _, p := range h.Partitions {
		if p.Leader >= 0 {
			continue
		}
		for _, r := range p.Replicas {
			for _, b := range r.Batches {
				for _, id := range b.Records {
					if id > 0 && int(id) < len(out) && h.Records[id-1].Outcome == history.OutcomeAcked && ix.copies(id) == 0 {
						out[id] = true
					}
				}
			}
		}
	}
	return out
}

// explainStranded says, per offline partition, how many acknowledged records
// are stranded and which replicas hold them.
func explainStranded(h *history.Run, stranded []bool) []Explanation {
	var out []Explanation
	for _, p := range h.Partitions {
		if p.Leader >= 0 {
			continue
		}
		var ids []history.RecordID
		holders := map[int]bool{}
		for _, r := range p.Replicas {
			for _, b := range r.Batches {
				for _, id := range b.Records {
					if id > 0 && int(id) < len(stranded) && stranded[id] {
						holders[r.Broker] = true
						if !slices.Contains(ids, id) {
							ids = append(ids, id)
						}
					}
				}
			}
		}
		if len(ids) == 0 {
			continue
		}
		slices.Sort(ids)
		var hs []int
		for b := range holders {
			hs = append(hs, b)
		}
		slices.Sort(hs)
		out = append(out, Explanation{Anomaly: "stranded", Partition: h.TPName(p.TP), Count: len(ids), Records: rangeName(h, ids),
			Story: []string{
				fmt.Sprintf("%s ended offline: no replica is eligible to lead it", h.TPName(p.TP)),
				fmt.Sprintf("broker(s) %v still hold these acknowledged records; they are not lost, and come back if one of those brokers is elected (unclean.leader.election.enable, or the return of an eligible replica)", hs),
			}})
	}
	return out
}
