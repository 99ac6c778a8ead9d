package model

import (
	"math/rand/v2"

	"acksim/sim"
)

// host is all a node may touch: the engine and the network, the observer,
// the random streams, the configuration and a lookup of other nodes. A node
// never reaches another node's state through it, only its address.
type host struct {
	E    *sim.Engine
	Net  *sim.Network
	obs  *recorder
	k    kinds
	pool pool
	spec *Spec
	// tasks are the design's broker-wide periodic tasks (design.tasks).
	tasks []periodicTask
	// brokerTimer marks, by kind, the events that are a broker's timers
	// (dropped when of another incarnation, deferred while paused); a
	// design adds its own.
	brokerTimer []bool
	// refused marks, by kind, a design's broker-to-broker messages that a
	// dead process's OS resets (refuseKinds).
	refused []bool
	// trunc is the truncation rule of the broker configuration's era.
	trunc truncationRule

	diskRng *rand.Rand
	osRng   *rand.Rand // each machine's writeback phase
	ctlNode sim.NodeID
	// brokerNodes is the network node of each broker id (index 0 unused).
	brokerNodes []sim.NodeID
	// producerNode marks the nodes of producers (indexed by node), for a
	// dead broker's connection refusals.
	producerNode []bool
	// clientNodes are the producers' then the consumers' nodes.
	clientNodes []sim.NodeID

	gen, pid int64
	txnCorr  int64 // correlation ids of transaction requests
	// stopping: producers generate no new records (recovery has begun).
	stopping bool
	// conn holds the kinds of a client's connection setup, registered the
	// first time a client reconnects (so runs without one keep their trace).
	conn struct {
		known               bool
		req, resp, tTimeout sim.KindID
	}
	// txk holds the transaction protocol's kinds, registered only in runs
	// with a transactional producer.
	txk txnKinds
	// Transactions: the transaction log's partition (-1 without
	// transactional producers), its entries (a batch there holds the
	// negated index of one, as its record), by transactional.id whether
	// its producer runs transaction version 2, and each partition's leader
	// (the coordinator's metadata).
	txnTP     int
	txnStates []txnMeta
	// parts is the number of data partitions: the topic's, then the output
	// topic's of a consume-transform-produce application (from outTP0; -1
	// without one). The transaction log's partition comes after them.
	parts    int
	outTP0   int
	pk       pipeKinds
	txnTV2   map[string]bool
	leaderOf func(tp int) int
	// leadershipChanged runs after a replica becomes leader (the cluster
	// checks its invariants there).
	leadershipChanged func()
}

func (h *host) nextGen() int64 { h.gen++; return h.gen }
func (h *host) nextPID() int64 { h.pid++; return h.pid }

// node is broker id's network node.
func (h *host) node(broker int) sim.NodeID { return h.brokerNodes[broker] }

// brokers is the number of brokers (ids 1..brokers).
func (h *host) brokers() int { return len(h.brokerNodes) - 1 }

// minISR is the effective min.insync.replicas: min(minISR, RF).
func (h *host) minISR() int { return min(h.spec.Broker.MinISR, h.spec.RF) }

// minISRFor is partition tp's min.insync.replicas: the transaction log
// has its own (transaction.state.log.min.isr).
func (h *host) minISRFor(tp int) int {
	if tp == h.txnTP {
		return h.spec.Broker.TxnStateMinISR
	}
	return h.minISR()
}

func (h *host) tpName(tp int) string { return h.obs.tpName(tp) }

// violate reports a broken model invariant (a bug in acksim).
func (h *host) violate(format string, args ...any) { violate(h.E, h.spec.Seed, format, args...) }

// markBrokerTimers records kinds as broker timers.
func (h *host) markBrokerTimers(kinds ...sim.KindID) {
	for _, k := range kinds {
		for int(k) >= len(h.brokerTimer) {
			h.brokerTimer = append(h.brokerTimer, false)
		}
		h.brokerTimer[k] = true
	}
}

// isBrokerTimer reports whether kind is a broker's timer.
func (h *host) isBrokerTimer(kind sim.KindID) bool {
	return int(kind) < len(h.brokerTimer) && h.brokerTimer[kind]
}

// refuseKinds marks kinds of broker-to-broker messages whose sender a dead
// process's OS answers with a connection reset (a design's own
// connections, as RocketMQ's HA connections).
func (h *host) refuseKinds(kinds ...sim.KindID) {
	for _, k := range kinds {
		for int(k) >= len(h.refused) {
			h.refused = append(h.refused, false)
		}
		h.refused[k] = true
	}
}

// refuses reports whether a dead process's OS resets a message of kind.
func (h *host) refuses(kind sim.KindID) bool { return int(kind) < len(h.refused) && h.refused[kind] }

// connKinds registers, on first use, the kinds of a client's connection
// setup: the request, the broker's answer, and the client's timeout.
func (h *host) connKinds() {
	if !h.conn.known {
		h.conn.known = true
		h.conn.req, h.conn.resp, h.conn.tTimeout = h.E.Kind("connect"), h.E.Kind("connect-response"), h.E.Kind("timer.connect-timeout")
	}
}

// isConnect reports whether kind is a client's connection request.
func (h *host) isConnect(kind sim.KindID) bool { return h.conn.known && kind == h.conn.req }
