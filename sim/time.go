// Package sim is acksim's discrete-event kernel: virtual time, an event queue,
// seeded random streams, a network of FIFO links, and a hashed trace. It knows
// nothing about Kafka.
package sim

import "time"

// Time is a point in virtual time: nanoseconds since the start of a run.
type Time int64

// Duration is a span of virtual time in nanoseconds. It converts freely to
// and from time.Duration, and prints the way Go prints durations.
type Duration int64

// Units of virtual time.
const (
	Nanosecond  Duration = 1
	Microsecond          = 1000 * Nanosecond
	Millisecond          = 1000 * Microsecond
	Second               = 1000 * Millisecond
	Minute               = 60 * Second
	Hour                 = 60 * Minute
)

// Never is a time after every event of any run.
const Never Time = 1<<63 - 1

func (d Duration) String() string { return time.Duration(d).String() }

// Milliseconds returns d in (fractional) milliseconds.
func (d Duration) Milliseconds() float64 { return float64(d) / float64(Millisecond) }

// Seconds returns d in (fractional) seconds.
func (d Duration) Seconds() float64 { return float64(d) / float64(Second) }

func (t Time) String() string { return time.Duration(t).String() }

// Short is t for people: to the millisecond from a second on, to the
// microsecond below (String keeps every nanosecond, for traces).
func (t Time) Short() string {
	switch {
	case t >= Time(Second):
		return time.Duration(t).Round(time.Millisecond).String()
	case t >= Time(Millisecond):
		return time.Duration(t).Round(time.Microsecond).String()
	}
	return time.Duration(t).String()
}

// Add returns t+d.
func (t Time) Add(d Duration) Time { return t + Time(d) }

// Sub returns t-u.
func (t Time) Sub(u Time) Duration { return Duration(t - u) }
