package model

import "acksim/sim"

// stall is a process's GC or VM pause (a broker's, a client's): it handles
// nothing while paused; the network holds the messages sent to it, and its
// timers wait in deferred, to fire when it resumes.
type stall struct {
	paused   bool
	deferred []sim.Event // timers that fired while paused
}

// hold pauses the process at node n.
func (s *stall) hold(h *host, n sim.NodeID) {
	s.paused = true
	h.Net.Pause(n)
}

// release ends the pause: the deferred timers fire now, then the held
// messages are delivered.
func (s *stall) release(h *host, n sim.NodeID) {
	s.paused = false
	for _, ev := range s.deferred {
		h.E.At(h.E.Now(), ev)
	}
	s.deferred = nil
	h.Net.Resume(n)
}

// drop ends the pause by the process's death: its deferred timers and the
// messages held for it are gone.
func (s *stall) drop(h *host, n sim.NodeID) {
	s.paused, s.deferred = false, nil
	h.Net.DropHeld(n)
	h.Net.Resume(n)
}
