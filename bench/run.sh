#!/usr/bin/env bash
# bench/run.sh - time gather next to `curl --parallel` and wget2 against a
# private nginx on 127.0.0.x, one TSV row per run; bench/report.py turns
# the rows into bench/RESULTS.md.  Not part of the test suite; see
# bench/README.md.
set -euo pipefail
export LC_ALL=C

usage() {
	cat <<'EOF'
Usage: bench/run.sh [-n FILES] [-b FILES] [-r RUNS] [-c N] [-s LIST]
                    [-l LIST] [-L LIST] [-H LIST] [-R URLS] [-W] [-D DIR]
                    [-o FILE]

  -n FILES  100-byte files: the URLs of scenarios a and c (10000)
  -b FILES  100 KiB files: the URLs of scenario b (2000)
  -r RUNS   measured runs per tool and case, after one warm-up (5)
  -c N      transfers in flight in a, b, c, d (embedded) and r (32)
  -s LIST   scenarios, comma-separated (a,b,c,d,l,r):
              a  N x 100 B over HTTP/1.1, bodies discarded
              b  B x 100 KiB over HTTP/1.1, written to files
              c  N x 100 B over HTTP/2 + TLS
              d  gather's peak RSS streaming URLs, and with bodies embedded
              l  latency: 100 ms responses at the concurrencies of -L,
                 from one host and from 50 hosts, client on core 0
              r  reuse: new connections per transfer, -c N over 50 hosts
              x  scale: -c 19,000, 200,000 URLs over 50 hosts under a
                 descriptor limit of 20,000 (nginx with 2 workers), and
                 -c 32 over the same hosts, gather alone
              h  h2load --h1 -c 5000 beside gather -c 5000: 50,000 URLs
                 from one host
  -l LIST   URL counts streamed in d (10000,100000,1000000)
  -L LIST   CONCURRENCY:URLS pairs of l
            (32:640,1000:20000,5000:50000,10000:50000)
  -H LIST   host counts of l, 1 to 50 (1,50)
  -R URLS   URLs of r (6400)
  -W        leave wget2 out
  -D DIR    where b's files go, in a new directory removed at the end
            (default /dev/shm when it is a writable tmpfs)
  -o FILE   the report (bench/RESULTS.md; - for stdout only); the raw rows
            go beside it, FILE with .tsv for .md

Environment: GATHER (default: gather at the repository root), TMPDIR;
GATHER_BEFORE: another gather binary, run beside it in l, r, x and h as
the tool gather-before.
EOF
}

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd -- "$HERE/.." && pwd -P)
# shellcheck source-path=SCRIPTDIR/..
# shellcheck source=tests/nginx.bash
source "$ROOT/tests/nginx.bash"
PATH=$PATH:/usr/sbin:/sbin

N=10000 BIGN=2000 RUNS=5 CONC=32 SCENARIOS=a,b,c,d,l,r
STREAMS=10000,100000,1000000 STREAM_CONC=64
LATENCY=32:640,1000:20000,5000:50000,10000:50000 HOSTS=1,50 REUSE_N=6400
USE_WGET2=1 DL_PARENT='' RESULTS=$HERE/RESULTS.md
X_NOFILE=20000 BIGSIZE=102400 CURL_MAX=300 DELAY=0.1 ECHO_SO=/usr/lib/nginx/modules/ngx_http_echo_module.so
WGET2_OPTS=(--no-config --no-robots --no-hsts --no-hpkp --no-ocsp --no-netrc --no-xattr -q)

die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
note() { printf 'bench: %s\n' "$*" >&2; }
is_posint() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }
want() { [[ ,$SCENARIOS, == *",$1,"* ]]; }

# Read the options into the globals above and check them.
parse_args() {
	local opt s
	while getopts ':n:b:r:c:s:l:L:H:R:WD:o:h' opt; do
		case $opt in
		n) N=$OPTARG ;;
		b) BIGN=$OPTARG ;;
		r) RUNS=$OPTARG ;;
		c) CONC=$OPTARG ;;
		s) SCENARIOS=$OPTARG ;;
		l) STREAMS=$OPTARG ;;
		L) LATENCY=$OPTARG ;;
		H) HOSTS=$OPTARG ;;
		R) REUSE_N=$OPTARG ;;
		W) USE_WGET2=0 ;;
		D) DL_PARENT=$OPTARG ;;
		o) RESULTS=$OPTARG ;;
		h) usage; exit 0 ;;
		:) die "option -$OPTARG needs a value" ;;
		*) usage >&2; die "unknown option -$OPTARG" ;;
		esac
	done
	shift $((OPTIND - 1))
	(($# == 0)) || die "unexpected argument: $1"
	for s in "$N" "$BIGN" "$RUNS" "$CONC" "$REUSE_N" ${STREAMS//,/ } ${HOSTS//,/ }; do
		is_posint "$s" || die "not a positive integer: '$s'"
	done
	for s in ${HOSTS//,/ }; do ((s <= 50)) || die "-H: at most 50 hosts"; done
	for s in ${LATENCY//,/ }; do
		[[ $s =~ ^[1-9][0-9]*:[1-9][0-9]*$ ]] || die "-L wants CONCURRENCY:URLS pairs, got '$s'"
	done
	for s in ${SCENARIOS//,/ }; do
		[[ $s == [abcdlrxh] ]] || die "-s: unknown scenario '$s'"
	done
	[[ $RESULTS == - || $RESULTS == /* ]] || RESULTS=$PWD/$RESULTS
	((BASH_VERSINFO[0] >= 5)) || die "bash 5 or newer is needed (EPOCHREALTIME)"
}

# The gather binary as an absolute path, or nothing when there is none.
find_gather() {
	local g=${GATHER:-$ROOT/gather}
	[[ $g == */* ]] || g=$(command -v -- "$g" || true)
	[[ -z $g || $g == /* ]] || g=$PWD/$g
	if [[ -x $g && ! -d $g ]]; then
		printf '%s\n' "$g"
	else
		note "no gather at '${g:-${GATHER:-}}' (run make, or set GATHER): its runs are skipped"
	fi
}

# --- the working directory and its cleanup -----------------------------------

CHILD_PID='' DL_TOP='' FAILED=0

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM HUP
	# A timed run in flight: /usr/bin/time and the tool share a session.
	[[ -n $CHILD_PID ]] && kill -TERM -- "-$CHILD_PID" 2>/dev/null && wait "$CHILD_PID"
	stop_nginx
	[[ -n $DL_TOP ]] && rm -rf -- "$DL_TOP"
	rm -rf -- "$T"
	exit "$rc"
}

# Make $T with the binaries, content and URL lists the runs use; the runs
# happen inside it, so command lines name files by relative paths.
make_workdir() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/gather-bench.XXXXXX")
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	mkdir -p "$T/bin" "$T/home" "$T/www/big" "$T/nginx/tmp" "$T/failed"
	# A private copy: a `make` during the run cannot swap the binary.
	[[ -z $GATHER_BIN ]] || cp -- "$GATHER_BIN" "$T/bin/gather"
	[[ -z ${GATHER_BEFORE:-} ]] || cp -- "$GATHER_BEFORE" "$T/bin/gather-before"
	cd "$T"
	PATH=$T/bin:$PATH
	# No ~/.curlrc, ~/.wget2rc or HSTS/OCSP databases of the user's.
	export HOME=$T/home
	NGINX_DIR=$T/nginx
	# Enough descriptors for 10,000 connections and their files.
	ulimit -n "$(ulimit -Hn)"
}

# Write the served files: N of 100 bytes, BIGN hard links to a 100 KiB one.
make_content() {
	local i line
	line=$(printf '%099d' 0 | tr 0 x)
	for ((i = 0; i < N; i++)); do
		printf '%s\n' "$line" >"www/$i.txt"
	done
	head -c "$BIGSIZE" /dev/urandom >big.bin
	for ((i = 0; i < BIGN; i++)); do
		ln big.bin "www/big/$i.bin" 2>/dev/null || cp big.bin "www/big/$i.bin"
	done
	_nginx_certs || die "openssl could not make a certificate"
}

# Print COUNT URLs SCHEME://HOST:PORT/PREFIX<i>SUFFIX, HOST going round
# 127.0.0.2 .. 127.0.0.(1+HOSTS) when HOSTS > 1, else 127.0.0.1.
url_list() {
	awk -v s="$1" -v port="$2" -v hosts="$3" -v n="$4" -v pre="$5" -v suf="$6" 'BEGIN {
		for (i = 0; i < n; i++) {
			h = hosts > 1 ? 2 + i % hosts : 1
			printf "%s://127.0.0.%d:%d/%s%d%s\n", s, h, port, pre, i, suf
		}
	}'
}

# Turn a URL list (stdin) into a curl -K config: each url with an output,
# DIR/<last path segment>, or /dev/null without DIR.
curl_config() {
	awk -v d="${1:-}" '{
		n = split($0, p, "/")
		printf "url = \"%s\"\noutput = \"%s\"\n", $0, d == "" ? "/dev/null" : d "/" p[n]
	}'
}

# b's files go to a tmpfs when there is one: on a disk, creating and
# deleting 2,000 files run after run measures the file system's state.
make_dl() {
	if [[ -z $DL_PARENT && -w /dev/shm && $(stat -f -c %T /dev/shm) == tmpfs ]]; then
		DL_PARENT=/dev/shm
	fi
	DL_PARENT=${DL_PARENT:-$T}
	DL_TOP=$(mktemp -d "$DL_PARENT/gather-bench-dl.XXXXXX") || die "cannot write in $DL_PARENT (-D)"
	ln -s "$DL_TOP" dl
	DL_WHERE="$DL_PARENT ($(stat -f -c %T "$DL_PARENT"))"
}

# --- nginx --------------------------------------------------------------------

# Print the http-context lines both configurations share: the access log
# that run_case reads (connection, protocol, status, body bytes; buffered,
# flushed within a second) and long keep-alive.
bench_http_common() {
	nginx_conf_temp_paths
	cat <<CONF
	log_format bench '\$pid:\$connection \$server_protocol \$status \$body_bytes_sent';
	access_log $NGINX_DIR/access.log bench buffer=256k flush=1s;
	keepalive_timeout 300s;
	keepalive_requests 10000000;
	default_type application/octet-stream;
CONF
}

# Write nginx.conf: $1 workers of $2 connections each, the main-context
# lines $3, and an http context of bench_http_common and the lines on stdin.
bench_conf() {
	{
		nginx_conf_main "$1"
		printf '%s' "$3"
		echo "events { worker_connections $2; }"
		echo 'http {'
		bench_http_common
		cat
		echo '}'
	} >"$NGINX_DIR/nginx.conf"
}

# nginx for a, b, c and d: static files on port $1 (HTTP/1.1) and $2
# (HTTP/2 with TLS), two workers.
static_conf() {
	bench_conf 2 4096 '' <<CONF
	sendfile on;
	tcp_nopush on;
	tcp_nodelay on;
	gzip off;
	open_file_cache max=$((N + BIGN + 1000)) inactive=600s;
	server {
		listen 127.0.0.1:$1 backlog=4096;
		root $T/www;
		location = /.ready { access_log off; return 204; }
	}
	server {
		listen 127.0.0.1:$2 ssl http2;
		ssl_certificate $NGINX_DIR/server.pem;
		ssl_certificate_key $NGINX_DIR/server.key;
		root $T/www;
		location = /.ready { access_log off; return 204; }
	}
CONF
}

static_ready() {
	curl -q -sf -o /dev/null --max-time 1 "http://127.0.0.1:$1/.ready" &&
		curl -q -sfk -o /dev/null --max-time 1 "https://127.0.0.1:$2/.ready"
}

# nginx for l and r: /slow/<i> answers "ok" after DELAY seconds (the echo
# module), on port $1 of 127.0.0.1 .. 127.0.0.51; one worker, on core 1
# when there are two, with descriptors for every connection.
latency_conf() {
	local i main="load_module $ECHO_SO;"$'\n''worker_rlimit_nofile 65536;'$'\n'
	local workers=${LATENCY_WORKERS:-1}
	if (($(nproc) > 1)); then
		((workers == 1)) && main+='worker_cpu_affinity 10;'$'\n'
		((workers == 2)) && main+='worker_cpu_affinity 10 10;'$'\n'
	fi
	{
		echo '	server {'
		for ((i = 1; i <= 51; i++)); do
			echo "		listen 127.0.0.$i:$1 backlog=4096;"
		done
		echo "		location /slow/ { echo_sleep $DELAY; echo ok; }"
		echo '		location = /.ready { access_log off; return 204; }'
		echo '	}'
	} | bench_conf "$workers" 32768 "$main"
}

latency_ready() {
	curl -q -sf -o /dev/null --max-time 1 "http://127.0.0.1:$1/.ready" &&
		curl -q -sf -o /dev/null --max-time 1 "http://127.0.0.51:$1/.ready"
}

# Start nginx with configuration PROFILE (static or latency); sets PORT
# and PORT2.
start_bench_nginx() {
	stop_nginx
	nginx_launch "$1_conf" "$1_ready" || die "nginx did not start"
	PORT=$NGINX_PORT PORT2=$NGINX_PORT2
	note "nginx ($1, pid $NGINX_PID) on port $PORT"
}

# --- one timed run ----------------------------------------------------------

ROWS='' # the TSV file

# Print the TSV header, and the run's facts as "#key<TAB>value" lines.
write_meta() {
	local cpu
	cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	printf '#%s\t%s\n' \
		args "$*" \
		date "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" \
		start "$EPOCHREALTIME" \
		machine "$(nproc) CPUs, ${cpu:-unknown CPU}, $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r)" \
		load_before "$(cut -d' ' -f1-3 /proc/loadavg)" \
		gather "$(gather_version)" \
		curl "$(curl -V | head -n 1)" \
		wget2 "$(wget2_version)" \
		nginx "$(nginx -v 2>&1 | sed 's/^nginx version: //')" \
		tls "$(openssl version)" \
		n "$N" bign "$BIGN" bigsize "$BIGSIZE" runs "$RUNS" conc "$CONC" \
		stream_conc "$STREAM_CONC" curl_max "$CURL_MAX" delay "$DELAY" x_nofile "$X_NOFILE" \
		dl_where "${DL_WHERE:-}"
	printf '%s\n' "scenario	case	tool	conc	hosts	urls	round	wall	user	sys	maxrss	exit	requests	conns	protocol	status	command"
}

wget2_version() {
	((USE_WGET2)) || { echo 'not run (-W)'; return; }
	printf '%s (%s)\n' "$(wget2 --version | head -n 1 | sed 's/ - .*//')" \
		"$(wget2 --version | grep -o -e '[+-]http2' -e '+ssl/[a-z]*' | paste -sd, -)"
}

gather_version() {
	[[ -x bin/gather ]] || { echo 'not run'; return; }
	printf '%s; binary %s, sha256 %s' "$(gather -V 2>&1 | head -n 1)" \
		"$GATHER_BIN" "$(sha256sum <bin/gather | cut -c1-12)"
	git -C "$ROOT" rev-parse --short HEAD 2>/dev/null | sed 's/^/; repository at commit /'
}

# run_case KEY=VALUE... -- COMMAND...: run COMMAND once, timed, check it,
# and append its row to $ROWS.  Keys: sc, case, round, conc, hosts (1),
# urls (the count), size (body bytes nginx must send, - for any), in (stdin
# file), check (what the output must be, for gather: records:LIST:VERSION:BODY
# or count), files (b: the files written), pin (1: on core 0).
run_case() {
	local -A k=([hosts]=1 [size]=- [in]=/dev/null [check]='' [files]=0 [pin]=0)
	local kv t0 t1 rc=0 status=ok user sys rss log tool
	while [[ $1 != -- ]]; do
		kv=$1
		k[${kv%%=*}]=${kv#*=}
		shift
	done
	shift
	tool=${1##*/}
	if ((k[pin])); then
		set -- taskset -c 0 "$@"
	fi
	[[ ${k[sc]} != b ]] || { rm -rf dl/*; }
	t0=$EPOCHREALTIME
	setsid /usr/bin/time -o time.out -f '%U %S %M' "$@" >out.jsonl 2>tool.err <"${k[in]}" &
	CHILD_PID=$!
	wait "$CHILD_PID" || rc=$?
	CHILD_PID=''
	t1=$EPOCHREALTIME
	# After a non-zero exit, time writes a line of its own first.
	read -r user sys rss < <(tail -n 1 time.out)
	((rc == 0)) || status="exit $rc"
	[[ $status != ok || -z ${k[check]} ]] || status=$(check_output "${k[check]}") || true
	if [[ $status == ok ]] && ((k[files])); then
		status=$(python3 "$HERE/check.py" files dl "${k[urls]}" big.bin && echo ok) || true
	fi
	log=$(nginx_log "${k[urls]}" "${k[size]}")
	row "${k[sc]}" "${k[case]}" "$tool" "${k[conc]}" "${k[hosts]}" \
		"${k[urls]}" "${k[round]}" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')" \
		"$user" "$sys" "$rss" "$rc" "$log" "${status:-ok}" "$*"
}

# Check gather's output against a spec records:LIST:VERSION:BODY or
# count:COUNT; print ok, or what is wrong.
check_output() {
	local spec=$1 kind
	IFS=: read -r -a kind <<<"$spec"
	if [[ ${kind[0]} == count ]]; then
		python3 "$HERE/check.py" count out.jsonl "${kind[1]}"
	else
		python3 "$HERE/check.py" records out.jsonl "${kind[@]:1}"
	fi && echo ok
}

# Wait for nginx to flush the run's log lines (at most a second after the
# last write, then until URLS lines or no growth for 1.5 s), print
# "requests conns good protocols" and empty the log.
nginx_log() {
	local want=$1 size=$2 have last=-1 still=0 i
	sleep 1.2
	for ((i = 0; i < 300 && still < 15; i++)); do
		have=$(wc -l <"$NGINX_DIR/access.log")
		((have < want)) || break
		if ((have == last)); then
			still=$((still + 1))
		else
			still=0
		fi
		last=$have
		sleep 0.1
	done
	python3 "$HERE/check.py" log "$NGINX_DIR/access.log" "$size"
	: >"$NGINX_DIR/access.log"
}

# Append one TSV row; a failed run is recorded, kept and counted.
row() {
	local sc=$1 case=$2 tool=$3 conc=$4 hosts=$5 urls=$6 round=$7 wall=$8
	local user=$9 sys=${10} rss=${11} rc=${12} log=${13} status=${14} cmd=${15}
	local requests conns good protos
	read -r requests conns good protos <<<"$log"
	if [[ $status == ok ]] && ((requests != urls || good != urls)); then
		status="nginx logged $requests requests, $good of them whole 200s, for $urls URLs"
	fi
	if [[ $status != ok ]]; then
		FAILED=$((FAILED + 1))
		cp out.jsonl "failed/$sc-$case-$round.out" 2>/dev/null || true
		note "FAILED $sc $case -c $conc round $round: $status; stderr: $(head -c 300 tool.err)"
	fi
	printf '%s\t' "$sc" "$case" "$tool" "$conc" "$hosts" "$urls" "$round" \
		"$wall" "$user" "$sys" "$rss" "$rc" "$requests" "$conns" "$protos" "$status" >>"$ROWS"
	printf '%s\n' "$cmd" >>"$ROWS"
	printf 'bench: %-3s %-15s -c %-5s %2s host(s) round %s: %8.3f s wall, %s user %s sys, %s KiB, %s conn, %s\n' \
		"$sc" "$case" "$conc" "$hosts" "$round" "$wall" "$user" "$sys" "$rss" "$conns" "$status" >&2
}

# --- scenarios ------------------------------------------------------------------

# rounds SC TOOLS ARGS...: a warm-up (round 0), then RUNS rounds of
# "case_SC TOOL ROUND ARGS..." for each tool; the first tool rotates.
rounds() {
	local sc=$1 r i
	local -a tools
	read -r -a tools <<<"$2"
	shift 2
	for ((r = 0; r <= RUNS; r++)); do
		for ((i = 0; i < ${#tools[@]}; i++)); do
			"case_$sc" "${tools[(i + r) % ${#tools[@]}]}" "$r" "$@"
		done
	done
}

# The tools of a, b, c, l and r: gather (if built), curl, wget2 (unless -W).
peers() {
	[[ -x bin/gather ]] && printf 'gather '
	[[ -x bin/gather-before && ${1:-} != wget2-1conn ]] && printf 'gather-before '
	printf 'curl '
	((USE_WGET2)) && printf 'wget2 %s' "${1:-}"
	echo
}

case_a() {
	local -a ctx=(sc=a "case=$1" "round=$2" "conc=$CONC" "urls=$N" size=100)
	case $1 in
	gather) run_case "${ctx[@]}" check=records:a.txt:1.1:none -- gather -c "$CONC" --body none -i a.txt ;;
	curl) run_case "${ctx[@]}" -- curl --parallel --parallel-max "$CURL_C" --no-progress-meter -sS --fail -K a.cfg ;;
	wget2) run_case "${ctx[@]}" -- wget2 "${WGET2_OPTS[@]}" --max-threads="$CONC" -O /dev/null -i a.txt ;;
	esac
}

case_b() {
	local -a ctx=(sc=b "case=$1" "round=$2" "conc=$CONC" "urls=$BIGN" "size=$BIGSIZE" files=1)
	case $1 in
	gather) run_case "${ctx[@]}" check=records:b.txt:1.1:dl -- gather -c "$CONC" -o dl -i b.txt ;;
	curl) run_case "${ctx[@]}" -- curl --parallel --parallel-max "$CURL_C" --no-progress-meter -sS --fail -K b.cfg ;;
	wget2) run_case "${ctx[@]}" -- wget2 "${WGET2_OPTS[@]}" --max-threads="$CONC" -P dl -i b.txt ;;
	esac
}

case_c() {
	local -a ctx=(sc=c "case=$1" "round=$2" "conc=$CONC" "urls=$N" size=100)
	case $1 in
	gather) run_case "${ctx[@]}" check=records:c.txt:2:none -- gather -k -c "$CONC" --body none -i c.txt ;;
	curl) run_case "${ctx[@]}" -- curl --parallel --parallel-max "$CURL_C" -k --http2 --no-progress-meter -sS --fail -K c.cfg ;;
	wget2) run_case "${ctx[@]}" -- wget2 "${WGET2_OPTS[@]}" --no-check-certificate --max-threads="$CONC" -O /dev/null -i c.txt ;;
	wget2-1conn) run_case "${ctx[@]}" -- wget2 "${WGET2_OPTS[@]}" --no-check-certificate --max-threads=1 \
		--http2-request-window="$CONC" -O /dev/null -i c.txt ;;
	esac
}

# d: gather alone; the streams read `stream-COUNT.txt` on stdin.
case_d() {
	local -a ctx=(sc=d "case=$1" "round=$2")
	case $1 in
	stream-*) run_case "${ctx[@]}" "conc=$STREAM_CONC" "urls=${1#stream-}" size=100 "in=$1.txt" \
		"check=count:${1#stream-}" -- gather -c "$STREAM_CONC" --body none ;;
	embedded-small) run_case "${ctx[@]}" "conc=$CONC" "urls=$N" size=100 check=records:a.txt:1.1:embedded -- \
		gather -c "$CONC" -i a.txt ;;
	embedded-big) run_case "${ctx[@]}" "conc=$CONC" "urls=$BIGN" "size=$BIGSIZE" "check=count:$BIGN" -- \
		gather -c "$CONC" -i b.txt ;;
	esac
}

# l and r: TOOL ROUND SC CONCURRENCY URLS HOSTS, the list in SC-C-HOSTS.txt.
case_l() {
	local tool=$1 list=$3-$4-$6
	local -a ctx=("sc=$3" "case=$tool" "round=$2" "conc=$4" "urls=$5" "hosts=$6" pin=1)
	case $tool in
	gather | gather-before) run_case "${ctx[@]}" "check=records:$list.txt:1.1:none" -- \
		"$tool" -c "$4" --body none -i "$list.txt" ;;
	curl) run_case "${ctx[@]}" -- curl --parallel --parallel-max "$((${4} < CURL_MAX ? ${4} : CURL_MAX))" \
		--no-progress-meter -sS --fail -K "$list.cfg" ;;
	wget2) run_case "${ctx[@]}" -- wget2 "${WGET2_OPTS[@]}" --max-threads="$4" -O /dev/null -i "$list.txt" ;;
	esac
}

# x: TOOL ROUND CONCURRENCY URLS, the list x-C.txt over 50 hosts, under a
# soft and hard limit of $X_NOFILE descriptors.
case_x() {
	local -a ctx=(sc=x "case=$1" "round=$2" "conc=$3" "urls=$4" hosts=50 pin=1)
	run_case "${ctx[@]}" "check=records:x-$3.txt:1.1:none" -- \
		prlimit --nofile="$X_NOFILE:$X_NOFILE" "$1" -c "$3" --body none -i "x-$3.txt"
}

# h: TOOL ROUND, 50,000 URLs of one host at -c 5000; h2load writes nothing.
case_h() {
	local -a ctx=(sc=h "case=$1" "round=$2" conc=5000 urls=50000 pin=1)
	case $1 in
	gather | gather-before) run_case "${ctx[@]}" check=records:h.txt:1.1:none -- \
		"$1" -c 5000 --body none -i h.txt ;;
	h2load) run_case "${ctx[@]}" -- h2load --h1 -c 5000 -n 50000 -i h.txt ;;
	esac
}

# Write LIST.txt and LIST.cfg from the url_list arguments after LIST.
lists() {
	local name=$1
	shift
	url_list "$@" >"$name.txt"
	curl_config "${CFG_DIR:-}" <"$name.txt" >"$name.cfg"
}

scenario_static() {
	local tools s
	tools=$(peers)
	lists a http "$PORT" 1 "$N" '' .txt
	lists c https "$PORT2" 1 "$N" '' .txt
	CFG_DIR=dl lists b http "$PORT" 1 "$BIGN" big/ .bin
	want a && rounds a "$tools"
	want b && rounds b "$tools"
	want c && rounds c "$(peers wget2-1conn)"
	if want d && [[ -x bin/gather ]]; then
		tools=''
		for s in ${STREAMS//,/ }; do
			awk -v n="$s" -v m="$N" -v b="http://127.0.0.1:$PORT" \
				'BEGIN { for (i = 0; i < n; i++) printf "%s/%d.txt\n", b, i % m }' >"stream-$s.txt"
			tools+="stream-$s "
		done
		rounds_d "$tools embedded-small embedded-big"
	fi
}

# d runs gather alone, in order, and warms up on its shortest stream only:
# a warm-up of the million-URL stream costs minutes and warms nothing more.
rounds_d() {
	local r tool first=1
	for ((r = 0; r <= RUNS; r++)); do
		for tool in $1; do
			if ((r == 0)) && [[ $tool == stream-* ]]; then
				((first)) || continue
				first=0
			fi
			case_d "$tool" "$r"
		done
	done
}

scenario_latency() {
	local pair c n h
	if want l; then
		for h in ${HOSTS//,/ }; do
			for pair in ${LATENCY//,/ }; do
				c=${pair%%:*} n=${pair#*:}
				lists "l-$c-$h" http "$PORT" "$h" "$n" slow/ ''
				rounds l "$(peers)" l "$c" "$n" "$h"
			done
		done
	fi
	if want r; then
		lists "r-$CONC-50" http "$PORT" 50 "$REUSE_N" slow/ ''
		rounds l "$(peers)" r "$CONC" "$REUSE_N" 50
	fi
}

# x: gather (and gather-before) at -c 32 and at -c 19,000 over 50 hosts,
# against nginx with two workers; h: gather beside h2load at -c 5000.
scenario_scale() {
	local tools=''
	[[ -x bin/gather ]] && tools+='gather '
	[[ -x bin/gather-before ]] && tools+='gather-before '
	[[ -n $tools ]] || return 0
	if want x; then
		url_list http "$PORT" 50 3200 slow/ '' >x-32.txt
		url_list http "$PORT" 50 200000 slow/ '' >x-19000.txt
		rounds x "$tools" 32 3200
		rounds x "$tools" 19000 200000
	fi
	if want h; then
		url_list http "$PORT" 1 50000 slow/ '' >h.txt
		command -v h2load >/dev/null && tools+='h2load '
		rounds h "$tools"
	fi
}

# --- main -----------------------------------------------------------------------

main() {
	parse_args "$@"
	"$ROOT/tools/deps.sh" bench || die "install the packages above first"
	GATHER_BIN=$(find_gather)
	CURL_C=$((CONC < CURL_MAX ? CONC : CURL_MAX))
	make_workdir
	ROWS=$T/runs.tsv
	if want a || want b || want c || want d; then
		note "writing $N files of 100 bytes and $BIGN of 100 KiB"
		make_content
		make_dl
	fi
	write_meta "$@" >"$ROWS"
	if want a || want b || want c || want d; then
		start_bench_nginx static
		scenario_static
	fi
	if want l || want r; then
		[[ -r $ECHO_SO ]] || die "no $ECHO_SO: tools/deps.sh bench installs it"
		start_bench_nginx latency
		scenario_latency
	fi
	if want x || want h; then
		[[ -r $ECHO_SO ]] || die "no $ECHO_SO: tools/deps.sh bench installs it"
		LATENCY_WORKERS=2 start_bench_nginx latency
		scenario_scale
	fi
	printf '#%s\t%s\n' end "$EPOCHREALTIME" load_after "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$ROWS"
	report
	((FAILED == 0)) || die "$FAILED runs failed; see the report"
}

# Write the report (and the rows beside it) or print it.
report() {
	if [[ $RESULTS == - ]]; then
		python3 "$HERE/report.py" "$ROWS"
		return
	fi
	python3 "$HERE/report.py" "$ROWS" >"$T/report.md"
	cp -- "$ROWS" "${RESULTS%.md}.tsv"
	mv -- "$T/report.md" "$RESULTS"
	note "report written to $RESULTS, rows to ${RESULTS%.md}.tsv"
}

main "$@"
