#!/usr/bin/env bash
# bench/register.sh: CPU time per registration (REGISTER with digest
# authentication) of `sansip serve` on its three location stores and of
# Kamailio's usrloc, under the same SIPp load, in the same run.
#
#   bench/register.sh        # from the repository; needs go, sipp, kamailio, redis-server, bc
#   REGS=3000 ROUNDS=1 RATES="1000 2000" bench/register.sh   # a quick look
#
# Each registration is one SIPp call of register-sipp/register.xml:
# REGISTER -> 401 (challenge: MD5, qop=auth) -> REGISTER with
# Authorization -> 200, for the users u0..u(USERS-1) in turn (password
# "pwN" for uN; -inf, SEQUENTIAL), each with one contact and Expires 3600,
# so that after the first USERS registrations every one refreshes a
# binding. The servers, on 127.0.0.1 over UDP, all with one worker:
#
#   sansip-memory  sansip serve -procs 1 -store memory
#   sansip-file    sansip serve -procs 1 -store file   (bbolt, fsync on commit, in DATA_DIR)
#   sansip-redis   sansip serve -procs 1 -store redis  (our own redis-server on REDIS_PORT,
#                  AOF with appendfsync everysec; a fresh key prefix per run)
#   kamailio       Kamailio -n 1 (one UDP worker), register-sipp/kamailio-registrar.cfg:
#                  usrloc db_mode 0 (memory), passwords in an htable, pv_auth_check
#
# A server's CPU time is utime + stime from /proc/PID/stat (Kamailio: the
# main process and its children), read before and after SIPp's run;
# cpu_us_per_reg is that over the successful registrations (200s), and
# user_us_per_reg its user-mode share (the rest is system calls: UDP,
# and for the file store writes and fdatasync). The total is exact, the
# split is the kernel's sampling at each clock tick: rough, and for
# Kamailio, whose processes run in short bursts, little more than a
# guess (seen from 7 to 76 us in the same run). For sansip-redis the
# redis-server's CPU is read the same way and given apart
# (redis_us_per_reg) and added (total_us_per_reg); its ratio to Kamailio
# is given both ways. rss_kb and pss_kb are the server's memory after the
# last run at RATE (summed over Kamailio's processes, whose RSS counts
# the shared memory once per process: PSS is the fair sum).
#
# REGS registrations at RATE/s run ROUNDS times, the servers in turn,
# each started afresh for each run; the summary gives each one's median
# (runs with a failed registration left out) and its ratio to
# Kamailio's. Then each server, started afresh, takes STEP_SECONDS of
# registrations at each rate of RATES, stopping at the first rate with a
# failed or missing registration or where SIPp's achieved rate falls
# under 90% of the target (the server too slow to answer: SIPp holds back
# new calls at its -l limit of open calls rather than fail them); the
# summary gives the highest rate passed. SIPp runs on the same machine
# and, being single-threaded, may be the limit at the top rates: see
# achieved= in the step lines. A failed run prints a few lines on why
# (responses SIPp did not expect, server warnings). sipp_misread_200
# counts 200s SIPp 3.6 misread (see load below): not failures.
#
# Past its rate a server answers late, SIPp retransmits (after 500 ms),
# and the failures differ: sansip's store-backed registrars answer 503
# (location service) once their store workers and queue are full;
# Kamailio, replying statelessly, answers a retransmitted authenticated
# REGISTER 401 with stale=true (its nc was used: nonce_count), where
# sansip's transaction repeats the 200. SIPp counts both as failures.
#
# Environment: REGS (10000), RATE (1000), ROUNDS (3), RATES ("1000 2000
# 4000 8000"), STEP_SECONDS (5), USERS (1000), NAMES ("sansip-memory
# sansip-file sansip-redis kamailio"), SANSIP_PORT (5090), KAM_PORT
# (5070), REDIS_PORT (6479), SIPP_PORT (5061), DATA_DIR (a directory for
# the bbolt files; default: the temporary work directory), KAM_STATEFUL
# (0; 1: Kamailio creates a transaction per REGISTER, t_newtran, as
# sansip's transaction layer does, instead of replying statelessly).
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
sdir=$here/register-sipp
regs=${REGS:-10000}
rate=${RATE:-1000}
rounds=${ROUNDS:-3}
rates=${RATES:-1000 2000 4000 8000}
step=${STEP_SECONDS:-5}
nusers=${USERS:-1000}
names=${NAMES:-sansip-memory sansip-file sansip-redis kamailio}
sport=${SANSIP_PORT:-5090}
kport=${KAM_PORT:-5070}
rport=${REDIS_PORT:-6479}
uport=${SIPP_PORT:-5061}
kstateful=${KAM_STATEFUL:-0}
domain=bench.test

die() { echo "register.sh: $*" >&2; exit 2; }
need="sipp bc go ss awk"
case " $names " in *" kamailio "*) need="$need kamailio" ;; esac
case " $names " in *" sansip-redis "*) need="$need redis-server" ;; esac
for p in $need; do command -v "$p" >/dev/null || die "$p is not installed"; done
for n in $names; do
  case $n in sansip-memory | sansip-file | sansip-redis | kamailio) ;; *) die "unknown server $n in NAMES" ;; esac
done
for f in register.xml kamailio-registrar.cfg; do [ -f "$sdir/$f" ] || die "no $sdir/$f"; done
busy() { ss -Hln"$1" "( sport = :$2 )" 2>/dev/null | grep -q .; }
for p in u:"$sport" u:"$kport" u:"$uport" t:"$rport"; do
  busy "${p%%:*}" "${p#*:}" && die "port ${p#*:} is in use (set SANSIP_PORT, KAM_PORT, SIPP_PORT, REDIS_PORT)"
done

work=$(mktemp -d)
data=${DATA_DIR:-$work}
mkdir -p "$data" || die "cannot make $data"
pid="" rpid="" spid="" port="" ddir=""
stop() { # stops the server under test
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=""; fi
  if [ -n "$ddir" ]; then rm -rf "$ddir"; ddir=""; fi
}
cleanup() {
  if [ -n "$spid" ]; then kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null; fi
  stop
  if [ -n "$rpid" ]; then kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

waitport() { # waitport PROTO(u|t) PORT: until a socket is bound there (10 s)
  for _ in $(seq 100); do busy "$1" "$2" && return 0; sleep 0.1; done
  echo "register.sh: nothing listens on $1 $2" >&2; return 1
}
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
udpdrops() { awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 } else print $c["RcvbufErrors"] }' /proc/net/snmp; }
tck=$(getconf CLK_TCK)
pids() { [ -n "$1" ] && { echo "$1"; pgrep -P "$1"; }; }
cpu() { # cpu PID: clock ticks in user and in system mode of PID and its children
  local u=0 k=0 p
  for p in $(pids "$1"); do
    set -- $(awk '{print $14, $15}' "/proc/$p/stat" 2>/dev/null)
    u=$((u + ${1:-0})) k=$((k + ${2:-0}))
  done
  echo "$u $k"
}
mem() { # mem PID KEY: the sum of KEY (Rss, Pss) in kB over PID and its children
  local t=0 p r
  for p in $(pids "$1"); do
    r=$(awk -v k="$2:" '$1 == k { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
    t=$((t + ${r:-0}))
  done
  echo $t
}

echo "== building sansip"
(cd "$repo" && go build -o "$work/sansip" ./cmd/sansip) || exit 1

# The users: sansip's -users file, SIPp's -inf file (field 2 is SIPp's
# authentication keyword, which SIPp expands when injected) and
# Kamailio's htable, loaded at start-up.
{
  echo SEQUENTIAL
  for ((i = 0; i < nusers; i++)); do echo "u$i;pw$i;[authentication username=u$i password=pw$i]"; done
} >"$work/users.csv"
for ((i = 0; i < nusers; i++)); do echo "u$i:pw$i"; done >"$work/users.txt"
for ((i = 0; i < nusers; i++)); do echo "\$sht(users=>u$i) = \"pw$i\";"; done >"$work/kamailio-users.cfg"
sed "s/^listen=udp:127.0.0.1:5070$/listen=udp:127.0.0.1:$kport/" "$sdir/kamailio-registrar.cfg" >"$work/kamailio.cfg"
kopts=""
[ "$kstateful" = 1 ] && kopts="-A STATEFUL"
case " $names " in *" kamailio "*)
  # shellcheck disable=SC2086
  kamailio -c $kopts -f "$work/kamailio.cfg" >"$work/kamailio-check.log" 2>&1 || { cat "$work/kamailio-check.log"; exit 1; } ;;
esac

case " $names " in *" sansip-redis "*)
  mkdir -p "$work/redis"
  redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly yes --appendfsync everysec \
    --dir "$work/redis" --daemonize no --loglevel warning >"$work/redis.log" 2>&1 &
  rpid=$!
  waitport t "$rport" || { cat "$work/redis.log"; exit 1; } ;;
esac

# launch NAME: starts that server, fresh, and sets pid and port.
launch() {
  local s=(serve -udp "127.0.0.1:$sport" -tcp "" -tls "" -ws "" -wss "" -metrics "" -domain "$domain"
    -users "$work/users.txt" -procs 1 -log-level warn)
  case $1 in
  kamailio)
    # shellcheck disable=SC2086
    kamailio -f "$work/kamailio.cfg" $kopts -DD -E -n 1 -m 1024 -M 64 -P "$work/kamailio.pid" >"$work/$1.log" 2>&1 &
    pid=$! port=$kport ;;
  sansip-memory)
    "$work/sansip" "${s[@]}" -store memory 2>"$work/$1.log" &
    pid=$! port=$sport ;;
  sansip-file)
    ddir=$(mktemp -d "$data/bolt.XXXXXX")
    "$work/sansip" "${s[@]}" -store file -data "$ddir" 2>"$work/$1.log" &
    pid=$! port=$sport ;;
  sansip-redis)
    "$work/sansip" "${s[@]}" -store redis -redis "127.0.0.1:$rport" -redis-prefix "bench$RANDOM$RANDOM:" 2>"$work/$1.log" &
    pid=$! port=$sport ;;
  esac
  waitport u "$port" || { cat "$work/$1.log"; exit 1; }
  sleep 0.3 # let it settle (Kamailio forks its workers after binding)
}
finish() { # stops the server and waits for its port to be free
  local p=$port
  stop
  for _ in $(seq 50); do busy u "$p" || return 0; sleep 0.2; done
  echo "register.sh: udp $p still busy after its server stopped" >&2; exit 1
}

# load NAME N RATE: N registrations at RATE/s against the running server;
# prints its figures as key=value on one line, then, if some failed, a
# few lines on why. (Not to be run in $(...): the EXIT trap must know
# SIPp's pid.)
load() {
  local name=$1 n=$2 r=$3 d u0 k0 u1 k1 ru0 rk0 ru1 rk1 t0 t1 rc lim hdr last ok failed misread retr secs per cr=$'\r'
  d=$(mktemp -d "$work/sipp.XXXXXX")
  lim=$((r * 2 > 2000 ? r * 2 : 2000))
  read -r u0 k0 < <(cpu "$pid"); read -r ru0 rk0 < <(cpu "$rpid"); t0=$(date +%s.%N)
  (cd "$d" && exec timeout "$((n / r * 3 + 30))" sipp -sf "$sdir/register.xml" "127.0.0.1:$port" -i 127.0.0.1 -p "$uport" \
    -key domain "$domain" -auth_uri "$domain" -inf "$work/users.csv" -m "$n" -r "$r" -l "$lim" \
    -nostdin -trace_stat -stf stat.csv -fd 1 -trace_err -error_file err.log >/dev/null 2>&1) &
  spid=$!
  wait "$spid"; rc=$?; spid=""
  t1=$(date +%s.%N); read -r u1 k1 < <(cpu "$pid"); read -r ru1 rk1 < <(cpu "$rpid")
  hdr=$(head -1 "$d/stat.csv" 2>/dev/null); last=$(tail -1 "$d/stat.csv" 2>/dev/null)
  col() { echo "$last" | cut -d';' -f"$(echo "$hdr" | tr ';' '\n' | grep -n -x "$1" | cut -d: -f1)"; }
  ok=$(col 'SuccessfulCall(C)'); failed=$(col 'FailedCall(C)'); retr=$(col 'Retransmissions(C)')
  ok=${ok:-0} failed=${failed:-0}
  # SIPp 3.6 takes a response's CSeq method from the first "CSeq" in the
  # message (extract_cseq_method: strstr), which may be inside a To tag
  # (sansip's are 10 random letters and digits: about one in two million
  # holds "CSeq"); it then aborts the call on that 200 as unexpected.
  # Those registrations succeeded: counted apart, not as failures.
  misread=$(grep -c "while expecting '200' (index [0-9]*), received 'SIP/2.0 200 " "$d/err.log" 2>/dev/null)
  misread=${misread:-0}
  secs=$(echo "$t1 - $t0" | bc -l)
  per() { printf '%.1f' "$(echo "($1) * 1000000 / $tck / ($ok + 0.000001)" | bc -l)"; }
  printf 'regs=%s ok=%s failed=%s cpu_us_per_reg=%s user_us_per_reg=%s' "$n" "$ok" "$((failed - misread))" \
    "$(per "$u1 + $k1 - $u0 - $k0")" "$(per "$u1 - $u0")"
  if [ "$name" = sansip-redis ]; then
    printf ' redis_us_per_reg=%s total_us_per_reg=%s' "$(per "$ru1 + $rk1 - $ru0 - $rk0")" \
      "$(per "$u1 + $k1 - $u0 - $k0 + $ru1 + $rk1 - $ru0 - $rk0")"
  fi
  printf ' rss_kb=%s pss_kb=%s' "$(mem "$pid" Rss)" "$(mem "$pid" Pss)"
  [ "$name" = sansip-redis ] && printf ' redis_rss_kb=%s' "$(mem "$rpid" Rss)"
  printf ' secs=%.1f achieved=%.0f/s retrans=%s' "$secs" "$(echo "($ok + $misread) / $secs" | bc -l)" "${retr:-?}"
  [ "$misread" != 0 ] && printf ' sipp_misread_200=%s' "$misread"
  printf ' sipp_rc=%s\n' "$rc"
  if [ "$failed" != "$misread" ] || [ "$((ok + misread))" != "$n" ]; then # what went wrong, briefly
    grep -h -o -E "while expecting '[^']*' \(index [0-9]+\), received '[^ ]+ [0-9]+[^'$cr]*|[Mm]ax retrans[^'.]*|Overload warning" "$d/err.log" 2>/dev/null |
      sed -E 's/\(index [0-9]+\), //' | cut -c1-110 | sort | uniq -c | sort -rn | head -4 | sed 's/^ */    sipp: /'
    grep -h -E 'auth failed|WARN|ERROR|CRITICAL' "$work/$name.log" 2>/dev/null | grep -v receive_fd |
      sed -E 's/^.*(auth failed[^:]*: |msg=)//' | cut -c1-100 | sort | uniq -c | sort -rn | head -3 | sed 's/^ */    server: /'
    [ "$name" = sansip-redis ] && grep -i -E 'fsync|aof|error|slow|busy' "$work/redis.log" | tail -n 2 | cut -c1-160 | sed 's/^/    redis-server: /'
  fi
  rm -rf "$d"
  return 0
}
# passed LINE N: whether load's LINE has N registrations and none failed.
passed() {
  local m
  m=$(field sipp_misread_200 "$1")
  [ "$(field failed "$1")" = 0 ] && [ "$(($(field ok "$1") + ${m:-0}))" = "$2" ]
}

declare -A cpus users totals line max drops
echo "== load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs; other processes' CPU use makes the figures noisy)"
echo "== $regs registrations at $rate/s (users u0..u$((nusers - 1))), $rounds rounds, each server started afresh for each run, in turn"
echo "   all with one worker: sansip procs = 1, kamailio -n 1$([ "$kstateful" = 1 ] && echo ' (stateful: t_newtran)'); bbolt files in $data"
for ((r = 1; r <= rounds; r++)); do
  for n in $names; do
    launch "$n"
    load "$n" "$regs" "$rate" >"$work/out"
    echo "round $r $n: $(cat "$work/out")"
    out=$(head -1 "$work/out")
    line[$n]=$out
    if passed "$out" "$regs"; then
      cpus[$n]="${cpus[$n]:-} $(field cpu_us_per_reg "$out")"
      users[$n]="${users[$n]:-} $(field user_us_per_reg "$out")"
      [ "$n" = sansip-redis ] && totals[$n]="${totals[$n]:-} $(field total_us_per_reg "$out")"
    fi
    finish
  done
done

for n in $names; do
  echo "== $n: rate steps of $step s ($rates)"
  launch "$n"
  max[$n]=none
  d0=$(udpdrops)
  for r in $rates; do
    k=$((r * step))
    load "$n" "$k" "$r" >"$work/out"
    echo "$n @ $r/s: $(cat "$work/out")"
    out=$(head -1 "$work/out")
    ach=$(field achieved "$out"); ach=${ach%/s}
    if ! passed "$out" "$k" || [ "$(echo "${ach:-0} < $r * 0.9" | bc)" = 1 ]; then break; fi
    max[$n]=$r
  done
  drops[$n]=$(($(udpdrops) - d0))
  finish
done

echo "== load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== summary ($regs registrations at $rate/s; medians of $rounds rounds, runs with a failed registration left out; rate steps of $step s: $rates)"
declare -A med
for n in $names; do
  # shellcheck disable=SC2086
  med[$n]=$([ -n "${cpus[$n]:-}" ] && median ${cpus[$n]})
  # shellcheck disable=SC2086
  user=$([ -n "${users[$n]:-}" ] && median ${users[$n]})
  extra=""
  if [ "$n" = sansip-redis ]; then
    # shellcheck disable=SC2086
    med[$n+redis]=$([ -n "${totals[$n]:-}" ] && median ${totals[$n]})
    extra=" with_redis_cpu_us_per_reg=${med[$n+redis]:-none} (runs:${totals[$n]:-})"
  fi
  printf '%-13s cpu_us_per_reg=%s (runs:%s) user_us_per_reg=%s%s rss_kb=%s pss_kb=%s%s max_rate_with_0_failed=%s kernel_udp_rcvbuf_drops=%s\n' "$n" \
    "${med[$n]:-none}" "${cpus[$n]:-}" "${user:-none}" "$extra" "$(field rss_kb "${line[$n]:-}")" "$(field pss_kb "${line[$n]:-}")" \
    "$([ "$n" = sansip-redis ] && echo " redis_rss_kb=$(field redis_rss_kb "${line[$n]:-}")")" "${max[$n]}" "${drops[$n]}"
done
k=${med[kamailio]:-}
for n in $names sansip-redis+redis; do
  s=${med[$n]:-}
  [ "$n" != kamailio ] && [ -n "$s" ] && [ -n "$k" ] && printf 'ratio %s/kamailio cpu_us_per_reg = %.2f\n' "$n" "$(echo "$s / $k" | bc -l)"
done
exit 0
