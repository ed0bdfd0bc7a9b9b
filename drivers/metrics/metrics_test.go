package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	h := Handler(func(w *Writer) {
		w.Counter("sansip_requests_total", "SIP requests.", 3, "direction", "in", "method", "INVITE")
		w.Counter("sansip_requests_total", "SIP requests.", 1, "direction", "in", "method", "BYE")
		w.Gauge("sansip_transactions", "Live transactions.", 42)
		w.Gauge("odd", "Help with \\ and\nnewline.", 1, "l", `quote " here`)
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	want := `# HELP sansip_requests_total SIP requests.
# TYPE sansip_requests_total counter
sansip_requests_total{direction="in",method="INVITE"} 3
sansip_requests_total{direction="in",method="BYE"} 1
# HELP sansip_transactions Live transactions.
# TYPE sansip_transactions gauge
sansip_transactions 42
# HELP odd Help with \\ and\nnewline.
# TYPE odd gauge
odd{l="quote \" here"} 1
`
	if string(body) != want {
		t.Errorf("got:\n%s\nwant:\n%s", body, want)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
}
