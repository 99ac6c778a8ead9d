package model

import "acksim/sim"

// nodeMux is the handler of a node that hosts more than one service (the
// controller node hosts the controller and the group coordinator): each
// message kind is routed to the service that registered it. Timers go to
// their service's own handler directly.
type nodeMux struct {
	routes []sim.Handler // by message kind
}

// route sends messages of the given kinds to h.
func (m *nodeMux) route(h sim.Handler, kinds ...sim.KindID) {
	for _, k := range kinds {
		for int(k) >= len(m.routes) {
			m.routes = append(m.routes, nil)
		}
		m.routes[k] = h
	}
}

// Handle passes ev to the service that registered its kind.
func (m *nodeMux) Handle(e *sim.Engine, ev *sim.Event) {
	if int(ev.Kind) < len(m.routes) && m.routes[ev.Kind] != nil {
		m.routes[ev.Kind].Handle(e, ev)
	}
}
