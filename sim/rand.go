package sim

import "math/rand/v2"

// Streams derive independent random streams from a master seed. A stream is
// named by (master seed, trial index, domain): drawing more numbers from one
// domain (say "workload") never changes what another ("faults") draws, and
// trial i sees the same streams whatever worker runs it. This is what makes
// common random numbers across configurations possible.
//
// Derivation: the domain name is hashed with FNV-1a, and the three values are
// combined with SplitMix64 into the two 64-bit words of a PCG generator.
type Streams struct {
	Master uint64
	Trial  uint64
}

// Stream returns the generator for domain. Calling it twice with the same
// arguments returns two generators producing the same sequence.
func (s Streams) Stream(domain string) *rand.Rand {
	return rand.New(rand.NewPCG(s.words(domain)))
}

func (s Streams) words(domain string) (uint64, uint64) {
	d := uint64(14695981039346656037)
	for i := 0; i < len(domain); i++ {
		d ^= uint64(domain[i])
		d *= 1099511628211
	}
	a := splitmix(s.Master ^ splitmix(s.Trial+0x632BE59BD9B4E019))
	b := splitmix(a ^ splitmix(d))
	return a ^ d, b
}

// TrialSeed derives the seed of trial i of a sweep from the master seed, so
// that a single trial can be replayed on its own with that seed.
func TrialSeed(master uint64, trial uint64) uint64 {
	return splitmix(master ^ splitmix(trial+0x9E3779B97F4A7C15))
}

func splitmix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

// ExpDuration draws an exponentially distributed duration with the given mean.
func ExpDuration(r *rand.Rand, mean Duration) Duration {
	return Duration(r.ExpFloat64() * float64(mean))
}

// Jitter draws a duration uniformly in [0, max).
func Jitter(r *rand.Rand, max Duration) Duration {
	if max <= 0 {
		return 0
	}
	return Duration(r.Int64N(int64(max)))
}
