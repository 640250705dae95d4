"""sunarchive check: the integrity verifier, against an archive the real
daemon wrote (sunarchived polling the simulator's city with 1 MiB segments
and a signing key: >= 3 sealed segments, an open one, thousands of
records, a signed checkpoint every cycle).

- the untouched archive passes, quick and full, with any number of
  threads; --json parses; exit codes 0/1/2/3;
- I1: >= 2,000 single-bit flips across sealed and open segments (random
  bytes, and gzip header bytes and last deflate bytes of members),
  ledger.pub and checkpoint rows are all detected, and each report names
  the file and an offset at or before the flip (segments);
- I2: truncation at every member boundary of a sealed segment and at
  100 random offsets, appended garbage, an appended forged member;
- I3/I4: an insider deletes a record and fixes the index around it, or
  swaps two records with the index edited to match; index rows edited;
  SQLite pages overwritten (E001 or exit 3, never 0);
- I3/I7: a rewritten tail that is consistent in itself passes, except
  against a checkpoint list exported before (E023);
- every run is queued as a fixity event that the daemon archives.

The flips and truncations run in process through the hook of the unit
test binary (build/tests/test_verify --hook), which calls verify_run() on
a copy of the archive: the binary per flip would take too long. Every
bit of a whole small sealed segment is flipped by test_verify itself.
"""
import base64
import gzip
import hashlib
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import unittest
import uuid
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SEED = os.environ.get("SUNARCHIVE_SEED", "20261122")
SCALE = 4 if harness.ASAN else 1      # fewer in-process runs under ASan
HOOK = os.path.join(harness.BUILD, "tests", "test_verify")
KEYNAME = "city-check"


def cli(state, *args, timeout=300):
    return subprocess.run([os.path.join(harness.BUILD, "sunarchive"), "-s",
                           state, "check"] + list(args),
                          capture_output=True, text=True, timeout=timeout)


def check_json(state, *args):
    r = cli(state, "--json", *args)
    try:
        return r.returncode, json.loads(r.stdout), r
    except ValueError:
        return r.returncode, None, r


def codes(report):
    return sorted({f["code"] for f in report["findings"]}) if report else []


def db_rw(state):
    c = sqlite3.connect(os.path.join(state, "index.sqlite"), timeout=10)
    c.execute("PRAGMA foreign_keys = OFF")
    return c


def seg_path(state, name):
    p = os.path.join(state, "archive", name)
    return p if os.path.exists(p) else p + ".open"


def write_file(path, data):
    mode = os.stat(path).st_mode & 0o7777
    os.chmod(path, 0o600)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def members(data):
    """[(offset, length)] of the gzip members of a segment's bytes."""
    out, off = [], 0
    while off < len(data):
        d = zlib.decompressobj(31)
        d.decompress(data[off:])
        used = len(data) - off - len(d.unused_data)
        out.append((off, used))
        off += used
    return out


def forged_member(record_id=None):
    """A well-formed gzip member holding a WARC record nobody indexed."""
    block = b'{"id":"100000000000001_999","text":"forged"}'
    digest = harness.b32sha256(block)
    rid = record_id or f"urn:uuid:{uuid.uuid4()}"
    head = ("WARC/1.1\r\nWARC-Type: conversion\r\n"
            f"WARC-Record-ID: <{rid}>\r\n"
            "WARC-Date: 2026-03-02T14:05:09Z\r\n"
            "X-Sunarchive-Account: fb-001\r\n"
            "X-Sunarchive-Platform: facebook\r\n"
            "X-Sunarchive-Item-Id: 100000000000001_999\r\n"
            f"X-Sunarchive-Content-Hash: {hashlib.sha256(block).hexdigest()}"
            "\r\n"
            f"WARC-Block-Digest: {digest}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(block)}\r\n\r\n").encode()
    return gzip.compress(head + block + b"\r\n\r\n")


class Check(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.wd = harness.Workdir("check")
        cls.key = os.path.join(cls.wd.path, "ledger.key")
        subprocess.run([os.path.join(harness.BUILD, "sunarchive"), "keygen",
                        "--name", KEYNAME, "--out", cls.key], check=True,
                       capture_output=True)
        cls.sim = harness.Simulator(cls.wd.path, "city.json",
                                    step_interval=1.5)
        cls.d = harness.Daemon(cls.wd.path, cls.sim, extra_global={
            "segment_max_size": "1M", "signing_key_file": cls.key,
            "signing_key_name": KEYNAME})
        cls.d.start()

        def ready():
            # >= 3 sealed segments, and an open one that already holds
            # signed checkpoints (test_I7 cuts the open segment there).
            try:
                sealed = cls.d.query("SELECT COUNT(*) FROM segments WHERE"
                                     " sealed IS NOT NULL")[0][0]
                n = cls.d.query("SELECT COUNT(*) FROM records")[0][0]
                open_cps = cls.d.query(
                    "SELECT COUNT(*) FROM checkpoints c JOIN records r ON"
                    " r.seq = c.seq JOIN segments s ON s.id = r.segment_id"
                    " WHERE s.sealed IS NULL")[0][0]
            except (sqlite3.Error, AssertionError):
                return False
            return sealed >= 3 and n >= 200 and open_cps >= 2
        harness.wait_until(ready, 150, 0.5, "3 sealed segments and an open"
                           " one")
        cls.rc = cls.d.stop()
        cls.fixture = os.path.join(cls.wd.path, "fixture")
        shutil.copytree(cls.d.state, cls.fixture)
        shutil.rmtree(os.path.join(cls.fixture, "spool"),
                      ignore_errors=True)
        cls.copies = 0

        # A fixity event: check the live state, let the daemon ingest it.
        cls.fixity_run = cli(cls.d.state)
        cls.d.start()
        try:
            harness.wait_until(lambda: cls.d.query(
                "SELECT detail FROM events WHERE type = 'fixity'"), 30,
                0.3, "the fixity event to be archived")
            cls.fixity = cls.d.query("SELECT detail FROM events WHERE"
                                     " type = 'fixity'")
        finally:
            cls.d.stop()
            cls.sim.stop()

    @classmethod
    def tearDownClass(cls):
        cls.wd.cleanup()

    def fresh(self):
        Check.copies += 1
        path = os.path.join(self.wd.path, f"copy-{Check.copies}")
        shutil.copytree(self.fixture, path)
        return path

    def q(self, state, sql, args=()):
        c = sqlite3.connect(f"file:{os.path.join(state, 'index.sqlite')}"
                            "?mode=ro", uri=True)
        try:
            return c.execute(sql, args).fetchall()
        finally:
            c.close()

    def segments(self, state):
        """[(id, name, sealed)] in number order."""
        return sorted(self.q(state, "SELECT id, name, sealed IS NOT NULL"
                             " FROM segments"), key=lambda r: r[1])

    # -- the untouched archive --------------------------------------------
    def test_fixture_shape(self):
        self.assertEqual(self.rc, 0, self.d.log()[-2000:])
        segs = self.segments(self.fixture)
        self.assertGreaterEqual(sum(1 for s in segs if s[2]), 3)
        self.assertTrue(any(not s[2] for s in segs), "an open segment")
        n = self.q(self.fixture, "SELECT COUNT(*) FROM records")[0][0]
        self.assertGreaterEqual(n, 200)
        ncp = self.q(self.fixture, "SELECT COUNT(*) FROM checkpoints"
                     " WHERE signer IS NOT NULL")[0][0]
        self.assertGreater(ncp, 2, "signed checkpoints")

    def test_good_archive_passes(self):
        for args in ([], ["--full"], ["--full", "--jobs", "1"],
                     ["--full", "--jobs", "3"], ["--key", self.key + ".pub"]):
            rc, rep, r = check_json(self.fixture, *args)
            self.assertEqual(rc, 0, f"{args}: {r.stdout[-2000:]}"
                             f"{r.stderr[-500:]}")
            self.assertEqual(rep["result"], "ok")
            self.assertEqual(rep["findings"], [], args)
        self.assertEqual(rep["mode"], "quick")
        for k in ("segments", "records", "bytes", "checkpoints", "seconds"):
            self.assertIn(k, rep)
        r = cli(self.fixture, "--full")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^check full: ok, 0 errors, 0 warnings;"
                         r" \d+ segments, \d+ records, \d+ checkpoints;"
                         r" read .* MB/s")

    def test_throughput(self):
        best = {}
        for mode in ("quick", "full"):
            for _ in range(3):
                rc, rep, _ = check_json(self.fixture, *(
                    ["--full"] if mode == "full" else []))
                self.assertEqual(rc, 0)
                best[mode] = max(best.get(mode, 0), rep["mb_per_s"])
        print(f"\n  fixture: {rep['segments']} segments, {rep['records']}"
              f" records, {rep['bytes']} bytes, {rep['checkpoints']}"
              f" checkpoints; check quick {best['quick']:.0f} MB/s, full"
              f" {best['full']:.0f} MB/s (2 threads)", file=sys.stderr)

    # -- exit codes, output ------------------------------------------------
    def test_exit_codes(self):
        for bad in (["--bogus"], ["--jobs", "0"], ["--since", "yesterday"],
                    ["--against", "/nonexistent/export.json"],
                    ["--key", "not-a-verifier-key"], ["extra"]):
            r = cli(self.fixture, *bad)
            self.assertEqual(r.returncode, 2, f"{bad}: {r.stderr}")
        r = cli(os.path.join(self.wd.path, "no-such-state"))
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("index", r.stderr)
        s = self.fresh()
        shutil.rmtree(os.path.join(s, "archive"))
        r = cli(s)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("archive directory", r.stderr)

    def test_text_and_json_name_file_offset_record_items(self):
        s = self.fresh()
        seg = self.segments(s)[1][1]
        rows = self.q(s, "SELECT r.offset, r.record_id FROM records r JOIN"
                      " segments g ON g.id = r.segment_id JOIN versions v ON"
                      " v.seq = r.seq WHERE g.name = ? ORDER BY r.offset"
                      " LIMIT 1", (seg,))
        if not rows:
            rows = self.q(s, "SELECT r.offset, r.record_id FROM records r"
                          " JOIN segments g ON g.id = r.segment_id WHERE"
                          " g.name = ? AND r.type = 'response' LIMIT 1",
                          (seg,))
        off, rid = rows[0]
        path = seg_path(s, seg)
        data = bytearray(open(path, "rb").read())
        data[off + 4] ^= 0x10             # MTIME: decodes the same
        write_file(path, bytes(data))
        rc, rep, _ = check_json(s, "--full")
        self.assertEqual(rc, 1)
        e011 = [f for f in rep["findings"] if f["code"] == "E011"]
        self.assertEqual(len(e011), 1, rep["findings"])
        f = e011[0]
        self.assertEqual((f["file"], f["offset"], f["record_id"],
                          f["severity"]), (seg, off, rid, "error"))
        self.assertIsInstance(f["items"], list)
        r = cli(s, "--full")
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stdout, rf"(?m)^E011 {re.escape(seg)} offset"
                         rf" {off}: stored bytes do not match the index .*"
                         rf"\(record {re.escape(rid)}")
        self.assertRegex(r.stdout, r"(?m)^check full: FAILED, \d+ errors?")

    # -- I1: flips, in process ----------------------------------------------
    def run_hook(self, plans):
        """Run the hook on one copy per plan, in parallel; all results."""
        procs = []
        for lines in plans:
            s = self.fresh()
            plan = s + ".plan"
            with open(plan, "w") as f:
                f.write("\n".join(lines) + "\n")
            procs.append(subprocess.Popen([HOOK, "--hook", s, plan],
                                          stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True))
        out = []
        for p in procs:
            so, se = p.communicate(timeout=900)
            self.assertEqual(p.returncode, 0, se[-2000:])
            out += [json.loads(x) for x in so.splitlines()]
        self.assertEqual(len(out), sum(len(p) for p in plans))
        # A mutation the database refused (or a NULL value) changed
        # nothing: it is not a flip.
        return [r for r in out if not r.get("skipped")]

    def test_I1_bit_flips_all_detected_and_located(self):
        rng = random.Random(SEED)
        s = self.fixture
        ops = []
        segs = self.segments(s)
        sealed = [n for _, n, sl in segs if sl]
        open_seg = [n for _, n, sl in segs if not sl][0]
        # Random bytes of sealed and open segments.
        for _ in range(500 // SCALE):
            name = rng.choice(sealed)
            size = os.path.getsize(seg_path(s, name))
            ops.append(f"flip archive/{name} {rng.randrange(size)}"
                       f" {rng.randrange(8)} full:{name}")
        osize = os.path.getsize(seg_path(s, open_seg))
        for _ in range(300 // SCALE):
            ops.append(f"flip archive/{open_seg}.open {rng.randrange(osize)}"
                       f" {rng.randrange(8)} full:{open_seg}")
        # The bytes that decode to the same content: gzip header (FTEXT,
        # MTIME, XFL, OS) and the last deflate byte (its padding bits).
        for _ in range(300 // SCALE):
            name = rng.choice(sealed)
            data = open(seg_path(s, name), "rb").read()
            off, length = rng.choice(members(data))
            byte = rng.choice([off + 3, off + 4, off + 5, off + 6, off + 7,
                               off + 8, off + 9, off + length - 9])
            ops.append(f"flip archive/{name} {byte} {rng.randrange(8)}"
                       f" full:{name}")
        npub = os.path.getsize(os.path.join(s, "ledger.pub"))
        for _ in range(500 // SCALE):
            ops.append(f"flip ledger.pub {rng.randrange(npub)}"
                       f" {rng.randrange(8)} quick")
        ids = [r[0] for r in self.q(s, "SELECT id FROM checkpoints")]
        for _ in range(420 // SCALE):
            col = rng.choice(["size", "root", "time", "note", "signer",
                              "seq"])
            ops.append(f"cpflip {rng.choice(ids)} {col} {rng.randrange(400)}"
                       f" {rng.randrange(8)}")
        self.assertGreaterEqual(len(ops) * SCALE, 2000)
        rng.shuffle(ops)
        results = self.run_hook([ops[0::2], ops[1::2]])
        missed, unnamed = [], []
        for res in results:
            op = res["op"].split()
            self.assertEqual(res["rc"], 0, res)
            if res["errors"] == 0:
                missed.append(res["op"])
                continue
            if op[0] == "flip" and op[1].startswith("archive/"):
                base = os.path.basename(op[1])
                ok = any(f[1] == base and 0 <= f[2] <= int(op[2])
                         for f in res["findings"])
            elif op[0] == "flip":
                ok = any(f[1] == "ledger.pub" for f in res["findings"])
            else:
                ok = any(f[1] for f in res["findings"])
            if not ok:
                unnamed.append(res)
        self.assertGreaterEqual(len(results) * SCALE, 2000)
        self.assertEqual(missed, [], f"{len(missed)} flips not detected")
        self.assertEqual(unnamed, [], "reports not naming file and offset")
        print(f"\n  I1: {len(results)} flips, all detected and located",
              file=sys.stderr)

    # -- I2: truncation, appended bytes -------------------------------------
    def test_I2_truncation_every_member_boundary(self):
        rng = random.Random(SEED + "t")
        s = self.fixture
        name = [n for _, n, sl in self.segments(s) if sl][1]
        path = seg_path(s, name)
        size = os.path.getsize(path)
        bounds = [o for o, _ in members(open(path, "rb").read())]
        if SCALE > 1:
            bounds = bounds[::SCALE]
        ops = [f"trunc archive/{name} {b} quick:{name}" for b in bounds]
        ops += [f"trunc archive/{name} {rng.randrange(size)} quick:{name}"
                for _ in range(100)]
        results = self.run_hook([ops[0::2], ops[1::2]])
        for res in results:
            at = int(res["op"].split()[2])
            self.assertGreater(res["errors"], 0, res["op"])
            self.assertTrue(any(f[0] == "E010" and f[1] == name and
                                f[2] >= 0 for f in res["findings"]) or
                            at == 0, res)
        print(f"\n  I2: {len(bounds)} member boundaries and 100 random"
              f" offsets of {name}: all detected", file=sys.stderr)

    def test_I2_appended_garbage_and_forged_member(self):
        for extra, want in ((os.urandom(1000), "E015"),
                            (forged_member(), "E013")):
            s = self.fresh()
            name = [n for _, n, sl in self.segments(s) if sl][0]
            path = seg_path(s, name)
            write_file(path, open(path, "rb").read() + extra)
            rc, rep, _ = check_json(s)
            self.assertEqual(rc, 1)
            self.assertIn("E003", codes(rep))
            rc, rep, _ = check_json(s, "--full")
            self.assertEqual(rc, 1)
            self.assertIn(want, codes(rep))
            f = [f for f in rep["findings"] if f["code"] == want][0]
            self.assertEqual((f["file"], f["offset"]),
                             (name, len(open(path, "rb").read()) -
                              len(extra)))

    # -- I3/I4: an insider edits archive and index together ------------------
    def delete_record(self, s):
        """Remove one covered response from a sealed segment and make the
        index agree: rows renumbered, offsets moved, segment re-hashed."""
        segs = self.segments(s)
        seg_id, name, _ = [x for x in segs if x[2]][1]
        c = db_rw(s)
        rows = c.execute("SELECT seq, offset, length FROM records WHERE"
                         " segment_id = ? AND type = 'response' ORDER BY"
                         " offset", (seg_id,)).fetchall()
        seq, off, length = rows[len(rows) // 2]
        path = seg_path(s, name)
        data = open(path, "rb").read()
        data = data[:off] + data[off + length:]
        write_file(path, data)
        for t in ("versions", "events", "media", "gaps", "checkpoints"):
            c.execute(f"DELETE FROM {t} WHERE seq = ?", (seq,))
        c.execute("UPDATE versions SET source_seq = NULL WHERE"
                  " source_seq = ?", (seq,))
        c.execute("DELETE FROM records WHERE seq = ?", (seq,))
        c.execute("UPDATE records SET offset = offset - ? WHERE"
                  " segment_id = ? AND offset > ?", (length, seg_id, off))
        for t in ("records", "versions", "events", "media", "gaps",
                  "checkpoints"):
            c.execute(f"UPDATE {t} SET seq = -(seq - 1) WHERE seq > ?",
                      (seq,))
            c.execute(f"UPDATE {t} SET seq = -seq WHERE seq < 0")
        c.execute("UPDATE versions SET source_seq = source_seq - 1 WHERE"
                  " source_seq > ?", (seq,))
        c.execute("UPDATE segments SET sha256 = ?, size = ? WHERE id = ?",
                  (hashlib.sha256(data).hexdigest(), len(data), seg_id))
        c.commit()
        c.close()

    def test_I3_insider_deletes_a_record_and_fixes_the_index(self):
        s = self.fresh()
        self.delete_record(s)
        for mode in ([], ["--full"]):
            rc, rep, _ = check_json(s, *mode)
            self.assertEqual(rc, 1, mode)
            self.assertIn("E021", codes(rep), mode)
            for c in ("E003", "E010", "E011", "E013", "E015"):
                self.assertNotIn(c, codes(rep), f"{mode}: the index was"
                                 " fixed; only the checkpoints tell")

    def test_I3_insider_reorders_two_records(self):
        s = self.fresh()
        seg_id, name, _ = [x for x in self.segments(s) if x[2]][0]
        c = db_rw(s)
        rows = c.execute("SELECT seq, offset, length FROM records WHERE"
                         " segment_id = ? ORDER BY offset",
                         (seg_id,)).fetchall()
        (s1, o1, l1), (s2, o2, l2) = rows[len(rows) // 2:len(rows) // 2 + 2]
        path = seg_path(s, name)
        data = open(path, "rb").read()
        data = data[:o1] + data[o2:o2 + l2] + data[o1:o1 + l1] + \
            data[o2 + l2:]
        write_file(path, data)
        c.execute("UPDATE records SET offset = -1 WHERE seq = ?", (s1,))
        c.execute("UPDATE records SET offset = ? WHERE seq = ?", (o1, s2))
        c.execute("UPDATE records SET offset = ? WHERE seq = ?",
                  (o1 + l2, s1))
        c.execute("UPDATE segments SET sha256 = ? WHERE id = ?",
                  (hashlib.sha256(data).hexdigest(), seg_id))
        c.commit()
        c.close()
        rc, rep, _ = check_json(s)
        self.assertEqual(rc, 0, "quick mode cannot see a reorder")
        rc, rep, _ = check_json(s, "--full")
        self.assertEqual(rc, 1)
        self.assertEqual(codes(rep), ["E021"], rep["findings"])

    def test_I4_index_rows_edited(self):
        segs = self.segments(self.fixture)
        sealed_id = [x for x in segs if x[2]][1][0]

        def one(sql, quick=None, full=None):
            s = self.fresh()
            c = db_rw(s)
            seq = c.execute("SELECT seq FROM records WHERE segment_id = ?"
                            " AND type = 'response' ORDER BY offset LIMIT"
                            " 1 OFFSET 5", (sealed_id,)).fetchone()[0]
            c.execute(sql.replace("SEQ", str(seq)))
            c.commit()
            c.close()
            for args, want in (([], quick), (["--full"], full)):
                if want is None:
                    continue
                rc, rep, _ = check_json(s, *args)
                self.assertEqual(rc, 1, f"{sql} {args}")
                for w in want:
                    self.assertIn(w, codes(rep), f"{sql} {args}")

        one("UPDATE records SET sha256 = '" + "ab" * 32 + "' WHERE seq = SEQ",
            quick=["E021"], full=["E011", "E021"])
        one("UPDATE records SET offset = offset + 1 WHERE seq = SEQ",
            quick=["E015"], full=["E011", "E013"])
        one("DELETE FROM records WHERE seq = SEQ", quick=["E015", "E021"],
            full=["E013", "E021"])
        one("UPDATE records SET record_id = 'urn:uuid:" + str(uuid.uuid4())
            + "' WHERE seq = SEQ", full=["E014"])
        s = self.fresh()
        c = db_rw(s)
        c.execute("UPDATE versions SET text = 'rewritten' WHERE id ="
                  " (SELECT MAX(id) FROM versions)")
        c.commit()
        c.close()
        rc, rep, _ = check_json(s, "--full")
        self.assertEqual(rc, 1)
        self.assertEqual(codes(rep), ["E016"], rep["findings"])

    def test_I4_sqlite_pages_corrupted(self):
        rng = random.Random(SEED + "p")
        # Pages the WAL holds newer copies of are never read from the
        # main file: fold the WAL in first, so every page is live there.
        base = self.fresh()
        c = sqlite3.connect(os.path.join(base, "index.sqlite"))
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        c.close()
        src = os.path.join(base, "index.sqlite")
        with open(src, "rb") as f:
            head = f.read(100)
        psize = int.from_bytes(head[16:18], "big")
        psize = 65536 if psize == 1 else psize
        npages = os.path.getsize(src) // psize
        free = set()
        trunk = int.from_bytes(head[32:36], "big")
        with open(src, "rb") as f:
            while trunk:
                free.add(trunk)
                f.seek((trunk - 1) * psize)
                page = f.read(psize)
                n = int.from_bytes(page[4:8], "big")
                for i in range(n):
                    free.add(int.from_bytes(page[8 + 4 * i:12 + 4 * i],
                                            "big"))
                trunk = int.from_bytes(page[:4], "big")
        used = [p for p in range(1, npages + 1) if p not in free]
        pages = [1] + rng.sample(used[1:], min(len(used) - 1, 11))
        outcomes = []
        for p in pages:
            Check.copies += 1
            s = os.path.join(self.wd.path, f"copy-{Check.copies}")
            shutil.copytree(base, s)
            path = os.path.join(s, "index.sqlite")
            with open(path, "r+b") as f:
                f.seek((p - 1) * psize)
                f.write(rng.randbytes(psize))
            for args in ([], ["--full"]):
                rc, rep, r = check_json(s, *args)
                self.assertIn(rc, (1, 3), f"page {p} {args}: {r.stdout}"
                              f"{r.stderr}")
                if rc == 1:
                    self.assertIn("E001", codes(rep), f"page {p} {args}")
                outcomes.append(rc)
        print(f"\n  I4: {len(pages)} index pages overwritten: "
              f"{outcomes.count(1)} runs report E001,"
              f" {outcomes.count(3)} exit 3, none pass", file=sys.stderr)

    # -- I3/I7: against a list exported before ---------------------------------
    def export(self, state):
        with open(os.path.join(state, "ledger.pub")) as f:
            verifier = f.read().strip()
        cps = []
        for rid, size, root, t, signer, note, tok in self.q(
                state, "SELECT r.record_id, c.size, c.root, c.time, c.signer,"
                " c.note, c.tsa_token FROM checkpoints c LEFT JOIN records r"
                " ON r.seq = c.seq ORDER BY c.size"):
            cps.append({"record_id": rid, "size": size, "root": root,
                        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                              time.gmtime(t)),
                        "signer": signer, "note": note,
                        "tsa_token": base64.b64encode(tok).decode()
                        if tok else None})
        doc = {"format": "sunarchive-checkpoints/1", "origin": KEYNAME,
               "verifier": verifier, "checkpoints": cps}
        path = os.path.join(self.wd.path, f"export-{Check.copies}.json")
        with open(path, "w") as f:
            json.dump(doc, f, indent=1)
        return path

    def test_I7_against_an_export_taken_before_a_rewrite(self):
        exp = self.export(self.fixture)
        rc, rep, _ = check_json(self.fixture, "--against", exp)
        self.assertEqual((rc, rep["findings"]), (0, []))
        # The insider drops the newest checkpoints and everything after
        # them from the open segment, and the index with them: what is
        # left is consistent in itself and every signature still holds.
        s = self.fresh()
        seg_id, name, _ = [x for x in self.segments(s) if not x[2]][0]
        cut = self.q(s, "SELECT MIN(r.seq), MIN(r.offset) FROM records r"
                     " JOIN checkpoints c ON c.seq = r.seq WHERE"
                     " r.segment_id = ?", (seg_id,))[0]
        self.assertIsNotNone(cut[0], "a checkpoint in the open segment")
        path = seg_path(s, name)
        write_file(path, open(path, "rb").read()[:cut[1]])
        c = db_rw(s)
        for t in ("versions", "events", "media", "gaps", "checkpoints",
                  "records"):
            c.execute(f"DELETE FROM {t} WHERE seq >= ?", (cut[0],))
        c.commit()
        c.close()
        for args in ([], ["--full"]):
            rc, rep, _ = check_json(s, *args)
            self.assertEqual(rc, 0, f"{args}: {rep['findings']}")
            rc, rep, _ = check_json(s, "--against", exp, *args)
            self.assertEqual(rc, 1, args)
            self.assertEqual(codes(rep), ["E023"], rep["findings"])
        rc, rep, _ = check_json(s, "--against", exp, "--key",
                                self.key + ".pub")
        self.assertEqual(codes(rep), ["E023"])

    def test_since_reads_back_only_newer_segments(self):
        s = self.fresh()
        name = [n for _, n, sl in self.segments(s) if sl][0]
        path = seg_path(s, name)
        data = bytearray(open(path, "rb").read())
        data[len(data) // 2] ^= 4
        write_file(path, bytes(data))
        os.utime(path, (1, 1))
        rc, rep, _ = check_json(s, "--full", "--since", "2100-01-01")
        self.assertEqual(rc, 1)
        self.assertEqual(codes(rep), ["E003"], "hashed, not read back")
        rc, rep, _ = check_json(s, "--full")
        self.assertIn("E011", codes(rep))

    # -- fixity events ------------------------------------------------------
    def test_fixity_event_archived(self):
        self.assertEqual(self.fixity_run.returncode, 0,
                         self.fixity_run.stdout + self.fixity_run.stderr)
        self.assertEqual(len(self.fixity), 1)
        d = json.loads(self.fixity[0][0])
        self.assertEqual((d["event"], d["mode"], d["result"], d["errors"]),
                         ("fixity", "quick", "ok", 0))
        self.assertGreater(d["records"], 200)
        self.assertGreater(d["bytes"], 3 * 1024 * 1024)
        self.assertIn("since", d)

    def test_spool_not_writable_changes_nothing(self):
        s = self.fresh()
        spool = os.path.join(s, "spool")
        shutil.rmtree(spool, ignore_errors=True)
        with open(spool, "w") as f:
            f.write("not a directory")
        r = cli(s)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("cannot record this check as a fixity event", r.stderr)


if __name__ == "__main__":
    unittest.main()
