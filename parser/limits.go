package parser

// Limits bound what the parser accepts, so that no peer can make it hold
// unbounded memory. A zero field takes its default.
type Limits struct {
	// MaxMessageSize bounds a whole message, start line to end of body.
	// Default 65535, the largest UDP payload.
	MaxMessageSize int
	// MaxHeaders bounds the number of header field lines. Default 128.
	MaxHeaders int
	// MaxHeaderLine bounds one header field, folds included. Default 8192;
	// at most 65000.
	MaxHeaderLine int
	// MaxBodySize bounds the body. Default 65535.
	MaxBodySize int
	// MaxVias bounds the number of Via values. Default 70, the usual
	// initial Max-Forwards.
	MaxVias int
}

// DefaultLimits are the limits used where none are given.
var DefaultLimits = Limits{
	MaxMessageSize: 65535,
	MaxHeaders:     128,
	MaxHeaderLine:  8192,
	MaxBodySize:    65535,
	MaxVias:        70,
}

// resolve returns l with zero fields set to their defaults.
func (l *Limits) resolve() Limits {
	if l == nil {
		return DefaultLimits
	}
	r := *l
	if r.MaxMessageSize <= 0 {
		r.MaxMessageSize = DefaultLimits.MaxMessageSize
	}
	if r.MaxHeaders <= 0 {
		r.MaxHeaders = DefaultLimits.MaxHeaders
	}
	if r.MaxHeaderLine <= 0 {
		r.MaxHeaderLine = DefaultLimits.MaxHeaderLine
	}
	if r.MaxHeaderLine > maxHeaderLine {
		r.MaxHeaderLine = maxHeaderLine
	}
	if r.MaxBodySize <= 0 {
		r.MaxBodySize = DefaultLimits.MaxBodySize
	}
	if r.MaxVias <= 0 {
		r.MaxVias = DefaultLimits.MaxVias
	}
	return r
}

const maxHeaderLine = 65000
