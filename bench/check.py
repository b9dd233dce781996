#!/usr/bin/env python3
"""Checks of one benchmark run, for bench/run.sh.

    check.py log ACCESS_LOG SIZE
        print "requests connections good protocols" from nginx's access log
        (format: "$pid:$connection $server_protocol $status $body_bytes_sent");
        good counts status 200 with SIZE body bytes (SIZE "-": any size).
    check.py records OUT LIST VERSION BODY
        gather's records in OUT against the URL list LIST: one per URL, in
        order, ok with status 200, the right url and http_version; BODY is
        none (no body or file field), embedded (a body), or a directory
        (file = DIR/<index>).
    check.py count OUT COUNT
        the cheap check of a long stream: COUNT lines, each "ok":true.
    check.py files DIR COUNT FILE
        DIR holds exactly COUNT files, each with FILE's bytes.

The checks print nothing and exit 0 when the run is right; otherwise they
print one line saying what is wrong and exit 1.
"""

import hashlib
import json
import os
import sys


def log_summary(path, size):
    """Requests, distinct connections, whole 200s and protocols of a log."""
    requests = good = 0
    conns, protos = set(), []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 4:
                continue
            requests += 1
            conns.add(parts[0])
            if parts[1] not in protos:
                protos.append(parts[1])
            if parts[2] == "200" and (size == "-" or parts[3] == size):
                good += 1
    print(requests, len(conns), good, ",".join(protos) or "-")
    return 0


def record_problem(i, rec, url, version, body):
    """What is wrong with record i, or None."""
    if rec.get("index") != i:
        return f"record {i} has index {rec.get('index')}"
    if rec.get("url") != url:
        return f"record {i} has url {rec.get('url')!r}, not {url!r}"
    if rec.get("ok") is not True or rec.get("status") != 200:
        return f"record {i} is not ok: {json.dumps(rec)[:300]}"
    if rec.get("http_version") != version:
        return f"record {i} has http_version {rec.get('http_version')!r}"
    if body == "none" and ("body" in rec or "file" in rec):
        return f"record {i} has a body or file with --body none"
    if body == "embedded" and not rec.get("body"):
        return f"record {i} has no body"
    if body not in ("none", "embedded"):
        if "body" in rec or rec.get("file") != f"{body}/{i}":
            return f"record {i} names file {rec.get('file')!r}"
    return None


def check_records(out, url_list, version, body):
    """gather's records against the URL list."""
    with open(url_list) as f:
        urls = [line.rstrip("\n") for line in f]
    n = 0
    with open(out) as f:
        for n, line in enumerate(f, 1):
            if n > len(urls):
                break
            try:
                rec = json.loads(line)
            except ValueError:
                print(f"line {n} is not JSON: {line[:200]!r}")
                return 1
            problem = record_problem(n - 1, rec, urls[n - 1], version, body)
            if problem:
                print(problem)
                return 1
    if n != len(urls):
        print(f"{n} records for {len(urls)} URLs")
        return 1
    return 0


def check_count(out, count):
    """COUNT lines, all ok."""
    lines = ok = 0
    with open(out) as f:
        for line in f:
            lines += 1
            ok += '"ok":true' in line
    if lines != count or ok != count:
        print(f"{lines} lines, {ok} ok, for {count} URLs")
        return 1
    return 0


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def check_files(directory, count, served):
    """COUNT files in DIRECTORY, each the served file."""
    want = digest(served)
    names = os.listdir(directory)
    bad = sum(digest(os.path.join(directory, n)) != want for n in names)
    if len(names) != count or bad:
        print(f"{len(names)} files for {count} URLs, {bad} differ from the served file")
        return 1
    return 0


def main(argv):
    if len(argv) == 4 and argv[1] == "log":
        return log_summary(argv[2], argv[3])
    if len(argv) == 6 and argv[1] == "records":
        return check_records(*argv[2:])
    if len(argv) == 4 and argv[1] == "count":
        return check_count(argv[2], int(argv[3]))
    if len(argv) == 5 and argv[1] == "files":
        return check_files(argv[2], int(argv[3]), argv[4])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
