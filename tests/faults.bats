#!/usr/bin/env bats
# Faults injected into gather's own library calls (tools/faultinj.c, by
# LD_PRELOAD): allocations, opens, reads, writes, renames and xattrs fail
# at many points of real runs.  Whatever fails, gather must not crash or
# hang, must exit with one of its documented statuses, must write only
# whole JSON lines, and must say what went wrong in "gather: " lines.

bats_require_minimum_version 1.5.0
load helper

FAULTINJ="$BATS_TEST_DIRNAME/../obj/faultinj.so"

setup_file() {
	make -s -C "$BATS_TEST_DIRNAME/.." obj/faultinj.so >/dev/null
	start_server
}
teardown_file() { stop_server; }

setup() {
	# ASan's allocator and a preloaded malloc do not mix.
	[[ "$GATHER" != */obj/asan/* ]] ||
		skip "faults are injected by LD_PRELOAD, which the ASan build cannot take"
}

# Run gather with ARGS under GATHER_FAULT=NAMES:WHEN for each WHEN in
# $WHENS, and check every run; N is the number of URL arguments.  With
# NOMEM=1 (the allocators) each run is held to what running out of memory
# may do: every record written, each one as a run without faults writes
# it (but for timings) or an error of kind other saying "out of memory",
# the exit status 1 exactly when one is not ok, nothing on stderr but
# "gather: out of memory"; or no record, that one line and exit 1.  Only
# when every later allocation fails too (N+) may the run stop after
# some records.
sweep() {
	local names=$1 n=$2
	shift 2
	FORMAT=${FORMAT:-jsonl} STDERR=${STDERR:-} python3 - "$FAULTINJ" "$names" "$n" "$WHENS" "${NOMEM:-0}" "$GATHER" "$@" <<'PY'
import json, os, re, subprocess, sys
lib, names, n, whens, nomem, cmd = sys.argv[1], sys.argv[2], \
    int(sys.argv[3]), sys.argv[4].split(), sys.argv[5] == "1", sys.argv[6:]
OOM = "gather: out of memory"
VOLATILE = ("time", "connection_reused")
FORMAT = os.environ.get("FORMAT", "jsonl")
EXTRA = os.environ.get("STDERR", "")

def parse(out):
    """The records of stdout in FORMAT, by index under -u; ValueError
    when it is not that."""
    recs = parse_format(out)
    return sorted(recs, key=lambda r: r.get("index")) if "-u" in cmd else recs

def parse_format(out):
    if FORMAT == "json":
        return json.loads(out.decode("utf-8")) if out else []
    if FORMAT == "jsonl":
        return [json.loads(l) for l in out.decode("utf-8").splitlines()]
    # tap: a version line, cases with their YAML, the plan 1..N last.
    lines, recs = out.decode("utf-8").splitlines(), []
    if not lines:
        return recs
    if lines[0] != "TAP version 13" or lines[-1] != "1..%d" % sum(
            l.startswith(("ok ", "not ok ")) for l in lines):
        raise ValueError("not TAP: %r" % lines[:3] + lines[-1:])
    for l in lines[1:-1]:
        if l.startswith(("ok ", "not ok ")):
            ok = l.startswith("ok ")
            recs.append({"index": len(recs), "ok": ok,
                         "url": l.split(" - ", 1)[-1]})
        elif l.startswith("  kind: "):
            recs[-1].setdefault("error", {})["kind"] = json.loads(l[8:])
        elif l.startswith("  message: "):
            recs[-1].setdefault("error", {})["message"] = json.loads(l[11:])
    return recs

def stable(r):
    r = {k: v for k, v in r.items() if k not in VOLATILE}
    if isinstance(r.get("headers"), dict):
        r["headers"] = {k: v for k, v in r["headers"].items() if k != "date"}
    if isinstance(r.get("error"), dict) and "message" in r["error"]:
        r["error"] = dict(r["error"], message=re.sub(
            r"after \d+ ms", "after N ms", r["error"]["message"]))
    return r

base = None
if nomem:
    p = subprocess.run(cmd, capture_output=True, timeout=60)
    base = [stable(r) for r in parse(p.stdout)]
    n = n if n >= 0 else len(base)
    if p.returncode not in (0, 1) or len(base) != n or (p.stderr and not EXTRA):
        print("the run without faults: exit %d, %d records, %r" %
              (p.returncode, len(base), p.stderr[:300]))
        sys.exit(1)

def nomem_why(when, recs, err, rc):
    if any(l != OOM for l in err) or len(err) > 1:
        return "stderr %r" % err
    if len(recs) < n:
        if err != [OOM] or rc != 1:
            return "%d of %d records, exit %d, stderr %r" % (len(recs), n, rc, err)
        if recs and not when.endswith("+"):
            return "%d of %d records after one failed allocation" % (len(recs), n)
        return None
    failed = not all(b["ok"] for b in base)
    for r, b in zip(recs, base):
        r = stable(r)
        if r == b:
            continue
        e = r.get("error") or {}
        # Its url may be the line, or missing: it may be what ran out.
        if r.get("ok") is not False or e.get("kind") != "other" or \
                "out of memory" not in e.get("message", ""):
            return "record %d is neither as without faults nor out of memory: %r" \
                % (r.get("index"), {k: r.get(k) for k in set(r) | set(b)
                   if k not in VOLATILE and r.get(k) != b.get(k)})
        failed = True
    # Memory that ran out past the records (a -j worker's files or
    # cookies, say) is the one line, and exit 1.
    if rc != (1 if failed or err else 0):
        return "all records, %s failed, %r, but exit %d" % (
            "some" if failed else "none", err, rc)
    return None

bad = []
for when in whens:
    env = dict(os.environ, LD_PRELOAD=lib, GATHER_FAULT=names + ":" + when)
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, timeout=20)
    except subprocess.TimeoutExpired:
        bad.append((when, "hung past 20 s")); continue
    why = None
    err = p.stderr.decode("utf-8", "replace").splitlines()
    # What -v and --stats say besides (STDERR, a pattern) is no reason.
    if EXTRA:
        err = [l for l in err if not re.match(EXTRA, l)]
    if p.returncode < 0:
        why = "killed by signal %d" % -p.returncode
    elif p.returncode not in (0, 1, 2, 3):
        why = "exit %d" % p.returncode
    elif p.stdout and not p.stdout.endswith(b"\n"):
        why = "stdout ends inside a line"
    elif any(not l.startswith("gather: ") for l in err):
        why = "stderr line not from gather: %r" % err
    else:
        recs = []
        try:
            recs = parse(p.stdout)
        except ValueError as e:
            why = "not %s: %r" % (FORMAT, p.stdout[-300:])
        if why is None:
            idx = [r.get("index") for r in recs]
            # --resume skips indexes: the run without faults says which.
            want = [b["index"] for b in base] if nomem else range(len(idx))
            if idx != list(want)[:len(idx)] and ("-u" not in cmd or
                    len(set(idx)) < len(idx) or not set(idx) <= set(want)):
                why = "indexes %r" % idx
            elif nomem:
                why = nomem_why(when, recs, err, p.returncode)
            elif len(recs) < n and len(err) != 1:
                why = "%d of %d records and no one-line reason: %r" % (len(recs), n, err)
            elif len(recs) == n and p.returncode == 0 and not all(r["ok"] for r in recs):
                why = "exit 0 with a failed record"
            elif len(recs) == n and p.returncode not in (0, 1):
                why = "all records but exit %d" % p.returncode
            elif p.returncode in (2, 3) and recs:
                why = "exit %d after records" % p.returncode
    if why:
        bad.append((when, why))
for when, why in bad:
    print("GATHER_FAULT=%s:%s: %s" % (names, when, why))
sys.exit(1 if bad else 0)
PY
}

# WHENS: the first 90 calls one by one (a run of the sweep below makes
# about 70), then spread to 1,500, each alone and with every later call
# failing too.
whens_for() {
	awk 'BEGIN { for (k = 1; k <= 90; k++) printf "%d %d+ ", k, k
		for (k = 100; k <= 1500; k += 100) printf "%d %d+ ", k, k }'
}

@test "allocation failures anywhere in a run: an out-of-memory record or one line, exit 1" {
	WHENS=$(whens_for) NOMEM=1
	run sweep malloc,calloc,realloc,strdup 4 -c 2 --hash sha256 \
		"$BASE/ok" "$BASE/p/a" "$BASE/size/3000" "$BASE/status/404"
	assert_success
}

# The allocation sweep over other parts of gather: WHENS_SHORT is every
# call one by one and a spread of every-call-after, bounded to a few
# seconds a run.
whens_short() {
	awk -v n="${1:-120}" 'BEGIN { for (k = 1; k <= n; k++) printf "%d ", k
		for (k = 1; k <= n; k += 7) printf "%d+ ", k }'
}

@test "allocation failures under -o, --name and -I: an out-of-memory record or one line" {
	local d="$BATS_TEST_TMPDIR/o"
	WHENS=$(whens_short 140) NOMEM=1
	run sweep malloc,calloc,realloc,strdup 4 -c 2 -I -o "$d" \
		--name '{host}-{index}-{name}' "$BASE/p/a" "$BASE/size/5000" \
		"$BASE/json" "$BASE/redirect/2"
	assert_success
}

@test "allocation failures with request objects, --body json, --expect and --junit" {
	local in="$BATS_TEST_TMPDIR/in"
	printf '%s\n' "{\"url\": \"$BASE/echo\", \"method\": \"POST\", \"body\": \"x=1\", \"headers\": {\"X-A\": \"1\"}, \"id\": 7}" \
		"{\"no_url\": 1}" "$BASE/json" "# a comment" \
		"{\"url\": \"$BASE/status/404\", \"id\": [1, {\"a\": null}]}" >"$in"
	WHENS=$(whens_short 140) NOMEM=1
	run sweep malloc,calloc,realloc,strdup 4 -c 2 -i "$in" --body json \
		--expect '.status < 500' --junit "$BATS_TEST_TMPDIR/j.xml"
	assert_success
}

@test "allocation failures under --revalidate and --merge: an out-of-memory record or one line" {
	local d="$BATS_TEST_TMPDIR" k
	for k in a b c; do
		"$GATHER" "$BASE/cond/$k" "$BASE/p/$k" >>"$d/first.jsonl" || true
	done
	"$GATHER" "$BASE/cond/a" "$BASE/p/a" "$BASE/cond/b" >"$d/one.jsonl" || true
	"$GATHER" "$BASE/cond/a" "$BASE/p/x" >"$d/two.jsonl" || true
	WHENS=$(whens_short 100) NOMEM=1
	run sweep malloc,calloc,realloc,strdup 3 -c 2 --revalidate "$d/one.jsonl" \
		"$BASE/cond/a" "$BASE/p/a" "$BASE/cond/b"
	assert_success
	run sweep malloc,calloc,realloc,strdup 3 --merge "$d/one.jsonl" "$d/two.jsonl"
	assert_success
}

@test "allocation failures under --format json and --format tap: whole output, one line" {
	WHENS=$(whens_short 90) NOMEM=1 FORMAT=json
	run sweep malloc,calloc,realloc,strdup 3 -c 2 --format json \
		"$BASE/p/a" "$BASE/status/404" "$BASE/size/3000"
	assert_success
	WHENS=$(whens_short 90) NOMEM=1 FORMAT=tap
	run sweep malloc,calloc,realloc,strdup 3 -c 2 --format tap --fail \
		"$BASE/p/a" "$BASE/status/404" "$BASE/size/3000"
	assert_success
}

@test "allocation failures with headers, data, credentials, cookies, --resolve and --per-host" {
	local d="$BATS_TEST_TMPDIR"
	printf 'machine 127.0.0.1 login n password p\n' >"$d/netrc"
	printf '127.0.0.1\tFALSE\t/\tFALSE\t0\told\t1\n' >"$d/cookies"
	WHENS=$(whens_short 120) NOMEM=1
	run sweep malloc,calloc,realloc,strdup 3 -c 2 -H 'X-A: 1' -H 'X-B: 2' \
		-d 'a=1' --user u:p --netrc-file "$d/netrc" --cookie 'c=1' \
		-b "$d/cookies" --cookie-jar "$d/jar" \
		--resolve "example.test:$PORT:127.0.0.1" \
		--connect-to "other.test:80:127.0.0.1:$PORT" --proto =http \
		--per-host 1 --per-host-rate 1000 --adaptive --retries 1 \
		"$BASE/echo" "http://example.test:$PORT/echo" "http://other.test/echo"
	assert_success
}

@test "allocation failures under --resume, --continue and -u: an out-of-memory record or one line" {
	local d="$BATS_TEST_TMPDIR"
	"$GATHER" "$BASE/p/a" "http://127.0.0.1:$(closed_port)/" "$BASE/p/c" \
		"$BASE/status/503" >"$d/before.jsonl" || true
	WHENS=$(whens_short 100) NOMEM=1
	run sweep malloc,calloc,realloc,strdup 1 -c 2 --resume "$d/before.jsonl" \
		"$BASE/p/a" "http://127.0.0.1:$(closed_port)/" "$BASE/p/c" \
		"$BASE/status/503"
	assert_success
	WHENS=$(whens_short 100) NOMEM=1
	run sweep malloc,calloc,realloc,strdup 3 -u -c 3 -o "$d/o" --continue \
		"$BASE/size/4000" "$BASE/p/b" "$BASE/json"
	assert_success
}

@test "allocation failures under -v and --stats: what they say, and at most the one line" {
	# Their own lines on stderr are not reasons; "gather: " lines of -v are.
	WHENS=$(whens_short 100) NOMEM=1 STDERR='^(gather: (\[|retry: )|[a-z]+: {2,}|\{"records":)'
	run sweep malloc,calloc,realloc,strdup 3 -c 2 -v --stats --retries 1 \
		--retry-delay 0.001 "$BASE/p/a" "$BASE/status/503" "$BASE/size/3000"
	assert_success
	run sweep malloc,calloc,realloc,strdup 3 -c 2 --stats=json \
		"$BASE/p/a" "$BASE/status/404" "$BASE/size/3000"
	assert_success
}

@test "-j 2: allocation failures with -o, --junit and --cookie-jar: one line at most" {
	local d="$BATS_TEST_TMPDIR"
	# A worker that ran out of memory died: the jar says it lacks its cookies.
	WHENS="$(seq -s ' ' 1 90) 1+ 13+ 34+ 55+ 89+" NOMEM=1 \
		STDERR='^gather: --cookie-jar .*: the cookies of a worker that died are not in it$'
	run sweep malloc,calloc,realloc,strdup 3 -j 2 -o "$d/o" --junit "$d/j.xml" \
		--cookie-jar "$d/jar" "$BASE/p/a" "$BASE/size/3000" "$BASE/json"
	assert_success
}

@test "allocation failures with host names to look up, and -j 2 with request objects" {
	local in="$BATS_TEST_TMPDIR/in" k
	# Transfers to a name not looked up lately wait behind one lookup.
	WHENS=$(whens_short 120) NOMEM=1
	run sweep malloc,calloc,realloc,strdup 5 -c 4 \
		"http://localhost:$PORT/p/a" "http://localhost:$PORT/p/b" \
		"http://localhost:$PORT/p/c" "http://localhost:$PORT/size/3000" \
		"$BASE/p/e"
	assert_success
	for k in 1 2 3; do
		printf '%s\n' "{\"url\": \"$BASE/echo?k=$k\", \"method\": \"PUT\", \"body\": {\"k\": $k}, \"headers\": [\"X-K: $k\"], \"id\": \"r$k\", \"user\": \"u:p\"}"
	done >"$in"
	WHENS="$(seq -s ' ' 1 90) 1+ 21+ 55+" NOMEM=1
	run sweep malloc,calloc,realloc,strdup 3 -j 2 -i "$in"
	assert_success
}

@test "-o: failing opens, writes, renames and xattrs leave whole records" {
	local d="$BATS_TEST_TMPDIR"
	WHENS="1 2 3 4 5 6 8 10 12 16 20 1+ 2+ 3+ 5+ 8+"
	local names
	for names in openat,open write fsetxattr,fgetxattr renameat2,renameat,rename \
	    fstat unlinkat,mkdirat,linkat,ftruncate; do
		run sweep "$names" 3 -c 2 -o "$d/o-$names" \
			"$BASE/p/a" "$BASE/size/5000" "$BASE/p/c"
		assert_success
	done
}

@test "-j 2: a failing fork or socketpair is one line" {
	WHENS="1 1+"
	run sweep fork 2 -j 2 "$BASE/p/a" "$BASE/p/b"
	assert_success
	run sweep socketpair 2 -j 2 "$BASE/p/a" "$BASE/p/b"
	assert_success
}

@test "-j 2: allocation failures in the parent and the workers: one line at most" {
	# Each process counts its own allocations: a worker runs out as the
	# parent does.  Its records end as other, and "gather: out of memory"
	# is said once, by the parent, whoever ran out.
	WHENS="$(seq -s ' ' 1 80) 1+ 5+ 13+ 34+ 40+ 55+ 89+ 144+ 233+ 377+ 610+" NOMEM=1
	run sweep malloc,calloc,realloc,strdup 2 -j 2 "$BASE/p/a" "$BASE/p/b"
	assert_success
}

@test "stdout that fails with EIO at its first or a later write: one line, exit 1" {
	local k
	for k in 1 2; do
		run --separate-stderr env LD_PRELOAD="$FAULTINJ" GATHER_FAULT_FD=1 \
			GATHER_FAULT="write,writev:$k+" "$GATHER" -c 1 \
			"$BASE/p/a" "$BASE/p/b" "$BASE/p/c"
		assert_failure 1
		assert_equal "$stderr" "gather: cannot write output: Input/output error"
		assert_jsonl --ordered
		(($(wc -l <<<"$output") < 3)) || [[ -z "$output" ]] || fail "$output"
	done
}
