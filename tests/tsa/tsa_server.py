#!/usr/bin/env python3
"""tsa_server.py - a tiny local RFC 3161 time-stamping authority over HTTP.

For tests only: serves on 127.0.0.1 and answers every
    POST / (Content-Type: application/timestamp-query, body: DER TimeStampReq)
by running
    openssl ts -reply -config DIR/tsa.cnf -queryfile REQ \\
        -inkey DIR/tsa1.key -signer DIR/tsa1.pem -out RESP
with the files tests/tsa/mktsa.sh DIR creates, and returning RESP with
Content-Type: application/timestamp-reply. A refusal ("rejection" status,
e.g. an unsupported policy) is a normal 200 reply, as from a real TSA.

    tests/tsa/mktsa.sh /tmp/tsa
    tests/tsa/tsa_server.py --dir /tmp/tsa --port 0 --port-file /tmp/tsa.port

Options:
  --dir DIR          the directory mktsa.sh made (required)
  --port N           port on 127.0.0.1 (0 = pick a free one)
  --port-file FILE   write the port number here once listening (atomically)
  --log FILE         append one JSON line per request here (else stderr)
  --fail N           answer the first N time-stamp requests with HTTP 503
                     (with Retry-After: 1), to test the client's retries
  --signer NAME      sign with DIR/NAME.pem and DIR/NAME.key (default
                     tsa1; e.g. tsa2 for a TSA under the untrusted root)

Connections are served in threads, replies made one at a time:
openssl ts -reply keeps its serial number in a file.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
MAX_QUERY = 64 * 1024           # a TimeStampReq is about 60-100 bytes


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sunarchive-test-tsa/1.0"

    def send(self, status, body=b"", ctype="text/plain", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return status

    def do_GET(self):
        status = self.send(405, b"POST an RFC 3161 TimeStampReq\n",
                           headers=[("Allow", "POST")])
        self.server.log_request_line(self, status, 0)

    do_HEAD = do_PUT = do_DELETE = do_GET

    def do_POST(self):
        srv = self.server
        try:
            n = int(self.headers.get("Content-Length", ""))
        except ValueError:
            n = -1
        if n < 0 or n > MAX_QUERY:
            self.close_connection = True
            status = self.send(413 if n > MAX_QUERY else 411,
                               b"bad Content-Length\n")
            srv.log_request_line(self, status, max(n, 0))
            return
        body = self.rfile.read(n)
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
        if ctype.lower() != QUERY_TYPE:
            status = self.send(415, b"Content-Type must be "
                               + QUERY_TYPE.encode() + b"\n")
            srv.log_request_line(self, status, n)
            return
        with srv.lock:
            srv.count += 1
            number = srv.count
            if number <= srv.fail:
                status = self.send(503, b"test TSA: failing on purpose\n",
                                   headers=[("Retry-After", "1")])
                srv.log_request_line(self, status, n, number)
                return
            reply, err = srv.reply(body)
        if reply is None:
            status = self.send(500, err.encode("utf-8", "replace"))
        else:
            status = self.send(200, reply, REPLY_TYPE)
        srv.log_request_line(self, status, n, number,
                             err if reply is None else None)

    def log_message(self, fmt, *args):
        pass            # log_request_line() replaces the default log


class TsaServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, args):
        super().__init__(addr, Handler)
        self.dir = os.path.abspath(args.dir)
        self.signer = args.signer
        self.fail = args.fail
        self.count = 0
        self.lock = threading.Lock()
        self.logf = open(args.log, "a") if args.log else sys.stderr

    def reply(self, query):
        """(DER reply, None) from openssl ts -reply, or (None, error)."""
        with tempfile.TemporaryDirectory(prefix="tsa-") as tmp:
            req = os.path.join(tmp, "req.tsq")
            resp = os.path.join(tmp, "resp.tsr")
            with open(req, "wb") as f:
                f.write(query)
            p = subprocess.run(
                ["openssl", "ts", "-reply",
                 "-config", os.path.join(self.dir, "tsa.cnf"),
                 "-queryfile", req,
                 "-inkey", os.path.join(self.dir, self.signer + ".key"),
                 "-signer", os.path.join(self.dir, self.signer + ".pem"),
                 "-out", resp],
                capture_output=True, timeout=30)
            if p.returncode != 0 or not os.path.exists(resp):
                return None, ("openssl ts -reply failed: " +
                              p.stderr.decode("utf-8", "replace")[-500:])
            with open(resp, "rb") as f:
                return f.read(), None

    def log_request_line(self, h, status, length, number=None, error=None):
        line = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "method": h.command, "path": h.path,
                "content_type": h.headers.get("Content-Type"),
                "length": length, "status": status}
        if number is not None:
            line["request"] = number
        if error:
            line["error"] = error
        self.logf.write(json.dumps(line) + "\n")
        self.logf.flush()


def write_port_file(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="local RFC 3161 test TSA (openssl ts -reply over HTTP)")
    p.add_argument("--dir", required=True,
                   help="directory made by tests/tsa/mktsa.sh")
    p.add_argument("--port", type=int, default=0,
                   help="port on 127.0.0.1 (0 = pick a free one)")
    p.add_argument("--port-file", help="write the port number here")
    p.add_argument("--log", help="append one JSON line per request here")
    p.add_argument("--fail", type=int, default=0, metavar="N",
                   help="answer the first N requests with HTTP 503")
    p.add_argument("--signer", default="tsa1",
                   help="certificate and key name in DIR (default tsa1)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    for name in ("tsa.cnf", args.signer + ".pem", args.signer + ".key"):
        if not os.path.exists(os.path.join(args.dir, name)):
            print("tsa_server: no '%s' in '%s' (run tests/tsa/mktsa.sh "
                  "first)" % (name, args.dir), file=sys.stderr)
            return 2
    try:
        server = TsaServer(("127.0.0.1", args.port), args)
    except OSError as e:
        print("tsa_server: cannot listen on 127.0.0.1:%d: %s" % (args.port,
              e), file=sys.stderr)
        return 1
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    port = server.server_address[1]
    if args.port_file:
        write_port_file(args.port_file, port)
    print("tsa_server: listening on 127.0.0.1:%d" % port, file=sys.stderr,
          flush=True)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
