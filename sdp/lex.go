package sdp

import "math"

// tokenChar is RFC 8866 §9's token-char: %x21 / %x23-27 / %x2A-2B /
// %x2D-2E / %x30-39 / %x41-5A / %x5E-7E.
var tokenChar = func() (t [256]bool) {
	for c := 0x21; c <= 0x7e; c++ {
		switch c {
		case '"', '(', ')', ',', '/', ':', ';', '<', '=', '>', '?', '@', '[', '\\', ']':
		default:
			t[c] = true
		}
	}
	return t
}()

// isToken reports whether s is a non-empty token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenChar[s[i]] {
			return false
		}
	}
	return true
}

// isProto reports whether s is token *("/" token).
func isProto(s string) bool {
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '/' {
			if i == start {
				return false
			}
			start = i + 1
			continue
		}
		if !tokenChar[s[i]] {
			return false
		}
	}
	return true
}

// isNonWS reports whether s is a non-ws-string: 1*(VCHAR / %x80-FF).
func isNonWS(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// isText reports whether s can be the value of a text line: no NUL, CR or LF.
func isText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 || c == '\r' || c == '\n' {
			return false
		}
	}
	return true
}

// parseUint parses 1*DIGIT of at most max, without overflowing.
func parseUint(s string, max uint64) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
		if n > max {
			return 0, false
		}
	}
	return n, true
}

// parseInt parses 1*DIGIT of at most max into an int.
func parseInt(s string, max int) (int, bool) {
	n, ok := parseUint(s, uint64(max))
	return int(n), ok
}

// splitSP appends the space-separated fields of s to dst. Runs of spaces
// count as one separator and spaces at either end are ignored (tolerating
// what some implementations send); other white space is part of a field.
func splitSP(s string, dst []string) []string {
	for i := 0; i < len(s); {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i == len(s) {
			break
		}
		j := i
		for j < len(s) && s[j] != ' ' {
			j++
		}
		dst = append(dst, s[i:j])
		i = j
	}
	return dst
}

// cut splits s at the first sep.
func cut(s string, sep byte) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// trimSP removes spaces at both ends of s.
func trimSP(s string) string {
	i, j := 0, len(s)
	for i < j && s[i] == ' ' {
		i++
	}
	for j > i && s[j-1] == ' ' {
		j--
	}
	return s[i:j]
}

// equalFold compares ASCII strings case-insensitively.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// lower returns s with ASCII letters in lower case.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
