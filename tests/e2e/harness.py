"""End-to-end test harness: the real sunarchived and sunarchive binaries
against the platform simulator (tests/sim) over HTTP on 127.0.0.1.

Nothing is mocked: a real simulator process, a real daemon process with a
real state directory (WARC segments, SQLite index), real signals.
"""
import gzip
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib
import base64
import hashlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.environ.get("SUNARCHIVE_BUILD", os.path.join(ROOT, "build"))
SIM = os.path.join(ROOT, "tests", "sim", "simulator.py")
SCENARIOS = os.path.join(ROOT, "tests", "sim", "scenarios")
ASAN = os.environ.get("SUNARCHIVE_ASAN") == "1"


def wait_until(pred, timeout, interval=0.1, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Simulator:
    """The platform simulator as a child process."""

    # Tests poll every second and re-read every thread each cycle, far
    # above the platforms' real limits; the rate-limit behaviour itself is
    # tested with injected faults instead.
    FAST = {"mastodon_rate_limit": 1000000, "fb_app_calls_per_window":
            100000000, "fb_page_calls_per_window": 100000000}

    def __init__(self, workdir, scenario, step_interval=None, extra=(),
                 settings=None):
        self.workdir = workdir
        self.portfile = os.path.join(workdir, "sim.port")
        # The simulator's own request log holds tokens as received: keep it
        # outside the state directory the leak checks scan.
        self.logpath = os.path.join(workdir, "sim-requests.jsonl")
        if not os.path.isabs(scenario):
            scenario = os.path.join(SCENARIOS, scenario)
        with open(scenario) as f:
            self.scenario = json.load(f)
        if settings is None:
            settings = self.FAST
        if settings:
            self.scenario.setdefault("settings", {}).update(settings)
            scenario = os.path.join(workdir, "scenario.json")
            with open(scenario, "w") as f:
                json.dump(self.scenario, f)
        self.scenario_path = scenario
        args = [sys.executable, SIM, "--scenario", scenario, "--port", "0",
                "--port-file", self.portfile, "--log", self.logpath]
        if step_interval:
            args += ["--step-interval", str(step_interval)]
        args += list(extra)
        self.errf = open(os.path.join(workdir, "sim.err"), "w")
        self.proc = subprocess.Popen(args, stdout=self.errf,
                                     stderr=self.errf)
        wait_until(lambda: os.path.exists(self.portfile), 15,
                   what="simulator port file")
        with open(self.portfile) as f:
            self.port = int(f.read().strip())
        self.base = f"http://127.0.0.1:{self.port}"

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data,
                                     method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"null")

    def step(self):
        return self._call("POST", "/_sim/step")

    def status(self):
        return self._call("GET", "/_sim/status")

    def truth(self):
        return self._call("GET", "/_sim/truth")

    def fault(self, **kw):
        kw.setdefault("op", "fault")
        return self._call("POST", "/_sim/fault", kw)

    def reset_faults(self):
        return self._call("POST", "/_sim/reset-faults")

    def actions(self, actions):
        return self._call("POST", "/_sim/actions", actions)

    def requests(self):
        out = []
        if os.path.exists(self.logpath):
            with open(self.logpath) as f:
                for line in f:
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass
        return [r for r in out if not r["path"].startswith("/_sim/")]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.errf.close()


def account_name(acc):
    return {"facebook": "fb", "mastodon": "ma"}[acc["platform"]] + "-" + \
        acc["id"][-3:]


class Daemon:
    """sunarchived with a generated config, tokens in 0600 files."""

    def __init__(self, workdir, sim, extra_global=None, extra_account=None,
                 accounts=None):
        self.workdir = workdir
        self.sim = sim
        self.state = os.path.join(workdir, "state")
        self.conf = os.path.join(workdir, "sunarchive.conf")
        self.logpath = os.path.join(workdir, "daemon.log")
        self.proc = None
        self.notify_sock = None
        self.secrets = []
        g = {
            "state_dir": self.state,
            "retry_base": "0",
            "retry_attempts": "2",
            "request_timeout": "5s",
            "rate_limit_pause": "2s",
            "recheck_day": "0",
            "recheck_week": "0",
            "recheck_month": "0",
            "recheck_older": "0",
            "full_scan_interval": "0",
        }
        g.update(extra_global or {})
        lines = [f"{k} = {v}" for k, v in g.items()]
        self.accounts = []
        for acc in (accounts if accounts is not None
                    else sim.scenario["accounts"]):
            name = account_name(acc)
            self.accounts.append(name)
            tok = os.path.join(workdir, name + ".token")
            self._secret_file(tok, acc["token"])
            lines += ["", f"[account {name}]",
                      f"platform = {acc['platform']}",
                      f"id = {acc['id']}",
                      f"token_file = {tok}",
                      f"api_base = {sim.base}",
                      "poll_interval = 1s",
                      "request_budget = 1000000"]
            if acc.get("app_secret"):
                sec = os.path.join(workdir, name + ".secret")
                self._secret_file(sec, acc["app_secret"])
                lines.append(f"app_secret_file = {sec}")
                proof = __import__("hmac").new(
                    acc["app_secret"].encode(), acc["token"].encode(),
                    "sha256").hexdigest()
                self.secrets.append(proof)
            for k, v in (extra_account or {}).items():
                lines.append(f"{k} = {v}")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def _secret_file(self, path, value):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, value.encode() + b"\n")
        os.close(fd)
        self.secrets.append(value)

    def start(self, env=None, notify=False):
        e = dict(os.environ)
        e.update(env or {})
        if notify:
            path = os.path.join(self.workdir, "notify.sock")
            if os.path.exists(path):
                os.unlink(path)
            self.notify_sock = socket.socket(socket.AF_UNIX,
                                             socket.SOCK_DGRAM)
            self.notify_sock.bind(path)
            self.notify_sock.settimeout(0.2)
            self.notes = []
            self.notes_thread = __import__("threading").Thread(
                target=self._drain_notify, daemon=True)
            self.notes_thread.start()
            e["NOTIFY_SOCKET"] = path
        self.logf = open(self.logpath, "a")
        self.proc = subprocess.Popen(
            [os.path.join(BUILD, "sunarchived"), "-f", self.conf],
            stdout=self.logf, stderr=self.logf, env=e)
        return self.proc

    def _drain_notify(self):
        sock = self.notify_sock
        while True:
            try:
                self.notes.append(sock.recv(4096).decode())
            except socket.timeout:
                continue
            except OSError:
                return

    def notifications(self, timeout=0.5):
        """Every sd_notify message received so far (after timeout s)."""
        time.sleep(timeout)
        return list(self.notes)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=30):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("sunarchived did not stop on SIGTERM")
        self.logf.close()
        rc = self.proc.returncode
        self.proc = None
        return rc

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.logf.close()
        self.proc = None

    def log(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    # -- the index, read-only -------------------------------------------
    def db(self):
        path = os.path.join(self.state, "index.sqlite")
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True,
                               timeout=10)

    def query(self, sql, args=()):
        for _ in range(50):
            try:
                with self.db() as c:
                    return c.execute(sql, args).fetchall()
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) and "no such" not in str(e):
                    raise
                time.sleep(0.1)
        raise AssertionError("index stayed locked")

    def polls(self):
        """{account: last_poll} for every account."""
        try:
            return dict(self.query("SELECT name, COALESCE(last_poll, 0)"
                                   " FROM accounts"))
        except (sqlite3.OperationalError, AssertionError):
            return {}

    def wait_cycles(self, n=1, timeout=60, accounts=None):
        """Wait until every account has started n cycles after now."""
        t0 = int(time.time())
        names = accounts or self.accounts

        def done():
            p = self.polls()
            return all(p.get(a, 0) >= t0 + n for a in names)
        wait_until(done, timeout, 0.2, f"{n} poll cycle(s)")
        # The cycle that started last may still be running: let it end.
        wait_until(lambda: all(v >= t0 + n + 1 for k, v in
                               self.polls().items() if k in names),
                   timeout, 0.2, "the following cycle")

    def cli(self, *args, check=False):
        r = subprocess.run([os.path.join(BUILD, "sunarchive"), "-s",
                            self.state] + list(args), capture_output=True,
                           text=True, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError(f"sunarchive {args}: {r.returncode}\n"
                                 f"{r.stdout}\n{r.stderr}")
        return r


# -- reading the archive independently --------------------------------------

def b32sha256(data):
    return "sha256:" + base64.b32encode(
        hashlib.sha256(data).digest()).decode().rstrip("=")


def read_members(path):
    """Yield (offset, stored_bytes, warc_bytes) for each gzip member."""
    with open(path, "rb") as f:
        data = f.read()
    off = 0
    while off < len(data):
        d = zlib.decompressobj(31)
        plain = d.decompress(data[off:])
        if not d.eof:
            raise ValueError(f"{path}: truncated member at {off}")
        used = len(data) - off - len(d.unused_data)
        yield off, data[off:off + used], plain
        off += used


def parse_warc(plain):
    head, _, rest = plain.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "WARC/1.1", lines[0]
    fields = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        fields[k.strip().lower()] = v.strip()
    n = int(fields["content-length"])
    block = rest[:n]
    assert rest[n:] == b"\r\n\r\n", "record trailer"
    return fields, block


def verify_digests(fields, block):
    """Check WARC-Block-Digest and WARC-Payload-Digest like warcio does."""
    assert fields.get("warc-block-digest") == b32sha256(block), \
        "block digest mismatch"
    if "warc-payload-digest" in fields:
        payload = block.partition(b"\r\n\r\n")[2]
        assert fields["warc-payload-digest"] == b32sha256(payload), \
            "payload digest mismatch"


def segment_files(state):
    d = os.path.join(state, "archive")
    return sorted(os.path.join(d, f) for f in os.listdir(d))


class Workdir:
    def __init__(self, name):
        self.path = tempfile.mkdtemp(prefix=f"sunarchive-{name}-")

    def cleanup(self):
        if os.environ.get("SUNARCHIVE_KEEP"):
            print(f"kept {self.path}")
            return
        shutil.rmtree(self.path, ignore_errors=True)
