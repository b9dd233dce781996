#!/usr/bin/env bash
# bench/run.sh - throughput and CPU cost of gather against curl --parallel.
#
# Serves N small files from a private nginx on 127.0.0.1 (its own config,
# prefix, pid file and logs, all inside a temporary directory), then fetches
# all of them R times with each tool, alternating gather and curl, and prints
# medians of requests/s, CPU time and peak RSS.  Not part of the test suite.
#
# Usage: bench/run.sh [-n FILES] [-r RUNS] [-c CONCURRENCY]
#        GATHER=/path/to/gather bench/run.sh ...
set -euo pipefail
export LC_ALL=C

N=10000
RUNS=5
CONC=32

usage() {
    cat <<'EOF'
Usage: bench/run.sh [-n FILES] [-r RUNS] [-c CONCURRENCY]

  -n FILES        number of files, hence URLs and requests per run (10000)
  -r RUNS         measured runs per tool (5), alternating gather and curl
  -c CONCURRENCY  transfers in flight for both tools (32)
  -h              this help

Environment:
  GATHER   the gather binary (default: gather at the repository root)
  TMPDIR   where the temporary directory goes (default: /tmp)

Starts a private nginx on a free 127.0.0.1 port; it is stopped, and the
temporary directory removed, on exit, error or Ctrl-C.
EOF
}

die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
note() { printf 'bench: %s\n' "$*" >&2; }
is_posint() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }

while getopts ':n:r:c:h' opt; do
    case $opt in
        n) N=$OPTARG ;;
        r) RUNS=$OPTARG ;;
        c) CONC=$OPTARG ;;
        h) usage; exit 0 ;;
        :) usage >&2; die "option -$OPTARG needs a value" ;;
        *) usage >&2; die "unknown option -$OPTARG" ;;
    esac
done
shift $((OPTIND - 1))
[[ $# -eq 0 ]] || { usage >&2; die "unexpected argument: $1"; }
is_posint "$N" || die "-n wants a positive integer, got '$N'"
is_posint "$RUNS" || die "-r wants a positive integer, got '$RUNS'"
is_posint "$CONC" || die "-c wants a positive integer, got '$CONC'"
((BASH_VERSINFO[0] >= 5)) || die "bash 5 or newer is needed (for EPOCHREALTIME)"

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)

# A GATHER given relative to the caller's directory, or as a bare command
# name, is turned into an absolute path once, here.
GATHER=${GATHER:-$REPO_ROOT/gather}
if [[ $GATHER != */* ]]; then
    GATHER=$(command -v -- "$GATHER" 2>/dev/null || printf '%s' "$GATHER")
fi
if [[ $GATHER == */* && $GATHER != /* ]]; then
    GATHER=$PWD/$GATHER
fi

# --- tools ----------------------------------------------------------------

# nginx lives in /usr/sbin, which is not on every user's PATH.
PATH=$PATH:/usr/sbin:/sbin

missing=()
command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
command -v curl >/dev/null 2>&1 || missing+=(curl)
[[ -x /usr/bin/time ]] || missing+=(time)
command -v jq >/dev/null 2>&1 || missing+=(jq)
command -v setsid >/dev/null 2>&1 || missing+=(util-linux)
command -v awk >/dev/null 2>&1 || missing+=(mawk)

if ((${#missing[@]})); then
    if ((EUID != 0)); then
        note "missing: ${missing[*]}"
        note "install them first, e.g.: sudo apt-get install -y ${missing[*]}"
        exit 1
    fi
    note "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q "${missing[@]}" >/dev/null; then
        apt-get update -q >/dev/null
        apt-get install -y -q "${missing[@]}" >/dev/null
    fi
    command -v nginx >/dev/null 2>&1 || die "nginx is still missing after the install"
fi

curl --help all 2>/dev/null | grep -q -- '--parallel-max' ||
    die "this curl has no --parallel (7.66.0 or newer is needed): $(curl -V | head -n 1)"
if ((CONC > 300)); then
    note "warning: curl caps --parallel-max at 300; the curl runs use 300"
fi

HAVE_GATHER=1
if [[ ! -x $GATHER || -d $GATHER ]]; then
    HAVE_GATHER=0
fi

# --- temporary directory and cleanup --------------------------------------

T=$(mktemp -d "${TMPDIR:-/tmp}/gather-bench.XXXXXX")
NGINX_PID=
CHILD_PID=

stop_nginx() {
    local pid=$1 pidfile_pid='' i
    [[ -r $T/nginx/nginx.pid ]] && pidfile_pid=$(<"$T/nginx/nginx.pid")
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        # nginx runs in its own session (setsid): take the whole group down.
        kill -KILL -- "-$pid" 2>/dev/null
        kill -KILL "$pid" 2>/dev/null
    fi
    if [[ -n $pidfile_pid && $pidfile_pid != "$pid" ]]; then
        kill -KILL "$pidfile_pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
}

cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM HUP
    if [[ -n $CHILD_PID ]]; then
        # A timed run was in flight: /usr/bin/time and the tool share a group.
        kill -TERM -- "-$CHILD_PID" 2>/dev/null
        wait "$CHILD_PID" 2>/dev/null
    fi
    [[ -n $NGINX_PID ]] && stop_nginx "$NGINX_PID"
    rm -rf -- "$T"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- content ----------------------------------------------------------------

mkdir -p "$T/www" "$T/nginx/tmp"
note "writing $N files of 100 bytes"
# 99 characters and a newline: 100 bytes a file.
line=$(printf '%099d' 0 | tr 0 x)
for ((i = 0; i < N; i++)); do
    printf '%s\n' "$line" >"$T/www/$i.txt"
done
[[ $(stat -c %s "$T/www/0.txt") == 100 ]] || die "internal: files are not 100 bytes"

# --- nginx ------------------------------------------------------------------

pick_port() {
    local p i
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' 2>/dev/null && return 0
    fi
    for ((i = 0; i < 100; i++)); do
        p=$((20000 + RANDOM % 40000))
        # A refused connection means nothing listens there.
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            printf '%s\n' "$p"
            return 0
        fi
    done
    return 1
}

write_nginx_conf() {
    local port=$1 user_line=
    # Only a root master switches users; keep the workers as ourselves so
    # they can read the (mode 700) temporary directory.
    if ((EUID == 0)); then
        user_line="user $(id -un) $(id -gn);"
    fi
    cat >"$T/nginx/nginx.conf" <<EOF
$user_line
daemon off;
master_process on;
worker_processes 2;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log warn;

events {
    worker_connections 1024;
}

http {
    access_log off;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    gzip off;
    keepalive_timeout 120s;
    keepalive_requests 1000000;
    open_file_cache max=$((N + 1000)) inactive=300s;
    client_body_temp_path $T/nginx/tmp/body;
    proxy_temp_path $T/nginx/tmp/proxy;
    fastcgi_temp_path $T/nginx/tmp/fastcgi;
    uwsgi_temp_path $T/nginx/tmp/uwsgi;
    scgi_temp_path $T/nginx/tmp/scgi;

    server {
        listen 127.0.0.1:$port;
        root $T/www;
        location / { }
        # Connection counts, to see whether a client reuses connections.
        location = /.status { stub_status; }
    }
}
EOF
}

# Startup messages go to our log, not the compiled-in one, where -e exists.
nginx_args=(-p "$T/nginx/" -c "$T/nginx/nginx.conf")
if nginx -h 2>&1 | grep -q -- '-e filename'; then
    nginx_args+=(-e "$T/nginx/error.log")
fi

start_nginx() {
    local port=$1 i code
    write_nginx_conf "$port"
    setsid nginx "${nginx_args[@]}" >"$T/nginx/stdout.log" 2>&1 </dev/null &
    NGINX_PID=$!
    for ((i = 0; i < 100; i++)); do
        if ! kill -0 "$NGINX_PID" 2>/dev/null; then
            wait "$NGINX_PID" 2>/dev/null || true
            NGINX_PID=
            return 1
        fi
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 \
            "http://127.0.0.1:$port/0.txt" 2>/dev/null || true)
        [[ $code == 200 ]] && return 0
        sleep 0.1
    done
    stop_nginx "$NGINX_PID"
    NGINX_PID=
    return 1
}

PORT=
for ((attempt = 0; attempt < 10; attempt++)); do
    port=$(pick_port) || die "found no free port on 127.0.0.1"
    if start_nginx "$port"; then
        PORT=$port
        break
    fi
    # Someone took the port between the pick and the bind: try another.
    grep -qs 'Address already in use' "$T/nginx/error.log" "$T/nginx/stdout.log" && continue
    cat "$T/nginx/error.log" "$T/nginx/stdout.log" >&2 2>/dev/null || true
    die "nginx did not start"
done
[[ -n $PORT ]] || die "nginx could not bind a port after 10 tries"
note "nginx (pid $NGINX_PID) serves http://127.0.0.1:$PORT/"

# --- URL lists --------------------------------------------------------------

BASE=http://127.0.0.1:$PORT
for ((i = 0; i < N; i++)); do
    printf '%s/%d.txt\n' "$BASE" "$i"
done >"$T/urls.txt"
# curl cannot take 2N arguments on a command line; a -K config can.
for ((i = 0; i < N; i++)); do
    printf 'url = "%s/%d.txt"\noutput = "/dev/null"\n' "$BASE" "$i"
done >"$T/curl.cfg"

# --- one timed run ----------------------------------------------------------

# Connections nginx has accepted so far (stub_status), or empty if unknown.
nginx_accepts() {
    curl -s --max-time 2 "$BASE/.status" 2>/dev/null |
        awk 'prev ~ /server accepts handled requests/ { print $1; exit } { prev = $0 }' ||
        true
}

# run_timed OUT ERR CMD...: runs CMD with stdout to OUT and stderr to ERR,
# in its own session so Ctrl-C reaches only us and cleanup can kill it.
# Sets R_RC, R_WALL (s), R_CPU (user+sys, s), R_RSS (KiB).
run_timed() {
    local out=$1 err=$2 t0 t1 tl a0 a1
    shift 2
    : >"$T/time.out"
    a0=$(nginx_accepts)
    t0=$EPOCHREALTIME
    setsid /usr/bin/time -o "$T/time.out" -f '%e %U %S %M' "$@" \
        >"$out" 2>"$err" </dev/null &
    CHILD_PID=$!
    R_RC=0
    wait "$CHILD_PID" || R_RC=$?
    CHILD_PID=
    t1=$EPOCHREALTIME
    a1=$(nginx_accepts)
    R_CONNS='?'
    if [[ -n $a0 && -n $a1 ]]; then
        R_CONNS=$((a1 - a0 - 1)) # less the status request itself
    fi
    # On a non-zero exit, time writes a note line before the numbers.
    tl=$(tail -n 1 "$T/time.out")
    read -r _ R_USER R_SYS R_RSS <<<"$tl"
    [[ -n ${R_RSS:-} ]] || die "could not read /usr/bin/time output: '$tl'"
    R_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
    R_CPU=$(awk -v u="$R_USER" -v s="$R_SYS" 'BEGIN { printf "%.2f", u + s }')
}

show_gather_failure() {
    note "gather exit status: $R_RC"
    note "gather stderr (first 20 lines):"
    head -n 20 "$T/gather.err" >&2 || true
    note "first records that are not ok, status 200 and size 100:"
    jq -c 'select(.ok != true or .status != 200 or .size != 100)' \
        "$T/out.jsonl" 2>&1 | head -n 5 >&2 || true
    # Keep the evidence: the temporary directory goes away on exit.
    local keep
    keep=$(mktemp "${TMPDIR:-/tmp}/gather-bench-failed.XXXXXX.jsonl")
    cp -- "$T/out.jsonl" "$keep"
    note "output kept in $keep"
}

# Every measured gather run must give N records, in order, all ok, all
# status 200 with 100 bytes.
check_gather() {
    local lines summary
    lines=$(wc -l <"$T/out.jsonl")
    if ((lines != N)); then
        show_gather_failure
        die "gather wrote $lines lines for $N URLs"
    fi
    if ! summary=$(jq -s -r --arg base "$BASE" '
            [ ([.[] | select(.ok == true)] | length),
              ([.[] | select(.status == 200 and .size == 100)] | length),
              ([.[].index] == [range(0; length)]),
              ([to_entries[] | select(.value.url != ($base + "/" + (.key | tostring) + ".txt"))] | length),
              ([.[] | select(has("body"))] | length),
              ([.[] | select(.error != null)] | length)
            ] | @tsv' "$T/out.jsonl" 2>"$T/jq.err"); then
        show_gather_failure
        cat "$T/jq.err" >&2
        die "gather output is not valid JSON lines"
    fi
    local ok good ordered badurl withbody witherr
    read -r ok good ordered badurl withbody witherr <<<"$summary"
    if ((ok != N || good != N)) || [[ $ordered != true ]] || ((badurl != 0)); then
        show_gather_failure
        die "gather: $ok/$N ok, $good/$N status 200 and size 100, ordered: $ordered, $badurl wrong url"
    fi
    if ((R_RC != 0)); then
        show_gather_failure
        die "gather exited $R_RC although every record is ok"
    fi
    if ((withbody != 0)); then
        note "warning: $withbody gather records carry a body despite --body none"
    fi
    if ((witherr != 0)); then
        note "warning: $witherr ok gather records have a non-null error"
    fi
    if [[ -s $T/gather.err ]]; then
        note "warning: gather wrote to stderr: $(head -c 300 "$T/gather.err")"
    fi
}

run_gather() {
    run_timed "$T/out.jsonl" "$T/gather.err" \
        "$GATHER" -c "$CONC" --body none -i "$T/urls.txt"
    check_gather
}

run_curl() {
    run_timed /dev/null "$T/curl.err" \
        curl --parallel --parallel-max "$CONC" -sS --fail -K "$T/curl.cfg"
    if ((R_RC != 0)); then
        head -n 20 "$T/curl.err" >&2 || true
        die "curl exited $R_RC"
    fi
}

# --- runs -------------------------------------------------------------------

G_RPS=() G_CPU=() G_RSS=()
C_RPS=() C_CPU=() C_RSS=()

report_run() {
    local label=$1
    printf '  %-12s %8.3f s wall  %8.0f req/s  %6.2f s CPU  %7d KiB max RSS  %5s connections\n' \
        "$label" "$R_WALL" "$(awk -v n="$N" -v w="$R_WALL" 'BEGIN { print n / w }')" \
        "$R_CPU" "$R_RSS" "$R_CONNS"
}

if ((HAVE_GATHER)); then
    note "gather: $GATHER"
else
    note "gather not found at '$GATHER' (build it with 'make' at the repository root, or set GATHER=...)"
    note "skipping the gather runs; measuring curl alone"
fi

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')

echo "warm-up (not counted):"
run_curl
report_run "curl"
if ((HAVE_GATHER)); then
    run_gather
    report_run "gather"
fi

echo "measured runs:"
for ((run = 1; run <= RUNS; run++)); do
    if ((HAVE_GATHER)); then
        run_gather
        report_run "gather $run/$RUNS"
        G_RPS+=("$(awk -v n="$N" -v w="$R_WALL" 'BEGIN { printf "%.3f", n / w }')")
        G_CPU+=("$R_CPU")
        G_RSS+=("$R_RSS")
    fi
    run_curl
    report_run "curl $run/$RUNS"
    C_RPS+=("$(awk -v n="$N" -v w="$R_WALL" 'BEGIN { printf "%.3f", n / w }')")
    C_CPU+=("$R_CPU")
    C_RSS+=("$R_RSS")
done

# --- summary ----------------------------------------------------------------

median() {
    printf '%s\n' "$@" | sort -g | awk '
        { v[NR] = $1 }
        END {
            if (NR % 2) print v[(NR + 1) / 2]
            else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
        }'
}

gather_version=n/a
if ((HAVE_GATHER)); then
    gather_version=$("$GATHER" -V 2>&1 | head -n 1 || true)
fi

echo
echo "date:        $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "nproc:       $(nproc)"
echo "load avg:    $LOAD_BEFORE before, $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?') after (other work on the machine skews the numbers)"
echo "gather:      $gather_version"
echo "curl:        $(curl -V | head -n 1)"
echo "nginx:       $(nginx -v 2>&1 | head -n 1)"
echo "workload:    $N GETs of 100-byte files, concurrency $CONC, $RUNS runs per tool, HTTP/1.1 on 127.0.0.1"
echo

printf '%-8s %12s %14s %14s %16s\n' tool "req/s" "CPU s" "CPU us/req" "max RSS KiB"
summary_row() {
    local tool=$1 rps=$2 cpu=$3 rss=$4
    printf '%-8s %12.0f %14.2f %14.1f %16.0f\n' "$tool" "$rps" "$cpu" \
        "$(awk -v c="$cpu" -v n="$N" 'BEGIN { print c * 1e6 / n }')" "$rss"
}
c_rps=$(median "${C_RPS[@]}")
c_cpu=$(median "${C_CPU[@]}")
c_rss=$(median "${C_RSS[@]}")
if ((HAVE_GATHER)); then
    g_rps=$(median "${G_RPS[@]}")
    g_cpu=$(median "${G_CPU[@]}")
    g_rss=$(median "${G_RSS[@]}")
    summary_row gather "$g_rps" "$g_cpu" "$g_rss"
fi
summary_row curl "$c_rps" "$c_cpu" "$c_rss"
echo "(medians over $RUNS runs; CPU is user+sys of the client only, at 10 ms resolution)"
echo

if ((HAVE_GATHER)); then
    awk -v gr="$g_rps" -v cr="$c_rps" -v gc="$g_cpu" -v cc="$c_cpu" 'BEGIN {
        printf "gather/curl requests/s:   %.2f  (higher is better for gather)\n", gr / cr
        if (cc > 0)
            printf "gather/curl CPU/request:  %.2f  (lower is better for gather)\n", gc / cc
        else
            print "gather/curl CPU/request:  n/a (curl CPU rounded to 0)"
    }'
else
    echo "gather/curl ratios: n/a (gather was not run)"
fi
