package scenarios

import (
	"acksim/model"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// rmqSc is the RocketMQ design's baseline with sets applied.
func rmqSc(t *testing.T, sets ...string) *Scenario {
	t.Helper()
	return loadSc(t, "rocketmq-healthy-cluster", sets...)
}

// SYNC_FLUSH answers a put only once the master has fsynced it, and a
// classic master never hands its queue to another broker: nothing
// acknowledged is lost to crashes, power losses of any number of machines,
// partitions or pauses, whatever the replication mode.
func TestPropertyRocketMQSyncFlushNeverLoses(t *testing.T) {
	o := ExploreOptions{Faults: []string{"crash", "power-loss", "partition", "isolate", "pause"}, MaxDown: 3, MaxPowerLoss: 3, MaxFaults: 5}
	holds(t, rmqSc(t, "flushDiskType=SYNC_FLUSH"), o, "lost_write")
}

// ASYNC_FLUSH answers from the page cache: the master's power loss loses
// acknowledged records even when a slave had to hold them first.
func TestCanaryRocketMQAsyncFlushPowerLoss(t *testing.T) {
	o := ExploreOptions{Faults: []string{"power-loss"}, MaxDown: 3, MaxPowerLoss: 1}
	finds(t, rmqSc(t, "brokerRole=SYNC_MASTER", "inSyncReplicas=2", "workload.rate=1000"), o, "lost_write")
}

// Swarm test on the RocketMQ design: random versions, flush and
// replication modes against random schedules. Every run converges once the
// faults stop (a slave that diverged from its master counts as settled,
// as nothing will reconcile it), and SYNC_FLUSH without disk faults never
// loses an acknowledged record.
func TestSwarmRocketMQConfigurations(t *testing.T) {
	if testing.Short() {
		t.Skip("property search skipped in -short mode")
	}
	o := ExploreOptions{Faults: []string{"crash", "power-loss", "partition", "pause", "isolate"}, MaxDown: 3, MaxPowerLoss: 3, MaxFaults: 4}
	rapid.Check(t, func(rt *rapid.T) {
		version := rapid.SampledFrom([]string{"4", "5"}).Draw(rt, "version")
		flush := rapid.SampledFrom([]string{"ASYNC_FLUSH", "SYNC_FLUSH"}).Draw(rt, "flushDiskType")
		role := rapid.SampledFrom([]string{"ASYNC_MASTER", "SYNC_MASTER"}).Draw(rt, "brokerRole")
		sets := []string{"acksim.rocketmq.version=" + version, "flushDiskType=" + flush, "brokerRole=" + role,
			"acksim.require.send.ok=" + rapid.SampledFrom([]string{"false", "true"}).Draw(rt, "require")}
		if version == "5" {
			sets = append(sets, "inSyncReplicas="+rapid.SampledFrom([]string{"1", "2", "3"}).Draw(rt, "inSyncReplicas"))
		}
		v, st := runDrawn(rt, rmqSc(t, sets...), o, sets)
		if !v.Converged {
			rt.Fatalf("%v: did not converge after the faults stopped; schedule: %s", sets, st)
		}
		if flush == "SYNC_FLUSH" && v.Anomalies.LostWrite > 0 {
			rt.Fatalf("%v lost %d acknowledged records; schedule: %s", sets, v.Anomalies.LostWrite, st)
		}
	})
}

// The four flush x replication combinations under the master's power loss
// (rocketmq-async-flush-master-power-loss's schedule): only the flush
// decides, since classic master-slave never fails over to the slave.
func TestRocketMQFlushReplicationCombinations(t *testing.T) {
	for _, c := range []struct {
		flush, role string
		lose        bool
	}{
		{"ASYNC_FLUSH", "ASYNC_MASTER", true},
		{"ASYNC_FLUSH", "SYNC_MASTER", true},
		{"SYNC_FLUSH", "ASYNC_MASTER", false},
		{"SYNC_FLUSH", "SYNC_MASTER", false},
	} {
		res := runSet(t, loadSc(t, "rocketmq-async-flush-master-power-loss"), Options{}, "flushDiskType="+c.flush, "brokerRole="+c.role)
		if got := res.Verdict.Anomalies.LostWrite > 0; got != c.lose {
			t.Errorf("%s + %s: lost %d acknowledged records; want loss %v", c.flush, c.role, res.Verdict.Anomalies.LostWrite, c.lose)
		}
	}
}

// 4.x SYNC_MASTER answers SLAVE_NOT_AVAILABLE while the slave is away: a
// success to an application that only catches exceptions, a failure of
// unknown outcome to one that requires SEND_OK, which then has fewer
// acknowledged records to lose.
func TestRocketMQDegradedStatuses(t *testing.T) {
	lax := runSet(t, loadSc(t, "rocketmq-4x-slave-not-available"), Options{})
	strict := runSet(t, loadSc(t, "rocketmq-4x-slave-not-available"), Options{}, "acksim.require.send.ok=true")
	n := lax.Verdict.ProduceErrors["SLAVE_NOT_AVAILABLE"]
	if n == 0 || lax.Verdict.Records.Unknown != 0 {
		t.Fatalf("lax: %d SLAVE_NOT_AVAILABLE, %d unknown; want some, none", n, lax.Verdict.Records.Unknown)
	}
	if strict.Verdict.Records.Unknown == 0 || strict.Verdict.Anomalies.LostWrite >= lax.Verdict.Anomalies.LostWrite {
		t.Errorf("require.send.ok: %d unknown, %d lost (lax: %d lost); want unknown records and fewer lost",
			strict.Verdict.Records.Unknown, strict.Verdict.Anomalies.LostWrite, lax.Verdict.Anomalies.LostWrite)
	}
	// 5.x waits for inSyncReplicas-1 slaves, and answers FLUSH_SLAVE_TIMEOUT
	// after slaveTimeout when they do not come; with inSyncReplicas 1 it
	// waits for none and never says so.
	for _, c := range []struct {
		isr  string
		want bool
	}{{"1", false}, {"2", true}} {
		res := runSet(t, loadSc(t, "rocketmq-4x-slave-not-available"), Options{}, "acksim.rocketmq.version=5", "inSyncReplicas="+c.isr, "request.timeout.ms=10s")
		if got := res.Verdict.ProduceErrors["FLUSH_SLAVE_TIMEOUT"] > 0; got != c.want {
			t.Errorf("5.x inSyncReplicas %s: %d FLUSH_SLAVE_TIMEOUT; want some: %v", c.isr, res.Verdict.ProduceErrors["FLUSH_SLAVE_TIMEOUT"], c.want)
		}
	}
}

// Settings of another design, or of another RocketMQ version, and Kafka
// producer settings RocketMQ has no use for are errors naming the field.
func TestRocketMQBadSettings(t *testing.T) {
	for _, c := range []struct {
		sets []string
		want string
	}{
		{[]string{"acks=1"}, "not a RocketMQ setting"},
		{[]string{"enable.idempotence=true"}, "no idempotence"},
		{[]string{"write.caching=true"}, "setting of the raft design"},
		{[]string{"min.insync.replicas=2"}, "setting of the kafka design"},
		{[]string{"acksim.rocketmq.version=4", "inSyncReplicas=2"}, "came with RocketMQ 5.0"},
		{[]string{"inSyncReplicas=2", "acksim.rocketmq.version=4"}, "came with RocketMQ 5.0"},
		{[]string{"haSlaveFallbehindMax=1000"}, "named haMaxGapNotInSync"},
		{[]string{"brokerRole=SLAVE"}, "group's other replicas are its slaves"},
		{[]string{"flushDiskType=sync"}, "SYNC_FLUSH or ASYNC_FLUSH"},
		{[]string{"topic.flush.ms=5"}, "no topic configs"},
	} {
		s := rmqSc(t, c.sets...)
		_, err := s.Resolve()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v; want an error saying %q", c.sets, err, c.want)
		}
	}
	for _, kv := range []string{"flushDiskType=SYNC_FLUSH", "acksim.require.send.ok=true"} {
		s := baseSc(t, kv)
		if _, err := s.Resolve(); err == nil || !strings.Contains(err.Error(), "rocketmq design") {
			t.Errorf("kafka with %s: got %v; want an error naming the rocketmq design", kv, err)
		}
	}
}

// Controller mode waiting for the whole SyncStateSet, with SYNC_FLUSH:
// every acknowledged record is on the master's disk and in the memory of
// every member the controller may elect, so crashes, one machine's power
// loss at a time, partitions and pauses lose none. (Slaves acknowledge
// from the page cache: a whole-cluster power loss can elect a slave that
// lost it, rocketmq-controller-cluster-power-loss.)
func TestPropertyRocketMQControllerAllAckNeverLoses(t *testing.T) {
	o := ExploreOptions{Faults: []string{"crash", "power-loss", "partition", "isolate", "pause"}, MaxDown: 1, MaxPowerLoss: 1, MaxFaults: 5}
	holds(t, rmqSc(t, "enableControllerMode=true", "allAckInSyncStateSet=true", "flushDiskType=SYNC_FLUSH", "workload.rate=1000"), o, "lost_write")
}

// Controller mode with its defaults (ASYNC_FLUSH) loses acknowledged
// records to one machine's power loss: the master's, back before the
// controller notices, or back after a slave's election and truncated.
// (rocketmq-controller-stale-master-election shows inSyncReplicas 1's own
// loss with no power lost.)
func TestCanaryRocketMQControllerDefaultLoses(t *testing.T) {
	o := ExploreOptions{Faults: []string{"power-loss"}, MaxDown: 1, MaxPowerLoss: 1}
	finds(t, rmqSc(t, "enableControllerMode=true", "workload.rate=1000"), o, "lost_write")
}

// DLedger mode runs on the Raft design with DLedger's settings, refuses the
// CommitLog's settings and fewer than three replicas.
func TestRocketMQDLedger(t *testing.T) {
	res := runSet(t, loadSc(t, "rocketmq-dledger-cluster-power-loss"), Options{})
	if res.History.Design != "rocketmq" || res.Spec.Broker.Raft != model.DLedgerRaft() {
		t.Errorf("design %s with Raft settings %+v; want rocketmq with DLedger's", res.History.Design, res.Spec.Broker.Raft)
	}
	if res.Verdict.Anomalies.LostWrite == 0 {
		t.Errorf("DLedger lost nothing in a whole-cluster power loss; want the flush window lost")
	}
	for _, c := range []struct {
		sets []string
		want string
	}{
		{[]string{"enableDLegerCommitLog=true", "flushDiskType=SYNC_FLUSH"}, "not a setting of DLedger mode"},
		{[]string{"enableDLegerCommitLog=true", "cluster.replication.factor=2"}, "at least 3 replicas"},
	} {
		if _, err := rmqSc(t, c.sets...).Resolve(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v; want an error saying %q", c.sets, err, c.want)
		}
	}
}
