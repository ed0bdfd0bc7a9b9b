#!/usr/bin/env bash
# bench/steady.sh: CPU time per call of proxies in the steady state, in
# the same run: each proxy in turn takes SIPp's calls (../shared/bench's
# proxy-bench.sh, CALLS at RATE/s) and its CPU time is read from /proc
# over WINDOW seconds after WARMUP seconds, leaving out the start (a fresh
# process grows its heap for the first 32 s: page faults) that
# proxy-bench.sh's whole-run figure includes. ROUNDS rounds, proxies in
# turn, medians.
#
#   BASE=<git revision> bench/steady.sh   # sansip-base (that revision's serve), sansip-1, sansip-route
#
# The user-space share (user_us_per_call) is reported apart: the
# proxies' kernel work per call (system calls, loopback delivery) is the
# same code, and on a shared VM it carries most of the noise.
#
# Environment: RATE (1000), WARMUP (5), WINDOW (20), ROUNDS (3), NAMES
# ("sansip-1 sansip-route"), BASE (unset), SANSIP_PORT (5090), SHARED.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
shared=${SHARED:-$repo/../shared/bench}
rate=${RATE:-1000}; warm=${WARMUP:-5}; window=${WINDOW:-20}; rounds=${ROUNDS:-3}
sport=${SANSIP_PORT:-5090}
calls=$((rate * (warm + window + 5)))
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
(cd "$repo" && go build -o "$work/sansip" ./cmd/sansip) || exit 1
(cd "$here" && go build -o "$work/routeproxy" ./routeproxy) || exit 1
names=${NAMES:-sansip-1 sansip-route}
if [ -n "${BASE:-}" ]; then
  mkdir -p "$work/base" && git -C "$repo" archive "$BASE" | tar -x -C "$work/base" || exit 1
  (cd "$work/base" && go build -o "$work/sansip-base" ./cmd/sansip) || exit 1
  names="sansip-base $names"
fi
printf 'udp = 127.0.0.1:%s\ndomain = localhost\nrecord-route = true\ndrain = 1s\nlog-level = warn\nprocs = 1\n' "$sport" >"$work/serve.conf"
cpu() { awk '{print $14, $15}' "/proc/$1/stat"; } # user, system ticks
declare -A runs users
for r in $(seq "$rounds"); do
  for n in $names; do
    case $n in
    sansip-route) "$work/routeproxy" -udp "127.0.0.1:$sport" -procs 1 2>/dev/null & ;;
    sansip-base) "$work/sansip-base" serve -config "$work/serve.conf" 2>/dev/null & ;;
    *) "$work/sansip" serve -config "$work/serve.conf" 2>/dev/null & ;;
    esac
    pid=$!
    sleep 1
    BENCH_TIMEOUT=$((calls / rate + 60)) "$shared/proxy-bench.sh" "127.0.0.1:$sport" "$pid" "$calls" "$rate" >"$work/out" 2>&1 &
    b=$!
    sleep "$warm"; read -r u0 s0 < <(cpu "$pid"); sleep "$window"; read -r u1 s1 < <(cpu "$pid")
    wait "$b"
    per=$(echo "1000000 / $(getconf CLK_TCK) / ($rate * $window)" | bc -l)
    us=$(printf '%.1f' "$(echo "($u1 + $s1 - $u0 - $s0) * $per" | bc -l)")
    user=$(printf '%.1f' "$(echo "($u1 - $u0) * $per" | bc -l)")
    printf 'round %s %-12s steady cpu_us_per_call=%s user_us_per_call=%s  (%s)\n' "$r" "$n" "$us" "$user" "$(cat "$work/out")"
    runs[$n]="${runs[$n]:-} $us"
    users[$n]="${users[$n]:-} $user"
    kill "$pid"; wait "$pid" 2>/dev/null; pid=""
    sleep 1
  done
done
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
declare -A med umed
for n in $names; do
  # shellcheck disable=SC2086
  med[$n]=$(median ${runs[$n]})
  # shellcheck disable=SC2086
  umed[$n]=$(median ${users[$n]})
  printf '%-12s steady cpu_us_per_call median=%s (runs:%s) user_us_per_call median=%s (runs:%s)\n' "$n" "${med[$n]}" "${runs[$n]}" "${umed[$n]}" "${users[$n]}"
done
for pair in sansip-route/sansip-1 sansip-1/sansip-base sansip-route/sansip-base; do
  a=${med[${pair%/*}]:-} b=${med[${pair#*/}]:-} ua=${umed[${pair%/*}]:-} ub=${umed[${pair#*/}]:-}
  [ -n "$a" ] && [ -n "$b" ] && printf 'ratio %s cpu = %.2f user = %.2f\n' "$pair" "$(echo "$a / $b" | bc -l)" "$(echo "$ua / $ub" | bc -l)"
done
