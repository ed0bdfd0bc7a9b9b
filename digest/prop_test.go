package digest

import (
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/sansip/sansip/header"
)

func propParams(t *testing.T) *gopter.TestParameters {
	p := gopter.DefaultTestParameters()
	p.MinSuccessfulTests = 1000
	seed := int64(20261123)
	if s := os.Getenv("SANSIP_PROP_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	p.SetSeed(seed)
	t.Logf("seed %d (replay: SANSIP_PROP_SEED=%d go test -run %s ./digest/)", seed, seed, t.Name())
	return p
}

type exchange struct {
	Username, Password, Realm string
	Method, User, Host        string
	Body                      []byte
	Alg                       int
	QOP                       int
	UserHash                  bool
	Secret                    []byte
	Flip                      int
	XOR                       byte
}

// noCRLF: a quoted-string carries anything but CR and LF (RFC 3261
// §25.1).
func noCRLF(s string) string { return strings.NewReplacer("\r", "", "\n", "").Replace(s) }

func genExchange() gopter.Gen {
	return gen.Struct(reflect.TypeOf(exchange{}), map[string]gopter.Gen{
		"Username": gen.AnyString().Map(noCRLF),
		"Password": gen.AnyString(),
		"Realm":    gen.AnyString().Map(noCRLF),
		"Method":   gen.OneConstOf("INVITE", "REGISTER", "MESSAGE", "SUBSCRIBE", "BYE", "ACK", "OPTIONS", "X-CUSTOM"),
		"User":     gen.AlphaString(),
		"Host":     gen.OneConstOf("biloxi.example.com", "192.0.2.4:5061", "[2001:db8::9]"),
		"Body":     gen.SliceOf(gen.UInt8()),
		"Alg":      gen.IntRange(0, len(allAlgorithms)-1),
		"QOP":      gen.IntRange(0, 2),
		"UserHash": gen.Bool(),
		"Secret":   gen.SliceOfN(32, gen.UInt8()),
		"Flip":     gen.IntRange(0, 1<<20),
		"XOR":      gen.UInt8Range(1, 255),
	})
}

// TestPropAuthorizeVerify: for any user, password, realm, method, URI,
// body, algorithm, qop and userhash, what Authorize builds for a Server's
// challenge Verifies OK; changing any hex digit of the response to
// another, or any byte of it (other than its case), makes it Bad; and it
// is refused when replayed.
func TestPropAuthorizeVerify(t *testing.T) {
	props := gopter.NewProperties(propParams(t))
	props.Property("Authorize then Verify", prop.ForAll(func(x exchange) string {
		return runExchange(x)
	}, genExchange()))
	props.TestingRun(t)
}

func runExchange(x exchange) string {
	alg := allAlgorithms[x.Alg]
	qop := []string{QOPAuth, QOPAuthInt, ""}[x.QOP]
	s := &Server{Realm: x.Realm, Secret: append([]byte{1}, x.Secret...), Algorithms: []Algorithm{alg},
		QOP: []string{QOPAuth, QOPAuthInt}, AllowRFC2069: true, UserHash: x.UserHash}
	if qop != "" {
		s.QOP = []string{qop}
	}
	ch := s.Challenge(t0, false, "")[0]
	if qop == "" {
		ch.Params = ch.Params.Without("qop")
	}
	// The challenge survives rendering and parsing, as on the wire.
	var wire header.WWWAuthenticate
	if err := wire.Parse(ch.String()); err != nil {
		return fmt.Sprintf("challenge %s does not parse: %v", ch, err)
	}
	requestURI := "sip:" + x.User + "@" + x.Host
	if x.User == "" {
		requestURI = "sip:" + x.Host
	}
	user := Credentials{Username: x.Username, Password: x.Password}
	cr, err := Authorize(wire.Challenge, user, x.Method, requestURI, x.Body, "cn"+strconv.Itoa(x.Flip), 1)
	if err != nil {
		return fmt.Sprintf("Authorize: %v", err)
	}
	var sent header.Authorization
	if err := sent.Parse(cr.String()); err != nil {
		return fmt.Sprintf("credentials %s do not parse: %v", cr, err)
	}
	if cr.Username() != x.Username && !x.UserHash || sent.Realm() != x.Realm {
		return fmt.Sprintf("username/realm lost: %s", cr)
	}
	now := t0.Add(time.Second)
	// Tampered responses first, so that the good one is still fresh.
	resp := sent.Response()
	for i := 0; i < len(resp); i++ {
		v := strings.IndexByte("0123456789abcdef", resp[i])
		if v < 0 {
			return fmt.Sprintf("response %q not lowercase hex", resp)
		}
		bad := sent.Credentials
		bad.Params = bad.Params.With("response", `"`+resp[:i]+string("0123456789abcdef"[(v+1+x.Flip%15)%16])+resp[i+1:]+`"`)
		if r, err := s.Verify(now, bad, x.Method, requestURI, x.Body, user); r != Bad {
			return fmt.Sprintf("digit %d changed: %v, %v", i, r, err)
		}
	}
	i := x.Flip % len(resp)
	if c := resp[i] ^ x.XOR; c != resp[i]&^0x20 {
		bad := sent.Credentials
		bad.Params = bad.Params.With("response", header.Quote(resp[:i]+string(c)+resp[i+1:]))
		if r, err := s.Verify(now, bad, x.Method, requestURI, x.Body, user); r != Bad {
			return fmt.Sprintf("byte %d xor %#x: %v, %v", i, x.XOR, r, err)
		}
	}
	if r, err := s.Verify(now, sent.Credentials, x.Method, requestURI, x.Body, user); r != OK {
		return fmt.Sprintf("Verify %s: %v, %v", sent.String(), r, err)
	}
	if qop != "" {
		if r, _ := s.Verify(now, sent.Credentials, x.Method, requestURI, x.Body, user); r != Bad {
			return fmt.Sprintf("replay: %v", r)
		}
	}
	return ""
}
