package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"math/bits"
	"strconv"
)

// Line is one structured trace record: an event the kernel executed, or a
// note a model component emitted while handling one.
type Line struct {
	Step uint64 `json:"step"`
	At   Time   `json:"t_ns"`
	Node string `json:"node"`
	Kind string `json:"kind"`
	A    int64  `json:"a"`
	B    int64  `json:"b"`
	Text string `json:"text,omitempty"`
}

// Tracer receives trace lines. Implementations must not retain l.
type Tracer interface {
	Trace(l *Line)
}

// Describer is implemented by payloads that can describe themselves in a
// trace line. It is only called when a Tracer is attached.
type Describer interface {
	Describe() string
}

// Trace keeps a rolling 64-bit hash of every executed event and note, and
// streams lines to an optional Tracer.
type Trace struct {
	hash   uint64
	tracer Tracer
	line   Line
}

const hashSeed = 0x9E3779B97F4A7C15

func (t *Trace) init() { t.hash = hashSeed }

// mix folds v into h (a multiply-xorshift step; cheap and well spread).
func mix(h, v uint64) uint64 {
	hi, lo := bits.Mul64(h^v, 0xBF58476D1CE4E5B9)
	return hi ^ lo
}

func (t *Trace) event(e *Engine, ev *Event) {
	h := t.hash
	h = mix(h, uint64(ev.At))
	h = mix(h, uint64(ev.Kind)<<32|uint64(uint32(ev.Node)))
	h = mix(h, uint64(ev.A))
	h = mix(h, uint64(ev.B))
	t.hash = h
	if t.tracer != nil {
		l := &t.line
		*l = Line{Step: e.steps, At: ev.At, Node: e.NodeName(ev.Node), Kind: e.KindName(ev.Kind), A: ev.A, B: ev.B}
		if d, ok := ev.P.(Describer); ok {
			l.Text = d.Describe()
		}
		t.tracer.Trace(l)
	}
}

// SetTracer attaches (or, with nil, detaches) a tracer.
func (e *Engine) SetTracer(t Tracer) { e.trace.tracer = t }

// Tracing reports whether a tracer is attached (so callers can skip building
// note text nobody reads; the hash covers a note's kind and integers, and its
// text whenever it is built).
func (e *Engine) Tracing() bool { return e.trace.tracer != nil }

// Hash is the rolling hash of everything executed and noted so far.
func (e *Engine) Hash() uint64 { return e.trace.hash }

// Note records a model-level fact (an election, a truncation) in the trace
// and the hash, at the current time and step.
func (e *Engine) Note(node NodeID, kind KindID, a, b int64, text string) {
	t := &e.trace
	h := t.hash
	h = mix(h, uint64(e.now))
	h = mix(h, uint64(kind)<<32|uint64(uint32(node))|1<<63)
	h = mix(h, uint64(a))
	h = mix(h, uint64(b))
	for i := 0; i < len(text); i++ {
		h = mix(h, uint64(text[i]))
	}
	t.hash = h
	if t.tracer != nil {
		l := &t.line
		*l = Line{Step: e.steps, At: e.now, Node: e.NodeName(node), Kind: e.KindName(kind), A: a, B: b, Text: text}
		t.tracer.Trace(l)
	}
}

// TextTracer writes one line per event: step, time, node, kind, then A, B
// and the text. Columns are separated by spaces; time is printed as a Go
// duration since the start of the run.
type TextTracer struct {
	W   io.Writer
	buf []byte
	Err error
}

// Trace writes l.
func (t *TextTracer) Trace(l *Line) {
	b := t.buf[:0]
	b = strconv.AppendUint(b, l.Step, 10)
	b = append(b, ' ')
	b = append(b, l.At.String()...)
	b = append(b, ' ')
	b = append(b, l.Node...)
	b = append(b, ' ')
	b = append(b, l.Kind...)
	b = append(b, " a="...)
	b = strconv.AppendInt(b, l.A, 10)
	b = append(b, " b="...)
	b = strconv.AppendInt(b, l.B, 10)
	if l.Text != "" {
		b = append(b, ' ')
		b = append(b, l.Text...)
	}
	b = append(b, '\n')
	t.buf = b
	if _, err := t.W.Write(b); err != nil && t.Err == nil {
		t.Err = err
	}
}

// JSONTracer writes each line as one JSON object (JSON Lines).
type JSONTracer struct {
	W   io.Writer
	Err error
}

// Trace writes l.
func (t *JSONTracer) Trace(l *Line) {
	b, err := json.Marshal(l)
	if err == nil {
		b = append(b, '\n')
		_, err = t.W.Write(b)
	}
	if err != nil && t.Err == nil {
		t.Err = err
	}
}

// Recorder keeps every line in memory (for tests and reports).
type Recorder struct{ Lines []Line }

// Trace appends a copy of l.
func (r *Recorder) Trace(l *Line) { r.Lines = append(r.Lines, *l) }

// String prints the recorded lines in the TextTracer format.
func (r *Recorder) String() string {
	var s []byte
	w := &TextTracer{W: writerFunc(func(p []byte) (int, error) { s = append(s, p...); return len(p), nil })}
	for i := range r.Lines {
		w.Trace(&r.Lines[i])
	}
	return string(s)
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// HashString formats a trace hash the way acksim prints it.
func HashString(h uint64) string { return fmt.Sprintf("%016x", h) }
