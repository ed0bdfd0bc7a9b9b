// Package metrics serves counters over HTTP in the Prometheus text
// exposition format (version 0.0.4): a Handler calls the collectors it was
// given on each scrape, and they write samples through a Writer. There is
// no registry: a collector reads the live counters it knows (the runtime's
// loop.Stats, the transports' statistics, a core's table sizes) at scrape
// time.
package metrics

import (
	"bufio"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/sansip/sansip/drivers/loop"
)

// Writer writes samples, each metric's HELP and TYPE once.
type Writer struct {
	w    *bufio.Writer
	seen map[string]bool
}

// Counter writes a counter sample; labels are name, value pairs.
func (w *Writer) Counter(name, help string, v uint64, labels ...string) {
	w.sample(name, help, "counter", strconv.FormatUint(v, 10), labels)
}

// Gauge writes a gauge sample; labels are name, value pairs.
func (w *Writer) Gauge(name, help string, v float64, labels ...string) {
	w.sample(name, help, "gauge", strconv.FormatFloat(v, 'g', -1, 64), labels)
}

func (w *Writer) sample(name, help, typ, value string, labels []string) {
	if !w.seen[name] {
		w.seen[name] = true
		fmt.Fprintf(w.w, "# HELP %s %s\n# TYPE %s %s\n", name, escapeHelp(help), name, typ)
	}
	w.w.WriteString(name)
	if len(labels) > 0 {
		w.w.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				w.w.WriteByte(',')
			}
			fmt.Fprintf(w.w, "%s=\"%s\"", labels[i], escapeLabel(labels[i+1]))
		}
		w.w.WriteByte('}')
	}
	w.w.WriteByte(' ')
	w.w.WriteString(value)
	w.w.WriteByte('\n')
}

func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`).Replace(s)
}

// Collector writes the samples it knows.
type Collector func(w *Writer)

// Handler serves the collectors' samples.
func Handler(collectors ...Collector) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w := &Writer{w: bufio.NewWriter(rw), seen: map[string]bool{}}
		for _, c := range collectors {
			c(w)
		}
		w.w.Flush()
	})
}

// Runtime collects a loop.Runtime's counters: messages in and out by
// method and by status code, overloads, send errors, events, timers fired.
func Runtime(rt *loop.Runtime) Collector {
	return func(w *Writer) {
		st := rt.Stats()
		for _, dir := range []struct {
			name string
			t    *loop.Traffic
		}{{"in", &st.In}, {"out", &st.Out}} {
			for i, m := range loop.Methods {
				if v := dir.t.Requests[i].Load(); v > 0 {
					w.Counter("sansip_requests_total", "SIP requests by direction and method.", v, "direction", dir.name, "method", m)
				}
			}
			var codes []int
			for c := range dir.t.Responses {
				if dir.t.Responses[c].Load() > 0 {
					codes = append(codes, c)
				}
			}
			sort.Ints(codes)
			for _, c := range codes {
				code := strconv.Itoa(c)
				if c == 0 {
					code = "invalid"
				}
				w.Counter("sansip_responses_total", "SIP responses by direction and status code.", dir.t.Responses[c].Load(), "direction", dir.name, "code", code)
			}
		}
		w.Counter("sansip_received_total", "Messages handed to the cores.", st.Received.Load())
		w.Counter("sansip_sent_total", "Messages and keep-alives sent.", st.Sent.Load())
		w.Counter("sansip_send_errors_total", "Sends that failed.", st.SendErrors.Load())
		w.Counter("sansip_overload_drops_total", "Messages refused because a shard's inbox was full.", st.Overloaded.Load())
		w.Counter("sansip_events_total", "Events the cores delivered.", st.Events.Load())
		w.Counter("sansip_timers_fired_total", "Timers fired.", st.Timers.Load())
	}
}
