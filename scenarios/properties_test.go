package scenarios

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A properties file applies the keys acksim models, as --set would, with
// java.util.Properties' syntax (=, : or a space; comments; continued
// lines); every other key is a warning naming file and line; a bad value is
// an error naming them.
func TestApplyProperties(t *testing.T) {
	s, err := Load("acks1-leader-crash")
	if err != nil {
		t.Fatal(err)
	}
	file := "# a broker\nbroker.id=1\n! also a comment\nmin.insync.replicas = 2\nunclean.leader.election.enable:true\nreplica.lag.time.max.ms \\\n   10000\nlisteners=PLAINTEXT://:9092\nacks all\n"
	warns := s.ApplyProperties("server.properties", []byte(file))
	want := []string{"server.properties:2: broker.id: not modelled by acksim; ignored", "server.properties:8: listeners: not modelled by acksim; ignored"}
	if diff := cmp.Diff(want, warns); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	r, err := s.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	b := r.Spec.Broker
	if b.MinISR != 2 || !b.UncleanElection || b.ReplicaLagTimeMax.Milliseconds() != 10000 || r.Spec.Producers[0].Cfg.Acks != -1 {
		t.Errorf("applied: min ISR %d, unclean %v, lag %v, acks %d", b.MinISR, b.UncleanElection, b.ReplicaLagTimeMax, r.Spec.Producers[0].Cfg.Acks)
	}
	if !slicesContainAll(r.Warnings, want) {
		t.Errorf("the run's warnings %v lack the file's", r.Warnings)
	}
	s, _ = Load("acks1-leader-crash")
	s.ApplyProperties("producer.properties", []byte("linger.ms=5\nacks=7\n"))
	_, err = s.Resolve()
	if err == nil || !strings.Contains(err.Error(), `producer.properties:2: acks: "7": 0, 1, all or -1`) {
		t.Errorf("bad value: %v", err)
	}
}

func slicesContainAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
