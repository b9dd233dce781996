#!/usr/bin/env python3
"""Local HTTP server for the gather test suite (standard library only).

Usage: server.py --port-file FILE [--host ADDR | --unix PATH]

Binds 127.0.0.1 (or --host ADDR, such as ::1) on a free port, or listens on
the unix socket PATH with --unix (then writes 0 as the port), writes the port number to FILE (atomically,
through FILE.tmp and a rename) and serves until killed.  Every endpoint that
can stall (hang, drip, endless, delay) is bounded by MAX_STALL seconds and
stops early when the client goes away, so no thread is ever stuck for good.

Endpoints (a query string is ignored unless an endpoint names it):

  /  /ok                200 "ok" (any method)
  /status/<code>        that status, body "status <code>"
  /delay/<ms>           sleep, then 200 "delay <ms>"
  /size/<n>             n bytes of "a"
  /bytes/<n>            bytes i % 256 for i in range(n), octet-stream
  /utf8                 UTF-8 text with non-ASCII characters
  /json                 a pretty-printed JSON object
  /gzip/<n>             n bytes of "a", gzip-encoded, with Content-Length
  /bomb/<n>             n zero bytes, gzip-encoded, chunked (made lazily)
  /chunked/<n>          n bytes of "a", chunked, chunks of at most 1000
  /nolength/<n>         n bytes of "a", no length, then close
  /endless              chunked "a" forever (bounded by MAX_STALL)
  /badchunk             chunked with an invalid chunk size line, then close
  /reset                read the request, close with RST
  /empty                read the request, close without a byte
  /hang                 read the request, never answer
  /drip/<n>?ms=<ms>     Content-Length n, one byte every ms milliseconds
  /redirect/<n>         302 to /redirect/<n-1>; /redirect/0 is 200 "done"
  /redirect-to?url=X    302 to X
  /echo                 the request as JSON (any method)
  /rawbody              the request body as is, octet-stream (any method)
  /header-list          the request headers as a JSON array of [name, value]
                        pairs, in order, repeats kept (any method)
  /headers              two Set-Cookie headers and X-Custom
  /set-cookie?c=V       200 with a Set-Cookie: V header for each c given
  /retry-after/<s>      503 with Retry-After: <s>
  /flaky/<key>/<n>      503 for the first n requests of key, then 200
  /count/<key>          200, the body the number of requests for key so far
                        (1, 2, 3 ...); ?json=1: {"n": N}
  /bigheader/<n>        a header X-Big of n bytes
  /retry-after-date/<s> 503 with Retry-After: an HTTP date <s> seconds ahead
  /latin1-header        200 with header bytes that are not UTF-8 (X-Latin)
  /latin1-json          a JSON body whose strings hold bytes that are not UTF-8
  /badgzip              Content-Encoding: gzip on a body that is not gzip
  /short/<n>            Content-Length n, n // 2 bytes, then close
  /raw/<name>           a canned raw response from RAW (a folded first
                        header, status lines that are not HTTP, a HEAD
                        answer with a body...), written as is, then close
  /gzip/<n>?level=0     the same, stored without compression (n + 23 bytes)
  /stats                {"inflight", "max_inflight", "requests", "connections",
                        "open", "max_open"}: open is TCP connections open now
  /reset-stats          zero the counters
  /hits?path=<p>        how many times path p was requested
  /p/<anything>         200 "p": every URL its own path, for /hits
  /arrivals             [[path, monotonic seconds], ...] of the counted
                        requests since /reset-stats (the first 10000)
  /file/<n>             n bytes i % 251, Accept-Ranges: bytes, a strong ETag
                        and Last-Modified; answers Range: bytes=N- with 206
                        when If-Range matches (else 200), 416 past the end.
                        Query: etag=0|weak, lm=0, ranges=0 (Range ignored),
                        accept=0 (no Accept-Ranges), ver=V (another ETag),
                        cut=K (K bytes, then a close), stall=K (K bytes,
                        then wait for the client to go)
  /ranges               [[path, Range, If-Range], ...] asked of /file;
                        ?ae=1: [path, Range, If-Range, Accept-Encoding]
  /stall/<n>?after=K&s=S  Content-Length n: K bytes, S seconds of silence,
                        then the rest
  /pause/<key>/<s>      the first request of key since /reset-stats: 429
                        with Retry-After: <s>; later ones 200 "p"
  /host-arrivals        [[Host header, path, monotonic seconds], ...] of the
                        counted requests since /reset-stats (the first 10000)
  /shed/<key>/<k>?ms=M  load shedding: 503 at once (no Retry-After) when
                        more than k requests of key are in flight, else
                        200 after M ms (default 100)
  /shed-stats?key=K     {"shed", "served", "max_inflight"} of key since
                        /reset-stats
"""

import argparse
import gzip
import http.server
import json
import os
import select
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse
import zlib

MAX_STALL = 30.0          # no request is served for longer than this
IDLE_TIMEOUT = 30.0       # an idle keep-alive connection is dropped after this
CHUNK = 1000              # largest chunk of /chunked

# Canned responses of /raw/<name>, sent byte for byte whatever the method,
# then the connection is closed: what a well-behaved server never says.
RAW = {
    # The first header line is folded: libcurl 7.88.1 unfolds into the
    # previous transfer's last header (curl issue 11101).
    "folded": b"HTTP/1.1 200 OK\r\n X: a\r\nContent-Length: 2\r\n"
              b"Connection: close\r\n\r\nok",
    "bigstatus": b"HTTP/1.1 9999999999999 WAT\r\nContent-Length: 2\r\n"
                 b"Connection: close\r\n\r\nok",
    "negstatus": b"HTTP/1.1 -5 x\r\nContent-Length: 2\r\n"
                 b"Connection: close\r\n\r\nok",
    "foo": b"FOO BAR\r\n\r\n",
    "nostatus": b"Content-Length: 2\r\nConnection: close\r\n\r\nok",
    "empty": b"",
    # A body after a response to HEAD, with and without a length.
    "headbody": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                b"Content-Type: text/plain\r\n\r\nhello",
    "headbody-close": b"HTTP/1.1 200 OK\r\nConnection: close\r\n"
                      b"Content-Type: text/plain\r\n\r\nhello",
    "headbody-keep": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                     b"Content-Type: text/plain\r\n\r\nhello",
    "headbody-keep-late": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                          b"Content-Type: text/plain\r\n\r\nhello",
    # Header lines that only look like a status line.
    "httpline": b"HTTP/1.1 200 OK\r\nX-A: 1\r\nHTTP/1.1: 200 OK\r\n"
                b"X-B: 2\r\nContent-Length: 2\r\nConnection: close\r\n"
                b"\r\nok",
    "trailer": b"HTTP/1.1 200 OK\r\nX-A: 1\r\nTransfer-Encoding: chunked"
               b"\r\nConnection: close\r\n\r\n2\r\nok\r\n0\r\n"
               b"HTTP/1.1 200 OK\r\n\r\n",
    # A three-digit status past 599: no class of RFC 9110.
    "status999": b"HTTP/1.1 999 Odd\r\nContent-Length: 2\r\n"
                 b"Connection: close\r\n\r\nok",
    # A later header line folded (obsolete line folding, RFC 9112 5.2).
    "folded-late": b"HTTP/1.1 200 OK\r\nX-Fold: a\r\n \t b\r\n"
                   b"Content-Length: 2\r\nConnection: close\r\n\r\nok",
    # An interim response, then the real one: two status lines.
    "continue": b"HTTP/1.1 100 Continue\r\nX-Early: 1\r\n\r\n"
                b"HTTP/1.1 200 OK\r\nX-Late: 2\r\nContent-Length: 2\r\n"
                b"Connection: close\r\n\r\nok",
}

UTF8_TEXT = "h\u00e9llo w\u00f6rld \u2014 \u65e5\u672c\u8a9e \U0001F389\n"
JSON_DOC = {"hello": "world", "n": [1, 2, 3], "nested": {"ok": True}}

# Paths used to look at the server; they are not counted in the statistics.
CONTROL_PATHS = ("/stats", "/reset-stats", "/hits")
CONTROL_PATHS += ("/arrivals",)
# Revalidation: each resource's version and last conditions, by name.
COND = {}
CONTROL_PATHS += ("/ranges",)
CONTROL_PATHS += ("/host-arrivals", "/shed-stats")

# /file: the Range and If-Range of every request, for the downloads tests.
RANGES = []
RANGES_LOCK = threading.Lock()
# /to/NAME: where each redirect points (tests/downloads.bats).
TARGETS = {}


class Stats:
    """Counters shared by every handler thread, behind one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.inflight = 0
        self.max_inflight = 0
        self.requests = 0
        self.connections = 0
        self.open = 0
        self.max_open = 0
        self.hits = {}
        self.flaky = {}
        self.arrivals = []
        self.host_arrivals = []
        self.shed = {}

    def opened(self):
        with self.lock:
            self.open += 1
            if self.open > self.max_open:
                self.max_open = self.open

    def closed(self):
        with self.lock:
            self.open -= 1

    def begin(self, path, host=None):
        with self.lock:
            if len(self.arrivals) < 10000:
                self.arrivals.append((path, time.monotonic()))
            if len(self.host_arrivals) < 10000:
                self.host_arrivals.append((host, path, time.monotonic()))
            self.inflight += 1
            self.requests += 1
            self.hits[path] = self.hits.get(path, 0) + 1
            if self.inflight > self.max_inflight:
                self.max_inflight = self.inflight

    def end(self):
        with self.lock:
            self.inflight -= 1

    def connect(self):
        with self.lock:
            self.connections += 1

    def reset(self):
        # Requests still running stay in "inflight" so that the count does
        # not go negative when they end; the maximum restarts from there.
        with self.lock:
            self.max_inflight = self.inflight
            self.max_open = self.open
            self.requests = 0
            self.connections = 0  # connections open now are not counted again
            self.hits = {}
            self.flaky = {}
            self.arrivals = []
            self.host_arrivals = []
            # Requests of a key still in flight keep their count.
            for st in self.shed.values():
                st["shed"] = st["served"] = 0
                st["max_inflight"] = st["inflight"]

    def shed_enter(self, key, limit):
        """One more request of key in flight; False when it is to be shed."""
        with self.lock:
            st = self.shed.setdefault(key, {"inflight": 0, "max_inflight": 0,
                                            "shed": 0, "served": 0})
            st["inflight"] += 1
            st["max_inflight"] = max(st["max_inflight"], st["inflight"])
            if st["inflight"] > limit:
                st["shed"] += 1
                return False
            return True

    def shed_leave(self, key, served):
        with self.lock:
            st = self.shed[key]
            st["inflight"] -= 1
            if served:
                st["served"] += 1

    def snapshot(self):
        with self.lock:
            return {
                "inflight": self.inflight,
                "max_inflight": self.max_inflight,
                "requests": self.requests,
                "connections": self.connections,
                "open": self.open,
                "max_open": self.max_open,
            }

    def hit_count(self, path):
        with self.lock:
            return self.hits.get(path, 0)

    def flaky_next(self, key):
        """Count one more request for key and return how many came before."""
        with self.lock:
            seen = self.flaky.get(key, 0)
            self.flaky[key] = seen + 1
            return seen


STATS = Stats()

# Compressed gzip bombs by uncompressed size, filled once generated in full.
BOMB_CACHE = {}
BOMB_LOCK = threading.Lock()


def bomb_chunks(n):
    """Yield the gzip compression of n zero bytes piece by piece.

    The whole compressed stream is cached once one request has produced it,
    so later requests for the same n are cheap; the uncompressed bytes are
    never held in memory beyond one block.
    """
    with BOMB_LOCK:
        cached = BOMB_CACHE.get(n)
    if cached is not None:
        for piece in cached:
            yield piece
        return
    block = bytes(1 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    pieces = []
    left = n
    while left > 0:
        take = min(left, len(block))
        out = comp.compress(block if take == len(block) else bytes(take))
        left -= take
        if out:
            pieces.append(out)
            yield out
    out = comp.flush()
    pieces.append(out)
    yield out
    with BOMB_LOCK:
        BOMB_CACHE[n] = pieces


def int_arg(text, default=None):
    try:
        value = int(text)
    except (TypeError, ValueError):
        return default
    return value if value >= 0 else default


class ClientGone(Exception):
    """The client closed the connection or a bound ran out."""


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT

    def version_string(self):
        return "gather-test"

    def log_message(self, fmt, *args):  # keep the test output quiet
        pass

    def setup(self):
        super().setup()
        # Headers and body can go out in two writes; without NODELAY,
        # Nagle and delayed ACKs would add 40 ms to many responses.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.counted_connection = False
        self.counted_open = True
        STATS.opened()

    def finish(self):
        try:
            super().finish()
        finally:
            if getattr(self, "counted_open", False):
                self.counted_open = False
                STATS.closed()

    # All methods go through one dispatcher.
    def do_GET(self):
        self.dispatch()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    # ---- small writing helpers -------------------------------------------

    def write(self, data):
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError, socket.timeout,
                OSError) as exc:
            raise ClientGone() from exc

    def reply(self, code, body=b"", ctype="text/plain", headers=()):
        """Send a complete response with a Content-Length."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        no_body = code < 200 or code in (204, 304)
        self.send_response(code)
        if not no_body:
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.uncount()
        self.end_headers()
        if self.command != "HEAD" and not no_body:
            self.write(body)

    def start_chunked(self, ctype, headers=()):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()

    def write_chunk(self, data):
        if data:
            self.write(b"%x\r\n%s\r\n" % (len(data), data))

    def end_chunked(self):
        self.write(b"0\r\n\r\n")

    def client_left(self, wait=0.0):
        """True when the client has closed (or sent something unexpected)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], wait)
        except (OSError, ValueError):
            return True
        if not readable:
            return False
        # Readable means EOF, an error, or bytes of a request that this
        # one will never answer: in every case the exchange is over.
        return True

    def read_body(self):
        length = self.headers.get("Content-Length")
        if length is not None:
            n = int_arg(length, 0)
            return self.rfile.read(n) if n else b""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(parts)
        return b""

    # ---- dispatch ----------------------------------------------------------

    def dispatch(self):
        split = urllib.parse.urlsplit(self.path)
        path = split.path
        query = urllib.parse.parse_qs(split.query)
        counted = path not in CONTROL_PATHS
        self.counting = counted
        if counted:
            # A connection is counted with its first counted request, so
            # that asking for /stats does not change "connections".
            if not self.counted_connection:
                self.counted_connection = True
                STATS.connect()
            STATS.begin(path, self.headers.get("Host"))
        try:
            self.route(path, query)
        except ClientGone:
            self.close_connection = True
        except Exception as exc:  # a bug here must not kill the thread
            self.close_connection = True
            try:
                self.reply(500, "server error: %r\n" % (exc,))
            except Exception:
                pass
        finally:
            self.uncount()

    def uncount(self):
        """The request is no longer in flight: once, when its answer
        starts to go out, so that a client that has its answer and sends
        the next request never finds this one still counted."""
        if getattr(self, "counting", False):
            self.counting = False
            STATS.end()

    def route(self, path, query):
        parts = [p for p in path.split("/") if p]
        name = parts[0] if parts else ""
        arg = parts[1] if len(parts) > 1 else None
        method = self.command

        if name in ("", "ok") and len(parts) <= 1:
            if method not in ("GET", "HEAD"):
                self.read_body()
            return self.reply(200, "ok")
        if name == "echo" and len(parts) == 1:
            return self.echo()
        if name == "rawbody" and len(parts) == 1:
            return self.reply(200, self.read_body(), "application/octet-stream")
        if name == "header-list" and len(parts) == 1:
            self.read_body()
            return self.reply(200, json.dumps(list(self.headers.items())),
                              "application/json")
        if method not in ("GET", "HEAD"):
            self.read_body()
        handler = getattr(self, "ep_" + name.replace("-", "_"), None)
        if handler is None or method not in ("GET", "HEAD"):
            return self.reply(404, "not found")
        return handler(parts[1:], query)

    # ---- endpoints ---------------------------------------------------------

    def echo(self):
        body = self.read_body()
        doc = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
        }
        self.reply(200, json.dumps(doc), "application/json")

    def ep_status(self, args, query):
        code = int_arg(args[0]) if args else None
        if code is None or not 100 <= code <= 599:
            return self.reply(404, "not found")
        self.reply(code, "status %d" % code)

    def ep_delay(self, args, query):
        ms = int_arg(args[0]) if args else None
        if ms is None:
            return self.reply(404, "not found")
        end = time.monotonic() + min(ms / 1000.0, MAX_STALL)
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            if self.client_left(min(left, 0.5)):
                raise ClientGone()
        self.reply(200, "delay %d" % ms)

    def ep_size(self, args, query):
        n = int_arg(args[0]) if args else None
        if n is None:
            return self.reply(404, "not found")
        self.reply(200, b"a" * n)

    def ep_bytes(self, args, query):
        n = int_arg(args[0]) if args else None
        if n is None:
            return self.reply(404, "not found")
        self.reply(200, bytes(i % 256 for i in range(n)),
                   "application/octet-stream")

    def ep_utf8(self, args, query):
        self.reply(200, UTF8_TEXT.encode("utf-8"), "text/plain; charset=utf-8")

    def ep_json(self, args, query):
        self.reply(200, json.dumps(JSON_DOC, indent=2) + "\n",
                   "application/json")

    def ep_gzip(self, args, query):
        n = int_arg(args[0]) if args else None
        if n is None:
            return self.reply(404, "not found")
        level = int_arg(query.get("level", ["9"])[0], 9)
        self.reply(200, gzip.compress(b"a" * n, compresslevel=min(level, 9),
                                      mtime=0), "text/plain",
                   [("Content-Encoding", "gzip")])

    def ep_bomb(self, args, query):
        n = int_arg(args[0]) if args else None
        if n is None:
            return self.reply(404, "not found")
        self.start_chunked("application/octet-stream",
                           [("Content-Encoding", "gzip")])
        if self.command == "HEAD":
            return
        for piece in bomb_chunks(n):
            self.write_chunk(piece)
        self.end_chunked()

    def ep_chunked(self, args, query):
        n = int_arg(args[0]) if args else None
        if n is None:
            return self.reply(404, "not found")
        self.start_chunked("text/plain")
        if self.command == "HEAD":
            return
        left = n
        while left > 0:
            take = min(left, CHUNK)
            self.write_chunk(b"a" * take)
            left -= take
        self.end_chunked()

    def ep_nolength(self, args, query):
        n = int_arg(args[0]) if args else None
        if n is None:
            return self.reply(404, "not found")
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.write(b"a" * n)

    def ep_endless(self, args, query):
        self.start_chunked("text/plain")
        end = time.monotonic() + MAX_STALL
        piece = b"a" * 16384
        # Past the bound the connection is dropped without the last chunk,
        # so the client sees a broken transfer rather than a complete one.
        self.close_connection = True
        while time.monotonic() < end:
            self.write_chunk(piece)

    def ep_badchunk(self, args, query):
        self.close_connection = True
        self.start_chunked("text/plain")
        self.write(b"5\r\nhello\r\nzz-not-hex\r\nhello\r\n")

    def ep_reset(self, args, query):
        self.close_connection = True
        sock = self.connection
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
        # detach() hands back the descriptor so that closing it really
        # closes the socket (the buffered reader still holds a reference).
        os.close(sock.detach())

    def ep_empty(self, args, query):
        self.close_connection = True

    def ep_hang(self, args, query):
        self.close_connection = True
        end = time.monotonic() + MAX_STALL
        while time.monotonic() < end:
            if self.client_left(min(0.5, max(0.0, end - time.monotonic()))):
                break

    def ep_drip(self, args, query):
        n = int_arg(args[0]) if args else None
        if n is None:
            return self.reply(404, "not found")
        ms = int_arg(query.get("ms", ["100"])[0], 100)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        if self.command == "HEAD":
            return
        end = time.monotonic() + MAX_STALL
        for _ in range(n):
            if time.monotonic() >= end:
                self.close_connection = True
                return
            self.write(b"a")
            if ms and self.client_left(ms / 1000.0):
                raise ClientGone()

    def ep_redirect(self, args, query):
        n = int_arg(args[0]) if args else None
        if n is None:
            return self.reply(404, "not found")
        if n == 0:
            return self.reply(200, "done")
        self.reply(302, "redirect", "text/plain",
                   [("Location", "/redirect/%d" % (n - 1))])

    def ep_redirect_to(self, args, query):
        target = query.get("url", [None])[0]
        if not target:
            return self.reply(400, "url missing")
        self.reply(302, "redirect", "text/plain", [("Location", target)])

    def ep_headers(self, args, query):
        self.reply(200, "headers", "text/plain",
                   [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"),
                    ("X-Custom", "yes")])

    def ep_set_cookie(self, args, query):
        self.reply(200, "cookies", "text/plain",
                   [("Set-Cookie", v) for v in query.get("c", [])])

    def ep_retry_after(self, args, query):
        value = args[0] if args else "1"
        self.reply(503, "retry after %s" % value, "text/plain",
                   [("Retry-After", value)])

    def ep_flaky(self, args, query):
        if len(args) != 2 or int_arg(args[1]) is None:
            return self.reply(404, "not found")
        n = int_arg(args[1])
        if STATS.flaky_next(args[0]) < n:
            return self.reply(503, "flaky")
        self.reply(200, "ok after %d" % n)

    def ep_count(self, args, query):
        if len(args) != 1:
            return self.reply(404, "not found")
        n = STATS.flaky_next("count/" + args[0]) + 1
        if query.get("json") == ["1"]:
            return self.reply(200, json.dumps({"n": n}), "application/json")
        self.reply(200, str(n))

    def ep_bigheader(self, args, query):
        n = int_arg(args[0]) if args else None
        if n is None:
            return self.reply(404, "not found")
        self.reply(200, "bigheader", "text/plain", [("X-Big", "x" * n)])

    def ep_retry_after_date(self, args, query):
        import email.utils
        secs = int_arg(args[0]) if args else None
        if secs is None:
            return self.reply(404, "not found")
        when = email.utils.formatdate(time.time() + secs, usegmt=True)
        self.reply(503, "retry after %s" % when, "text/plain",
                   [("Retry-After", when)])

    def ep_latin1_header(self, args, query):
        # send_header encodes as Latin-1: these become bytes e9 and ff.
        self.reply(200, "latin1", "text/plain",
                   [("X-Latin", "caf\u00e9 \u00ff"), ("X-Plain", "yes")])

    def ep_latin1_json(self, args, query):
        self.reply(200, b'{"caf\xe9": "\xff\xfe", "ok": [1, 2]}\n',
                   "application/json")

    def ep_badgzip(self, args, query):
        self.reply(200, b"this is not gzip at all" * 10, "text/plain",
                   [("Content-Encoding", "gzip")])

    def ep_short(self, args, query):
        n = int_arg(args[0]) if args else None
        if n is None:
            return self.reply(404, "not found")
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        if self.command != "HEAD":
            self.write(b"a" * (n // 2))

    def ep_raw(self, args, query):
        data = RAW.get(args[0]) if len(args) == 1 else None
        if data is None:
            return self.reply(404, "not found")
        # These leave the connection open after their stray body; the late
        # one sends it only once the client may have taken the response
        # as complete.
        self.close_connection = not args[0].startswith("headbody-keep")
        if args[0] == "headbody-keep-late":
            head, _, body = data.partition(b"\r\n\r\n")
            self.write(head + b"\r\n\r\n")
            self.wfile.flush()
            time.sleep(0.1)
            data = body
        self.write(data)

    def ep_stats(self, args, query):
        self.reply(200, json.dumps(STATS.snapshot()), "application/json")

    def ep_reset_stats(self, args, query):
        STATS.reset()
        self.reply(200, "reset")

    def ep_hits(self, args, query):
        path = query.get("path", [""])[0]
        self.reply(200, "%d" % STATS.hit_count(path))

    def ep_p(self, args, query):
        self.reply(200, "p")

    def ep_arrivals(self, args, query):
        with STATS.lock:
            doc = list(STATS.arrivals)
        self.reply(200, json.dumps(doc), "application/json")

    # ---- politeness: pauses and load shedding (tests/polite.bats) ----------

    def ep_pause(self, args, query):
        if len(args) != 2 or int_arg(args[1]) is None:
            return self.reply(404, "not found")
        if STATS.flaky_next("pause/" + args[0]) == 0:
            return self.reply(429, "slow down", "text/plain",
                              [("Retry-After", args[1])])
        self.reply(200, "p")

    def ep_host_arrivals(self, args, query):
        with STATS.lock:
            doc = list(STATS.host_arrivals)
        self.reply(200, json.dumps(doc), "application/json")

    def ep_shed(self, args, query):
        if len(args) != 2 or int_arg(args[1]) is None:
            return self.reply(404, "not found")
        key, limit = args[0], int_arg(args[1])
        ms = int_arg(query.get("ms", ["100"])[0], 100)
        if not STATS.shed_enter(key, limit):
            STATS.shed_leave(key, False)
            return self.reply(503, "shed")
        served = False
        try:
            end = time.monotonic() + min(ms / 1000.0, MAX_STALL)
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    break
                if self.client_left(min(left, 0.5)):
                    raise ClientGone()
            self.reply(200, "served")
            served = True
        finally:
            STATS.shed_leave(key, served)

    def ep_shed_stats(self, args, query):
        key = query.get("key", [""])[0]
        with STATS.lock:
            st = dict(STATS.shed.get(key, {"inflight": 0, "max_inflight": 0,
                                           "shed": 0, "served": 0}))
        self.reply(200, json.dumps(st), "application/json")

    # ---- revalidation: resources with validators (tests/revalidate.bats) ----

    def cond_state(self, name):
        """The version of resource name and what its last request asked."""
        with STATS.lock:
            return COND.setdefault(name, {"v": 1, "inm": None, "ims": None})

    def cond_reply(self, name, etag):
        """Serve name, v1 first: a 304 when the request's conditions hold."""
        st = self.cond_state(name)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        # /cond-fail/NAME/N made the next N requests for name 503s.
        with STATS.lock:
            failing = st.get("fail", 0) > 0
            if failing:
                st["fail"] -= 1
        if failing:
            return self.reply(503, "flaky")
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        with STATS.lock:
            st["inm"], st["ims"] = inm, ims
            v = st["v"]
        tag = '"%s-v%d"' % (name, v)
        lm = "Sun, 0%d Jan 2023 10:00:00 GMT" % v
        headers = [("Last-Modified", lm)]
        if etag:
            headers.append(("ETag", tag))
        if inm is not None and etag:
            fresh = inm == tag
        elif ims is not None:
            fresh = ims == lm
        else:
            fresh = False
        if fresh:
            return self.reply(304, headers=[] if "bare" in self.path
                              else headers)
        # ?big=N: a body of N bytes more, to make the record's line long.
        pad = "x" * int_arg(query.get("big", ["0"])[0], 0)
        self.reply(200, "%s v%d\n%s" % (name, v, pad), "text/plain", headers)

    def ep_cond(self, args, query):
        """ETag and Last-Modified; /cond-bump/NAME makes a new version."""
        self.cond_reply(args[0] if args else "x", True)

    def ep_cond_lm(self, args, query):
        """Last-Modified only."""
        self.cond_reply(args[0] if args else "x", False)

    def ep_cond_bump(self, args, query):
        st = self.cond_state(args[0] if args else "x")
        with STATS.lock:
            st["v"] += 1
        self.reply(200, "bumped")

    def ep_cond_fail(self, args, query):
        st = self.cond_state(args[0] if args else "x")
        with STATS.lock:
            st["fail"] = int_arg(args[1] if len(args) > 1 else "1", 1)
        self.reply(200, "failing")

    def ep_cond_seen(self, args, query):
        st = self.cond_state(args[0] if args else "x")
        with STATS.lock:
            doc = {"inm": st["inm"], "ims": st["ims"]}
        self.reply(200, json.dumps(doc), "application/json")

    # ---- downloads: ranges, validators, resets and stalls ----------------

    def file_headers(self, n, query):
        """Accept-Ranges, ETag and Last-Modified as /file's query says."""
        headers = []
        if query.get("accept", ["1"])[0] != "0":
            headers.append(("Accept-Ranges", "bytes"))
        etag = query.get("etag", ["1"])[0]
        tag = '"v%s-%d"' % (query.get("ver", ["1"])[0], n)
        if etag == "weak":
            headers.append(("ETag", "W/" + tag))
        elif etag != "0":
            headers.append(("ETag", tag))
        if query.get("lm", ["1"])[0] != "0":
            headers.append(("Last-Modified", "Sat, 01 Jan 2000 00:00:00 GMT"))
        return headers, tag

    def ep_file(self, args, query):
        n = int_arg(args[0]) if args else None
        if n is None:
            return self.reply(404, "not found")
        # once=1: cut and stall only the first request for this path and
        # query; bump=1: a new version (ETag) after the first; fail1=1: the
        # first is a 503; fail2=1: the second is a 503.
        seen = 0
        if any(k in query for k in ("once", "bump", "fail1", "fail2")):
            seen = STATS.flaky_next("file " + self.path)
        if ("fail1" in query and seen == 0) or ("fail2" in query and seen == 1):
            return self.reply(503, "flaky")
        if "once" in query and seen > 0:
            query = {k: v for k, v in query.items() if k not in ("cut", "stall")}
        if "bump" in query and seen > 0:
            query = dict(query, ver=[query.get("ver", ["1"])[0] + "b"])
        data = bytes(i % 251 for i in range(n))
        headers, tag = self.file_headers(n, query)
        want = self.headers.get("Range")
        cond = self.headers.get("If-Range")
        with RANGES_LOCK:
            RANGES.append([self.path, want, cond,
                           self.headers.get("Accept-Encoding")])
        start = 0
        if want and query.get("ranges", ["1"])[0] != "0" and (
                cond is None or cond in (tag, "Sat, 01 Jan 2000 00:00:00 GMT")):
            start = int_arg(want.partition("=")[2].partition("-")[0], 0)
            if start >= n:
                return self.reply(416, "", "text/plain",
                                  headers + [("Content-Range", "bytes */%d" % n)])
            headers.append(("Content-Range", "bytes %d-%d/%d" % (start, n - 1, n)))
        body = data[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command == "HEAD":
            return
        cut = int_arg(query.get("cut", ["-1"])[0], -1)
        stall = int_arg(query.get("stall", ["-1"])[0], -1)
        if cut >= 0:
            # A close, not an RST: the bytes sent must all arrive.
            self.write(body[:cut])
            self.close_connection = True
            return
        if stall >= 0:
            self.write(body[:stall])
            self.wfile.flush()
            self.close_connection = True
            end = time.monotonic() + MAX_STALL
            while time.monotonic() < end and not self.client_left(0.2):
                pass
            return
        self.write(body)

    def ep_lie(self, args, query):
        """/lie/N?how=H&cut=C: N bytes with a strong ETag; the first request
        is a 200 cut at C, later ones with Range a 206 that lies as H says:
        short (ends 10000 bytes in), long (100 bytes more than its range),
        gzip (content-encoded), etag (another ETag), total (a wrong total),
        chunked or chunkshort (no Content-Length, 100 bytes more or fewer),
        star (a total of *), offset (a range one byte past the one asked),
        nocr (no Content-Range), backwards (a range that ends before it
        starts), identity (Content-Encoding: identity, else a true 206),
        lm (Last-Modified, no ETag, and another one on the 206), lmok (the
        same Last-Modified on both).  how=norange: a 206 of the whole file
        to a request without Range; how=arnone: Accept-Ranges: none."""
        n = int_arg(args[0]) if args else None
        if n is None:
            return self.reply(404, "not found")
        how = query.get("how", [""])[0]
        data = bytes(i % 251 for i in range(n))
        tag = '"lie-%d"' % n
        want = self.headers.get("Range")
        with RANGES_LOCK:
            RANGES.append([self.path, want, self.headers.get("If-Range"),
                           self.headers.get("Accept-Encoding")])
        seen = STATS.flaky_next("lie " + self.path)
        headers = [("Accept-Ranges", "none" if how == "arnone" else "bytes"),
                   ("ETag", tag)]
        if how in ("lm", "lmok"):
            headers[1] = ("Last-Modified", "Sat, 01 Jan 2000 00:00:00 GMT")
        if how == "norange" or (want and seen > 0 and how != "arnone"):
            start = int_arg(want.partition("=")[2].partition("-")[0], 0) \
                if want else 0
            end, total, body = n - 1, n, data[start:]
            if how == "short":
                end = start + 9999
                body = data[start:end + 1]
            elif how == "long":
                body = data[start:] + b"x" * 100
            elif how == "gzip":
                body = gzip.compress(data[start:])
                headers.append(("Content-Encoding", "gzip"))
            elif how == "etag":
                headers[1] = ("ETag", '"other"')
            elif how == "total":
                total = n + 5
            elif how == "offset":
                start += 1
                body = data[start:]
            elif how == "backwards":
                end = start - 1
            elif how == "identity":
                headers.append(("Content-Encoding", "identity"))
            elif how == "lm":
                headers[1] = ("Last-Modified", "Sun, 02 Jan 2000 00:00:00 GMT")
            if how == "nocr":
                return self.reply(206, body, "application/octet-stream", headers)
            headers.append(("Content-Range",
                            "bytes %d-%d/%s" % (start, end,
                                                "*" if how == "star" else total)))
            if how in ("chunked", "chunkshort"):
                # No Content-Length: 100 bytes more, or 100 fewer.
                body = body + b"x" * 100 if how == "chunked" else body[:-100]
                self.send_response(206)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Transfer-Encoding", "chunked")
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.write_chunk(body)
                return self.end_chunked()
            return self.reply(206, body, "application/octet-stream", headers)
        cut = int_arg(query.get("cut", ["-1"])[0], -1)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(n))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.write(data[:cut] if cut >= 0 else data)
        self.close_connection = True

    def ep_to(self, args, query):
        """/to/NAME: a 302 to where /to-set/NAME?url=U last pointed it."""
        with STATS.lock:
            target = TARGETS.get(args[0] if args else "")
        if not target:
            return self.reply(404, "no target")
        self.reply(302, "redirect", "text/plain", [("Location", target)])

    def ep_to_set(self, args, query):
        with STATS.lock:
            TARGETS[args[0] if args else ""] = query.get("url", [""])[0]
        self.reply(200, "set")

    def ep_named(self, args, query):
        """/named/...: the request's path and query as the body, so that
        URLs whose names agree have files that differ; fail1=1: the first
        request for it is a 503."""
        if "fail1" in query and STATS.flaky_next("named " + self.path) == 0:
            return self.reply(503, "flaky")
        self.reply(200, self.path)

    def ep_noted(self, args, query):
        """/noted/...: a 304 to anything, conditions or not."""
        self.reply(304, headers=[("ETag", '"n"')])

    def ep_ranges(self, args, query):
        with RANGES_LOCK:
            doc = [r if "ae" in query else r[:3] for r in RANGES]
        self.reply(200, json.dumps(doc), "application/json")

    # ---- leftovers on a kept connection (tests/credentials.bats) ------------

    def ep_excess(self, args, query):
        """"ok" with its Content-Length, and a whole stray response after
        it in the same write: bytes past the end that the client reads with
        the body.  The connection stays open."""
        self.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                   b"Content-Length: 2\r\n\r\nok"
                   b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                   b"Content-Length: 5\r\n\r\nstray")

    def ep_stray_idle(self, args, query):
        """"ok", then ?ms=N (default 20) later a whole stray response, on
        a connection that stays open: it lands while the connection is
        idle in the client's cache, unless the next request came first."""
        self.reply(200, "ok")
        self.wfile.flush()
        time.sleep(min(int_arg(query.get("ms", ["20"])[0], 20), 2000) / 1000)
        self.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                   b"Content-Length: 5\r\n\r\nstray")

    def ep_stall(self, args, query):
        n = int_arg(args[0]) if args else None
        if n is None:
            return self.reply(404, "not found")
        after = min(int_arg(query.get("after", ["0"])[0], 0), n)
        secs = min(int_arg(query.get("s", ["1"])[0], 1), MAX_STALL)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        self.write(b"s" * after)
        self.wfile.flush()
        end = time.monotonic() + secs
        while time.monotonic() < end:
            if self.client_left(min(0.2, max(0.0, end - time.monotonic()))):
                raise ClientGone()
        self.write(b"s" * (n - after))


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        # Clients that vanish mid-request are part of the tests.
        if os.environ.get("GATHER_TEST_SERVER_DEBUG"):
            super().handle_error(request, client_address)


# ---- identity and routing: other listeners -------------------------------


class Server6(Server):
    """The same server on an IPv6 address (--host ::1)."""
    address_family = socket.AF_INET6


class UnixHandler(Handler):
    """Handler on a unix socket: no TCP to tune, no client address."""

    def setup(self):
        http.server.BaseHTTPRequestHandler.setup(self)
        self.counted_connection = False

    def address_string(self):
        return "unix"


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """The same endpoints on a unix socket (--unix PATH)."""
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request, client_address):
        if os.environ.get("GATHER_TEST_SERVER_DEBUG"):
            super().handle_error(request, client_address)


def make_server(opts):
    """The server the options ask for: unix socket, IPv6, or the default."""
    if opts.unix:
        return UnixServer(opts.unix, UnixHandler), 0
    if ":" in opts.host:
        server = Server6((opts.host, opts.port), Handler)
    else:
        server = Server((opts.host, opts.port), Handler)
    return server, server.server_address[1]


def main():
    parser = argparse.ArgumentParser(description="gather test server")
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--unix", default=None)
    opts = parser.parse_args()

    server, port = make_server(opts)
    tmp = opts.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, opts.port_file)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
