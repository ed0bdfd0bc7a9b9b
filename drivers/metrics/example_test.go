package metrics_test

import (
	"net/http/httptest"
	"os"

	"github.com/sansip/sansip/drivers/metrics"
)

// A collector writes what it knows at scrape time.
func Example() {
	h := metrics.Handler(func(w *metrics.Writer) {
		w.Gauge("sansip_calls", "Calls in progress.", 2)
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	os.Stdout.Write(rec.Body.Bytes())
	// Output:
	// # HELP sansip_calls Calls in progress.
	// # TYPE sansip_calls gauge
	// sansip_calls 2
}
