#!/usr/bin/env bash
# bench/proxy.sh: sansip serve and Kamailio as stateful record-routing
# proxies, measured in the same run by the shared proxy-bench.sh (SIPp UAC
# on 127.0.0.1:5061 -> proxy -> SIPp UAS on 127.0.0.1:5080; each call
# INVITE/180/200/ACK/BYE/200).
#
#   bench/proxy.sh            # from the repository; needs go, sipp, kamailio, bc, curl
#
# Prints, for each proxy, proxy-bench.sh's lines at RATE calls/s (CALLS
# calls), the median CPU time per call and the ratio sansip/kamailio of the
# medians, each one's RSS, and the highest rate of RATES each sustains with
# every call successful (it stops at the first rate with a failed call;
# STEP_SECONDS of calls per rate bounds the time).
#
# sansip runs three ways: "sansip-1" with one processor (procs = 1), as
# Kamailio runs with one UDP worker here (-n 1, as ../shared/bench's
# run.sh starts it); "sansip-route", the same with an application routing
# callback in front of every new request (bench/routeproxy, package
# service: the cost of asking the application); and "sansip" with every
# CPU (procs = 0). With BASE=<git revision>, "sansip-base" is that
# revision's `sansip serve` with one processor, for a before/after in the
# same run.
#
# Machines are noisy (the same proxy's CPU per call varies by a third from
# run to run on a shared VM), so the measurement at RATE runs ROUNDS times,
# the three proxies in turn, each started afresh for each run; the summary
# gives each one's median and the ratio of the medians.
#
# Environment: CALLS (10000), RATE (1000), ROUNDS (3), RATES ("500 1000 2000 3000 4000"),
# NAMES ("sansip-1 sansip-route sansip kamailio"), BASE (unset),
# STEP_SECONDS (5), SANSIP_PORT (5090), KAM_PORT (5070), METRICS
# (127.0.0.1:9060; sansip's metrics, shown when calls fail), SHARED (the
# shared bench directory, ../shared/bench from the repository).
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
shared=${SHARED:-$repo/../shared/bench}
calls=${CALLS:-10000}
rate=${RATE:-1000}
rates=${RATES:-500 1000 2000 3000 4000}
step=${STEP_SECONDS:-5}
rounds=${ROUNDS:-3}
sport=${SANSIP_PORT:-5090}
kport=${KAM_PORT:-5070}
metrics=${METRICS:-127.0.0.1:9060}

for p in sipp kamailio bc curl go; do
  command -v "$p" >/dev/null || { echo "proxy.sh: $p is not installed" >&2; exit 2; }
done
[ -x "$shared/proxy-bench.sh" ] || { echo "proxy.sh: no $shared/proxy-bench.sh (set SHARED)" >&2; exit 2; }
busy() { ss -Hln"$1" "( sport = :$2 )" 2>/dev/null | grep -q .; }
for p in u:5061 u:5080 u:"$sport" u:"$kport" t:"${metrics##*:}"; do
  if busy "${p%%:*}" "${p#*:}"; then
    echo "proxy.sh: port ${p#*:} is in use (SIPp needs udp 5061 and 5080; set SANSIP_PORT, KAM_PORT, METRICS)" >&2; exit 2
  fi
done

work=$(mktemp -d)
pid=""
stop() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=""; fi
}
trap 'stop; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

waitport() { # waitport PORT: until a UDP socket is bound there (10 s)
  for _ in $(seq 100); do ss -Hlun "( sport = :$1 )" | grep -q . && return 0; sleep 0.1; done
  echo "proxy.sh: nothing listens on udp $1" >&2; return 1
}
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

declare -A line max drops cpus
udpdrops() { awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 } else print $c["RcvbufErrors"] }' /proc/net/snmp; }

# steps NAME PORT: the rate steps against the proxy whose pid is $pid.
steps() {
  local name=$1 port=$2 r n out ok failed d0
  d0=$(udpdrops)
  max[$name]=none
  for r in $rates; do
    n=$((r * step))
    out=$(BENCH_TIMEOUT=$((step * 4 + 30)) "$shared/proxy-bench.sh" "127.0.0.1:$port" "$pid" "$n" "$r")
    ok=$(field ok "$out"); failed=$(field failed "$out")
    echo "$name @ $r/s: $out"
    if [ "${failed:-1}" != 0 ] || [ "${ok:-0}" != "$n" ]; then break; fi
    max[$name]=$r
  done
  drops[$name]=$(($(udpdrops) - d0))
}

# median of the numbers given
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "== building sansip"
(cd "$repo" && go build -o "$work/sansip" ./cmd/sansip) || exit 1
(cd "$here" && go build -o "$work/routeproxy" ./routeproxy) || exit 1
if [ -n "${BASE:-}" ]; then
  echo "== building sansip at $BASE"
  mkdir -p "$work/base" && git -C "$repo" archive "$BASE" | tar -x -C "$work/base" || exit 1
  (cd "$work/base" && go build -o "$work/sansip-base-bin" ./cmd/sansip) || exit 1
fi
conf() { # conf PROCS
cat <<CONF
# The benchmark's sansip: UDP only, record-routing, no users (calls are
# never challenged), metrics for a look at failures.
udp = 127.0.0.1:$sport
domain = localhost
metrics = $metrics
record-route = true
drain = 1s
log-level = warn
procs = $1
CONF
}
sed "s/^listen=udp:127.0.0.1:5070/listen=udp:127.0.0.1:$kport/" "$shared/kamailio/proxy.cfg" >"$work/kamailio.cfg"

# launch NAME: starts that proxy, fresh, and sets pid and port.
launch() {
  case $1 in
  kamailio)
    kamailio -f "$work/kamailio.cfg" -DD -E -n 1 -m 1024 -M 64 -P "$work/kamailio.pid" >"$work/kamailio.log" 2>&1 &
    pid=$! port=$kport ;;
  sansip-route)
    "$work/routeproxy" -udp "127.0.0.1:$sport" -procs 1 -metrics "$metrics" 2>"$work/$1.log" &
    pid=$! port=$sport ;;
  sansip-base)
    "$work/sansip-base-bin" serve -config "$work/sansip-1.conf" 2>"$work/$1.log" &
    pid=$! port=$sport ;;
  *)
    "$work/sansip" serve -config "$work/$1.conf" 2>"$work/$1.log" &
    pid=$! port=$sport ;;
  esac
  waitport "$port" || { cat "$work/$1.log"; exit 1; }
}
finish() { # finish NAME: stops it and waits for its port to be free
  local p=$port
  stop
  while busy u "$p"; do sleep 0.2; done
}

conf 1 >"$work/sansip-1.conf"
conf 0 >"$work/sansip.conf"
names=${NAMES:-sansip-1 sansip-route sansip kamailio}
[ -n "${BASE:-}" ] && names="sansip-base $names"
echo "== $calls calls at $rate/s, $rounds rounds, each proxy started afresh for each run, in turn"
echo "   sansip-1: procs = 1; sansip-route: procs = 1 and a routing callback; sansip: procs = 0 ($(nproc) CPUs); kamailio: -n 1"
for r in $(seq "$rounds"); do
  for n in $names; do
    launch "$n"
    out=$(BENCH_TIMEOUT=$((calls / rate * 3 + 60)) "$shared/proxy-bench.sh" "127.0.0.1:$port" "$pid" "$calls" "$rate")
    echo "round $r $n: $out"
    line[$n]="${line[$n]:-} $out"
    if [ "$(field failed "$out")" = 0 ]; then cpus[$n]="${cpus[$n]:-} $(field cpu_us_per_call "$out")"; fi
    finish
  done
done
for n in $names; do
  echo "== $n: rate steps of $step s ($rates)"
  launch "$n"
  steps "$n" "$port"
  [ "$n" != kamailio ] && curl -s "http://$metrics/metrics" >"$work/$n.metrics.txt"
  finish
done

echo "== summary ($calls calls at $rate/s; medians of $rounds rounds, runs with a failed call left out; rate steps of $step s: $rates)"
declare -A med
for n in $names; do
  # shellcheck disable=SC2086
  med[$n]=$( [ -n "${cpus[$n]:-}" ] && median ${cpus[$n]} )
  printf '%-9s cpu_us_per_call=%s (runs:%s) rss_kb=%s max_rate_with_0_failed=%s kernel_udp_rcvbuf_drops=%s\n' "$n" \
    "${med[$n]:-none}" "${cpus[$n]:-}" "$(echo "${line[$n]}" | tr ' ' '\n' | sed -n 's/^rss_kb=//p' | tail -1)" "${max[$n]}" "${drops[$n]}"
done
k=${med[kamailio]:-}
for n in $names; do
  s=${med[$n]:-}
  [ "$n" != kamailio ] && [ -n "$s" ] && [ -n "$k" ] && printf 'ratio %s/kamailio cpu_us_per_call = %.2f\n' "$n" "$(echo "$s / $k" | bc -l)"
done
for pair in sansip-route/sansip-1 sansip-1/sansip-base; do
  a=${med[${pair%/*}]:-} b=${med[${pair#*/}]:-}
  [ -n "$a" ] && [ -n "$b" ] && printf 'ratio %s cpu_us_per_call = %.2f\n' "$pair" "$(echo "$a / $b" | bc -l)"
done
for n in $names; do
  [ "$n" = kamailio ] && continue
  echo "$n metrics after its rate steps (drops, send errors, and error responses sent):"
  grep -E '^sansip_(overload_drops|send_errors)_total' "$work/$n.metrics.txt"
  grep -E 'direction="out",code="(408|480|482|483|500|503)"' "$work/$n.metrics.txt" | grep -v ' 0$' || echo "no 408, 480, 482, 483, 500 or 503 sent"
done
