package model_test

import (
	"testing"

	"acksim/model"
)

// rmqSpec is the 3-broker cluster on the RocketMQ design: RocketMQ 5's
// defaults, or SYNC_FLUSH with SYNC_MASTER waiting for one slave.
func rmqSpec(sync bool) model.Spec {
	s := spec("3.9", -1, 1)
	s.Replication = "rocketmq"
	s.Producers[0].Cfg.Idempotence = false
	if sync {
		s.Broker.RocketMQ.SyncFlush, s.Broker.RocketMQ.SyncMaster, s.Broker.RocketMQ.InSyncReplicas = true, true, 2
	}
	return s
}

// No faults: every record is acknowledged and kept, on every replica.
func TestRocketMQNoFaults(t *testing.T) {
	for _, sync := range []bool{false, true} {
		c, v := run(t, rmqSpec(sync))
		if v.Records.Acked != 3000 || v.Anomalies.LostWrite != 0 || v.Anomalies.Divergence != 0 || !v.Converged {
			t.Errorf("sync %v: %+v %+v converged %v", sync, v.Records, v.Anomalies, v.Converged)
		}
		for _, id := range c.BrokerIDs() {
			if leo, _, _ := c.BrokerByID(id).LogEnd(0); leo != 3000 {
				t.Errorf("sync %v: broker %d ends at %d; want 3000", sync, id, leo)
			}
		}
	}
}

// A whole-cluster power loss: ASYNC_FLUSH loses what it answered from the
// page cache; SYNC_FLUSH what it answered is on the master's disk.
func TestRocketMQClusterPowerLoss(t *testing.T) {
	for _, sync := range []bool{false, true} {
		_, v := run(t, rmqSpec(sync), powerLossAll(2*1e9))
		if lost := v.Anomalies.LostWrite > 0; lost == sync {
			t.Errorf("sync %v: lost %d", sync, v.Anomalies.LostWrite)
		}
	}
}

// BenchmarkCluster60sRocketMQ is BenchmarkCluster60s's cluster and
// workload on the RocketMQ design with SYNC_FLUSH and SYNC_MASTER waiting
// for one slave; ...Async with RocketMQ's defaults.
func BenchmarkCluster60sRocketMQ(b *testing.B)      { bench60s(b, rmqSpec(true)) }
func BenchmarkCluster60sRocketMQAsync(b *testing.B) { bench60s(b, rmqSpec(false)) }
