"""Crash and I/O-error torture (integrity.md section 11, D1, D3 and R3).

Every trial starts the real sunarchived on a fresh copy of a prepared
state directory, against its worker's own simulator, with faults from
the sysio table ($SUNARCHIVE_TEST_FAULTS). The prepared state and the
content are such that each cycle also seals a segment and opens the next.

  D1  kill -9 before ("crash") and after ("crash-after") the Nth open,
      write, fsync, fdatasync and rename of one capture cycle, for every
      N the cycle reaches (each sweep stops at the first N that a whole
      cycle does not reach, so it measures the cycle itself); a second
      kill during the recovery that follows; kill -9 at random moments
      (chains of one to three kills);
  D3  the Nth call of each of those fails once with EIO and with ENOSPC;
      every call fails persistently ('*', gated by a fault file that is
      removed again, so capture must resume in the same process); and
      the Nth write or fdatasync fails and the process is killed at the
      first call of its in-process recovery;
  as the service's unprivileged user (when run as root: setpriv to
      nobody), the sweeps of the calls that seal segments;

then restarts the daemon without faults, lets it complete a cycle and
stops it. After every trial:

  - every acknowledged record (committed index row) of the prepared state
    and of the faulted process is still there, same segment, same
    offset, same bytes; every index row's bytes hash to its sha256 and
    decode to one complete WARC record with that record id and good
    digests; records tile every segment from 0 to its end (so nothing
    unacknowledged is left half-written: it is either indexed complete,
    as recovered, or gone to quarantine);
  - every segment file has an index row and every row its file; sealed
    ones are 0440 and match the recorded size and sha256;
  - the bytes recovery removed are in quarantine/, byte for byte: for a
    crashed process each segment's bytes at the moment of death equal
    its kept prefix followed by its new .torn-* file;
  - the segment a failed write or fdatasync was for is sealed suspect
    (segments.suspect = 1) and never written again: its size and sha256
    never change afterwards; with strace, every byte written to it is
    kept or quarantined, none is written after the failure, and it is
    not fsynced again after its fsync/fdatasync failed;
  - the daemon never dies of a signal it was not sent;
  - R3: the item versions and item events equal those of the worker's
    fault-free reference run of the same content (a crash mid-cycle and
    the re-poll after it add no duplicate version), and polling the same
    API state twice adds no version at all.

The default run (make check) is the systematic sweep, about 280 trials
in 3 minutes on SUNARCHIVE_TORTURE_JOBS parallel workers (default 2),
each with its own simulator and state directory. SUNARCHIVE_TORTURE_TRIALS
raises the total for a pre-release run (make torture): after the sweep,
random fault points (a third with a second kill during recovery) fill
two thirds of the rest and random-time kill -9 chains the last third.
SUNARCHIVE_SEED makes the random choices reproducible; a failing trial
is reported with its fault spec; SUNARCHIVE_KEEP=1 keeps its state
directory; SUNARCHIVE_TORTURE_REPORT=FILE writes one JSON line per trial.
Known bugs are expected failures of the test that shows each, until
fixed; SUNARCHIVE_STRICT=1 makes them plain failures.
"""
import collections
import hashlib
import json
import os
import pwd
import queue
import random
import shutil
import signal
import sqlite3
import stat
import string
import subprocess
import sys
import threading
import time
import traceback
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

OPS = ("open", "write", "fsync", "fdatasync", "rename")
CRASHES = ("crash", "crash-after")
ERRORS = ("eio", "enospc")
TRIALS = int(os.environ.get("SUNARCHIVE_TORTURE_TRIALS", "0") or 0)
JOBS = max(1, int(os.environ.get("SUNARCHIVE_TORTURE_JOBS", "0") or 0)
           or min(2, os.cpu_count() or 1))
SEED = os.environ.get("SUNARCHIVE_SEED", "20261122")
STRACE = shutil.which("strace")
# The service runs as User=sunarchive without capabilities: as root, a
# worker also runs the daemon as nobody (root ignores file modes).
SETPRIV = shutil.which("setpriv")
UNPRIVILEGED = "nobody" if os.geteuid() == 0 and SETPRIV else None
if UNPRIVILEGED:
    try:
        pwd.getpwnam(UNPRIVILEGED)
    except KeyError:
        UNPRIVILEGED = None
ACCOUNTS = ("fb-001", "ma-001")
# A whole cycle plus a restart takes well under a second; anything near
# this means the daemon hung.
CYCLE_TIMEOUT = 30 if not harness.ASAN else 90
# Known bugs (reported, not fixed yet) are expected failures of the test
# that shows each; SUNARCHIVE_STRICT=1 makes them plain failures again.
known_bug = (lambda f: f) if os.environ.get("SUNARCHIVE_STRICT") == "1" \
    else unittest.expectedFailure
MAX_N = 600             # a sweep that gets here is not converging

# The segment size limit cannot go below 1 MiB, so the scenario gets a
# large incompressible post (about 430 kB gzipped): its two copies in the
# prepared state (listing response and conversion) stay under 1 MiB, the
# next listing crosses it, so every trial cycle seals a segment
# (fsync, fchmod, rename, fsync(dir)) and opens a new one mid-cycle.
FILLER_CHARS = 560000


class Violation(AssertionError):
    def __init__(self, msg, category=None):
        super().__init__(msg)
        self.category = category


def want(cond, msg, category=None):
    if not cond:
        raise Violation(msg, category)


# -- reading a state directory (no daemon running) -------------------------

def db_rows(state, sql, args=()):
    path = os.path.join(state, "index.sqlite")
    c = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return c.execute(sql, args).fetchall()
    finally:
        c.close()


def acked(state):
    """{record_id: (segment, offset, length, sha256)}"""
    return {r[0]: tuple(r[1:]) for r in db_rows(
        state, "SELECT r.record_id, s.name, r.offset, r.length, r.sha256"
        " FROM records r JOIN segments s ON s.id = r.segment_id")}


def archive_files(state):
    """{file name: bytes} of archive/."""
    d = os.path.join(state, "archive")
    out = {}
    for f in os.listdir(d):
        with open(os.path.join(d, f), "rb") as fh:
            out[f] = fh.read()
    return out


def quarantine_files(state):
    q = os.path.join(state, "quarantine")
    if not os.path.isdir(q):
        return {}
    out = {}
    for f in os.listdir(q):
        with open(os.path.join(q, f), "rb") as fh:
            out[f] = fh.read()
    return out


def segments(state):
    """{name: (sealed, size, sha256, suspect)}"""
    return {r[0]: tuple(r[1:]) for r in db_rows(
        state, "SELECT name, sealed, size, sha256, suspect FROM segments")}


def content(state):
    """What the re-poll must not duplicate: versions and item events."""
    vers = collections.defaultdict(list)
    for pid, h in db_rows(state, "SELECT i.platform_id, v.hash FROM"
                          " versions v JOIN items i ON i.id = v.item_id"
                          " ORDER BY v.id"):
        vers[pid].append(h)
    events = collections.Counter(db_rows(
        state, "SELECT i.platform_id, e.type FROM events e JOIN items i"
        " ON i.id = e.item_id"))
    items = {r[0]: tuple(r[1:]) for r in db_rows(
        state, "SELECT platform_id, state, hidden, nversions FROM items")}
    return dict(vers), events, items


def check_state(state, before=(), ref=None, stable=None, tiled=True,
                at_rest=True):
    """The invariants of a state directory. before: records that were
    acknowledged and must not have moved; stable: {segment: (size,
    sha256)} that must not have changed; ref: the reference content;
    tiled: no byte after the last record of a segment; at_rest: after a
    clean stop (not right after a kill, where recovery still has to
    adopt a new segment or finish a seal). Returns (acked records,
    segment rows)."""
    now = acked(state)
    segs = segments(state)
    files = archive_files(state)
    for b in before:
        for rid, loc in b.items():
            want(rid in now, f"acknowledged record {rid} {loc} lost")
            want(now[rid] == loc, f"acknowledged record {rid} moved:"
                 f" {loc} -> {now[rid]}")
    # Every file has a row, every row its file, at most one open.
    names = set()
    for f in files:
        base = f[:-5] if f.endswith(".open") else f
        want(base in segs or not at_rest, f"segment file {f} has no"
             " index row")
        want(base not in names, f"{base} exists both open and sealed")
        names.add(base)
    unsealed = [n for n, s in segs.items() if s[0] is None]
    want(len(unsealed) <= 1, f"several open segments: {unsealed}")
    for name, (sealed, size, sha, suspect) in segs.items():
        if sealed is None:
            want(name + ".open" in files or not at_rest,
                 f"open segment {name} missing")
            want(not suspect, f"open segment {name} is suspect")
            continue
        want(name in files, f"sealed segment {name} missing (or still"
             " .open)")
        data = files[name]
        want(len(data) == size, f"sealed {name}: {len(data)} bytes, index"
             f" says {size}")
        want(hashlib.sha256(data).hexdigest() == sha,
             f"sealed {name}: sha256 differs from the index")
        mode = stat.S_IMODE(os.stat(os.path.join(state, "archive",
                                                 name)).st_mode)
        want(mode == 0o440, f"sealed {name}: mode {mode:o}")
    if stable:
        for name, (size, sha) in stable.items():
            want(name in segs and segs[name][0] is not None,
                 f"sealed/suspect segment {name} reopened or vanished")
            want((segs[name][1], segs[name][2]) == (size, sha),
                 f"sealed/suspect segment {name} written again:"
                 f" {size} -> {segs[name][1]} bytes")
    # Records: complete members, right bytes, tiling each segment.
    by_seg = collections.defaultdict(list)
    for rid, (seg, off, length, sha) in now.items():
        by_seg[seg].append((off, length, sha, rid))
    for seg in segs:
        data = files.get(seg, files.get(seg + ".open"))
        if data is None:
            continue
        end = 0
        for off, length, sha, rid in sorted(by_seg.get(seg, ())):
            want(off == end, f"hole or overlap in {seg} at {off}"
                 f" (expected {end})")
            want(off + length <= len(data), f"{seg}: record {rid} at"
                 f" {off}+{length} past the end ({len(data)})")
            member = data[off:off + length]
            want(hashlib.sha256(member).hexdigest() == sha,
                 f"{seg}@{off}: stored bytes do not hash to the index")
            d = zlib.decompressobj(31)
            plain = d.decompress(member)
            want(d.eof and not d.unused_data, f"{seg}@{off}: not exactly"
                 " one complete gzip member")
            fields, block = harness.parse_warc(plain)
            harness.verify_digests(fields, block)
            want(fields["warc-record-id"].strip("<>") == rid,
                 f"{seg}@{off}: record id differs from the index")
            end = off + length
        if tiled:
            want(end == len(data), f"{seg}: {len(data) - end} byte(s)"
                 f" after the last indexed record ({end})")
    want(len({v[3] for v in now.values()}) == len(now),
         "duplicate record bytes")
    prev = {}
    for item, h in db_rows(state, "SELECT item_id, hash FROM versions"
                           " ORDER BY id"):
        want(prev.get(item) != h, f"duplicated version of item {item}")
        prev[item] = h
    for pid, n, nv in db_rows(state, "SELECT i.platform_id, i.nversions,"
                              " (SELECT COUNT(*) FROM versions v WHERE"
                              " v.item_id = i.id) FROM items i"):
        want(n == nv, f"item {pid}: nversions {n}, {nv} versions")
    if ref is not None:
        vers, events, items = content(state)
        rvers, revents, ritems = ref
        for pid in set(vers) | set(rvers):
            want(vers.get(pid) == rvers.get(pid),
                 f"R3: versions of {pid} differ from the fault-free run:"
                 f" {len(vers.get(pid, []))} vs {len(rvers.get(pid, []))}")
        want(events == revents, f"R3: item events differ: {events - revents}"
             f" extra, {revents - events} missing")
        want(items == ritems, "item states differ from the fault-free run")
    return now, segs


def sealed_now(segs):
    return {n: (s[1], s[2]) for n, s in segs.items() if s[0] is not None}


# -- strace: what a faulted process did to each segment --------------------

def strace_segment_io(path):
    """From an strace -y log of the daemon's main thread (where every
    storage call is made): ordered events, ('log',) for an error line in
    the log, (call, segment) for fsync, fdatasync,
    openat, rename, ftruncate on a segment, ('bytes', segment, n) for a
    write of n bytes to one."""
    out = []
    with open(path, errors="replace") as f:
        for call in f:
            name = call.split("(", 1)[0]
            if name == "write" and call.startswith(("write(1<", "write(2<")):
                if '"<3>' in call or '"<2>' in call:
                    out.append(("log",))
                continue
            if name not in ("write", "fsync", "fdatasync", "openat",
                            "rename", "ftruncate"):
                continue
            i = call.find("/archive/seg-")
            if i < 0:
                continue
            seg = call[i + 9:].split(">", 1)[0].split('"', 1)[0]
            seg = seg[:-5] if seg.endswith(".open") else seg
            res = call.rsplit("= ", 1)[-1].split(" ", 1)[0].strip()
            if name == "write":
                if res.isdigit():
                    out.append(("bytes", seg, int(res)))
            elif not res.startswith("-"):
                out.append((name, seg))
    return out


# -- one worker: a simulator, a prepared state, trials ---------------------

class Worker:
    def __init__(self, idx, rng, user=None):
        self.idx = idx
        self.user = pwd.getpwnam(user) if user else None
        self.wd = harness.Workdir(f"torture{idx}")
        self.path = self.wd.path
        text = "".join(rng.choice(string.ascii_letters + string.digits +
                                  " ") for _ in range(FILLER_CHARS))
        with open(os.path.join(harness.SCENARIOS, "small.json")) as f:
            sc = json.load(f)
        sc["steps"][0].append({
            "op": "old_post", "platform": "facebook",
            "account": sc["accounts"][0]["id"], "key": "filler",
            "age_days": 1, "text": text})
        scp = os.path.join(self.path, "torture.json")
        with open(scp, "w") as f:
            json.dump(sc, f)
        self.sim = harness.Simulator(self.path, scp)
        self.d = harness.Daemon(self.path, self.sim, extra_global={
            "segment_max_size": "1M"})
        self.state = self.d.state
        self.prep = os.path.join(self.path, "prep")
        self.proc = None
        self.signals = []       # deaths by a signal nobody sent
        self.fault_file = os.path.join(self.path, "faults-on")

    # processes ------------------------------------------------------
    def start(self, faults=None, trace=None, fault_file=False):
        env = dict(os.environ)
        env.pop("SUNARCHIVE_TEST_FAULTS", None)
        env.pop("SUNARCHIVE_TEST_FAULT_FILE", None)
        if faults:
            env["SUNARCHIVE_TEST_FAULTS"] = faults
        if fault_file:
            env["SUNARCHIVE_TEST_FAULT_FILE"] = self.fault_file
        self.logoff = os.path.getsize(self.d.logpath) \
            if os.path.exists(self.d.logpath) else 0
        args = [os.path.join(harness.BUILD, "sunarchived"), "-f",
                self.d.conf]
        if self.user:
            self.chown()
            args = [SETPRIV, f"--reuid={self.user.pw_uid}",
                    f"--regid={self.user.pw_gid}", "--clear-groups"] + args
        pidfile = os.path.join(self.path, "daemon.pid")
        if trace:
            # The traced shell writes its pid and becomes the daemon, so
            # signals go to the daemon (strace reports its status).
            if os.path.exists(pidfile):
                os.unlink(pidfile)
            args = [STRACE, "-y", "-qq", "-s", "80", "-e",
                    "trace=openat,write,fsync,fdatasync,rename,ftruncate",
                    "-o", trace, "/bin/sh", "-c",
                    f'echo $$ > "{pidfile}.tmp" && mv "{pidfile}.tmp"'
                    f' "{pidfile}" && exec "$0" "$@"'] + args
        self.logf = open(self.d.logpath, "a")
        self.proc = subprocess.Popen(args, stdout=self.logf,
                                     stderr=self.logf, env=env)
        self.daemon_pid = self.proc.pid
        if trace:
            harness.wait_until(lambda: os.path.exists(pidfile) or
                               self.proc.poll() is not None, 10, 0.01,
                               "the traced daemon")
            if os.path.exists(pidfile):
                with open(pidfile) as f:
                    self.daemon_pid = int(f.read())

    def chown(self):
        """Hand the work directory to the unprivileged user (the daemon
        runs as a system user with no capabilities)."""
        u, g = self.user.pw_uid, self.user.pw_gid
        os.chown(self.path, u, g)
        for top, dirs, files in os.walk(self.path):
            for n in dirs + files:
                os.chown(os.path.join(top, n), u, g, follow_symlinks=False)

    def log(self, since=None):
        with open(self.d.logpath, errors="replace") as f:
            f.seek(self.logoff if since is None else since)
            return f.read()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def reap(self):
        try:
            rc = self.proc.wait(20)
        except subprocess.TimeoutExpired:
            for pid in (self.daemon_pid, self.proc.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.wait()
            self.logf.close()
            self.proc = None
            raise Violation("the daemon (or its tracer) did not exit")
        self.logf.close()
        self.proc = None
        return rc

    def stop(self):
        """SIGTERM; returns the exit status (negative: signal)."""
        if self.alive():
            try:
                os.kill(self.daemon_pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill9()
                raise Violation("sunarchived did not stop on SIGTERM")
        return self.reap()

    def died(self, rc, what):
        """Note a death by a signal we did not send (a daemon bug, also
        when the state survives it); True if it died of one."""
        if rc is None or rc >= 0 or rc == -signal.SIGKILL:
            return False
        self.signals.append(f"{what}: killed by {signal.Signals(-rc).name}"
                            f"\n{self.log()[-1500:]}")
        return True

    def kill9(self):
        if self.proc is None:
            return None
        if self.alive():
            try:
                os.kill(self.daemon_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return self.reap()

    def polled_after(self, text, marker=None):
        """Both accounts logged a finished cycle after marker."""
        if marker is not None:
            i = text.rfind(marker)
            if i < 0:
                return False
            text = text[i:]
        return all(f"polled '{a}'" in text for a in ACCOUNTS)

    def wait_cycle(self, marker=None, since=None, timeout=CYCLE_TIMEOUT):
        """Until the process exits or both accounts finished a cycle
        (after the last marker line or log offset since, when given).
        True if a cycle finished."""
        end = time.time() + timeout
        while time.time() < end:
            if not self.alive():
                return False
            if self.polled_after(self.log(since), marker):
                return True
            time.sleep(0.02)
        raise Violation(f"no complete cycle within {timeout}s:\n"
                        + self.log()[-2000:])

    def clean_cycle(self):
        """Start without faults, one full cycle, stop: exit 0 and no
        error."""
        self.start()
        want(self.wait_cycle(), "restart without faults did not complete"
             f" a cycle (exit {self.proc.poll()}):\n{self.log()[-2000:]}")
        rc = self.stop()
        if self.died(rc, "clean restart, on SIGTERM"):
            return self.clean_cycle()   # the state must still recover
        want(rc == 0, f"clean restart exited {rc}:\n{self.log()[-2000:]}")
        log = self.log()
        want("<3>" not in log, "errors after a clean restart:\n"
             + "\n".join(line for line in log.splitlines()
                         if line.startswith("<3>")))

    def restore(self):
        if self.proc is not None:
            self.kill9()
        shutil.rmtree(self.state, ignore_errors=True)
        shutil.copytree(self.prep, self.state, symlinks=True)
        if os.path.exists(self.fault_file):
            os.unlink(self.fault_file)
        with open(self.d.logpath, "w"):
            pass

    # preparation ----------------------------------------------------
    def prepare(self):
        """The prepared state: one cycle on step 0, stopped cleanly; then
        the simulator moves to step 1 (edits, a hide, a reply) and a
        fault-free reference run records what the trials must end with."""
        with open(self.d.logpath, "w"):
            pass
        self.start()
        want(self.wait_cycle(), "prepare: no first cycle")
        want(self.stop() == 0, "prepare: bad exit")
        shutil.copytree(self.state, self.prep, symlinks=True)
        self.prep_acked = acked(self.prep)
        segs = segments(self.prep)
        want(len(segs) == 1 and list(segs.values())[0][0] is None,
             f"prepare: expected one open segment, got {segs}")
        self.sim.step()
        self.restore()
        self.clean_cycle()
        check_state(self.state, [self.prep_acked])
        self.ref = content(self.state)
        segs = segments(self.state)
        want(len(segs) == 2, "prepare: the reference cycle did not seal"
             f" the segment: {segs}")
        # R3: the same API state polled again adds no version and no
        # item event (only the request/response records of the poll).
        n_conv = db_rows(self.state, "SELECT COUNT(*) FROM records"
                         " WHERE type = 'conversion'")[0][0]
        self.clean_cycle()
        check_state(self.state, [self.prep_acked], ref=self.ref)
        want(db_rows(self.state, "SELECT COUNT(*) FROM records WHERE type"
                     " = 'conversion'")[0][0] == n_conv,
             "R3: re-polling unchanged content archived new versions")

    def close(self):
        if self.alive():
            self.kill9()
        if not self.sim.errf.closed:
            self.sim.stop()


# -- trials ----------------------------------------------------------------

class Result:
    def __init__(self, kind, spec):
        self.kind = kind        # crash, kill, error, persist, r3
        self.spec = spec
        self.fired = True       # the fault was reached
        self.crashes = 0
        self.recovered = 0
        self.torn = 0
        self.suspect = 0
        self.target = None      # crash: (segment, size) being written
        self.at_stop = False    # crash: it came while stopping
        self.retry = []         # syncs of a segment after its sync failed
        self.traced = False
        self.signals = []       # the daemon died of an unsent signal
        self.error = None
        self.category = None    # of the error, when it is a known bug
        self.seconds = 0.0


def recovered_ids(state):
    return {r[0] for r in db_rows(state, "SELECT record_id FROM records"
                                  " WHERE recovered = 1")}


def death_snapshot(w, res):
    """Right after a kill: the acknowledged records (their bytes must be
    durable and intact already) and every segment's bytes."""
    files = archive_files(w.state)
    a, segs = check_state(w.state, [w.prep_acked], tiled=False,
                          at_rest=False)
    opens = sorted(f for f in files if f.endswith(".open"))
    if opens:
        res.target = (opens[-1][:-5], len(files[opens[-1]]))
    return a, segs, files, set(quarantine_files(w.state))


def check_after_death(w, res, snap, before=()):
    """The restart recovered the dead process's state: each segment's
    bytes at death = its kept prefix + its new .torn file; sealed ones
    unchanged; nothing acknowledged moved; same content as the
    reference."""
    a, segs, files, qbefore = snap
    now, _ = check_state(w.state, [w.prep_acked, a] + list(before),
                         ref=w.ref, stable=sealed_now(segs))
    q = quarantine_files(w.state)
    after = archive_files(w.state)
    for f, data in files.items():
        base = f[:-5] if f.endswith(".open") else f
        torn = [q[t] for t in sorted(q) if t not in qbefore
                and t.startswith(f + ".torn-")]
        want(len(torn) <= 1, f"{f}: several torn files")
        torn = torn[0] if torn else b""
        kept = after.get(base, after.get(base + ".open"))
        if kept is None:
            want(len(data) == 0, f"{f} ({len(data)} bytes) vanished")
            continue
        good = len(data) - len(torn)
        want(good >= 0 and data[good:] == torn, f"{f}: the quarantined"
             " bytes are not the segment's removed tail")
        want(kept[:good] == data[:good], f"{f}: the kept prefix changed")
        if not f.endswith(".open"):
            want(not torn and kept == data, f"sealed {f} changed")
        res.torn += len(torn)
    res.recovered += len(recovered_ids(w.state) - set(a))


def trial_crash(w, res, spec, recovery_spec=None):
    """kill -9 at a sysio call; optionally again at a call of the
    recovery that follows; then a clean restart."""
    w.restore()
    w.start(spec)
    rc = w.stop() if w.wait_cycle() else w.reap()
    if rc == 0:
        res.fired = False
        check_state(w.state, [w.prep_acked], ref=w.ref)
        return
    want(rc == -signal.SIGKILL or w.died(rc, spec), f"exit {rc} instead"
         f" of the injected kill:\n{w.log()[-1500:]}")
    res.crashes += 1
    res.at_stop = "signal 15" in w.log()
    snap = death_snapshot(w, res)
    if recovery_spec:
        w.start(recovery_spec)
        rc = w.stop() if w.wait_cycle() else w.reap()
        want(rc in (0, -signal.SIGKILL) or w.died(rc, recovery_spec),
             f"recovery under {recovery_spec} exited {rc}:\n"
             f"{w.log()[-1500:]}")
        if rc == 0:
            res.fired = False   # (the first kill still counts)
            w.clean_cycle()
            check_after_death(w, res, snap)
            return
        res.crashes += 1
        snap2 = death_snapshot(w, res)
        want(set(snap[0]) <= set(snap2[0]), "a crash during recovery"
             " lost acknowledged records")
        w.clean_cycle()
        check_after_death(w, res, (snap2[0], snap2[1], snap2[2],
                                   snap[3] | snap2[3]), [snap[0]])
        return
    w.clean_cycle()
    check_after_death(w, res, snap)


def trial_kill(w, res, rng, kills):
    """kill -9 at random moments, one to three times in a row."""
    w.restore()
    prev = []
    for _ in range(kills):
        w.start()
        time.sleep(rng.uniform(0.0, 0.6))
        w.kill9()
        res.crashes += 1
        snap = death_snapshot(w, res)
        want(all(set(p) <= set(snap[0]) for p in prev),
             "a kill during recovery lost acknowledged records")
        prev.append(snap[0])
    w.clean_cycle()
    check_after_death(w, res, snap, prev)


def error_lines(log):
    return [ln for ln in log.splitlines() if ln.startswith(("<2>", "<3>"))]


def wait_failure(w):
    """Until the process exits (False), or a cycle ends without an error,
    or the store recovered in-process from one (True). Recovery comes at
    the next turn of the main loop, within a poll interval (1 s)."""
    end = time.time() + CYCLE_TIMEOUT
    while time.time() < end:
        if not w.alive():
            return False
        log = w.log()
        if error_lines(log):
            if "storage recovered" in log:
                return True
            end = min(end, time.time() + 10)
        elif w.polled_after(log):
            return True
        time.sleep(0.02)
    raise Violation("no recovery from the failure in-process:\n"
                    + w.log()[-2000:])


def trial_error(w, res, op, n, err, twin):
    """The Nth op call fails once with err: capture stops acknowledging,
    the store recovers in-process (the failed segment sealed suspect,
    its unacknowledged tail quarantined) and capture resumes; a failure
    while stopping or starting is recovered by the next start. Then a
    clean restart, and the failed segment must be suspect by then."""
    w.restore()
    spec = f"{op}:{n}:{err}"
    trace = os.path.join(w.path, "strace.txt") \
        if STRACE and op in ("write", "fdatasync", "fsync") else None
    w.start(spec, trace=trace)
    finished = wait_failure(w)
    pre = w.log()
    rc = w.stop() if finished else w.reap()
    log = w.log()
    res.fired = bool(error_lines(log))
    died = w.died(rc, spec)
    if not res.fired and not died:
        want(rc == 0, f"exit {rc} without an error:\n{log[-1500:]}")
        check_state(w.state, [w.prep_acked], ref=w.ref)
        return
    in_run = bool(error_lines(pre))
    if not died:
        if finished:
            want(rc == 0, f"{spec}: exit {rc}:\n{log[-1500:]}")
        else:
            # Refusing to start is fine (systemd restarts it).
            want(rc == 1 and "cannot recover archive" in log,
                 f"{spec}: exit {rc}:\n{log[-1500:]}")
        if in_run:
            want(("Input/output error" if err == "eio" else
                  "No space left on device") in log, f"{spec}: the"
                 f" error is not named in the log: {error_lines(log)}")
    recovered = finished and in_run and not died and \
        "storage recovered" in pre
    # After in-process recovery and a clean stop, every byte is indexed.
    a, segs = check_state(w.state, [w.prep_acked], tiled=recovered,
                          at_rest=recovered)
    w.clean_cycle()
    _, fsegs = check_state(w.state, [w.prep_acked, a], ref=w.ref,
                           stable=sealed_now(segs))
    suspect = sorted(s for s, v in fsegs.items() if v[3])
    q = quarantine_files(w.state)
    res.suspect = len(suspect)
    res.torn += sum(len(v) for v in q.values())
    want(len(suspect) <= 1, f"{spec}: several suspect segments {suspect}")
    if op in ("write", "fdatasync") and not died:
        # The segment being written is sealed suspect, unless it was a
        # brand-new one that never held a byte (then it is dropped);
        # also when the failure came while stopping.
        empty = op == "write" and twin is not None and twin[1] == 0
        want(suspect or empty, f"{spec}: no segment sealed suspect"
             f" (being written: {twin})" + ("" if recovered else
                                            "; failed while stopping"),
             None if recovered else "stop-before-recovery")
        if suspect and twin is not None:
            want(suspect == [twin[0]], f"{spec}: {suspect} sealed suspect"
                 f" but {twin[0]} was being written")
    if trace and suspect:
        res.traced = True
        check_trace(w, trace, suspect[0], fsegs, q, spec, res, op)


def check_trace(w, trace, name, segs, q, spec, res, op):
    """Bytes written to the failed segment = kept + quarantined; none
    after the failure; and no fsync of it after its sync failed."""
    ev = strace_segment_io(trace)
    first = next((i for i, e in enumerate(ev) if e[0] == "log"), None)
    want(first is not None, f"{spec}: the failure is not in the trace")
    prep = os.path.join(w.prep, "archive", name + ".open")
    init = os.path.getsize(prep) if os.path.exists(prep) else 0
    written = sum(e[2] for e in ev if e[0] == "bytes" and e[1] == name)
    torn = sum(len(v) for t, v in q.items()
               if t.startswith(name + ".open.torn-"))
    want(init + written == segs[name][1] + torn,
         f"{spec}: {name} had {init} + {written} bytes written, kept"
         f" {segs[name][1]}, quarantined {torn}")
    after = [e for e in ev[first:] if len(e) > 1 and e[1] == name]
    want(not [e for e in after if e[0] == "bytes"],
         f"{spec}: {name} written after the failure")
    if op in ("fsync", "fdatasync"):
        res.retry = [e[0] for e in after if e[0] in ("fsync",
                                                     "fdatasync")]


def trial_error_crash(w, res, op, n, err, kill, twin):
    """The Nth op call fails, and the process is killed at the call
    `kill` names: its mth open, which (for the m found by the search) is
    the first call of the in-process recovery, so the failure is then
    known to nobody but the archive; or its first ftruncate, the torn
    tail copied to quarantine but not yet cut off. (Or it failed in the
    batch finished on SIGTERM and stopped without recovering.) The
    restart must still treat that segment as failed."""
    w.restore()
    spec = f"{op}:{n}:{err},{kill}"
    w.start(spec)
    rc = w.stop() if w.wait_cycle() else w.reap()
    failed = bool(error_lines(w.log()))
    res.fired = failed
    if rc == 0 and not failed:
        check_state(w.state, [w.prep_acked], ref=w.ref)
        return
    want(rc in (0, -signal.SIGKILL) or w.died(rc, spec), f"exit {rc}:\n"
         + w.log()[-1500:])
    if rc == 0:
        a, segs = check_state(w.state, [w.prep_acked], tiled=False,
                              at_rest=False)
        w.clean_cycle()
        check_state(w.state, [w.prep_acked, a], ref=w.ref,
                    stable=sealed_now(segs))
    else:
        # Killed before the failure (a plain D1 crash point: the search
        # goes on) or between it and its recovery.
        res.crashes += 1
        snap = death_snapshot(w, res)
        w.clean_cycle()
        check_after_death(w, res, snap)
    if not failed:
        return
    segs = segments(w.state)
    suspect = sorted(x for x, v in segs.items() if v[3])
    res.suspect = len(suspect)
    empty = op == "write" and twin is not None and twin[1] == 0
    want(suspect or empty, f"{spec}: {'killed' if rc else 'stopped'}"
         f" between the failure and its recovery, and then no segment is"
         f" suspect (being written: {twin}); the failed batch is back as"
         f" {res.recovered} recovered record(s)", "stop-before-recovery")
    if suspect and twin is not None:
        want(suspect == [twin[0]], f"{spec}: {suspect} sealed suspect"
             f" but {twin[0]} was being written")


def trial_persistent(w, res, op, err, from_start):
    """Every op call fails while the fault file exists (from the start,
    or after a first good cycle); capture must survive it and resume in
    the same process once the file is removed."""
    w.restore()
    spec = f"{op}:*:{err}" + (" from start" if from_start else "")
    if from_start:
        open(w.fault_file, "w").close()
    w.start(f"{op}:*:{err}", fault_file=True)
    if not from_start:
        want(w.wait_cycle(), f"{spec}: no first cycle")
        open(w.fault_file, "w").close()
    t0 = time.time()
    while time.time() - t0 < 2.5 and w.alive():
        time.sleep(0.05)
    log = w.log()
    res.fired = bool(error_lines(log))
    if not w.alive():
        rc = w.reap()
        w.died(rc, spec)
        want(rc == 1 and from_start and "cannot recover archive" in log,
             f"{spec}: exit {rc} while the fault persisted:\n{log[-1500:]}")
        os.unlink(w.fault_file)
        w.clean_cycle()
        check_state(w.state, [w.prep_acked], ref=w.ref)
        return
    a, segs = check_state(w.state, [w.prep_acked], tiled=False,
                          at_rest=False)
    off = os.path.getsize(w.d.logpath)
    os.unlink(w.fault_file)
    want(w.wait_cycle(since=off), f"{spec}: capture did not resume")
    harness.wait_until(lambda: all(
        s == "ok" for (s,) in db_rows(w.state, "SELECT status FROM"
                                      " accounts")), CYCLE_TIMEOUT, 0.1,
        f"{spec}: accounts back to ok")
    rc = w.stop()
    if w.died(rc, spec + ", on SIGTERM"):
        a2, segs2 = check_state(w.state, [w.prep_acked, a], tiled=False,
                                at_rest=False, stable=sealed_now(segs))
        w.clean_cycle()
        check_state(w.state, [w.prep_acked, a2], ref=w.ref,
                    stable=sealed_now(segs2))
        return
    want(rc == 0, f"{spec}: exit {rc}:\n{w.log()[-1500:]}")
    a2, segs2 = check_state(w.state, [w.prep_acked, a], ref=w.ref,
                            stable=sealed_now(segs))
    res.suspect = sum(1 for v in segs2.values() if v[3])
    res.torn += sum(len(v) for v in quarantine_files(w.state).values())
    w.clean_cycle()
    check_state(w.state, [w.prep_acked, a2], ref=w.ref,
                stable=sealed_now(segs2))


# -- the run: workers in threads, results in one place ---------------------

class TortureRun:
    def __init__(self):
        self.rng = random.Random(SEED)
        self.results = []
        self.lock = threading.Lock()
        self.reach = collections.defaultdict(int)   # op -> calls/cycle
        self.twin = {}                              # (op, n) -> target
        self.at_stop = set()    # (op, n) reached only while stopping
        self.workers = []
        self.unprivileged = []
        self.broken = []
        self.kept = 0

    def record(self, res):
        with self.lock:
            self.results.append(res)

    def attempt(self, w, kind, spec, fn, *args):
        res = Result(kind, spec)
        t0 = time.time()
        w.signals = res.signals
        try:
            fn(w, res, *args)
        except AssertionError as e:
            res.error = str(e)
            res.category = getattr(e, "category", None)
        except Exception:
            res.error = traceback.format_exc()
        res.seconds = time.time() - t0
        if res.error is not None:
            if w.proc is not None:
                w.kill9()
            if os.environ.get("SUNARCHIVE_KEEP") and self.kept < 20:
                self.kept += 1
                shutil.copytree(w.state, os.path.join(
                    w.path, f"failed-{len(self.results)}"),
                    symlinks=True, dirs_exist_ok=True)
        self.record(res)
        return res

    def sweep(self, w, op, action, kind="crash"):
        """D1: kill at call 1, 2, ... of op until a cycle does not reach
        it."""
        for n in range(1, MAX_N + 1):
            spec = f"{op}:{n}:{action}"
            res = self.attempt(w, kind, spec, trial_crash, spec)
            if not res.fired:
                return
            if kind != "crash":
                continue
            with self.lock:
                self.reach[op] = max(self.reach[op], n)
                if action == "crash":
                    self.twin[(op, n)] = res.target
                if res.at_stop:
                    self.at_stop.add((op, n))
        res = Result(kind, f"{op}:{MAX_N}+:{action}")
        res.error = f"{op}: still firing at call {MAX_N}"
        self.record(res)

    def search(self, w, op, ns, err):
        """For each N: kill at open m after the Nth op failed, m the
        first open of the in-process recovery: the smallest m whose kill
        comes after the failure. Opens only grow with N, so the search
        resumes from the last m (trying m - 1 first to be sure)."""
        m = 1
        for n in ns:
            m = max(1, m - 1)
            while m <= self.reach["open"] + 2:
                res = self.attempt(w, "error-crash", f"{op}:{n}:{err},open:"
                                   f"{m}:crash", trial_error_crash, op, n,
                                   err, f"open:{m}:crash",
                                   self.twin.get((op, n)))
                if res.fired or res.error:
                    break
                m += 1
            self.attempt(w, "error-crash", f"{op}:{n}:{err},ftruncate:1:"
                         "crash", trial_error_crash, op, n, err,
                         "ftruncate:1:crash", self.twin.get((op, n)))

    def run_tasks(self, tasks, workers=None):
        q = queue.Queue()
        for t in tasks:
            q.put(t)

        def loop(w):
            while True:
                try:
                    t = q.get_nowait()
                except queue.Empty:
                    return
                t[0](w, *t[1:])
        threads = [threading.Thread(target=loop, args=(w,))
                   for w in (workers or self.workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def prepare(self, idx, seed, user=None):
        w = Worker(idx, random.Random(seed), user)
        with self.lock:
            (self.unprivileged if user else self.workers).append(w)
        try:
            w.prepare()
        except AssertionError as e:
            res = Result("unpriv" if user else "r3", f"prepare ({w.path})")
            res.error = str(e)
            self.record(res)
            w.broken = True

    def run(self):
        t0 = time.time()
        seeds = [self.rng.random() for _ in range(JOBS + 1)]
        threads = [threading.Thread(target=self.prepare, args=(i, s))
                   for i, s in enumerate(seeds[:JOBS])]
        if UNPRIVILEGED:
            threads.append(threading.Thread(
                target=self.prepare, args=(JOBS, seeds[JOBS],
                                           UNPRIVILEGED)))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for w in self.workers + self.unprivileged:
            if getattr(w, "broken", False):
                w.close()
        self.broken = [w for w in self.workers + self.unprivileged
                       if getattr(w, "broken", False)]
        self.workers = [w for w in self.workers if w not in self.broken]
        self.unprivileged = [w for w in self.unprivileged
                             if w not in self.broken]
        if not self.workers:
            return
        res = Result("r3", "re-poll twice")
        self.record(res)
        # D1: the sweeps (write first: it is the longest).
        order = ("write", "fdatasync", "fsync", "open", "rename")
        self.run_tasks([(self.sweep, op, a) for op in order
                        for a in CRASHES])
        # D3: every reached call fails once; then persistent failures.
        tasks = [(self.attempt, "error", f"{op}:{n}:{e}", trial_error, op,
                  n, e, self.twin.get((op, n)))
                 for op in order for n in range(1, self.reach[op] + 1)
                 for e in ERRORS]
        tasks += [(self.attempt, "persist", f"{op}:*:{e}/{fs}",
                   trial_persistent, op, e, fs)
                  for op in order for e in ERRORS for fs in (True, False)
                  if fs or op in ("write", "fdatasync")]
        # Killed between a failure and its in-process recovery.
        ns = range(1, self.reach["write"] + 1) if TRIALS else \
            sorted({1, 2, self.reach["write"] // 2, self.reach["write"]})
        tasks += [(self.search, "fdatasync",
                   range(1, self.reach["fdatasync"] + 1), "eio"),
                  (self.search, "write", [n for n in ns if n > 0], "eio")]
        # Compound: a second kill during the recovery of the first (at
        # its first open, fsync, write, ftruncate and rename calls).
        deaths = [r.spec for r in self.results if r.kind == "crash"
                  and r.fired and r.error is None]
        pick = self.rng.sample(deaths, min(len(deaths), 4))
        for spec in pick:
            for rop in ("open", "fsync", "ftruncate", "write", "rename"):
                rs = f"{rop}:1:crash"
                tasks.append((self.attempt, "crash", f"{spec}+{rs}",
                              trial_crash, spec, rs))
        # Random-time kill -9 chains.
        for i in range(8):
            tasks.append((self.attempt, "kill", f"kill#{i}", trial_kill,
                          random.Random(self.rng.random()),
                          1 + i % 3))
        self.run_tasks(tasks)
        # The same as the service's unprivileged user: the sweeps and
        # error points that seal segments (fchmod 0440 before rename).
        if self.unprivileged:
            ops = OPS if TRIALS else ("rename", "fsync")
            tasks = [(self.sweep, op, a, "unpriv") for op in ops
                     for a in CRASHES]
            tasks += [(self.attempt, "unpriv", f"{op}:{n}:eio", trial_error,
                       op, n, "eio", self.twin.get((op, n)))
                      for op in ops for n in range(1, self.reach[op] + 1)]
            self.run_tasks(tasks, self.unprivileged)
        self.run_tasks(self.extra(TRIALS - len(self.results)))
        self.seconds = time.time() - t0

    def extra(self, n):
        """Pre-release: random fault points (a third with a second kill
        during recovery) and random kill chains, n trials in all."""
        tasks = []
        if n <= 0:
            return tasks
        kills = n // 3
        ops = [op for op in OPS if self.reach[op] > 0]
        for i in range(n - kills):
            op = self.rng.choice(ops)
            k = self.rng.randint(1, self.reach[op])
            act = self.rng.choice(CRASHES + ERRORS)
            spec = f"{op}:{k}:{act}"
            if act in ERRORS:
                tasks.append((self.attempt, "error", spec, trial_error, op,
                              k, act, self.twin.get((op, k))))
            elif self.rng.random() < 0.33:
                rs = "%s:%d:%s" % (self.rng.choice(
                    ("open", "fsync", "ftruncate", "write", "rename")),
                    self.rng.randint(1, 4), self.rng.choice(CRASHES))
                tasks.append((self.attempt, "crash", f"{spec}+{rs}",
                              trial_crash, spec, rs))
            else:
                tasks.append((self.attempt, "crash", spec, trial_crash,
                              spec))
        for i in range(kills):
            tasks.append((self.attempt, "kill", f"kill#r{i}", trial_kill,
                          random.Random(self.rng.random()),
                          self.rng.randint(1, 3)))
        return tasks

    def close(self):
        failed = any(r.error for r in self.results)
        for w in self.workers + self.unprivileged + self.broken:
            w.close()
            if not failed or not os.environ.get("SUNARCHIVE_KEEP"):
                shutil.rmtree(w.path, ignore_errors=True)
            else:
                print(f"kept {w.path}", file=sys.stderr)

    def summary(self):
        rs = [r for r in self.results if r.kind != "r3"]
        by = collections.Counter(r.kind for r in rs)
        by["crash"] += by["error-crash"] + by["unpriv"]
        lost = sum(1 for r in rs if r.error and "lost" in r.error)
        bad = sum(1 for r in rs if r.error)
        reach = ", ".join(f"{op} {self.reach[op]}" for op in OPS)
        return (f"torture: {len(rs)} trials ({by['crash']} crash points,"
                f" {by['error']} error points, {by['persist']} persistent,"
                f" {by['kill']} random kill chains; calls per cycle:"
                f" {reach}), {sum(r.crashes for r in rs)} crashes,"
                f" {sum(r.recovered for r in rs)} records recovered,"
                f" {sum(r.torn for r in rs)} torn bytes quarantined,"
                f" {sum(r.suspect for r in rs)} suspect seals,"
                f" {bad} failing trial(s),"
                f" {sum(len(r.signals) for r in rs)} daemon crash(es),"
                f" lost = {lost};"
                f" {getattr(self, 'seconds', 0):.0f}s on {JOBS} worker(s)")


RUN = None


def torture():
    global RUN
    if RUN is None:
        RUN = TortureRun()
        try:
            RUN.run()
        finally:
            RUN.close()
        print("\n  " + RUN.summary(), file=sys.stderr)
        if os.environ.get("SUNARCHIVE_TORTURE_REPORT"):
            with open(os.environ["SUNARCHIVE_TORTURE_REPORT"], "w") as f:
                for r in RUN.results:
                    f.write(json.dumps({
                        k: getattr(r, k) for k in (
                            "kind", "spec", "fired", "crashes",
                            "recovered", "torn", "suspect", "target",
                            "retry", "signals", "error", "category",
                            "seconds")}) + "\n")
    return RUN


def failures(kinds, category=None):
    return [f"{r.spec}: {r.error}" for r in torture().results
            if r.kind in kinds and r.error and r.category == category]


class TortureTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.run_ = torture()

    def report(self, fails):
        if fails:
            self.fail(f"{len(fails)} failing trial(s):\n\n" +
                      "\n\n".join(f[:3000] for f in fails[:15]))

    def test_0_enough_trials(self):
        # All trials (with SUNARCHIVE_TORTURE_TRIALS, at least that
        # many), and at least 200 whose fault was reached (not counting
        # the probes that end each sweep or search).
        rs = [r for r in self.run_.results if r.kind != "r3"]
        self.assertGreaterEqual(len(rs), TRIALS)
        self.assertGreaterEqual(len([r for r in rs if r.fired]), 200)
        for op in OPS:
            self.assertGreater(self.run_.reach[op], 0,
                               f"a cycle makes no {op} call")

    def test_d1_kill_at_every_call_and_at_random(self):
        self.report(failures(("crash", "kill", "error-crash")))

    def test_d3_each_call_fails_once_and_persistently(self):
        self.report(failures(("error", "persist")))
        # (Calls made while stopping depend on when SIGTERM comes.)
        missed = [r.spec for r in self.run_.results if r.kind == "error"
                  and not r.fired and r.error is None and
                  tuple(r.spec.split(":")[:2]) not in {
                      (op, str(n)) for op, n in self.run_.at_stop}]
        self.assertEqual(missed, [], "error points reached by a crash but"
                         " not reported as errors (swallowed?)")

    # Known bug: after a failed fdatasync/fsync of a segment, recovery
    # fsyncs it again: store.c recover_segment() ("make the recovered
    # records durable" open+fsync) and segment_quarantine()'s fsync after
    # ftruncate, then seal_by_name() -> segment_seal() (s.failed = 0).
    @known_bug
    def test_d3_no_fsync_retry_on_a_failed_segment(self):
        if not STRACE:
            self.skipTest("strace not installed")
        traced = [r for r in self.run_.results if r.traced]
        self.assertGreater(len(traced), 0)
        retried = [f"{r.spec}: {r.retry}" for r in traced if r.retry]
        self.assertEqual(retried, [], "a segment was fsynced again after"
                         " its fsync/fdatasync failed (integrity.md 6.2)")

    # Found by this suite (fixed): conn_mastodon.c ma_status() freed an
    # uninitialised `hist` when the .../history request failed: SIGSEGV.
    def test_daemon_never_dies_of_a_signal(self):
        # Besides the injected SIGKILLs (the invariants above hold after
        # these deaths too: the next start recovers).
        deaths = [f"{r.spec}: {d}" for r in self.run_.results
                  for d in r.signals]
        if deaths:
            self.fail(f"{len(deaths)} death(s) by a signal:\n\n" +
                      "\n\n".join(deaths[:10]))

    # Known bug: the failure is only remembered in memory (store.failed);
    # loop_run() stops without store_recover(), so the next start
    # re-indexes the failed batch as "recovered" in a healthy segment.
    @known_bug
    def test_d3_failed_segment_stays_suspect_across_a_restart(self):
        # Stopped (SIGTERM right after the failure) or killed before the
        # in-process recovery: the next start must still treat the
        # segment as failed (suspect, tail quarantined), not acknowledge
        # the records whose write or sync failed as "recovered".
        self.report(failures(("error", "error-crash"),
                             "stop-before-recovery"))

    # Known bug: segment_seal() fchmods 0440 before the rename; if the
    # rename fails or the process dies in between, recovery opens the
    # 0440 .open file for writing (segment_quarantine O_RDWR,
    # segment_reopen O_WRONLY): EACCES for User=sunarchive, so the
    # daemon never starts again (or never recovers in-process).
    @known_bug
    def test_d1_d3_as_the_unprivileged_service_user(self):
        if not UNPRIVILEGED:
            self.skipTest("needs root and setpriv to run as nobody")
        self.report(failures(("unpriv",)) +
                    failures(("unpriv",), "stop-before-recovery"))

    def test_r3_same_state_polled_twice_adds_no_version(self):
        self.report(failures(("r3",)))


if __name__ == "__main__":
    unittest.main()
