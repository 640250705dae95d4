#!/usr/bin/env python3
"""Signed checkpoints and RFC 3161 time-stamps from the real daemon.

The real sunarchived runs against the platform simulator (small.json)
with a key made by `sunarchive keygen` and a local time-stamping
authority (tests/tsa/tsa_server.py, answering with `openssl ts -reply`
from the test CA tests/tsa/mktsa.sh makes). Everything the daemon wrote
is then checked independently:

- checkpoints follow cycles that archived records, sizes strictly
  increase, and every note verifies with keygen's verifier key (through
  build/tests/test_checkpoint's "verify" helper); STATE_DIR/ledger.pub is
  keygen's .pub;
- every checkpoint's root is the RFC 6962 root recomputed here from
  records.sha256 in seq order, and the checkpoint records in the WARC
  segments say what the index says;
- tokens are stored, and `openssl ts -verify` accepts the note and token
  files `sunarchive checkpoint export --tokens` writes with the test CA
  and rejects them with the untrusted one;
- `checkpoint export` writes the documented JSON, refuses to overwrite,
  and `checkpoint list` shows every checkpoint;
- after kill -9 and a restart, the next checkpoint is consistent with the
  last one before the crash;
- no private key material reaches the archive, the index or the log;
- a failing TSA (HTTP 503) costs a warning, not capture, and a later
  checkpoint gets its token; without a key, checkpoints are unsigned;
  `sunarchived -n` refuses a key file others can read.

Run by tests/run.py (which imports this module) or alone:
    SUNARCHIVE_BUILD=/abs/build python3 tests/e2e/test_anchor.py
"""
import base64
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

CLI = os.path.join(harness.BUILD, "sunarchive")
DAEMON = os.path.join(harness.BUILD, "sunarchived")
HELPER = os.path.join(harness.BUILD, "tests", "test_checkpoint")
MKTSA = os.path.join(harness.ROOT, "tests", "tsa", "mktsa.sh")
TSA_SERVER = os.path.join(harness.ROOT, "tests", "tsa", "tsa_server.py")
OPENSSL = shutil.which("openssl")
KEY_NAME = "city.example.gov/sunarchive-test"
FORMAT = "sunarchive-checkpoints/1"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
UUID_URN = re.compile(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
                      r"[0-9a-f]{4}-[0-9a-f]{12}$")
OWN_EVENTS = ("checkpoint", "timestamp")

TSA_DIR = None      # made once for the module by setUpModule()


def setUpModule():
    global TSA_DIR
    if OPENSSL is None:
        return
    TSA_DIR = tempfile.mkdtemp(prefix="sunarchive-anchor-tsa-")
    subprocess.run(["sh", MKTSA, TSA_DIR], check=True, capture_output=True,
                   timeout=120)


def tearDownModule():
    if TSA_DIR is not None and not os.environ.get("SUNARCHIVE_KEEP"):
        shutil.rmtree(TSA_DIR, ignore_errors=True)


def run(*args, stdin=None, env=None):
    """Run a binary; (exit status, stdout, stderr) as text."""
    e = dict(os.environ, LC_ALL="C.UTF-8")
    e.pop("CREDENTIALS_DIRECTORY", None)
    e.update(env or {})
    p = subprocess.run(list(args), capture_output=True, timeout=60,
                       input=stdin, env=e)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


# -- RFC 6962 / RFC 9162 section 2.1, independently of daemon/merkle.c -------

def leaf_hash(sha256_hex):
    return hashlib.sha256(b"\x00" + bytes.fromhex(sha256_hex)).digest()


def mth(leaves):
    """Merkle tree hash of a list of leaf hashes."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) +
                          mth(leaves[k:])).digest()


class Tsa:
    """tests/tsa/tsa_server.py as a child process."""

    def __init__(self, workdir, fail=0):
        self.portfile = os.path.join(workdir, "tsa.port")
        self.logpath = os.path.join(workdir, "tsa-requests.jsonl")
        args = [sys.executable, TSA_SERVER, "--dir", TSA_DIR, "--port", "0",
                "--port-file", self.portfile, "--log", self.logpath]
        if fail:
            args += ["--fail", str(fail)]
        self.errf = open(os.path.join(workdir, "tsa.err"), "w")
        self.proc = subprocess.Popen(args, stdout=self.errf,
                                     stderr=self.errf)
        harness.wait_until(lambda: os.path.exists(self.portfile), 15,
                           what="TSA port file")
        with open(self.portfile) as f:
            self.url = "http://127.0.0.1:%d/" % int(f.read())

    def requests(self):
        if not os.path.exists(self.logpath):
            return []
        with open(self.logpath) as f:
            return [json.loads(line) for line in f if line.strip()]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.errf.close()


def keygen(workdir):
    """A new key in workdir/ledger.key; (path, verifier key file)."""
    key = os.path.join(workdir, "ledger.key")
    rc, out, err = run(CLI, "keygen", "--name", KEY_NAME, "--out", key)
    assert rc == 0, err
    return key, key + ".pub"


def tsa_config(tsa):
    return {"tsa_url": tsa.url,
            "tsa_ca_file": os.path.join(TSA_DIR, "ca1.pem"),
            "tsa_interval": "0"}


def checkpoints(d):
    """Every checkpoint as a dict, ordered by size."""
    rows = d.query("SELECT (SELECT record_id FROM records r WHERE"
                   " r.seq = c.seq), c.seq, c.size, c.root, c.time, c.note,"
                   " c.signer, c.tsa_token FROM checkpoints c ORDER BY size")
    keys = ("record_id", "seq", "size", "root", "time", "note", "signer",
            "token")
    return [dict(zip(keys, r)) for r in rows]


def ledger(d):
    """[(seq, sha256 hex, own)] in seq order; own = a checkpoint or
    time-stamp record the anchor wrote."""
    rows = d.query("SELECT r.seq, r.sha256, e.type FROM records r"
                   " LEFT JOIN events e ON e.seq = r.seq ORDER BY r.seq")
    return [(seq, sha, typ in OWN_EVENTS) for seq, sha, typ in rows]


def wait_for_checkpoints(d, n, timeout=60, tokens=False):
    def enough():
        try:
            cps = checkpoints(d)
        except sqlite3.OperationalError:
            return False        # no index yet: the daemon is starting
        if tokens:
            cps = [c for c in cps if c["token"]]
        return len(cps) >= n
    harness.wait_until(enough, timeout, 0.2,
                       f"{n} checkpoint(s){' with tokens' if tokens else ''}")


def note_body_fields(note):
    """(origin, size, root bytes, time text) of a checkpoint note."""
    lines = note.split("\n")
    assert lines[3].startswith("time "), note
    return (lines[0], int(lines[1]), base64.b64decode(lines[2]),
            lines[3][5:])


@unittest.skipIf(OPENSSL is None, "openssl CLI not installed")
@unittest.skipUnless(os.access(HELPER, os.X_OK), f"{HELPER} not built")
class SignedAndTimestamped(unittest.TestCase):
    """One daemon run, signed and time-stamped, with a kill -9 in it."""

    @classmethod
    def setUpClass(cls):
        cls.wd = harness.Workdir("anchor")
        try:
            cls._run()
        except BaseException:
            cls._cleanup()
            raise

    @classmethod
    def _run(cls):
        w = cls.wd.path
        cls.key, cls.pub = keygen(w)
        cls.tsa = Tsa(w)
        cls.sim = harness.Simulator(w, "small.json")
        g = {"signing_key_file": cls.key, "signing_key_name": KEY_NAME}
        g.update(tsa_config(cls.tsa))
        cls.d = harness.Daemon(w, cls.sim, extra_global=g)
        d = cls.d
        d.start()
        d.wait_cycles(2)
        cls.sim.step()
        d.wait_cycles(2)
        wait_for_checkpoints(d, 3, tokens=True)
        # Crash: kill -9, remember what was checkpointed, start again.
        d.kill9()
        cls.before_crash = checkpoints(d)
        cls.sim.step()
        d.start()
        last = cls.before_crash[-1]["size"]
        harness.wait_until(lambda: any(c["size"] > last and c["token"]
                                       for c in checkpoints(d)), 60, 0.2,
                           "a time-stamped checkpoint after the restart")
        d.wait_cycles(1)
        cls.stop_rc = d.stop()
        cls.cps = checkpoints(d)
        cls.ledger = ledger(d)
        cls.leaves = [leaf_hash(sha) for _, sha, _ in cls.ledger]

    @classmethod
    def _cleanup(cls):
        for name in ("d", "sim", "tsa"):
            obj = getattr(cls, name, None)
            if obj is None:
                continue
            try:
                if name == "d":
                    if obj.proc is not None:
                        obj.stop()
                else:
                    obj.stop()
            except Exception:
                pass
        cls.wd.cleanup()

    @classmethod
    def tearDownClass(cls):
        cls._cleanup()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(dir=self.wd.path, prefix="t-")

    def read(self, path, mode="r"):
        with open(path, mode) as f:
            return f.read()

    # -- what the daemon wrote ------------------------------------------

    def test_daemon_ran_clean(self):
        self.assertEqual(self.stop_rc, 0)
        log = self.d.log()
        self.assertNotIn("cannot time-stamp", log)
        self.assertNotIn("cannot sign", log)
        self.assertNotIn("cannot write a checkpoint", log)
        self.assertRegex(log, r"checkpoint \d+ time-stamped by '" +
                         re.escape(self.tsa.url.rstrip("/")))

    def test_checkpoints_are_signed_by_the_keygen_key(self):
        self.assertGreaterEqual(len(self.cps), 6)
        for cp in self.cps:
            self.assertEqual(cp["signer"], KEY_NAME)
            rc, out, err = run(HELPER, "verify", self.pub,
                               stdin=cp["note"].encode())
            self.assertEqual(rc, 0, (cp["size"], out, err))
            self.assertEqual(out, "origin %s\nsize %d\nroot %s\ntime %s\n"
                             % (KEY_NAME, cp["size"], cp["root"],
                                harness_time(cp["time"])))
        # Another key's verifier rejects them.
        other = os.path.join(self.tmp, "other")
        self.assertEqual(run(CLI, "keygen", "--name", KEY_NAME, "--out",
                             other)[0], 0)
        rc, out, err = run(HELPER, "verify", other + ".pub",
                           stdin=self.cps[0]["note"].encode())
        self.assertEqual((rc, out), (1, "error EPERM\n"))

    def test_ledger_pub_is_the_keygen_verifier(self):
        published = self.read(os.path.join(self.d.state, "ledger.pub"))
        self.assertEqual(published.rstrip("\n"),
                         self.read(self.pub).rstrip("\n"))

    def test_ledger_pub_is_byte_identical_to_keygen_pub(self):
        # Bug: daemon/anchor.c anchor_init() writes the verifier text
        # without the newline keygen's .pub has (checkpoint.h: "the
        # verifier key text and a newline"). Fix there: write
        # xasprintf("%s\n", pub).
        self.assertEqual(self.read(os.path.join(self.d.state, "ledger.pub"),
                                   "rb"), self.read(self.pub, "rb"))

    def test_sizes_strictly_increase(self):
        sizes = [cp["size"] for cp in self.cps]
        self.assertEqual(sizes, sorted(set(sizes)))
        seqs = [cp["seq"] for cp in self.cps]
        self.assertEqual(seqs, sorted(set(seqs)), "written in size order")
        times = [cp["time"] for cp in self.cps]
        self.assertEqual(times, sorted(times))

    def test_roots_are_rfc6962_roots_of_the_records(self):
        for cp in self.cps:
            self.assertLessEqual(cp["size"], len(self.leaves))
            self.assertEqual(mth(self.leaves[:cp["size"]]).hex(), cp["root"],
                             f"checkpoint {cp['size']}")
            origin, size, root, _ = note_body_fields(cp["note"])
            self.assertEqual((origin, size, root.hex()),
                             (KEY_NAME, cp["size"], cp["root"]))

    def test_checkpoints_follow_archived_records(self):
        # Each checkpoint is its own record, after the leaves it covers,
        # and is covered by the next one.
        seq_index = {seq: i for i, (seq, _, _) in enumerate(self.ledger)}
        for a, b in zip(self.cps, self.cps[1:]):
            self.assertEqual(seq_index[a["seq"]], a["size"])
            self.assertGreater(b["size"], seq_index[a["seq"]])
        # At the end nothing but the anchor's own records is uncovered.
        last = self.cps[-1]["size"]
        self.assertTrue(all(own for _, _, own in self.ledger[last:]),
                        self.ledger[last:])
        # Polls archived records between the checkpoints.
        self.assertGreater(sum(1 for _, _, own in self.ledger if not own),
                           len(self.cps))

    def test_no_checkpoint_covers_only_anchor_records(self):
        # Bug: daemon/anchor.c anchor_checkpoint() compares the ledger size
        # with the last checkpoint's size, but the checkpoint record (and
        # its time-stamp record) written after that checkpoint are leaves
        # too; so every wake-up of the loop writes (and time-stamps) a new
        # checkpoint covering nothing but the previous checkpoint's own
        # records, even when no cycle archived anything. Fix: remember
        # the ledger size after the anchor's own records
        # (an->own_size = ledger size after store_commit of the checkpoint
        # and timestamp records) and write a checkpoint only when
        # ledger.range.size > own_size.
        for a, b in zip(self.cps, self.cps[1:]):
            new = self.ledger[a["size"]:b["size"]]
            self.assertFalse(all(own for _, _, own in new),
                             f"checkpoint {b['size']} covers only the"
                             f" records of checkpoint {a['size']}")

    def test_archived_checkpoint_records_match_the_index(self):
        found = {}
        for path in harness.segment_files(self.d.state):
            for _, _, plain in harness.read_members(path):
                fields, block = harness.parse_warc(plain)
                if fields["warc-type"] != "metadata":
                    continue
                try:
                    doc = json.loads(block)
                except ValueError:
                    continue
                if isinstance(doc, dict) and doc.get("event") == \
                        "checkpoint":
                    found[fields["warc-record-id"].strip("<>")] = doc
        self.assertEqual(len(found), len(self.cps))
        for cp in self.cps:
            doc = found[cp["record_id"]]
            self.assertEqual((doc["size"], doc["root"], doc["note"],
                              doc["signer"], doc["time"]),
                             (cp["size"], cp["root"], cp["note"],
                              cp["signer"], harness_time(cp["time"])))

    def test_tokens_are_stored(self):
        stamped = [cp for cp in self.cps if cp["token"]]
        # tsa_interval = 0 and a TSA that never fails: every checkpoint but
        # possibly the one cut by kill -9 and the last at shutdown.
        self.assertGreaterEqual(len(stamped), len(self.cps) - 2)
        for cp in stamped:
            self.assertEqual(cp["token"][0], 0x30, "DER SEQUENCE")
        ok = [r for r in self.tsa.requests() if r["status"] == 200]
        self.assertGreaterEqual(len(ok), len(stamped))

    # -- export and list --------------------------------------------------

    def export(self, *args):
        out = os.path.join(self.tmp, "checkpoints.json")
        rc, stdout, err = run(CLI, "-s", self.d.state, "checkpoint",
                              "export", "--out", out, *args)
        return out, rc, stdout, err

    def test_export_writes_the_documented_json(self):
        t0 = int(time.time())
        out, rc, stdout, err = self.export()
        self.assertEqual(rc, 0, err)
        self.assertEqual(err, "")
        raw = self.read(out)
        self.assertTrue(raw.endswith("}\n"))
        doc = json.loads(raw)
        self.assertEqual(list(doc), ["format", "origin", "verifier",
                                     "exported", "checkpoints"])
        self.assertEqual(doc["format"], FORMAT)
        self.assertEqual(doc["origin"], KEY_NAME)
        self.assertEqual(doc["verifier"], self.read(self.pub).rstrip("\n"))
        self.assertRegex(doc["exported"], RFC3339)
        self.assertLessEqual(abs(parse_time(doc["exported"]) - t0), 60)
        self.assertEqual(len(doc["checkpoints"]), len(self.cps))
        for got, cp in zip(doc["checkpoints"], self.cps):
            self.assertEqual(list(got), ["record_id", "size", "root", "time",
                                         "signer", "note", "tsa_token"])
            self.assertRegex(got["record_id"], UUID_URN)
            token = (base64.b64encode(cp["token"]).decode()
                     if cp["token"] else None)
            self.assertEqual(got, {
                "record_id": cp["record_id"], "size": cp["size"],
                "root": cp["root"], "time": harness_time(cp["time"]),
                "signer": KEY_NAME, "note": cp["note"], "tsa_token": token})
        newest = self.cps[-1]
        self.assertEqual(
            stdout, "exported %d checkpoint(s), newest size %d at %s, to %s;"
            " keep this file off the archive host \u2014 'sunarchive check"
            " --against %s' proves the archive still matches it\n"
            % (len(self.cps), newest["size"], harness_time(newest["time"]),
               out, out))
        self.assertEqual(os.stat(out).st_mode & 0o777,
                         0o644 & ~current_umask())
        self.assertEqual(sorted(os.listdir(self.tmp)), ["checkpoints.json"],
                         "no temporary file left")

    def test_export_refuses_to_overwrite(self):
        out, rc, _, err = self.export()
        self.assertEqual(rc, 0, err)
        before = self.read(out)
        _, rc, stdout, err = self.export()
        self.assertEqual(rc, 1)
        self.assertEqual(stdout, "")
        self.assertIn(f"'{out}' already exists", err)
        self.assertEqual(self.read(out), before)
        # Not even through --tokens: nothing is written.
        _, rc, _, err = self.export("--tokens", os.path.join(self.tmp, "t"))
        self.assertEqual(rc, 1)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "t")))

    def test_export_since(self):
        cut = self.cps[-1]["time"]
        out, rc, stdout, err = self.export(
            "--since", harness_time(cut))
        self.assertEqual(rc, 0, err)
        doc = json.loads(self.read(out))
        want = [cp["size"] for cp in self.cps if cp["time"] >= cut]
        self.assertEqual([c["size"] for c in doc["checkpoints"]], want)
        self.assertEqual(doc["origin"], KEY_NAME)
        os.unlink(out)
        _, rc, stdout, err = self.export("--since", "2999-01-01")
        self.assertEqual(rc, 1)
        self.assertIn("no checkpoints written since 2999-01-01", err)
        self.assertFalse(os.path.exists(out))
        _, rc, _, err = self.export("--since", "yesterday")
        self.assertEqual(rc, 2)
        self.assertIn("invalid date 'yesterday'", err)

    def test_export_json_summary(self):
        out = os.path.join(self.tmp, "c.json")
        rc, stdout, err = run(CLI, "-s", self.d.state, "--json",
                              "checkpoint", "export", "--out", out)
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(stdout), {
            "file": out, "checkpoints": len(self.cps),
            "newest_size": self.cps[-1]["size"],
            "newest_time": harness_time(self.cps[-1]["time"]),
            "tokens_dir": None, "tokens": 0})

    def test_exported_tokens_verify_with_openssl(self):
        tokdir = os.path.join(self.tmp, "tokens")
        out, rc, stdout, err = self.export("--tokens", tokdir)
        self.assertEqual(rc, 0, err)
        stamped = [cp for cp in self.cps if cp["token"]]
        self.assertIn(f"wrote {len(stamped)} time-stamp token(s) to"
                      f" {tokdir}", stdout)
        self.assertIn(f"openssl ts -verify -data {tokdir}/checkpoint-SIZE"
                      f".note -in {tokdir}/checkpoint-SIZE.tsr -token_in"
                      " -CAfile TSA-CA.pem", stdout)
        names = sorted(os.listdir(tokdir))
        self.assertEqual(names, sorted(
            f"checkpoint-{cp['size']}.{ext}" for cp in stamped
            for ext in ("note", "tsr")))
        ca1 = os.path.join(TSA_DIR, "ca1.pem")
        ca2 = os.path.join(TSA_DIR, "ca2.pem")
        for cp in stamped:
            note = os.path.join(tokdir, f"checkpoint-{cp['size']}.note")
            tsr = os.path.join(tokdir, f"checkpoint-{cp['size']}.tsr")
            self.assertEqual(self.read(note, "rb"), cp["note"].encode())
            self.assertEqual(self.read(tsr, "rb"), cp["token"])
            # The command documented in 'sunarchive help checkpoint'.
            rc, o, e = run(OPENSSL, "ts", "-verify", "-data", note, "-in",
                           tsr, "-token_in", "-CAfile", ca1)
            self.assertIn("Verification: OK", o + e, cp["size"])
            self.assertEqual(rc, 0)
        cp = stamped[-1]
        note = os.path.join(tokdir, f"checkpoint-{cp['size']}.note")
        tsr = os.path.join(tokdir, f"checkpoint-{cp['size']}.tsr")
        rc, o, e = run(OPENSSL, "ts", "-verify", "-data", note, "-in", tsr,
                       "-token_in", "-CAfile", ca2)
        self.assertIn("Verification: FAILED", o + e, "untrusted CA")
        self.assertNotEqual(rc, 0)
        other = os.path.join(self.tmp, "other.note")
        with open(other, "w") as f:
            f.write(stamped[0]["note"] if len(stamped) > 1 else "x")
        rc, o, e = run(OPENSSL, "ts", "-verify", "-data", other, "-in", tsr,
                       "-token_in", "-CAfile", ca1)
        self.assertIn("Verification: FAILED", o + e, "another note")
        # A second export into the same DIR leaves the files as they are;
        # a file with other contents there is not overwritten.
        out2 = os.path.join(self.tmp, "again.json")
        rc, _, err = run(CLI, "-s", self.d.state, "checkpoint", "export",
                         "--out", out2, "--tokens", tokdir)
        self.assertEqual(rc, 0, err)
        with open(note, "w") as f:
            f.write("changed\n")
        out3 = os.path.join(self.tmp, "third.json")
        rc, _, err = run(CLI, "-s", self.d.state, "checkpoint", "export",
                         "--out", out3, "--tokens", tokdir)
        self.assertEqual(rc, 1)
        self.assertIn(f"'{note}' already exists with other contents", err)
        self.assertFalse(os.path.exists(out3))
        self.assertEqual(self.read(note), "changed\n")

    def test_list(self):
        rc, out, err = run(CLI, "-s", self.d.state, "checkpoint", "list")
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertEqual(len(lines), len(self.cps))
        for line, cp in zip(lines, self.cps):
            want = (r"^%s +%d +%s +%s%s$"
                    % (re.escape(harness_time(cp["time"])), cp["size"],
                       cp["root"][:16], re.escape(KEY_NAME),
                       "  timestamped" if cp["token"] else ""))
            self.assertRegex(line, want)
        rc, out, err = run(CLI, "-s", self.d.state, "--json", "checkpoint",
                           "list")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out), [
            {"record_id": cp["record_id"], "size": cp["size"],
             "root": cp["root"], "time": harness_time(cp["time"]),
             "signer": KEY_NAME, "timestamped": cp["token"] is not None}
            for cp in self.cps])
        rc, out, err = run(CLI, "-s", self.d.state, "checkpoint", "list",
                           "--since", "2999-01-01")
        self.assertEqual((rc, out), (1, ""))

    def test_usage_and_help(self):
        for args in ([], ["bogus"], ["export"], ["export", "--out"],
                     ["list", "extra"], ["list", "--bogus"],
                     ["export", "--out", "x", "--tokens", ""]):
            rc, out, err = run(CLI, "-s", self.d.state, "checkpoint", *args)
            self.assertEqual(rc, 2, (args, err))
            self.assertIn("usage: sunarchive checkpoint", err)
        rc, out, err = run(CLI, "help", "checkpoint")
        self.assertEqual(rc, 0)
        self.assertIn("openssl ts -verify -data DIR/checkpoint-SIZE.note"
                      " -in DIR/checkpoint-SIZE.tsr -token_in -CAfile"
                      " TSA-CA.pem\n", out)
        self.assertIn("checkpoint export --out FILE", out)
        rc, out2, err = run(CLI, "checkpoint", "--help")
        self.assertEqual((rc, out2), (0, out))
        rc, out, err = run(CLI, "--help")
        self.assertRegex(out, r"\n  checkpoint +list the signed ledger")

    # -- crash and restart -------------------------------------------------

    def test_checkpoint_after_restart_is_consistent(self):
        before = self.before_crash
        self.assertTrue(before)
        # What was checkpointed before kill -9 is still there, unchanged.
        now = {cp["size"]: cp for cp in self.cps}
        for cp in before:
            self.assertEqual(now[cp["size"]]["root"], cp["root"])
            self.assertEqual(now[cp["size"]]["note"], cp["note"])
        last = before[-1]
        after = [cp for cp in self.cps if cp["size"] > last["size"]]
        self.assertTrue(after, "no checkpoint after the restart")
        nxt = after[0]
        # The next tree extends the old one: recomputed from the records
        # as the next checkpoint covers them, its first last["size"]
        # leaves still hash to the old root.
        covered = self.leaves[:nxt["size"]]
        self.assertEqual(mth(covered).hex(), nxt["root"])
        self.assertEqual(mth(covered[:last["size"]]).hex(), last["root"])
        self.assertIn("started", self.d.log())

    # -- secrets -------------------------------------------------------------

    def test_no_key_material_anywhere(self):
        pem = self.read(self.key)
        body = "".join(line for line in pem.splitlines()
                       if not line.startswith("-----"))
        self.assertGreaterEqual(len(body), 60)
        der = base64.b64decode(body)
        seed = der[-32:]            # RFC 8410: the 32-byte private key
        needles = [body.encode(), seed, seed.hex().encode(),
                   base64.b64encode(seed).rstrip(b"=")]
        blobs = {}
        for path in harness.segment_files(self.d.state):
            blobs[path] = self.read(path, "rb")
            for off, _, plain in harness.read_members(path):
                blobs[f"{path}@{off}"] = plain
        for name in os.listdir(self.d.state):
            path = os.path.join(self.d.state, name)
            if os.path.isfile(path):
                blobs[path] = self.read(path, "rb")
        blobs["daemon log"] = self.read(self.d.logpath, "rb")
        self.assertTrue(any(n.startswith(os.path.join(self.d.state,
                                                      "index.sqlite"))
                            for n in blobs))
        for name, data in blobs.items():
            for needle in needles:
                self.assertNotIn(needle, data, f"key material in {name}")


def harness_time(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def parse_time(s):
    import calendar
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def current_umask():
    m = os.umask(0)
    os.umask(m)
    return m


@unittest.skipIf(OPENSSL is None, "openssl CLI not installed")
class FailingTsa(unittest.TestCase):
    """The TSA answers 503 a few times: capture goes on, a token comes."""

    FAILS = 4

    def test_warns_keeps_capturing_and_gets_a_token_later(self):
        wd = harness.Workdir("anchor-tsa-fail")
        self.addCleanup(wd.cleanup)
        key, pub = keygen(wd.path)
        tsa = Tsa(wd.path, fail=self.FAILS)
        self.addCleanup(tsa.stop)
        sim = harness.Simulator(wd.path, "small.json")
        self.addCleanup(sim.stop)
        g = {"signing_key_file": key, "signing_key_name": KEY_NAME}
        g.update(tsa_config(tsa))
        d = harness.Daemon(wd.path, sim, extra_global=g)
        d.start()
        self.addCleanup(lambda: d.proc is not None and d.stop())
        wait_for_checkpoints(d, 1, tokens=True, timeout=90)
        sim.step()
        d.wait_cycles(1)
        self.assertEqual(d.stop(), 0)

        reqs = tsa.requests()
        self.assertEqual([r["status"] for r in reqs[:self.FAILS]],
                         [503] * self.FAILS)
        self.assertIn(200, [r["status"] for r in reqs[self.FAILS:]])
        log = d.log()
        url = re.escape(tsa.url.rstrip("/"))
        warnings = re.findall(r"cannot time-stamp checkpoint (\d+) at '"
                              + url + r"': HTTP 503", log)
        self.assertEqual(len(warnings), self.FAILS, log[-3000:])
        cps = checkpoints(d)
        by_size = {cp["size"]: cp for cp in cps}
        for size in warnings:
            self.assertIsNone(by_size[int(size)]["token"],
                              f"checkpoint {size} was refused a token")
        stamped = [cp for cp in cps if cp["token"]]
        self.assertTrue(stamped)
        self.assertGreater(stamped[0]["size"], max(map(int, warnings)))
        # Capture never stopped: every account polled fine throughout,
        # and the scenario's second step was archived after the failures.
        for name, status in d.query("SELECT name, status FROM accounts"):
            self.assertEqual(status, "ok", name)
        self.assertGreater(d.query("SELECT count(*) FROM versions")[0][0],
                           0)
        self.assertRegex(log, r"new version")


class Unsigned(unittest.TestCase):
    """No signing key: checkpoints are still written, unsigned."""

    def test_unsigned_checkpoints(self):
        wd = harness.Workdir("anchor-unsigned")
        self.addCleanup(wd.cleanup)
        sim = harness.Simulator(wd.path, "small.json")
        self.addCleanup(sim.stop)
        d = harness.Daemon(wd.path, sim,
                           extra_global={"checkpoint_origin": "test/origin"})
        # Before the daemon ever ran: no index, an I/O error (exit 3).
        rc, out, err = run(CLI, "-s", d.state, "checkpoint", "list")
        self.assertEqual(rc, 3, err)
        self.assertIn("index.sqlite", err)
        d.start()
        self.addCleanup(lambda: d.proc is not None and d.stop())
        d.wait_cycles(2)
        wait_for_checkpoints(d, 2)
        self.assertEqual(d.stop(), 0)

        cps = checkpoints(d)
        leaves = [leaf_hash(sha) for _, sha, _ in ledger(d)]
        self.assertGreaterEqual(len(cps), 2)
        for cp in cps:
            self.assertIsNone(cp["signer"])
            self.assertIsNone(cp["token"])
            # The checkpoint body alone: four lines, no signature.
            root64 = base64.b64encode(bytes.fromhex(cp["root"])).decode()
            self.assertEqual(cp["note"], "test/origin\n%d\n%s\ntime %s\n"
                             % (cp["size"], root64, harness_time(cp["time"])))
            self.assertEqual(mth(leaves[:cp["size"]]).hex(), cp["root"])
        self.assertFalse(os.path.exists(os.path.join(d.state, "ledger.pub")))

        rc, out, err = run(CLI, "-s", d.state, "checkpoint", "list")
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(out.splitlines()), len(cps))
        for line in out.splitlines():
            self.assertTrue(line.endswith("  unsigned"), line)
        exp = os.path.join(wd.path, "cp.json")
        rc, out, err = run(CLI, "-s", d.state, "checkpoint", "export",
                           "--out", exp, "--tokens",
                           os.path.join(wd.path, "tok"))
        self.assertEqual(rc, 0, err)
        self.assertIn("no exported checkpoint has a time-stamp token", out)
        with open(exp) as f:
            doc = json.load(f)
        self.assertEqual((doc["format"], doc["origin"], doc["verifier"]),
                         (FORMAT, "test/origin", None))
        self.assertEqual([(c["size"], c["signer"], c["tsa_token"])
                          for c in doc["checkpoints"]],
                         [(cp["size"], None, None) for cp in cps])
        self.assertEqual(os.listdir(os.path.join(wd.path, "tok")), [])


class KeyFileChecks(unittest.TestCase):
    """sunarchived -n checks the signing key file like a token file."""

    def test_group_readable_key_is_refused(self):
        wd = harness.Workdir("anchor-conf")
        self.addCleanup(wd.cleanup)
        key, _ = keygen(wd.path)
        d = harness.Daemon(wd.path, None, accounts=[], extra_global={
            "signing_key_file": key, "signing_key_name": KEY_NAME})
        rc, out, err = run(DAEMON, "-n", "-f", d.conf)
        self.assertEqual(rc, 0, err)
        self.assertIn("configuration OK", out)
        os.chmod(key, 0o640)
        rc, out, err = run(DAEMON, "-n", "-f", d.conf)
        self.assertEqual(rc, 1, out + err)
        self.assertIn(d.conf, err)
        self.assertIn(f"'{key}'", err)
        self.assertRegex(err, r"group|others")
        with open(key) as f:
            body = "".join(line for line in f.read().splitlines()
                           if not line.startswith("-----"))
        self.assertNotIn(body, out + err)
        # The daemon itself refuses to start with it, naming the file.
        rc, out, err = run(DAEMON, "-d", "-f", d.conf)
        self.assertEqual(rc, 1, out + err)
        self.assertIn(f"'{key}'", err)


if __name__ == "__main__":
    unittest.main()
