"""Durability: kill -9 at random moments and at chosen system calls, and a
full disk. Whatever the daemon acknowledged (indexed) before a crash is
still there, byte for byte, after every restart; nothing is duplicated;
torn bytes are quarantined, never dropped; a full disk stops capture
cleanly and capture resumes when space returns."""
import hashlib
import os
import random
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

KILLS = int(os.environ.get("SUNARCHIVE_KILLS", "24"))


def acked(d):
    """{record_id: (segment, offset, length, sha256)} from the index."""
    rows = d.query("SELECT r.record_id, s.name, r.offset, r.length,"
                   " r.sha256 FROM records r JOIN segments s"
                   " ON s.id = r.segment_id")
    return {r[0]: r[1:] for r in rows}


def segment_path(d, name):
    p = os.path.join(d.state, "archive", name)
    return p if os.path.exists(p) else p + ".open"


def check_invariants(tc, d, before=None):
    """Every indexed record's stored bytes hash to its sha256; records of
    a segment tile it from offset 0 with no holes or overlaps; nothing
    acknowledged earlier has moved or vanished; no item has the same
    content twice in a row."""
    now = acked(d)
    if before:
        for rid, loc in before.items():
            tc.assertIn(rid, now, "acknowledged record lost")
            tc.assertEqual(now[rid], loc, "acknowledged record moved")
    by_seg = {}
    for rid, (seg, off, length, sha) in now.items():
        by_seg.setdefault(seg, []).append((off, length, sha))
    for seg, recs in by_seg.items():
        path = segment_path(d, seg)
        with open(path, "rb") as f:
            data = f.read()
        end = 0
        for off, length, sha in sorted(recs):
            tc.assertEqual(off, end, f"hole or overlap in {seg} at {off}")
            tc.assertEqual(hashlib.sha256(data[off:off + length])
                           .hexdigest(), sha, f"{seg}@{off} altered")
            end = off + length
        tc.assertLessEqual(end, len(data))
    tc.assertEqual(len({v[3] for v in now.values()}), len(now),
                   "duplicate record bytes")
    prev = {}
    for item_id, h in d.query("SELECT item_id, hash FROM versions"
                              " ORDER BY id"):
        tc.assertNotEqual(prev.get(item_id), h,
                          f"duplicated version of item {item_id}")
        prev[item_id] = h
    return now


def torn_bytes(d):
    q = os.path.join(d.state, "quarantine")
    return sum(os.path.getsize(os.path.join(q, f)) for f in os.listdir(q))


class KillLoop(unittest.TestCase):
    """At least 20 kill -9 at random moments while the city posts."""

    def test_kill9_loop_loses_and_duplicates_nothing(self):
        wd = harness.Workdir("kill")
        self.addCleanup(wd.cleanup)
        sim = harness.Simulator(wd.path, "city.json", step_interval=2.5)
        self.addCleanup(sim.stop)
        d = harness.Daemon(wd.path, sim)
        rng = random.Random(os.environ.get("SUNARCHIVE_SEED", "20261122"))
        before = {}
        d.start()
        kills = 0
        while kills < KILLS:
            time.sleep(rng.uniform(0.2, 1.6))
            d.kill9()
            kills += 1
            before = check_invariants(self, d, before)
            d.start()
        # Let the scenario finish and the daemon catch up.
        harness.wait_until(lambda: sim.status()["done"], 120,
                           what="scenario end")
        sim.reset_faults()
        d.wait_cycles(3, timeout=120)
        self.assertEqual(d.stop(), 0)
        final = check_invariants(self, d, before)
        self.assertGreater(len(final), len(before))
        recovered = d.query("SELECT COUNT(*) FROM records WHERE"
                            " recovered = 1")[0][0]
        print(f"\n  {kills} kills, {len(final)} records, {recovered}"
              f" recovered after crashes, {torn_bytes(d)} torn bytes"
              " quarantined", file=sys.stderr)
        # The archive still tells the whole story: every item, its
        # final text, and removals exactly where the platform deleted.
        truth = sim.truth()["items"]
        items = {(r[0], r[1]): r[2:] for r in d.query(
            "SELECT i.platform, i.platform_id, i.state, (SELECT text FROM"
            " versions v WHERE v.item_id = i.id ORDER BY v.id DESC"
            " LIMIT 1) FROM items i")}
        for t in truth:
            key = (t["platform"], t["id"])
            self.assertIn(key, items)
            self.assertEqual(" ".join(items[key][1].split()),
                             " ".join(t["versions"][-1]["text"].split()))
            if t["deleted"]:
                self.assertEqual(items[key][0], "removed", key)
        self.assertNotIn(b"REDACTED", b"")   # (keeps flake8 quiet)


class CrashPoints(unittest.TestCase):
    """kill -9 at chosen write/fdatasync/rename calls (the sysio shim)."""

    POINTS = ["write:3:crash", "write:9:crash-after", "write:40:crash",
              "write:77:crash-after", "write:150:crash",
              "fdatasync:1:crash", "fdatasync:2:crash-after",
              "fdatasync:5:crash", "open:3:crash", "rename:1:crash"]

    def test_crash_at_each_point_then_recover(self):
        wd = harness.Workdir("points")
        self.addCleanup(wd.cleanup)
        sim = harness.Simulator(wd.path, "city.json")
        self.addCleanup(sim.stop)
        d = harness.Daemon(wd.path, sim, extra_global={
            "segment_max_size": "1M"})
        before = {}
        crashed = 0
        for i, point in enumerate(self.POINTS):
            if i % 3 == 2:
                sim.step()      # new content to write
            d.start(env={"SUNARCHIVE_TEST_FAULTS": point})
            try:
                d.proc.wait(20)
            except Exception:
                pass
            if d.proc.poll() is None:
                d.stop()        # the point was never reached
            else:
                self.assertEqual(d.proc.returncode, -signal.SIGKILL,
                                 f"{point}: {d.log()[-1500:]}")
                d.proc = None
                d.logf.close()
                crashed += 1
            before = check_invariants(self, d, before)
        self.assertGreaterEqual(crashed, len(self.POINTS) - 2)
        d.start()
        d.wait_cycles(2)
        self.assertEqual(d.stop(), 0)
        check_invariants(self, d, before)


class DiskFull(unittest.TestCase):
    def test_full_disk_stops_cleanly_and_resumes(self):
        wd = harness.Workdir("full")
        self.addCleanup(wd.cleanup)
        sim = harness.Simulator(wd.path, "small.json")
        self.addCleanup(sim.stop)
        d = harness.Daemon(wd.path, sim)
        full = os.path.join(wd.path, "disk-is-full")
        d.start(env={"SUNARCHIVE_TEST_FAULTS":
                     "write:*:enospc,fdatasync:*:enospc",
                     "SUNARCHIVE_TEST_FAULT_FILE": full})
        d.wait_cycles(1)
        before = check_invariants(self, d)
        open(full, "w").close()
        sim.step()
        harness.wait_until(lambda: all(
            s == "storage-error" for (s,) in d.query(
                "SELECT status FROM accounts")), 30, what="storage-error")
        st = d.cli("status")
        self.assertIn("storage-error", st.stdout + st.stderr)
        self.assertIsNone(d.proc.poll(), "daemon died on a full disk")
        self.assertIn("No space left on device", d.log())
        check_invariants(self, d, before)
        os.unlink(full)
        harness.wait_until(lambda: all(
            s == "ok" for (s,) in d.query("SELECT status FROM accounts")),
            60, what="capture to resume")
        d.wait_cycles(1)
        self.assertEqual(d.stop(), 0)
        after = check_invariants(self, d, before)
        self.assertGreater(len(after), len(before))
        truth = sim.truth()["items"]
        ids = {r[0] for r in d.query("SELECT platform_id FROM items")}
        self.assertEqual({t["id"] for t in truth} - ids, set(),
                         "content posted while the disk was full")


if __name__ == "__main__":
    unittest.main()
