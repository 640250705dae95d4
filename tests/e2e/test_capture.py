"""The sample city, end to end: sunarchived archives every post, comment,
reply and version the simulator's scenario creates, including edited,
hidden and deleted content, while faults are injected; the archive and
index then say exactly what happened, and no secret is anywhere."""
import json
import os
import re
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def norm(text):
    return re.sub(r"\s+", " ", text or "").strip()


class CityScenario(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.wd = harness.Workdir("city")
        cls.sim = harness.Simulator(cls.wd.path, "city.json")
        cls.d = harness.Daemon(cls.wd.path, cls.sim)
        cls.d.start(notify=True)
        cls.d.wait_cycles(1)
        steps = cls.sim.status()["steps"]
        for _ in range(1, steps):
            cls.sim.step()
            cls.d.wait_cycles(2)
        cls.sim.reset_faults()
        cls.d.wait_cycles(2)
        cls.rc = cls.d.stop()
        cls.notes = cls.d.notifications(0.5)
        cls.truth = cls.sim.truth()["items"]
        cls.sim.stop()
        rows = cls.d.query(
            "SELECT i.id, i.platform, i.platform_id, i.kind, i.parent_id,"
            " i.state, i.hidden, i.last_seen, i.first_missing,"
            " i.removed_at FROM items i")
        cls.items = {(r[1], r[2]): r for r in rows}
        cls.versions = {}
        for item_id, text, h, seq in cls.d.query(
                "SELECT item_id, text, hash, source_seq FROM versions"
                " ORDER BY id"):
            cls.versions.setdefault(item_id, []).append((text, h, seq))

    @classmethod
    def tearDownClass(cls):
        cls.wd.cleanup()

    def truth_by_id(self):
        return {(t["platform"], t["id"]): t for t in self.truth}

    def test_daemon_stopped_cleanly_and_notified_systemd(self):
        self.assertEqual(self.rc, 0, self.d.log()[-2000:])
        self.assertIn("READY=1", self.notes)
        self.assertTrue(any(n.startswith("STATUS=") for n in self.notes))
        self.assertIn("STOPPING=1", self.notes)

    def test_every_item_archived_with_kind_and_parent(self):
        for t in self.truth:
            key = (t["platform"], t["id"])
            self.assertIn(key, self.items, f"{key} never archived")
            row = self.items[key]
            self.assertEqual(row[3], t["kind"], key)
            if t["kind"] != "post":
                self.assertEqual(row[4], t["parent_id"], key)
        self.assertEqual(len(self.items), len(self.truth),
                         "items the scenario never created")

    def test_every_version_archived_in_order(self):
        for t in self.truth:
            row = self.items[(t["platform"], t["id"])]
            got = [norm(v[0]) for v in self.versions.get(row[0], [])]
            want = [norm(v["text"]) for v in t["versions"]]
            self.assertEqual(got, want, f"versions of {t['id']}")

    def test_volatile_counts_make_no_versions(self):
        touched = [t for t in self.truth if t["touches"] > 0]
        self.assertTrue(touched)
        for t in touched:
            row = self.items[(t["platform"], t["id"])]
            self.assertEqual(len(self.versions[row[0]]), len(t["versions"]))

    def test_no_consecutive_duplicate_versions(self):
        for item_id, vs in self.versions.items():
            for a, b in zip(vs, vs[1:]):
                self.assertNotEqual(a[1], b[1], f"item {item_id}")

    def expected_removed(self):
        by_id = self.truth_by_id()
        out = set()
        for t in self.truth:
            cur = t
            while cur is not None:
                if cur["deleted"]:
                    out.add((t["platform"], t["id"]))
                    break
                if t["platform"] != "facebook" or not cur["parent_id"]:
                    break   # only Facebook takes replies with a parent
                cur = by_id.get((cur["platform"], cur["parent_id"]))
        return out

    def test_removed_exactly_the_deleted_items(self):
        removed = {k for k, r in self.items.items() if r[5] == "removed"}
        expected = self.expected_removed()
        self.assertTrue(expected)
        self.assertEqual(removed, expected)

    def test_removal_bounds(self):
        by_id = self.truth_by_id()
        for key in self.expected_removed():
            row = self.items[key]
            t = by_id[key]
            gone = t["deleted_time"]
            if gone is None:    # went with its parent
                p = by_id[(key[0], t["parent_id"])]
                while p["deleted_time"] is None:
                    p = by_id[(key[0], p["parent_id"])]
                gone = p["deleted_time"]
            last_seen, first_missing, removed_at = row[7], row[8], row[9]
            self.assertLessEqual(last_seen, gone + 1, key)
            self.assertGreaterEqual(first_missing, int(gone), key)
            self.assertGreaterEqual(removed_at, first_missing, key)

    def test_hidden_then_unhidden_comment(self):
        rows = self.d.query(
            "SELECT e.type FROM events e JOIN items i ON i.id = e.item_id"
            " WHERE e.type IN ('hidden', 'unhidden') ORDER BY e.id")
        self.assertEqual([r[0] for r in rows], ["hidden", "unhidden"])
        for t in self.truth:
            row = self.items[(t["platform"], t["id"])]
            self.assertEqual(bool(row[6]), t["hidden"], t["id"])

    def test_faults_became_gaps_never_versions(self):
        gaps = self.d.query("SELECT a.platform, g.reason, g.closed FROM"
                            " gaps g JOIN accounts a ON a.id = g.account_id")
        reasons = {(p, r) for p, r, _ in gaps}
        self.assertIn(("facebook", "rate-limited"), reasons)
        self.assertIn(("mastodon", "rate-limited"), reasons)
        self.assertTrue(all(c is not None for _, _, c in gaps),
                        "gaps still open after clean cycles")
        # Every version came from a complete HTTP 200 response.
        segs = dict(self.d.query("SELECT id, name FROM segments"))
        recs = {r[0]: r[1:] for r in self.d.query(
            "SELECT seq, segment_id, offset, length FROM records"
            " WHERE type = 'response'")}
        import zlib
        for vs in self.versions.values():
            for _, _, seq in vs:
                seg, off, length = recs[seq]
                path = os.path.join(self.d.state, "archive", segs[seg])
                if not os.path.exists(path):
                    path += ".open"
                with open(path, "rb") as f:
                    f.seek(off)
                    plain = zlib.decompress(f.read(length), 31)
                _, block = harness.parse_warc(plain)
                self.assertTrue(block.startswith(b"HTTP/1.1 200 "),
                                block[:40])

    def test_versions_refer_to_the_api_response_holding_them(self):
        rows = self.d.query(
            "SELECT v.text, r.target_uri FROM versions v JOIN records r"
            " ON r.seq = v.source_seq")
        self.assertEqual(len(rows), sum(len(v) for v in
                                        self.versions.values()))
        for text, uri in rows:
            self.assertNotIn("/media/", uri, text)

    def test_retried_server_errors(self):
        reqs = self.sim.requests()
        failed = [r for r in reqs if r["status"] in (500, 502, 503)]
        self.assertTrue(failed, "scenario injected no 5xx?")
        for f in failed:
            again = [r for r in reqs if r["path"] == f["path"] and
                     r["t"] > f["t"] and r["status"] == 200]
            self.assertTrue(again, f"no retry of {f['path']}")

    def test_media_downloaded(self):
        keys = {r[0] for r in self.d.query("SELECT media_key FROM media")}
        want = {m["id"] for t in self.truth for m in t["media"]}
        self.assertTrue(want)
        self.assertEqual(want - keys, set())

    def test_no_secret_anywhere(self):
        self.assertTrue(self.d.secrets)
        blobs = [self.d.log().encode()]
        for root, _, files in os.walk(self.d.state):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    data = f.read()
                blobs.append(data)
                if name.startswith("seg-"):
                    for _, _, plain in harness.read_members(
                            os.path.join(root, name)):
                        blobs.append(plain)
        for args in (["status"], ["status", "--json"],
                     ["search", "--limit", "100000", "--json"]):
            r = self.d.cli(*args)
            blobs += [r.stdout.encode(), r.stderr.encode()]
        for s in self.d.secrets:
            for b in blobs:
                self.assertNotIn(s.encode(), b)
        self.assertIn(b"access_token=REDACTED", b"".join(blobs))

    def test_warc_readable_and_digests_verify(self):
        n = 0
        for path in harness.segment_files(self.d.state):
            first = True
            for _, _, plain in harness.read_members(path):
                fields, block = harness.parse_warc(plain)
                harness.verify_digests(fields, block)
                if first:
                    self.assertEqual(fields["warc-type"], "warcinfo")
                    first = False
                n += 1
        self.assertGreater(n, 500)

    LOGICAL = {
        "accounts": "SELECT name, platform, platform_id FROM accounts",
        "items": "SELECT a.name, i.platform_id, i.kind, i.parent_id,"
                 " i.root_id, i.author, i.author_id, i.created, i.url,"
                 " i.state, i.hidden, i.nversions, i.first_seen,"
                 " i.removed_at, CASE WHEN i.state = 'removed' THEN"
                 " i.first_missing END FROM items i JOIN accounts a"
                 " ON a.id = i.account_id",
        "versions": "SELECT i.platform_id, v.hash, v.captured,"
                    " v.platform_time, v.text, (SELECT record_id FROM"
                    " records WHERE seq = v.source_seq) FROM versions v"
                    " JOIN items i ON i.id = v.item_id",
        "events": "SELECT e.type, e.time, (SELECT name FROM accounts WHERE"
                  " id = e.account_id), (SELECT platform_id FROM items"
                  " WHERE id = e.item_id), e.detail FROM events e",
        "gaps": "SELECT (SELECT name FROM accounts WHERE id = account_id),"
                " opened, closed, reason, detail FROM gaps",
        "media": "SELECT media_key, (SELECT platform_id FROM items WHERE"
                 " id = item_id), sha256, size FROM media",
        "records": "SELECT r.record_id, s.name, r.offset, r.length,"
                   " r.sha256, r.type, r.date, (SELECT name FROM accounts"
                   " WHERE id = r.account_id), r.target_uri FROM records r"
                   " JOIN segments s ON s.id = r.segment_id",
        "segments": "SELECT name, sealed IS NULL, size, sha256 FROM"
                    " segments",
        "fts": "SELECT rowid, text, author FROM versions_fts",
        "checkpoints": "SELECT (SELECT record_id FROM records r WHERE"
                       " r.seq = c.seq), size, root, time, note, signer,"
                       " tsa_token FROM checkpoints c",
    }

    def test_reindex_rebuilds_the_same_index(self):
        import sqlite3
        out = os.path.join(self.wd.path, "rebuilt.sqlite")
        r = self.d.cli("reindex", "--out", out)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("rebuilt", r.stdout)
        new = sqlite3.connect(out)
        for name, sql in self.LOGICAL.items():
            live = sorted(map(repr, self.d.query(sql)))
            rebuilt = sorted(map(repr, new.execute(sql).fetchall()))
            self.assertTrue(live, name)
            self.assertEqual(live, rebuilt, f"table {name} differs")
        r = self.d.cli("reindex", "--out", out)
        self.assertEqual(r.returncode, 2, "refuses to overwrite")

    def test_checkpoints_commit_to_the_ledger(self):
        import hashlib
        cps = self.d.query("SELECT size, root, note FROM checkpoints"
                           " ORDER BY size")
        self.assertGreater(len(cps), 5)
        leaves = [hashlib.sha256(b"\x00" + bytes.fromhex(s)).digest()
                  for (s,) in self.d.query("SELECT sha256 FROM records"
                                           " ORDER BY seq")]

        def root(n):
            if n == 0:
                return hashlib.sha256(b"").digest()
            if n == 1:
                return leaves[0] if len(leaves) else None
            return mth(leaves[:n])

        def mth(ls):
            if len(ls) == 1:
                return ls[0]
            k = 1
            while k * 2 < len(ls):
                k *= 2
            return hashlib.sha256(b"\x01" + mth(ls[:k]) +
                                  mth(ls[k:])).digest()
        for size, hexroot, note in cps[-3:]:
            self.assertEqual(root(size).hex(), hexroot)
            self.assertIn(f"\n{size}\n", note)
        # The final checkpoint covers everything but itself.
        self.assertEqual(cps[-1][0], len(leaves) - 1)

    def test_cli_status_search_show(self):
        st = json.loads(self.d.cli("status", "--json", check=True).stdout)
        self.assertEqual(len(st["accounts"]), 3)
        for a in st["accounts"]:
            self.assertEqual(a["status"], "ok", a)
        r = self.d.cli("search", "--text", "pothole", "--json", check=True)
        found = json.loads(r.stdout)["items"]
        self.assertTrue(found)
        want = {t["id"] for t in self.truth
                if any("pothole" in v["text"].lower()
                       for v in t["versions"])}
        self.assertEqual({f["platform_id"] for f in found}, want)
        edited = next(t for t in self.truth if len(t["versions"]) > 1)
        r = self.d.cli("show", edited["id"], "--json", check=True)
        shown = json.loads(r.stdout)
        self.assertEqual(len(shown["versions"]), len(edited["versions"]))


if __name__ == "__main__":
    unittest.main()
