package digest

import "testing"

func TestParseAlgorithm(t *testing.T) {
	tests := []struct {
		rfc, in string
		want    Algorithm
		ok      bool
	}{
		{"RFC 7616 §3.3: absent means MD5", "", MD5, true},
		{"RFC 7616 §3.3", "MD5", MD5, true},
		{"RFC 7616 §3.3", "MD5-sess", MD5Sess, true},
		{"RFC 7616 §3.3", "SHA-256", SHA256, true},
		{"RFC 7616 §3.3", "SHA-256-sess", SHA256Sess, true},
		{"RFC 7616 §3.3", "SHA-512-256", SHA512_256, true},
		{"RFC 7616 §3.3", "SHA-512-256-sess", SHA512_256Sess, true},
		{"RFC 2617 §3.2.1: tokens compare case-insensitively", "md5-SESS", MD5Sess, true},
		{"RFC 2617 §3.2.1", "sha-256", SHA256, true},
		{"RFC 2617 §3.2.1: unknown", "SHA-1", 0, false},
		{"RFC 2617 §3.2.1: unknown", "AKAv1-MD5", 0, false},
		{"RFC 2617 §3.2.1: unknown", "SHA-512", 0, false},
		{"RFC 2617 §3.2.1: unknown", "MD5 ", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseAlgorithm(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: ParseAlgorithm(%q) = %v, %v; want %v, %v", tt.rfc, tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestAlgorithmProperties(t *testing.T) {
	tests := []struct {
		a        Algorithm
		name     string
		sess     bool
		hash     Algorithm
		strength int
		size     int
	}{
		{MD5, "MD5", false, MD5, 1, 32},
		{MD5Sess, "MD5-sess", true, MD5, 1, 32},
		{SHA256, "SHA-256", false, SHA256, 2, 64},
		{SHA256Sess, "SHA-256-sess", true, SHA256, 2, 64},
		{SHA512_256, "SHA-512-256", false, SHA512_256, 3, 64},
		{SHA512_256Sess, "SHA-512-256-sess", true, SHA512_256, 3, 64},
		{0, "", false, 0, 0, 0},
		{7, "", false, 7, 0, 0},
	}
	for _, tt := range tests {
		if tt.a.String() != tt.name || tt.a.Sess() != tt.sess || tt.a.Hash() != tt.hash ||
			tt.a.Strength() != tt.strength || tt.a.Size() != tt.size {
			t.Errorf("%d: got %q %v %v %d %d", tt.a, tt.a.String(), tt.a.Sess(), tt.a.Hash(), tt.a.Strength(), tt.a.Size())
		}
		if tt.a.Valid() {
			if back, ok := ParseAlgorithm(tt.a.String()); !ok || back != tt.a {
				t.Errorf("ParseAlgorithm(%v.String()) = %v, %v", tt.a, back, ok)
			}
		}
	}
}

func TestInvalidAlgorithm(t *testing.T) {
	for _, a := range []Algorithm{0, 7, 255} {
		if HA1(a, "u", "r", "p", "n", "c") != "" || HA2(a, "GET", "/", "auth", nil) != "" ||
			Response(a, "x", "n", "00000001", "c", "auth", "y") != "" || UserHash(a, "u", "r") != "" ||
			SessionHA1(a, "x", "n", "c") != "" {
			t.Errorf("algorithm %d: want empty digests", a)
		}
	}
}

func TestUserHash(t *testing.T) {
	// RFC 7616 §3.4.4: username = H(unq(username) ":" unq(realm)); values
	// cross-checked with Python's hashlib.
	tests := []struct {
		a    Algorithm
		want string
	}{
		{MD5, "2e063fa2c54dea1c36808b7a6e3b14c9"},
		{SHA256, "5a1a8a47df5c298551b9b42ba9b05835174a5bd7d511ff7fe9191d8e946fc4e7"},
		{SHA512_256Sess, "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b"},
	}
	for _, tt := range tests {
		if got := UserHash(tt.a, jasonUser, jasonRealm); got != tt.want {
			t.Errorf("UserHash(%v) = %s, want %s", tt.a, got, tt.want)
		}
	}
}

func TestAppendNC(t *testing.T) {
	for nc, want := range map[uint32]string{1: "00000001", 0xabc: "00000abc", 0xffffffff: "ffffffff", 0: "00000000"} {
		if got := string(appendNC(nil, nc)); got != want {
			t.Errorf("appendNC(%d) = %s, want %s", nc, got, want)
		}
	}
}
