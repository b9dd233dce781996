#!/usr/bin/env python3
"""Turn bench/run.sh's rows into the Markdown report (bench/RESULTS.md).

    python3 bench/report.py bench/RESULTS.tsv > bench/RESULTS.md

The input is run.sh's TSV: "#key<TAB>value" lines with the run's facts,
a header line, then one row per timed run (round 0 is the warm-up, left out
of the figures).  Figures are medians of the runs that passed their checks;
ratios compare gather with the peers measured in the same file.  The
measurements made before this script existed are in bench/before.md, which
is copied in at the end.
"""

import csv
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def read_rows(path):
    """The facts (a dict) and the rows (dicts with numbers as floats)."""
    meta, lines = {}, []
    with open(path, newline="") as f:
        for line in f:
            if line.startswith("#"):
                key, _, value = line[1:].rstrip("\n").partition("\t")
                meta[key] = value
            else:
                lines.append(line)
    rows = list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))
    for r in rows:
        for k in ("conc", "hosts", "urls", "round", "wall", "user", "sys",
                  "maxrss", "exit", "requests", "conns"):
            r[k] = float(r[k]) if r[k] not in ("", None) else float("nan")
        r["cpu"] = r["user"] + r["sys"]
    return meta, rows


def commas(n):
    return f"{int(n):,}"


def median(rows, key):
    vals = [r[key] for r in rows]
    return statistics.median(vals) if vals else float("nan")


def ratio(a, b):
    return f"{a / b:.2f}" if b and b == b and a == a else "n/a"


class Group:
    """The measured runs of one case: medians and failures."""

    def __init__(self, rows):
        measured = [r for r in rows if r["round"] > 0]
        self.ok = [r for r in measured if r["status"] == "ok"]
        self.failed = [r for r in measured if r["status"] != "ok"]
        self.first = rows[0]
        self.urls = self.first["urls"]

    def med(self, key):
        return median(self.ok, key)

    def rps(self):
        return self.urls / self.med("wall") if self.ok else float("nan")

    def us_per_req(self, key="cpu"):
        return self.med(key) * 1e6 / self.urls

    def runs(self):
        s = f"{len(self.ok)}"
        if self.failed:
            s += f" ({len(self.failed)} failed: {self.failed[0]['status']})"
        return s


def groups(rows, *keys):
    """Rows grouped by the values of KEYS, in the order first seen."""
    out = {}
    for r in rows:
        out.setdefault(tuple(r[k] for k in keys), []).append(r)
    return {k: Group(v) for k, v in out.items()}


def header(meta):
    minutes = (float(meta.get("end", 0)) - float(meta.get("start", 0))) / 60
    return [
        "# gather benchmark results",
        "",
        f"Written by `bench/run.sh {meta.get('args', '')}` and bench/report.py; see bench/README.md.",
        "",
        f"- date: {meta.get('date', '?')} ({minutes:.1f} minutes)",
        f"- machine: {meta.get('machine', '?')}",
        f"- load average (1, 5, 15 min): {meta.get('load_before', '?')} before, "
        f"{meta.get('load_after', '?')} after; the machine is shared, so other work skews the numbers",
        f"- gather: {meta.get('gather', '?')}",
        f"- curl: {meta.get('curl', '?')}",
        f"- wget2: {meta.get('wget2', '?')}",
        f"- nginx: {meta.get('nginx', '?')}, same machine",
        f"- TLS: {meta.get('tls', '?')}",
        f"- {meta.get('runs', '?')} measured runs per tool and case after one warm-up; "
        "the tools alternate (the first one rotates). Figures are medians of the runs that passed their checks.",
        "- Wall time is the client's whole run (bash's EPOCHREALTIME); CPU is its user+sys "
        "from GNU time (10 ms resolution); max RSS its peak resident set. Connections are "
        "distinct connections in nginx's access log for the run.",
        "",
    ]


TITLES = {
    "a": "(a) {n} files of 100 bytes over HTTP/1.1, bodies discarded, concurrency {c}",
    "b": "(b) {bign} files of 100 KiB over HTTP/1.1, written to files, concurrency {c}",
    "c": "(c) {n} files of 100 bytes over HTTP/2 with TLS, bodies discarded, concurrency {c}",
}

NOTES = {
    "a": "Every run is checked: nginx logged exactly one 200 with the whole body per URL; "
         "gather's records are all ok, in order, with the right url.",
    "b": "Every run is checked: nginx logged one whole 200 per URL, and DIR holds exactly "
         "{bign} files, each the served file; gather's records name DIR/<index>. DIR is "
         "emptied before each run (not timed); it is on {dl_where}.",
    "c": "wget2 opens one connection per thread even over HTTP/2, so --max-threads={c} "
         "means {c} connections; wget2-1conn (one thread, {c} streams on one connection) "
         "is there for comparison with gather and curl, which multiplex all streams on "
         "one connection.",
}

CURL_CFG = {
    "a": '`a.cfg` pairs each `url` with `output = "/dev/null"`',
    "b": '`b.cfg` pairs each `url` with `output = "dl/NAME"`',
    "c": '`c.cfg` pairs each `url` with `output = "/dev/null"`',
    "l": "`.cfg` pairs each `url` with `output = \"/dev/null\"`",
}


def fmt(meta, text):
    return text.format(n=commas(meta.get("n", 0)), bign=commas(meta.get("bign", 0)),
                       c=meta.get("conc", "?"), dl_where=meta.get("dl_where", "?"))


def commands(gs, key=lambda k: k[0]):
    out = ["Commands:", ""]
    seen = set()
    for k, g in gs.items():
        if key(k) not in seen:
            seen.add(key(k))
            out.append(f"- {key(k)}: `{g.first['command']}`")
    return out + [""]


def throughput(meta, rows, sc):
    gs = groups([r for r in rows if r["scenario"] == sc], "case")
    if not gs:
        return []
    out = ["## " + fmt(meta, TITLES[sc]), "",
           "| tool | req/s | CPU s | CPU µs/req | max RSS KiB | connections | protocol | runs |",
           "|------|------:|------:|-----------:|------------:|------------:|----------|------|"]
    for (case,), g in gs.items():
        out.append(f"| {case} | {g.rps():.0f} | {g.med('cpu'):.2f} | {g.us_per_req():.1f} | "
                   f"{g.med('maxrss'):.0f} | {g.med('conns'):.0f} | {g.first['protocol']} | {g.runs()} |")
    out.append("")
    gather = gs.get(("gather",))
    if gather:
        out += ["| ratio | requests/s | CPU per request |", "|-------|-----------:|----------------:|"]
        for (case,), g in gs.items():
            if case != "gather":
                out.append(f"| gather/{case} | {ratio(gather.rps(), g.rps())} | "
                           f"{ratio(gather.med('cpu'), g.med('cpu'))} |")
        out += ["", "(requests/s: above 1 is gather faster; CPU per request: below 1 is gather cheaper)", ""]
    out += commands(gs)
    out += [f"curl's {CURL_CFG[sc]}.", "", fmt(meta, NOTES[sc]), ""]
    return out


def memory(meta, rows):
    gs = groups([r for r in rows if r["scenario"] == "d"], "case")
    if not gs:
        return []
    out = ["## (d) gather's peak memory", "",
           "| case | URLs | peak RSS KiB | req/s | CPU s | CPU µs/req | connections | runs |",
           "|------|-----:|------------:|------:|------:|-----------:|------------:|------|"]
    streams = []
    for (case,), g in gs.items():
        if case.startswith("stream-"):
            label = f"stdin stream, -c {g.first['conc']:.0f} --body none"
            streams.append(g)
        elif case == "embedded-small":
            label = f"bodies embedded: (a), 100 B each, -c {g.first['conc']:.0f}"
        else:
            label = f"bodies embedded: (b), 100 KiB each, -c {g.first['conc']:.0f}"
        out.append(f"| {label} | {commas(g.urls)} | {g.med('maxrss'):.0f} | {g.rps():.0f} | "
                   f"{g.med('cpu'):.2f} | {g.us_per_req():.1f} | {g.med('conns'):.0f} | {g.runs()} |")
    out.append("")
    if len(streams) > 1 and streams[0].ok and streams[-1].ok:
        a, b = streams[0], streams[-1]
        out += [f"Peak RSS growth from {commas(a.urls)} to {commas(b.urls)} streamed URLs: "
                f"{b.med('maxrss') - a.med('maxrss'):+.0f} KiB.", ""]
    out += commands(gs)
    out += ["The streams read `stream-COUNT.txt` on stdin: COUNT URLs cycling over (a)'s files.", ""]
    return out


def latency(meta, rows):
    gs = groups([r for r in rows if r["scenario"] == "l"], "hosts", "conc", "case")
    if not gs:
        return []
    delay = float(meta.get("delay", 0.1))
    cap = int(meta.get("curl_max", 300))
    out = [f"## (l) latency: every response after {delay * 1000:.0f} ms, the client on one core", "",
           "nginx (echo module: `echo_sleep`, one worker on the other core) answers `/slow/N` "
           f"after {delay * 1000:.0f} ms. One host is 127.0.0.1; 50 hosts are 127.0.0.2 .. "
           "127.0.0.51, the URLs spread round-robin. Every client runs under `taskset -c 0`. "
           f"Ideal wall is URLs / concurrency x {delay} s. CPU is user+sys per request.",
           "",
           "| hosts | -c | URLs | tool | wall s | ideal s | CPU µs/req | user µs/req | peak RSS KiB | new connections | runs |",
           "|------:|---:|-----:|------|-------:|--------:|-----------:|------------:|-------------:|----------------:|------|"]
    for (hosts, conc, case), g in gs.items():
        eff = min(conc, cap) if case == "curl" else conc
        ideal = g.urls / eff * delay
        mark = f" (curl: {cap})" if eff != conc else ""
        out.append(f"| {hosts:.0f} | {conc:.0f}{mark} | {commas(g.urls)} | {case} | {g.med('wall'):.2f} | "
                   f"{ideal:.2f} | {g.us_per_req():.0f} | {g.us_per_req('user'):.0f} | "
                   f"{g.med('maxrss'):.0f} | {g.med('conns'):.0f} | {g.runs()} |")
    out += ["", f"curl caps `--parallel-max` at {cap}: above that its runs use {cap} transfers "
            "in flight, and its ideal wall is computed with {cap}.".format(cap=cap), ""]
    out += ["| hosts | -c | gather/curl wall | gather/curl CPU per request | gather/wget2 wall | gather/wget2 CPU per request |",
            "|------:|---:|-----:|-----:|-----:|-----:|"]
    for (hosts, conc, case), g in gs.items():
        if case != "gather":
            continue
        cells = []
        for peer in ("curl", "wget2"):
            p = gs.get((hosts, conc, peer))
            cells += [ratio(g.med("wall"), p.med("wall")) if p else "n/a",
                      ratio(g.med("cpu"), p.med("cpu")) if p else "n/a"]
        out.append(f"| {hosts:.0f} | {conc:.0f} | " + " | ".join(cells) + " |")
    out += ["", "(below 1 is gather faster or cheaper)", ""]
    out += commands(gs, key=lambda k: k[2])
    out += [f"curl's {CURL_CFG['l']}; each (hosts, -c) pair has its own list, "
            "`l-C-HOSTS.txt`.", ""]
    return out


def reuse(meta, rows):
    gs = groups([r for r in rows if r["scenario"] == "r"], "case")
    if not gs:
        return []
    first = next(iter(gs.values())).first
    out = [f"## (r) connection reuse: {commas(first['urls'])} URLs over 50 hosts at -c {first['conc']:.0f}", "",
           "The latency server of (l); the URLs go round-robin over 127.0.0.2 .. 127.0.0.51, "
           "more hosts than transfers in flight. New connections are distinct connections in "
           "nginx's access log.", "",
           "| tool | transfers | new connections | per transfer | wall s | CPU µs/req | runs |",
           "|------|----------:|----------------:|-------------:|-------:|-----------:|------|"]
    for (case,), g in gs.items():
        out.append(f"| {case} | {commas(g.urls)} | {g.med('conns'):.0f} | "
                   f"{g.med('conns') / g.urls:.3f} | {g.med('wall'):.2f} | {g.us_per_req():.0f} | {g.runs()} |")
    out.append("")
    return out + commands(gs)


def scale(meta, rows):
    """x: -c 19,000 against -c 32 over 50 hosts; h: beside h2load."""
    out = []
    xrows = [r for r in rows if r["scenario"] == "x"]
    bad = {}
    for r in xrows:
        if r["round"] > 0 and r["status"] != "ok":
            bad[(r["case"], r["conc"])] = bad.get((r["case"], r["conc"]), 0) + 1
    # A failed run still has its costs: measured, and counted as failed.
    gs = groups([dict(r, status="ok") for r in xrows], "case", "conc")
    if gs:
        out += ["## (x) scale: -c 19,000 over 50 hosts under a descriptor limit of "
                f"{meta.get('x_nofile', '20000')}", "",
                "The latency server of (l) with two workers (both on the other core); "
                "200,000 URLs round-robin over 127.0.0.2 .. 127.0.0.51 at -c 19,000, and 3,200 "
                "at -c 32, under `prlimit --nofile` and `taskset -c 0`. A run whose records "
                "are not all ok is counted as failed, with the reason in \"Every run\". "
                "Per slot: peak RSS above the -c 32 run's, divided by the extra slots.", "",
                "| tool | -c | URLs | wall s | ideal s | CPU µs/req | x -c 32's | peak RSS KiB | KiB per slot | runs | failed runs |",
                "|------|---:|-----:|-------:|--------:|-----------:|----------:|-------------:|-------------:|------|------------:|"]
        delay = float(meta.get("delay", 0.1))
        for (case, conc), g in gs.items():
            base = gs.get((case, 32.0))
            cpu = ratio(g.us_per_req(), base.us_per_req()) if base else "n/a"
            slot = ((g.med("maxrss") - base.med("maxrss")) / (conc - 32)
                    if base and conc > 32 else float("nan"))
            out.append(f"| {case} | {conc:.0f} | {commas(g.urls)} | {g.med('wall'):.2f} | "
                       f"{g.urls / conc * delay:.2f} | {g.us_per_req():.0f} | {cpu} | "
                       f"{g.med('maxrss'):.0f} | {slot:.1f} | {g.runs()} | {bad.get((case, conc), 0)} |")
        out += [""] + commands(gs, key=lambda k: f"{k[0]} -c {k[1]:.0f}")
    gs = groups([r for r in rows if r["scenario"] == "h"], "case")
    if gs:
        out += ["## (h) beside h2load: -c 5000, 50,000 URLs from one host", "",
                "The server of (x); `h2load --h1` writes nothing and checks nothing, "
                "gather writes a record per URL.", "",
                "| tool | wall s | CPU µs/req | peak RSS KiB | new connections | runs |",
                "|------|-------:|-----------:|-------------:|----------------:|------|"]
        for (case,), g in gs.items():
            out.append(f"| {case} | {g.med('wall'):.2f} | {g.us_per_req():.0f} | "
                       f"{g.med('maxrss'):.0f} | {g.med('conns'):.0f} | {g.runs()} |")
        h2 = gs.get(("h2load",))
        for (case,), g in gs.items():
            if case != "h2load" and h2:
                out.append("")
                out.append(f"{case}/h2load: wall x{ratio(g.med('wall'), h2.med('wall'))}, "
                           f"CPU per request x{ratio(g.med('cpu'), h2.med('cpu'))}.")
        out += [""] + commands(gs)
    return out


def every_run(rows):
    out = ["## Every run", "", "Round 0 is the warm-up.", "", "```"]
    for r in rows:
        rps = r["urls"] / r["wall"] if r["wall"] else 0
        out.append(f"{r['scenario']} {r['case']:<15} -c {r['conc']:<5.0f} {r['hosts']:2.0f} host(s) "
                   f"round {r['round']:.0f}: {r['wall']:8.3f} s wall {rps:8.0f} req/s "
                   f"{r['user']:6.2f} user {r['sys']:6.2f} sys {r['maxrss']:7.0f} KiB "
                   f"{r['conns']:5.0f} conn {r['protocol']} {r['status']}")
    return out + ["```", ""]


def before():
    path = os.path.join(HERE, "before.md")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [f.read().rstrip("\n"), ""]


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    meta, rows = read_rows(argv[1])
    out = header(meta)
    for sc in ("a", "b", "c"):
        out += throughput(meta, rows, sc)
    out += memory(meta, rows)
    out += latency(meta, rows)
    out += reuse(meta, rows)
    out += scale(meta, rows)
    out += before()
    out += every_run(rows)
    sys.stdout.write("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
