#!/usr/bin/env bash
# bench/run.sh - throughput, CPU and memory of gather next to
# `curl --parallel` and wget2, against a private nginx on 127.0.0.1.
#
# Scenarios (-s LIST, default a,b,c,d):
#   a  N files of 100 bytes over HTTP/1.1, bodies discarded
#   b  B files of 100 KiB over HTTP/1.1, each written to a file
#   c  the N small files over HTTP/2 with TLS (self-signed certificate)
#   d  gather's peak RSS streaming 10k, 100k and 1M URLs from stdin, and
#      with the bodies embedded in the records
#
# nginx gets its own configuration, prefix, pid file and logs, all inside a
# temporary directory.  Every scenario runs each tool once unmeasured, then
# R measured rounds in which every tool runs once (the first tool rotates
# from round to round).  Medians are printed and written to bench/RESULTS.md.
# Not part of the test suite.
#
# Usage: bench/run.sh [-n FILES] [-b FILES] [-r RUNS] [-c CONCURRENCY]
#                     [-s LIST] [-l LIST] [-W] [-D DIR] [-o FILE]
#        GATHER=/path/to/gather bench/run.sh ...
set -euo pipefail
export LC_ALL=C

N=10000
BIGN=2000
RUNS=5
CONC=32
SCENARIOS=a,b,c,d
STREAMS=10000,100000,1000000
STREAM_CONC=64
USE_WGET2=1
RESULTS=
DL_PARENT=

usage() {
    cat <<'EOF'
Usage: bench/run.sh [-n FILES] [-b FILES] [-r RUNS] [-c CONCURRENCY]
                    [-s LIST] [-l LIST] [-W] [-D DIR] [-o FILE]

  -n FILES        small (100-byte) files: the URLs of scenarios a and c (10000)
  -b FILES        100 KiB files: the URLs of scenario b (2000)
  -r RUNS         measured runs per tool and scenario (5)
  -c CONCURRENCY  transfers in flight, every tool (32; scenario d's
                  streaming runs use 64)
  -s LIST         scenarios to run, comma-separated (a,b,c,d):
                    a  N x 100 B over HTTP/1.1, bodies discarded
                    b  B x 100 KiB over HTTP/1.1, written to files
                    c  N x 100 B over HTTP/2 + TLS
                    d  gather's peak RSS streaming URLs from stdin, and
                       with bodies embedded
  -l LIST         URL counts streamed in scenario d (10000,100000,1000000)
  -W              leave wget2 out
  -D DIR          where scenario b's files are written, in a new directory
                  removed at the end (default: /dev/shm when it is a
                  writable tmpfs, else the temporary directory)
  -o FILE         where the report goes (bench/RESULTS.md; - for nowhere)
  -h              this help

Environment:
  GATHER   the gather binary (default: gather at the repository root)
  TMPDIR   where the temporary directory goes (default: /tmp)

Starts a private nginx on free 127.0.0.1 ports; it is stopped, and the
temporary directory removed, on exit, error or Ctrl-C.  Without wget2 (or
with -W) its runs are skipped with a message.
EOF
}

die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
note() { printf 'bench: %s\n' "$*" >&2; }
is_posint() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }

while getopts ':n:b:r:c:s:l:WD:o:h' opt; do
    case $opt in
        n) N=$OPTARG ;;
        b) BIGN=$OPTARG ;;
        r) RUNS=$OPTARG ;;
        c) CONC=$OPTARG ;;
        s) SCENARIOS=$OPTARG ;;
        l) STREAMS=$OPTARG ;;
        W) USE_WGET2=0 ;;
        D) DL_PARENT=$OPTARG ;;
        o) RESULTS=$OPTARG ;;
        h) usage; exit 0 ;;
        :) usage >&2; die "option -$OPTARG needs a value" ;;
        *) usage >&2; die "unknown option -$OPTARG" ;;
    esac
done
shift $((OPTIND - 1))
[[ $# -eq 0 ]] || { usage >&2; die "unexpected argument: $1"; }
is_posint "$N" || die "-n wants a positive integer, got '$N'"
is_posint "$BIGN" || die "-b wants a positive integer, got '$BIGN'"
is_posint "$RUNS" || die "-r wants a positive integer, got '$RUNS'"
is_posint "$CONC" || die "-c wants a positive integer, got '$CONC'"
((BASH_VERSINFO[0] >= 5)) || die "bash 5 or newer is needed (for EPOCHREALTIME)"

DO_A=0 DO_B=0 DO_C=0 DO_D=0
IFS=, read -r -a scen_list <<<"$SCENARIOS"
((${#scen_list[@]})) || die "-s wants a list of scenarios such as a,c"
for s in "${scen_list[@]}"; do
    case $s in
        a) DO_A=1 ;;
        b) DO_B=1 ;;
        c) DO_C=1 ;;
        d) DO_D=1 ;;
        *) die "-s: unknown scenario '$s' (a, b, c or d)" ;;
    esac
done
IFS=, read -r -a STREAM_COUNTS <<<"$STREAMS"
((${#STREAM_COUNTS[@]})) || die "-l wants a list of URL counts"
for s in "${STREAM_COUNTS[@]}"; do
    is_posint "$s" || die "-l wants positive integers, got '$s'"
done

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
RESULTS=${RESULTS:-$SCRIPT_DIR/RESULTS.md}
if [[ $RESULTS != - && $RESULTS != /* ]]; then
    RESULTS=$PWD/$RESULTS
fi

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

apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "$@" >/dev/null 2>&1 && return 0
    apt-get update -q >/dev/null 2>&1 || true
    apt-get install -y -q "$@" >/dev/null 2>&1
}

missing=()
command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
command -v curl >/dev/null 2>&1 || missing+=(curl)
[[ -x /usr/bin/time ]] || missing+=(time)
command -v jq >/dev/null 2>&1 || missing+=(jq)
command -v setsid >/dev/null 2>&1 || missing+=(util-linux)
command -v awk >/dev/null 2>&1 || missing+=(mawk)
command -v cksum >/dev/null 2>&1 || missing+=(coreutils)
if ((DO_C)); then
    command -v openssl >/dev/null 2>&1 || missing+=(openssl)
fi

if ((${#missing[@]})); then
    if ((EUID != 0)); then
        note "missing: ${missing[*]}"
        note "install them first, e.g.: sudo apt-get install -y ${missing[*]}"
        exit 1
    fi
    note "installing: ${missing[*]}"
    apt_install "${missing[@]}" || die "could not install: ${missing[*]}"
    command -v nginx >/dev/null 2>&1 || die "nginx is still missing after the install"
fi

# wget2 is optional: without it, its runs are skipped.
HAVE_WGET2=0
WGET2_H2=0
if ((USE_WGET2 && (DO_A || DO_B || DO_C))); then
    if ! command -v wget2 >/dev/null 2>&1; then
        if ((EUID == 0)); then
            note "installing: wget2"
            apt_install wget2 || note "could not install wget2"
        else
            note "wget2 is missing (sudo apt-get install -y wget2)"
        fi
    fi
    if command -v wget2 >/dev/null 2>&1; then
        HAVE_WGET2=1
        wget2 --version 2>/dev/null | grep -q -- '+http2' && WGET2_H2=1
    else
        note "skipping the wget2 runs"
    fi
fi

curl --help all 2>/dev/null | grep -q -- '--parallel-max' ||
    die "this curl has no --parallel (7.66.0 or newer is needed): $(curl -V | head -n 1)"
if ((DO_C)); then
    curl -V | grep -q -i 'HTTP2' || die "this curl has no HTTP/2 support; leave scenario c out (-s a,b,d)"
    nginx -V 2>&1 | grep -q -- '--with-http_v2_module' ||
        die "this nginx has no HTTP/2 module; leave scenario c out (-s a,b,d)"
    nginx -V 2>&1 | grep -q -- '--with-http_ssl_module' ||
        die "this nginx has no TLS module; leave scenario c out (-s a,b,d)"
fi
CURL_CONC=$CONC
if ((CONC > 300)); then
    note "warning: curl caps --parallel-max at 300; the curl runs use 300"
    CURL_CONC=300
fi

HAVE_GATHER=1
if [[ ! -x $GATHER || -d $GATHER ]]; then
    HAVE_GATHER=0
    note "gather not found at '$GATHER' (build it with 'make' at the repository root, or set GATHER=...)"
    note "skipping the gather runs (and scenario d)"
    DO_D=0
fi
((DO_A || DO_B || DO_C || DO_D)) || die "nothing left to run"

# --- temporary directory and cleanup --------------------------------------

T=$(mktemp -d "${TMPDIR:-/tmp}/gather-bench.XXXXXX")
NGINX_PID=
CHILD_PID=
DL_TOP=

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
    [[ -n $DL_TOP ]] && rm -rf -- "$DL_TOP"
    rm -rf -- "$T"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Measure a private copy: `make` in the repository during the run must not
# swap the binary between runs.
GATHER_ORIG=$GATHER
if ((HAVE_GATHER)); then
    cp -- "$GATHER" "$T/gather"
    GATHER=$T/gather
fi

# --- content ----------------------------------------------------------------

NEED_SMALL=$((DO_A || DO_C || DO_D))
NEED_BIG=$((DO_B || DO_D))
BIGSIZE=102400

mkdir -p "$T/www" "$T/nginx/tmp" "$T/home"
if ((NEED_SMALL)); then
    note "writing $N files of 100 bytes"
    # 99 characters and a newline: 100 bytes a file.
    line=$(printf '%099d' 0 | tr 0 x)
    for ((i = 0; i < N; i++)); do
        printf '%s\n' "$line" >"$T/www/$i.txt"
    done
    [[ $(stat -c %s "$T/www/0.txt") == 100 ]] || die "internal: files are not 100 bytes"
fi
if ((NEED_BIG)); then
    note "serving $BIGN files of 100 KiB (hard links to one random file)"
    mkdir -p "$T/www/big"
    head -c "$BIGSIZE" /dev/urandom >"$T/big.bin"
    for ((i = 0; i < BIGN; i++)); do
        ln "$T/big.bin" "$T/www/big/$i.bin" 2>/dev/null || cp "$T/big.bin" "$T/www/big/$i.bin"
    done
    BIG_CKSUM=$(cksum <"$T/big.bin")
fi
if ((DO_C)); then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$T/nginx/key.pem" -out "$T/nginx/cert.pem" -days 2 \
        -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
        >"$T/openssl.log" 2>&1 || { cat "$T/openssl.log" >&2; die "openssl could not make a certificate"; }
fi

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

LOG=$T/nginx/access.log

write_nginx_conf() {
    local port=$1 sport=$2 user_line='' tls_server=''
    # Only a root master switches users; keep the workers as ourselves so
    # they can read the (mode 700) temporary directory.
    if ((EUID == 0)); then
        user_line="user $(id -un) $(id -gn);"
    fi
    if ((DO_C)); then
        tls_server="
    server {
        listen 127.0.0.1:$sport ssl http2;
        ssl_certificate $T/nginx/cert.pem;
        ssl_certificate_key $T/nginx/key.pem;
        root $T/www;
        location / { }
        location = /.ready { access_log off; return 204; }
    }"
    fi
    cat >"$T/nginx/nginx.conf" <<EOF
$user_line
daemon off;
master_process on;
worker_processes 2;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log warn;

events {
    worker_connections 4096;
}

http {
    # One line a request: connection (worker pid and serial), protocol,
    # status, body bytes.  Buffered, flushed within a second.
    log_format bench '\$pid:\$connection \$server_protocol \$status \$body_bytes_sent';
    access_log $LOG bench buffer=256k flush=1s;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    gzip off;
    keepalive_timeout 300s;
    keepalive_requests 10000000;
    open_file_cache max=$((N + BIGN + 1000)) inactive=600s;
    client_body_temp_path $T/nginx/tmp/body;
    proxy_temp_path $T/nginx/tmp/proxy;
    fastcgi_temp_path $T/nginx/tmp/fastcgi;
    uwsgi_temp_path $T/nginx/tmp/uwsgi;
    scgi_temp_path $T/nginx/tmp/scgi;

    server {
        listen 127.0.0.1:$port;
        root $T/www;
        location / { }
        location = /.ready { access_log off; return 204; }
    }$tls_server
}
EOF
}

# Startup messages go to our log, not the compiled-in one, where -e exists.
nginx_args=(-p "$T/nginx/" -c "$T/nginx/nginx.conf")
if nginx -h 2>&1 | grep -q -- '-e filename'; then
    nginx_args+=(-e "$T/nginx/error.log")
fi

start_nginx() {
    local port=$1 sport=$2 i code scode
    write_nginx_conf "$port" "$sport"
    setsid nginx "${nginx_args[@]}" >"$T/nginx/stdout.log" 2>&1 </dev/null &
    NGINX_PID=$!
    for ((i = 0; i < 100; i++)); do
        if ! kill -0 "$NGINX_PID" 2>/dev/null; then
            wait "$NGINX_PID" 2>/dev/null || true
            NGINX_PID=
            return 1
        fi
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 \
            "http://127.0.0.1:$port/.ready" 2>/dev/null || true)
        scode=204
        if ((DO_C)); then
            scode=$(curl -s -k -o /dev/null -w '%{http_code}' --max-time 1 \
                "https://127.0.0.1:$sport/.ready" 2>/dev/null || true)
        fi
        [[ $code == 204 && $scode == 204 ]] && return 0
        sleep 0.1
    done
    stop_nginx "$NGINX_PID"
    NGINX_PID=
    return 1
}

PORT=
SPORT=
for ((attempt = 0; attempt < 10; attempt++)); do
    port=$(pick_port) || die "found no free port on 127.0.0.1"
    sport=$(pick_port) || die "found no free port on 127.0.0.1"
    [[ $port != "$sport" ]] || continue
    if start_nginx "$port" "$sport"; then
        PORT=$port
        SPORT=$sport
        break
    fi
    # Someone took a port between the pick and the bind: try others.
    grep -qs 'Address already in use' "$T/nginx/error.log" "$T/nginx/stdout.log" && continue
    cat "$T/nginx/error.log" "$T/nginx/stdout.log" >&2 2>/dev/null || true
    die "nginx did not start"
done
[[ -n $PORT ]] || die "nginx could not bind its ports after 10 tries"
BASE=http://127.0.0.1:$PORT
SBASE=https://127.0.0.1:$SPORT
if ((DO_C)); then
    note "nginx (pid $NGINX_PID) serves $BASE/ and $SBASE/ (HTTP/2)"
else
    note "nginx (pid $NGINX_PID) serves $BASE/"
fi

# --- URL lists --------------------------------------------------------------

# urls_and_cfg BASE SUFFIX COUNT URLFILE CFGFILE OUTDIR: a URL list, and the
# same URLs as a curl -K config (curl cannot take 2N arguments on a command
# line); outputs go to OUTDIR/NAME, or to /dev/null when OUTDIR is empty.
urls_and_cfg() {
    local base=$1 suffix=$2 count=$3 ufile=$4 cfile=$5 odir=$6 i
    for ((i = 0; i < count; i++)); do
        printf '%s/%d%s\n' "$base" "$i" "$suffix"
    done >"$ufile"
    for ((i = 0; i < count; i++)); do
        if [[ -n $odir ]]; then
            printf 'url = "%s/%d%s"\noutput = "%s/%d%s"\n' "$base" "$i" "$suffix" "$odir" "$i" "$suffix"
        else
            printf 'url = "%s/%d%s"\noutput = "/dev/null"\n' "$base" "$i" "$suffix"
        fi
    done >"$cfile"
}

# Scenario b writes 200 MB and deletes it again, run after run.  On a disk
# file system that churn slows file creation for every tool as the run goes
# on (ext4 searches past recently deleted inodes), so b writes to a tmpfs
# when there is one: the tools' own cost, not the file system's state.
DL=$T/dl
DL_WHERE="the temporary directory"
if ((DO_B)); then
    if [[ -z $DL_PARENT && -d /dev/shm && -w /dev/shm &&
        $(stat -f -c %T /dev/shm 2>/dev/null) == tmpfs ]]; then
        DL_PARENT=/dev/shm
    fi
    if [[ -n $DL_PARENT ]]; then
        DL_TOP=$(mktemp -d "$DL_PARENT/gather-bench-dl.XXXXXX") ||
            die "cannot make a directory in $DL_PARENT (-D)"
        DL=$DL_TOP/dl
        DL_WHERE=$DL_PARENT
    fi
    DL_WHERE+=" ($(stat -f -c %T "$(dirname -- "$DL")" 2>/dev/null || echo '?'))"
    note "scenario b writes its files under $(dirname -- "$DL"), on $DL_WHERE"
fi
if ((DO_A || DO_D)); then
    urls_and_cfg "$BASE" .txt "$N" "$T/urls.txt" "$T/curl.cfg" ''
fi
if ((DO_B || DO_D)); then
    urls_and_cfg "$BASE/big" .bin "$BIGN" "$T/burls.txt" "$T/bcurl.cfg" "$DL"
fi
if ((DO_C)); then
    urls_and_cfg "$SBASE" .txt "$N" "$T/surls.txt" "$T/scurl.cfg" ''
fi

# stream_urls COUNT: COUNT URLs on stdout, cycling over the N small files.
stream_urls() {
    awk -v n="$1" -v m="$N" -v b="$BASE" \
        'BEGIN { for (i = 0; i < n; i++) printf "%s/%d.txt\n", b, i % m }'
}

# --- one timed run ----------------------------------------------------------

# run_timed OUT ERR CMD...: runs CMD with stdout to OUT and stderr to ERR,
# stdin from `stream_urls R_GEN` when R_GEN is set, else /dev/null, in its
# own session so Ctrl-C reaches only us and cleanup can kill it.
# Sets R_RC, R_WALL (s), R_CPU (user+sys, s), R_RSS (KiB).
R_GEN=
run_timed() {
    local out=$1 err=$2 t0 t1 tl
    shift 2
    : >"$T/time.out"
    t0=$EPOCHREALTIME
    if [[ -n $R_GEN ]]; then
        setsid /usr/bin/time -o "$T/time.out" -f '%e %U %S %M' "$@" \
            >"$out" 2>"$err" < <(stream_urls "$R_GEN") &
    else
        setsid /usr/bin/time -o "$T/time.out" -f '%e %U %S %M' "$@" \
            >"$out" 2>"$err" </dev/null &
    fi
    CHILD_PID=$!
    R_RC=0
    wait "$CHILD_PID" || R_RC=$?
    CHILD_PID=
    t1=$EPOCHREALTIME
    # On a non-zero exit, time writes a note line before the numbers.
    tl=$(tail -n 1 "$T/time.out")
    read -r _ R_USER R_SYS R_RSS <<<"$tl"
    [[ -n ${R_RSS:-} ]] || die "could not read /usr/bin/time output: '$tl'"
    R_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
    R_CPU=$(awk -v u="$R_USER" -v s="$R_SYS" 'BEGIN { printf "%.2f", u + s }')
}

# read_log SIZE EXPECTED: waits for nginx to flush the run's log lines, then
# sets L_REQS (requests), L_CONNS (distinct connections), L_GOOD (status 200
# with SIZE body bytes) and L_PROTO (protocols seen), and empties the log.
read_log() {
    local size=$1 want=$2 i have last=-1 still=0 s
    sleep 1.2 # the log buffer is flushed at the latest a second after a write
    for ((i = 0; i < 100; i++)); do
        have=$(wc -l <"$LOG")
        ((have >= want)) && break
        if ((have == last)); then
            still=$((still + 1))
            ((still < 15)) || break
        else
            still=0
        fi
        last=$have
        sleep 0.1
    done
    s=$(awk -v sz="$size" '
        { if (!($1 in c)) { c[$1] = 1; n++ }
          if (!($2 in p)) { p[$2] = 1; pl = pl (pl == "" ? "" : ",") $2 }
          if ($3 == 200 && $4 == sz) g++ }
        END { printf "%d %d %d %s\n", NR, n, g, (pl == "" ? "-" : pl) }' "$LOG")
    read -r L_REQS L_CONNS L_GOOD L_PROTO <<<"$s"
    : >"$LOG"
}

keep_evidence() {
    local keep
    keep=$(mktemp "${TMPDIR:-/tmp}/gather-bench-failed.XXXXXX")
    cp -- "$1" "$keep"
    note "output kept in $keep"
}

show_gather_failure() {
    note "gather exit status: $R_RC"
    note "gather stderr (first 20 lines):"
    head -n 20 "$T/tool.err" >&2 || true
    note "first records that are not ok:"
    jq -c 'select(.ok != true)' "$T/out.jsonl" 2>&1 | head -n 5 >&2 || true
    keep_evidence "$T/out.jsonl"
}

# check_records COUNT SIZE PREFIX SUFFIX VERSION BODY: a measured gather run
# must give COUNT records, in order, all ok with status 200, SIZE bytes, url
# PREFIX<index>SUFFIX and HTTP version VERSION; BODY is none (no body field),
# embedded (a body) or DIR (a file DIR/<index>, no body).
check_records() {
    local count=$1 size=$2 prefix=$3 suffix=$4 version=$5 body=$6 lines summary
    lines=$(wc -l <"$T/out.jsonl")
    if ((lines != count)); then
        show_gather_failure
        die "gather wrote $lines lines for $count URLs"
    fi
    if ! summary=$(jq -s -r --arg prefix "$prefix" --arg suffix "$suffix" \
        --arg version "$version" --arg body "$body" --argjson size "$size" '
            [ ([.[] | select(.ok == true)] | length),
              ([.[] | select(.status == 200 and .size == $size)] | length),
              ([.[].index] == [range(0; length)]),
              ([to_entries[] | select(.value.url != ($prefix + (.key | tostring) + $suffix))] | length),
              ([.[] | select(.http_version != $version)] | length),
              ([.[] | select(
                  if $body == "none" then has("body") or has("file")
                  elif $body == "embedded" then (has("body") | not) or (.body | length) == 0
                  else has("body") or .file != ($body + "/" + (.index | tostring)) end)] | length),
              ([.[] | select(.error != null)] | length)
            ] | @tsv' "$T/out.jsonl" 2>"$T/jq.err"); then
        show_gather_failure
        cat "$T/jq.err" >&2
        die "gather output is not valid JSON lines"
    fi
    local ok good ordered badurl badver badbody witherr
    read -r ok good ordered badurl badver badbody witherr <<<"$summary"
    if ((ok != count || good != count)) || [[ $ordered != true ]] || ((badurl != 0)); then
        show_gather_failure
        die "gather: $ok/$count ok, $good/$count status 200 and size $size, ordered: $ordered, $badurl wrong url"
    fi
    if ((R_RC != 0)); then
        show_gather_failure
        die "gather exited $R_RC although every record is ok"
    fi
    if ((badver != 0)); then
        note "warning: $badver gather records have an http_version other than \"$version\""
    fi
    if ((badbody != 0)); then
        show_gather_failure
        die "gather: $badbody records with a wrong body or file field (expected: $body)"
    fi
    if ((witherr != 0)); then
        note "warning: $witherr ok gather records have a non-null error"
    fi
    if [[ -s $T/tool.err ]]; then
        note "warning: gather wrote to stderr: $(head -c 300 "$T/tool.err")"
    fi
}

# check_stream COUNT: the cheap check for long streamed runs.
check_stream() {
    local count=$1 lines ok
    lines=$(wc -l <"$T/out.jsonl")
    ok=$(grep -c '"ok":true' "$T/out.jsonl" || true)
    if ((lines != count || ok != count || R_RC != 0)); then
        show_gather_failure
        die "gather: $lines lines, $ok ok, exit $R_RC for $count URLs"
    fi
}

# check_files TOOL: the B files in DL are all there, whole and intact.
check_files() {
    local tool=$1 files bad
    files=$(find "$DL" -type f | wc -l)
    bad=$(find "$DL" -type f -exec cksum {} + |
        awk -v want="$BIG_CKSUM" '$1 " " $2 != want { n++ } END { print n + 0 }')
    if ((files != BIGN || bad != 0)); then
        die "$tool wrote $files files for $BIGN URLs; $bad of them differ from the served file"
    fi
}

fresh_dl() {
    rm -rf -- "$DL"
    mkdir -p -- "$DL"
}

# Options that keep wget2 to plain fetching: no configuration file, no
# robots.txt, no HSTS/HPKP/OCSP databases (and HOME is the temporary
# directory, so nothing is written to the real one), no extended attributes
# on saved files.  Recursion and the progress bar are off by default.
WGET2=(env "HOME=$T/home" wget2 --no-config --no-robots --no-hsts --no-hpkp
    --no-ocsp --no-netrc --no-xattr -q)

# --- scenarios ----------------------------------------------------------------

# Tools of each scenario, in the order of the tables.
declare -A TOOLS CMD TITLE NOTE
TOOLS[a]="gather curl"
TOOLS[b]="gather curl"
TOOLS[c]="gather curl"
if ((HAVE_WGET2)); then
    TOOLS[a]+=" wget2"
    TOOLS[b]+=" wget2"
    TOOLS[c]+=" wget2"
    ((WGET2_H2)) && TOOLS[c]+=" wget2-1conn"
fi
if ((!HAVE_GATHER)); then
    for s in a b c; do
        TOOLS[$s]=${TOOLS[$s]#gather }
    done
fi
TOOLS[d]=
for s in "${STREAM_COUNTS[@]}"; do
    TOOLS[d]+="stream-$s "
done
TOOLS[d]+="embedded-small embedded-big"

commas() { sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|[^0-9]\)/\1,\2\3/' -e 'ta' <<<"$1"; }

TITLE[a]="(a) $(commas "$N") files of 100 bytes over HTTP/1.1, bodies discarded, concurrency $CONC"
TITLE[b]="(b) $(commas "$BIGN") files of 100 KiB over HTTP/1.1, written to files, concurrency $CONC"
TITLE[c]="(c) $(commas "$N") files of 100 bytes over HTTP/2 with TLS, bodies discarded, concurrency $CONC"
TITLE[d]="(d) gather's peak memory"

CMD[a:gather]="gather -c $CONC --body none -i urls.txt > out.jsonl"
CMD[a:curl]="curl --parallel --parallel-max $CURL_CONC --no-progress-meter -sS --fail -K curl.cfg  (url + output = \"/dev/null\" pairs)"
CMD[a:wget2]="${WGET2[*]:2} --max-threads=$CONC -O /dev/null -i urls.txt"
CMD[b:gather]="gather -c $CONC -o DIR -i urls.txt > records.jsonl"
CMD[b:curl]="curl --parallel --parallel-max $CURL_CONC --no-progress-meter -sS --fail -K curl.cfg  (url + output = \"DIR/NAME\" pairs)"
CMD[b:wget2]="${WGET2[*]:2} --max-threads=$CONC -P DIR -i urls.txt"
CMD[c:gather]="gather -k -c $CONC --body none -i urls.txt > out.jsonl"
CMD[c:curl]="curl --parallel --parallel-max $CURL_CONC -k --http2 --no-progress-meter -sS --fail -K curl.cfg"
CMD[c:wget2]="${WGET2[*]:2} --no-check-certificate --max-threads=$CONC -O /dev/null -i urls.txt"
CMD[c:wget2-1conn]="${WGET2[*]:2} --no-check-certificate --max-threads=1 --http2-request-window=$CONC -O /dev/null -i urls.txt"
for s in "${STREAM_COUNTS[@]}"; do
    CMD[d:stream-$s]="URL generator | gather -c $STREAM_CONC --body none > out.jsonl"
done
CMD[d:embedded-small]="gather -c $CONC -i urls.txt > out.jsonl  (scenario a's URLs, bodies embedded, default --max-body)"
CMD[d:embedded-big]="gather -c $CONC -i urls.txt > out.jsonl  (scenario b's URLs, bodies embedded as base64)"

NOTE[a]="Every run is checked: nginx logged exactly one 200 with the whole body per URL; gather's records are all ok, in order, with the right url and size."
NOTE[b]="Every run is checked: nginx logged one whole 200 per URL, and DIR holds exactly $(commas "$BIGN") files, each with the served file's cksum; gather's records name DIR/<index> and size $BIGSIZE. DIR is emptied before each run (not timed); it is on $DL_WHERE."
NOTE[c]="wget2 opens one connection per thread even over HTTP/2, so --max-threads=$CONC means $CONC connections; wget2-1conn (one thread, $CONC streams on one connection) is added for comparison with gather and curl, which multiplex all streams on one connection."
# run_case SCENARIO TOOL: one timed run with its checks.  Sets R_* as
# run_timed does, R_REQS (requests asked) and the L_* of read_log.
run_case() {
    local sc=$1 tool=$2 size=100
    R_GEN=
    case $sc:$tool in
        a:gather)
            R_REQS=$N
            run_timed "$T/out.jsonl" "$T/tool.err" \
                "$GATHER" -c "$CONC" --body none -i "$T/urls.txt"
            check_records "$N" 100 "$BASE/" .txt 1.1 none
            ;;
        a:curl)
            R_REQS=$N
            run_timed /dev/null "$T/tool.err" \
                curl --parallel --parallel-max "$CURL_CONC" --no-progress-meter -sS --fail -K "$T/curl.cfg"
            ;;
        a:wget2)
            R_REQS=$N
            run_timed /dev/null "$T/tool.err" \
                "${WGET2[@]}" --max-threads="$CONC" -O /dev/null -i "$T/urls.txt"
            ;;
        b:gather)
            R_REQS=$BIGN size=$BIGSIZE
            fresh_dl
            run_timed "$T/out.jsonl" "$T/tool.err" \
                "$GATHER" -c "$CONC" -o "$DL" -i "$T/burls.txt"
            check_records "$BIGN" "$BIGSIZE" "$BASE/big/" .bin 1.1 "$DL"
            ;;
        b:curl)
            R_REQS=$BIGN size=$BIGSIZE
            fresh_dl
            run_timed /dev/null "$T/tool.err" \
                curl --parallel --parallel-max "$CURL_CONC" --no-progress-meter -sS --fail -K "$T/bcurl.cfg"
            ;;
        b:wget2)
            R_REQS=$BIGN size=$BIGSIZE
            fresh_dl
            run_timed /dev/null "$T/tool.err" \
                "${WGET2[@]}" --max-threads="$CONC" -P "$DL" -i "$T/burls.txt"
            ;;
        c:gather)
            R_REQS=$N
            run_timed "$T/out.jsonl" "$T/tool.err" \
                "$GATHER" -k -c "$CONC" --body none -i "$T/surls.txt"
            check_records "$N" 100 "$SBASE/" .txt 2 none
            ;;
        c:curl)
            R_REQS=$N
            run_timed /dev/null "$T/tool.err" \
                curl --parallel --parallel-max "$CURL_CONC" -k --http2 --no-progress-meter -sS --fail -K "$T/scurl.cfg"
            ;;
        c:wget2)
            R_REQS=$N
            run_timed /dev/null "$T/tool.err" \
                "${WGET2[@]}" --no-check-certificate --max-threads="$CONC" -O /dev/null -i "$T/surls.txt"
            ;;
        c:wget2-1conn)
            R_REQS=$N
            run_timed /dev/null "$T/tool.err" \
                "${WGET2[@]}" --no-check-certificate --max-threads=1 \
                --http2-request-window="$CONC" -O /dev/null -i "$T/surls.txt"
            ;;
        d:stream-*)
            R_REQS=${tool#stream-}
            R_GEN=$R_REQS
            run_timed "$T/out.jsonl" "$T/tool.err" \
                "$GATHER" -c "$STREAM_CONC" --body none
            R_GEN=
            check_stream "$R_REQS"
            ;;
        d:embedded-small)
            R_REQS=$N
            run_timed "$T/out.jsonl" "$T/tool.err" \
                "$GATHER" -c "$CONC" -i "$T/urls.txt"
            check_records "$N" 100 "$BASE/" .txt 1.1 embedded
            ;;
        d:embedded-big)
            R_REQS=$BIGN size=$BIGSIZE
            run_timed "$T/out.jsonl" "$T/tool.err" \
                "$GATHER" -c "$CONC" -i "$T/burls.txt"
            check_stream "$BIGN"
            ;;
        *) die "internal: no case $sc:$tool" ;;
    esac
    if [[ $tool != gather && $sc != d ]] && ((R_RC != 0)); then
        head -n 20 "$T/tool.err" >&2 || true
        die "$tool exited $R_RC in scenario $sc"
    fi
    if [[ $sc == b ]]; then
        check_files "$tool"
        rm -rf -- "$DL"
    fi
    read_log "$size" "$R_REQS"
    if ((L_REQS != R_REQS || L_GOOD != R_REQS)); then
        die "$tool in scenario $sc: nginx logged $L_REQS requests, $L_GOOD of them whole 200s, for $R_REQS URLs"
    fi
    rm -f -- "$T/out.jsonl"
}

# --- runs -------------------------------------------------------------------

declare -A RPS CPU RSS CONNS PROTO
RAW=$T/raw.txt
: >"$RAW"

report_run() {
    local label=$1 line
    line=$(printf '  %-26s %8.3f s wall %8.0f req/s %6.2f s CPU (%5.2f user %5.2f sys) %7d KiB RSS %3s conn %s' \
        "$label" "$R_WALL" "$(awk -v n="$R_REQS" -v w="$R_WALL" 'BEGIN { print n / w }')" \
        "$R_CPU" "$R_USER" "$R_SYS" "$R_RSS" "$L_CONNS" "$L_PROTO")
    printf '%s\n' "$line"
    printf '%s\n' "$line" >>"$RAW"
}

record_run() {
    local key=$1
    RPS[$key]+="$(awk -v n="$R_REQS" -v w="$R_WALL" 'BEGIN { printf "%.3f", n / w }') "
    CPU[$key]+="$R_CPU "
    RSS[$key]+="$R_RSS "
    CONNS[$key]+="$L_CONNS "
    PROTO[$key]=$L_PROTO
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
T_START=$EPOCHREALTIME
[[ $HAVE_GATHER == 1 ]] && note "gather: $GATHER"

run_scenario() {
    local sc=$1 tools tool run i k
    read -r -a tools <<<"${TOOLS[$sc]}"
    ((${#tools[@]})) || return 0
    echo "${TITLE[$sc]}"
    printf '%s\n' "${TITLE[$sc]}" >>"$RAW"
    echo " warm-up (not counted):"
    for tool in "${tools[@]}"; do
        # A warm-up of the million-URL stream would cost minutes and warms
        # nothing that the shorter streams do not.
        if [[ $sc == d && $tool == stream-* && $tool != "stream-${STREAM_COUNTS[0]}" ]]; then
            continue
        fi
        run_case "$sc" "$tool"
        report_run "$tool (warm-up)"
    done
    echo " measured runs:"
    k=${#tools[@]}
    for ((run = 1; run <= RUNS; run++)); do
        for ((i = 0; i < k; i++)); do
            # Rotate the starting tool from round to round (not in d, where
            # the cases are gather's alone).
            if [[ $sc == d ]]; then
                tool=${tools[i]}
            else
                tool=${tools[(i + run - 1) % k]}
            fi
            run_case "$sc" "$tool"
            report_run "$tool $run/$RUNS"
            record_run "$sc:$tool"
        done
    done
}

((DO_A)) && run_scenario a
((DO_B)) && run_scenario b
((DO_C)) && run_scenario c
((DO_D)) && run_scenario d
T_END=$EPOCHREALTIME
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')

# --- summary ----------------------------------------------------------------

median() {
    # shellcheck disable=SC2086 # the values are space-separated numbers
    printf '%s\n' $1 | sort -g | awk '
        { v[NR] = $1 }
        END {
            if (NR == 0) print "nan"
            else if (NR % 2) print v[(NR + 1) / 2]
            else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
        }'
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'
}

REPORT=$T/report.md
: >"$REPORT"
out() { printf '%s\n' "$@" >>"$REPORT"; }

gather_version=n/a
if ((HAVE_GATHER)); then
    gather_version="$("$GATHER" -V 2>&1 | head -n 1 || true); binary $GATHER_ORIG of $(date -u -r "$GATHER_ORIG" '+%Y-%m-%d %H:%M UTC' 2>/dev/null || echo '?'), sha256 $(sha256sum <"$GATHER" | cut -c1-12)"
    if [[ $GATHER_ORIG == "$REPO_ROOT/gather" ]] && git -C "$REPO_ROOT" rev-parse --short HEAD >/dev/null 2>&1; then
        gather_version+="; repository at commit $(git -C "$REPO_ROOT" rev-parse --short HEAD)"
        changed=$(git -C "$REPO_ROOT" status --porcelain --untracked-files=no -- src Makefile 2>/dev/null | wc -l)
        ((changed == 0)) || gather_version+=" with $changed source files modified"
    fi
fi
wget2_version=n/a
((HAVE_WGET2)) && wget2_version="$(wget2 --version 2>/dev/null | head -n 1 | sed 's/ - .*//') ($(wget2 --version 2>/dev/null | grep -o -- '[+-]http2' | head -n 1), $(wget2 --version 2>/dev/null | grep -o -- '+ssl/[a-z]*' | head -n 1))"
cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
mem_total=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null)
minutes=$(awk -v a="$T_START" -v b="$T_END" 'BEGIN { printf "%.1f", (b - a) / 60 }')

out "# gather benchmark results" ""
out "Written by \`bench/run.sh -r $RUNS -c $CONC -n $N -b $BIGN -s $SCENARIOS -l $STREAMS\`; see bench/README.md." ""
out "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC') ($minutes minutes)"
out "- machine: $(nproc) CPUs ($(grep -c '^processor' /proc/cpuinfo 2>/dev/null || echo '?') in /proc/cpuinfo), ${cpu_model:-unknown CPU}, $mem_total RAM, Linux $(uname -r)"
out "- load average (1, 5, 15 min): $LOAD_BEFORE before, $LOAD_AFTER after; the machine is shared, so other work skews the numbers"
out "- gather: $gather_version"
out "- curl: $(curl -V | head -n 1)"
out "- wget2: $wget2_version"
out "- nginx: $(nginx -v 2>&1 | head -n 1 | sed 's/^nginx version: //'), 2 workers, same machine"
((DO_C)) && out "- TLS: $(openssl version 2>/dev/null), P-256 self-signed certificate"
out "- $RUNS measured runs per tool and case after one warm-up; within a scenario the tools alternate (the first one rotates). Figures are medians."
out "- req/s is wall-clock over the client's whole run (the client and nginx share the CPUs). CPU is the client's user+sys from GNU time (10 ms resolution); max RSS its peak resident set. Connections are distinct connections in nginx's access log for the run."
out ""

tool_table() {
    local sc=$1 count=$2 tools tool key rps cpu rss conns g_rps g_cpu other
    read -r -a tools <<<"${TOOLS[$sc]}"
    ((${#tools[@]})) || return 0
    out "## ${TITLE[$sc]}" ""
    out "$(printf '| %-12s | %9s | %7s | %10s | %11s | %11s | %-8s |' tool 'req/s' 'CPU s' 'CPU µs/req' 'max RSS KiB' connections protocol)"
    out "|--------------|----------:|--------:|-----------:|------------:|------------:|----------|"
    local -A m_rps m_cpu
    for tool in "${tools[@]}"; do
        key=$sc:$tool
        rps=$(median "${RPS[$key]}")
        cpu=$(median "${CPU[$key]}")
        rss=$(median "${RSS[$key]}")
        conns=$(median "${CONNS[$key]}")
        m_rps[$tool]=$rps
        m_cpu[$tool]=$cpu
        out "$(printf '| %-12s | %9.0f | %7.2f | %10.1f | %11.0f | %11.0f | %-8s |' "$tool" "$rps" "$cpu" \
            "$(awk -v c="$cpu" -v n="$count" 'BEGIN { print c * 1e6 / n }')" "$rss" "$conns" "${PROTO[$key]}")"
    done
    out ""
    if [[ -n ${m_rps[gather]:-} ]]; then
        g_rps=${m_rps[gather]}
        g_cpu=${m_cpu[gather]}
        out "| ratio | requests/s | CPU per request |" "|-------|-----------:|----------------:|"
        for other in "${tools[@]}"; do
            [[ $other == gather ]] && continue
            out "| gather/$other | $(ratio "$g_rps" "${m_rps[$other]}") | $(ratio "$g_cpu" "${m_cpu[$other]}") |"
        done
        out "" "(requests/s: above 1 is gather faster; CPU per request: below 1 is gather cheaper)" ""
    fi
    out "Commands:" ""
    for tool in "${tools[@]}"; do
        out "- $tool: \`${CMD[$sc:$tool]}\`"
    done
    out ""
    [[ -z ${NOTE[$sc]:-} ]] || out "${NOTE[$sc]}" ""
}

memory_table() {
    local tools tool key rss cpu rps conns label count first_rss='' last_rss='' first last
    read -r -a tools <<<"${TOOLS[d]}"
    out "## ${TITLE[d]}" ""
    out "$(printf '| %-44s | %9s | %11s | %9s | %7s | %10s | %11s |' case URLs 'peak RSS KiB' 'req/s' 'CPU s' 'CPU µs/req' connections)"
    out "|----------------------------------------------|----------:|------------:|----------:|--------:|-----------:|------------:|"
    for tool in "${tools[@]}"; do
        key=d:$tool
        case $tool in
            stream-*)
                count=${tool#stream-}
                label="stdin stream, -c $STREAM_CONC --body none"
                ;;
            embedded-small)
                count=$N
                label="bodies embedded: (a), 100 B each, -c $CONC"
                ;;
            embedded-big)
                count=$BIGN
                label="bodies embedded: (b), 100 KiB each, -c $CONC"
                ;;
        esac
        rps=$(median "${RPS[$key]}")
        cpu=$(median "${CPU[$key]}")
        rss=$(median "${RSS[$key]}")
        conns=$(median "${CONNS[$key]}")
        if [[ $tool == stream-* ]]; then
            [[ -z $first_rss ]] && { first_rss=$rss; first=$count; }
            last_rss=$rss
            last=$count
        fi
        out "$(printf '| %-44s | %9s | %11.0f | %9.0f | %7.2f | %10.1f | %11.0f |' "$label" "$(commas "$count")" "$rss" "$rps" "$cpu" \
            "$(awk -v c="$cpu" -v n="$count" 'BEGIN { print c * 1e6 / n }')" "$conns")"
    done
    out ""
    if [[ -n $first_rss && $first != "$last" ]]; then
        out "Peak RSS growth from $(commas "$first") to $(commas "$last") streamed URLs: $(awk -v a="$last_rss" -v b="$first_rss" 'BEGIN { printf "%+d KiB", a - b }') ($(commas "$last_rss") - $(commas "$first_rss") KiB)." ""
    fi
    out "Commands:" ""
    out "- stream: \`awk 'BEGIN { for (i = 0; i < COUNT; i++) print BASE \"/\" i % $N \".txt\" }' | gather -c $STREAM_CONC --body none > out.jsonl\` (the URLs cycle over scenario a's files)"
    out "- embedded-small: \`${CMD[d:embedded-small]}\`"
    out "- embedded-big: \`${CMD[d:embedded-big]}\`"
    out ""
}

((DO_A)) && tool_table a "$N"
((DO_B)) && tool_table b "$BIGN"
((DO_C)) && tool_table c "$N"
((DO_D)) && memory_table
((HAVE_WGET2)) || out "wget2 was not run (missing, or -W)." ""

out "## Every run" "" '```'
cat "$RAW" >>"$REPORT"
out '```'

echo
cat "$REPORT"
if [[ $RESULTS != - ]]; then
    cp -- "$REPORT" "$RESULTS.tmp.$$"
    mv -- "$RESULTS.tmp.$$" "$RESULTS"
    note "results written to $RESULTS"
fi
