#!/usr/bin/env python3
"""sunarchive (the CLI): status, search and show against a fixture index.

Builds STATE_DIR/index.sqlite with Python's sqlite3 from daemon/schema.sql
(user_version 1, WAL) holding what a running daemon would have written:
three accounts, posts, comments and replies, an item edited twice, a
removed item with its time bounds, a hidden comment, open and closed
capture gaps, segments and records, plus segment files in archive/. Then
runs the real binary, $SUNARCHIVE_BUILD/sunarchive -s STATE_DIR ..., and
checks what the clerk and IT rely on: the numbers, every filter, the JSON,
every version with its hash and record location, and the exit codes
(0 ok, 1 nothing found, 2 usage, 3 I/O or database error).

Run by tests/run.py (which imports this module) or alone:
    SUNARCHIVE_BUILD=/abs/build python3 tests/e2e/test_cli.py
"""
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SCHEMA = os.path.join(ROOT, "daemon", "schema.sql")
BUILD = os.environ.get("SUNARCHIVE_BUILD", os.path.join(ROOT, "build"))
CLI = os.path.join(BUILD, "sunarchive")
NOW = int(time.time())


def ts(s):
    """'2026-03-02T14:05:09Z' -> unix seconds."""
    return int(datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
               .replace(tzinfo=timezone.utc).timestamp())


def iso(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def sha(n):
    return ("%064x" % (0xabc0000 + n))


# Archive files and their sizes: two sealed segments and the open one.
SEGMENT_FILES = {
    "seg-000001.warc.gz": 1000,
    "seg-000002.warc.gz": 2000,
    "seg-000003.warc.gz.open": 500,
}

FB_PAGE = "100000000000001"
FB_POST = FB_PAGE + "_200000000000001"
FB_EDITED = FB_PAGE + "_200000000000002"
FB_REMOVED = FB_PAGE + "_200000000000003"
FB_COMMENT = "200000000000002_300000000000003"
FB_HIDDEN = "200000000000002_300000000000004"
FB_REPLY = "200000000000002_300000000000005"
MA_POST = "110000000000000540"
MA_REPLY = "110000000000000541"
MA_ESC = "110000000000000560"
SHARED = "110000000000000777"   # the same status id on two instances

V1 = "Budget hearing moved to Tuesday"
V2 = "Budget hearing moved to Wednesday"
V3 = "Budget hearing moved to Thursday at City Hall.\nAgenda attached."


class Fixture:
    """Writes the index through the schema, as the daemon would."""

    def __init__(self, state_dir):
        self.state_dir = state_dir
        self.db = sqlite3.connect(os.path.join(state_dir, "index.sqlite"))
        self.db.execute("PRAGMA journal_mode=WAL")
        with open(SCHEMA, encoding="utf-8") as f:
            self.db.executescript(f.read())
        self.db.execute("PRAGMA user_version=1")
        self.offsets = {}
        self.seq = 0
        self.items = {}      # (account, platform id) -> items.id
        self.versions = {}   # items.id -> [(hash, segment, offset, length)]

    def account(self, aid, name, platform, pid, **kw):
        cols = dict(id=aid, name=name, platform=platform, platform_id=pid)
        cols.update(kw)
        self.insert("accounts", cols)

    def insert(self, table, cols):
        keys = list(cols)
        self.db.execute(
            "INSERT INTO %s (%s) VALUES (%s)" % (
                table, ", ".join(keys), ", ".join("?" * len(keys))),
            [cols[k] for k in keys])

    def record(self, seg, rtype, date, account=None, length=300):
        self.seq += 1
        off = self.offsets.get(seg, 0)
        self.offsets[seg] = off + length
        self.insert("records", dict(
            seq=self.seq, record_id="urn:uuid:00000000-0000-4000-8000-%012d"
            % self.seq, segment_id=seg, offset=off, length=length,
            sha256=sha(1000 + self.seq), type=rtype, date=date,
            account_id=account))
        return self.seq

    def item(self, iid, account, platform, pid, kind, created, author,
             texts, seg=1, **kw):
        """texts: [(captured, text)], oldest first."""
        cols = dict(id=iid, account_id=account, platform=platform,
                    platform_id=pid, kind=kind, created=created,
                    author=author, author_id="a-" + author.split()[0],
                    url="https://example.gov/%s" % pid, state="live",
                    first_seen=texts[0][0], last_seen=texts[-1][0] + 3600,
                    nversions=len(texts))
        cols.update(kw)
        self.insert("items", cols)
        self.items[(account, pid)] = iid
        self.versions[iid] = []
        for n, (captured, text) in enumerate(texts):
            resp = self.record(seg, "response", captured, account, 4000)
            seq = self.record(seg, "conversion", captured, account)
            h = sha(iid * 10 + n)
            cur = self.db.execute(
                "INSERT INTO versions (item_id, seq, hash, captured,"
                " platform_time, source_seq, text) VALUES (?,?,?,?,?,?,?)",
                (iid, seq, h, captured, created + n * 60, resp, text))
            self.db.execute(
                "INSERT INTO versions_fts (rowid, text, author)"
                " VALUES (?,?,?)", (cur.lastrowid, text, author))
            self.versions[iid].append((h, "seg-%06d.warc.gz" % seg,
                                       self.offsets[seg] - 300, 300))

    def event(self, account, item, etype, t, detail):
        seq = self.record(2, "metadata", t, account)
        self.insert("events", dict(seq=seq, account_id=account,
                                   item_id=item, type=etype, time=t,
                                   detail=json.dumps(detail)))

    def gap(self, account, opened, closed, reason, detail):
        seq = self.record(2, "metadata", opened, account)
        self.insert("gaps", dict(account_id=account, opened=opened,
                                 closed=closed, reason=reason,
                                 detail=json.dumps(detail), seq=seq))

    def build(self):
        self.account(1, "city-facebook", "facebook", FB_PAGE,
                     status="ok", last_poll_ok=NOW - 300,
                     last_poll=NOW - 300)
        self.account(2, "city-mastodon", "mastodon", "110000000000000001",
                     status="rate-limited",
                     status_detail="HTTP 429 until reset",
                     last_poll_ok=NOW - 7200, last_poll=NOW - 120,
                     paused_until=NOW + 900)
        self.account(3, "parks-mastodon", "mastodon", "220000000000000001",
                     status="auth-failed",
                     status_detail="token revoked (HTTP 401)",
                     last_poll_ok=NOW - 3 * 86400, last_poll=NOW - 600)
        self.insert("segments", dict(
            id=1, name="seg-000001.warc.gz", created=ts(
                "2026-03-01T00:00:00Z"), sealed=ts("2026-03-02T00:00:00Z"),
            size=1000, sha256=sha(1)))
        self.insert("segments", dict(
            id=2, name="seg-000002.warc.gz", created=ts(
                "2026-03-02T00:00:00Z"), sealed=ts("2026-03-04T00:00:00Z"),
            size=2000, sha256=sha(2), suspect=1))
        self.insert("segments", dict(
            id=3, name="seg-000003.warc.gz.open",
            created=ts("2026-03-04T00:00:00Z")))
        for seg in (1, 2, 3):
            self.record(seg, "warcinfo", ts("2026-03-01T00:00:00Z"))

        # city-facebook: a post, an edited post with a comment thread
        # (one comment hidden), and a removed post.
        t = ts("2026-03-01T09:00:00Z")
        self.item(1, 1, "facebook", FB_POST, "post", t, "City of Example",
                  [(t + 60, "Road closure on Main Street this weekend")])
        self.db.execute(
            "INSERT INTO media (account_id, media_key, item_id, seq,"
            " sha256, content_type, size) VALUES (1, '900000000000001',"
            " 1, ?, ?, 'image/jpeg', 48213)",
            (self.record(1, "response", t + 61, 1), sha(77)))
        t = ts("2026-03-02T14:05:09Z")
        self.item(2, 1, "facebook", FB_EDITED, "post", t, "City of Example",
                  [(t + 30, V1), (t + 3600, V2), (t + 7200, V3)],
                  state="edited")
        self.item(3, 1, "facebook", FB_COMMENT, "comment",
                  ts("2026-03-02T15:00:00Z"), "Jane Resident",
                  [(ts("2026-03-02T15:01:00Z"), "Will there be parking?")],
                  parent_id=FB_EDITED, root_id=FB_EDITED)
        self.item(4, 1, "facebook", FB_HIDDEN, "comment",
                  ts("2026-03-02T16:00:00Z"), "Spam Bot",
                  [(ts("2026-03-02T16:01:00Z"), "Buy cheap followers")],
                  parent_id=FB_EDITED, root_id=FB_EDITED, state="hidden",
                  hidden=1)
        self.event(1, 4, "hidden", ts("2026-03-02T18:00:00Z"),
                   {"is_hidden": True})
        self.item(5, 1, "facebook", FB_REPLY, "reply",
                  ts("2026-03-03T08:30:00Z"), "City of Example",
                  [(ts("2026-03-03T08:31:00Z"),
                    "Yes, the garage on 5th is open")],
                  parent_id=FB_COMMENT, root_id=FB_EDITED, seg=2)
        t = ts("2026-03-04T10:00:00Z")
        self.item(6, 1, "facebook", FB_REMOVED, "post", t,
                  "City of Example",
                  [(t + 60, 'Water main break on Oak Ave (NEAR the park) '
                    '\u2014 crews "on site"')],
                  seg=2, state="removed", last_seen=ts("2026-03-04T18:00:00Z"),
                  first_missing=ts("2026-03-04T19:00:00Z"),
                  removed_at=ts("2026-03-04T19:05:00Z"))
        self.event(1, 6, "removed", ts("2026-03-04T19:05:00Z"),
                   {"lookup": "404", "last_seen": "2026-03-04T18:00:00Z"})
        self.gap(1, ts("2026-03-01T02:00:00Z"), ts("2026-03-01T03:00:00Z"),
                 "timeout", {"url": "https://graph.example/v25.0/..."})

        # city-mastodon: a post, a reply removed then restored, a status
        # with terminal escapes in it; one open and one closed gap.
        t = ts("2026-03-02T13:54:00Z")
        self.item(7, 2, "mastodon", MA_POST, "post", t, "city",
                  [(t + 20, "Snow emergency declared; park on odd side")],
                  seg=2)
        t = ts("2026-03-05T12:00:00Z")
        self.item(8, 2, "mastodon", MA_REPLY, "reply", t,
                  "resident@social.example",
                  [(t + 20, "Thanks for the update!")], seg=3,
                  parent_id=MA_POST, root_id=MA_POST, state="restored")
        self.event(2, 8, "removed", t + 3600, {"lookup": "404"})
        self.event(2, 8, "restored", t + 7200, {})
        t = ts("2026-03-05T13:00:00Z")
        self.item(9, 2, "mastodon", MA_ESC, "post", t, "city",
                  [(t + 5, "Alert \x1b[31mRED\x1b[0m\x07 bell")], seg=3)
        self.item(10, 2, "mastodon", SHARED, "post",
                  ts("2026-03-05T14:00:00Z"), "city",
                  [(ts("2026-03-05T14:00:10Z"), "Library hours extended")],
                  seg=3)
        self.gap(2, NOW - 3600, None, "rate-limited", {"status": 429})
        self.gap(2, ts("2026-03-01T05:00:00Z"), ts("2026-03-01T06:00:00Z"),
                 "api-error", {"status": 502})

        # parks-mastodon, another instance: same status id as item 10.
        self.item(11, 3, "mastodon", SHARED, "post",
                  ts("2026-03-05T15:00:00Z"), "parks",
                  [(ts("2026-03-05T15:00:10Z"), "Trail closed for repairs")],
                  seg=3)
        self.gap(3, ts("2026-03-03T00:00:00Z"), None, "auth-failed",
                 {"status": 401})
        self.gap(3, ts("2026-03-04T00:00:00Z"), None, "api-error",
                 {"status": 500})

        self.db.commit()
        self.db.close()
        archive = os.path.join(self.state_dir, "archive")
        os.mkdir(archive)
        for name, size in SEGMENT_FILES.items():
            with open(os.path.join(archive, name), "wb") as f:
                f.write(b"\x1f\x8b" + b"\0" * (size - 2))


def run(*args, state_dir=None, env=None):
    """Run the CLI; returns (exit code, stdout, stderr) as text."""
    argv = [CLI]
    if state_dir is not None:
        argv += ["-s", state_dir]
    argv += list(args)
    e = dict(os.environ)
    e["LC_ALL"] = "C.UTF-8"
    e.pop("COLUMNS", None)
    if env:
        e.update(env)
    p = subprocess.run(argv, capture_output=True, env=e, timeout=60)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


class CliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(CLI, os.X_OK):
            raise RuntimeError("no %s: build it first (make)" % CLI)
        cls.tmp = tempfile.mkdtemp(prefix="sunarchive-cli-")
        cls.state = os.path.join(cls.tmp, "state")
        os.mkdir(cls.state)
        cls.fx = Fixture(cls.state)
        cls.fx.build()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def cli(self, *args, code=0, **kw):
        rc, out, err = run(*args, state_dir=self.state, **kw)
        self.assertEqual(rc, code, "exit %d for %r\nstdout:\n%s\nstderr:\n%s"
                         % (rc, args, out, err))
        self.assertNotIn("AddressSanitizer", err)
        self.assertNotIn("runtime error", err)
        return out, err

    def search_ids(self, *args, code=0):
        out, _ = self.cli("search", "--json", *args, code=code)
        if code != 0:
            self.assertEqual(out, "")
            return []
        return [o["id"] for o in json.loads(out)["items"]]

    def state_db(self, name, sql=None, user_version=1, garbage=None):
        """A second state dir with a broken or odd index."""
        d = os.path.join(self.tmp, name)
        os.mkdir(d)
        path = os.path.join(d, "index.sqlite")
        if garbage is not None:
            with open(path, "wb") as f:
                f.write(garbage)
            return d
        db = sqlite3.connect(path)
        with open(SCHEMA, encoding="utf-8") as f:
            db.executescript(f.read())
        db.execute("PRAGMA user_version=%d" % user_version)
        db.commit()
        db.close()
        return d

    # --- usage and exit codes -------------------------------------------

    def test_help_and_version(self):
        rc, out, _ = run("--help")
        self.assertEqual(rc, 0)
        for cmd in ("status", "search", "show", "help"):
            self.assertIn(cmd, out)
        rc, out, _ = run("--version")
        self.assertEqual(rc, 0)
        self.assertRegex(out, r"^sunarchive \d+\.\d+")

    def test_command_help(self):
        for argv in (("help", "search"), ("search", "--help")):
            rc, out, _ = run(*argv)
            self.assertEqual(rc, 0, argv)
            self.assertIn("usage: sunarchive search", out)
            self.assertIn("--text", out)
        rc, out, _ = run("show", "-h")
        self.assertEqual(rc, 0)
        self.assertIn("ACCOUNT:PLATFORM_ID", out)
        rc, _, err = run("help", "frobnicate")
        self.assertEqual(rc, 2)

    def test_no_command_is_usage_error(self):
        rc, out, err = run()
        self.assertEqual(rc, 2)
        self.assertEqual(out, "")
        self.assertIn("usage: sunarchive", err)

    def test_unknown_command(self):
        rc, out, err = run("frobnicate", state_dir=self.state)
        self.assertEqual(rc, 2)
        self.assertIn("unknown command 'frobnicate'", err)
        self.assertEqual(out, "")

    def test_bad_options(self):
        for argv in (("search", "--bogus"), ("search", "--limit"),
                     ("search", "--limit", "0"), ("search", "--limit", "x"),
                     ("search", "--json=yes"), ("status", "extra"),
                     ("show",), ("show", "1", "2"), ("--bogus", "status"),
                     ("search", "--platform", "twitter"),
                     ("search", "--state", "deleted"),
                     ("search", "--kind", "story")):
            rc, out, err = run(*argv, state_dir=self.state)
            self.assertEqual(rc, 2, argv)
            self.assertEqual(out, "", argv)
            self.assertIn("usage: sunarchive", err, argv)

    def test_bad_dates(self):
        for argv in (("--from", "yesterday"), ("--to", "2026-13-01"),
                     ("--from", "2026-03-02T25:00:00Z"),
                     ("--from", "2026-03-05", "--to", "2026-03-01")):
            rc, out, err = run("search", *argv, state_dir=self.state)
            self.assertEqual(rc, 2, argv)
            self.assertIn("usage:", err)
        _, err = self.cli("search", "--from", "yesterday", code=2)
        self.assertIn("invalid date 'yesterday' for --from", err)

    def test_missing_state_dir(self):
        missing = os.path.join(self.tmp, "nope")
        rc, out, err = run("status", state_dir=missing)
        self.assertEqual(rc, 3)
        self.assertIn("cannot open index '%s/index.sqlite'" % missing, err)
        rc, _, _ = run("search", state_dir=missing)
        self.assertEqual(rc, 3)
        rc, _, _ = run("show", "1", state_dir=missing)
        self.assertEqual(rc, 3)

    def test_no_index(self):
        d = os.path.join(self.tmp, "empty")
        os.mkdir(d)
        rc, out, err = run("search", state_dir=d)
        self.assertEqual(rc, 3)
        self.assertIn(os.path.join(d, "index.sqlite"), err)
        self.assertEqual(out, "")

    def test_wrong_schema_version(self):
        d = self.state_db("v7", user_version=7)
        rc, _, err = run("status", state_dir=d)
        self.assertEqual(rc, 3)
        self.assertIn("has schema version 7, expected 1 to", err)
        self.assertIn(d, err)

    def test_not_a_database(self):
        d = self.state_db("garbage", garbage=b"not a database\n" * 100)
        rc, _, err = run("search", state_dir=d)
        self.assertEqual(rc, 3)
        self.assertIn("index.sqlite", err)

    def test_config_errors(self):
        rc, _, err = run("-f", os.path.join(self.tmp, "missing.conf"),
                         "status")
        self.assertEqual(rc, 3)
        self.assertIn("missing.conf", err)
        conf = os.path.join(self.tmp, "bad.conf")
        with open(conf, "w") as f:
            f.write("state_dir = %s\nthis is not a key\n" % self.state)
        rc, _, err = run("-f", conf, "status")
        self.assertEqual(rc, 3)
        self.assertIn("bad.conf:2", err)

    def test_config_gives_state_dir(self):
        conf = os.path.join(self.tmp, "good.conf")
        with open(conf, "w") as f:
            f.write("state_dir = %s\n" % self.state)
        rc, out, err = run("-f", conf, "--json", "status")
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(json.loads(out)["accounts"]), 3)

    # --- status -----------------------------------------------------------

    def test_status_json(self):
        out, _ = self.cli("status", "--json")
        st = json.loads(out)
        self.assertEqual(set(st), {"accounts", "archive", "warnings"})
        acc = {a["name"]: a for a in st["accounts"]}
        self.assertEqual(list(acc), ["city-facebook", "city-mastodon",
                                     "parks-mastodon"])
        fb = acc["city-facebook"]
        self.assertEqual(fb["platform"], "facebook")
        self.assertEqual(fb["platform_id"], FB_PAGE)
        self.assertEqual(fb["status"], "ok")
        self.assertEqual(fb["last_poll_ok"], iso(NOW - 300))
        self.assertIsNone(fb["paused_until"])
        self.assertEqual((fb["items"], fb["versions"], fb["edited"],
                          fb["removed"], fb["hidden"], fb["open_gaps"]),
                         (6, 8, 1, 1, 1, 0))
        self.assertIsNone(fb["oldest_open_gap"])
        ma = acc["city-mastodon"]
        self.assertEqual(ma["status"], "rate-limited")
        self.assertEqual(ma["status_detail"], "HTTP 429 until reset")
        self.assertEqual(ma["paused_until"], iso(NOW + 900))
        self.assertEqual(ma["last_poll"], iso(NOW - 120))
        self.assertEqual((ma["items"], ma["versions"], ma["open_gaps"]),
                         (4, 4, 1))
        self.assertEqual(ma["oldest_open_gap"]["reason"], "rate-limited")
        self.assertEqual(ma["oldest_open_gap"]["opened"], iso(NOW - 3600))
        self.assertEqual(ma["oldest_open_gap"]["detail"], {"status": 429})
        pk = acc["parks-mastodon"]
        self.assertEqual(pk["open_gaps"], 2)
        self.assertEqual(pk["oldest_open_gap"]["reason"], "auth-failed")
        self.assertEqual(pk["oldest_open_gap"]["opened"],
                         "2026-03-03T00:00:00Z")

        ar = st["archive"]
        self.assertEqual(ar["dir"], os.path.join(self.state, "archive"))
        self.assertEqual((ar["segments"], ar["sealed"], ar["open"],
                          ar["suspect"]), (3, 2, 1, 1))
        self.assertEqual(ar["records"], self.fx.seq)
        self.assertEqual(ar["files"], 3)
        self.assertEqual(ar["bytes"], sum(SEGMENT_FILES.values()))

    def test_status_human(self):
        out, _ = self.cli("status")
        blocks = out.split("\n\n")
        fb = next(b for b in blocks if b.startswith("city-facebook"))
        self.assertRegex(fb, r"status\s+ok\n")
        self.assertRegex(fb, r"last ok poll\s+%s \(5 min ago\)"
                         % iso(NOW - 300))
        self.assertRegex(fb, r"items\s+6\n")
        self.assertRegex(fb, r"versions\s+8\n")
        self.assertRegex(fb, r"removed\s+1\n")
        self.assertRegex(fb, r"open gaps\s+0")
        ma = next(b for b in blocks if b.startswith("city-mastodon"))
        self.assertRegex(ma, r"status\s+rate-limited: HTTP 429")
        self.assertRegex(ma, r"last ok poll\s+\S+ \(2 h ago\)")
        self.assertRegex(ma, r"last attempt\s+\S+ \(2 min ago\)")
        self.assertRegex(ma, r"paused until\s+\S+ \(in 1[45] min\)")
        self.assertRegex(ma, r"open gaps\s+1, oldest since \S+ "
                         r"\(rate-limited\)")
        self.assertRegex(out, r"segments\s+3 \(2 sealed, 1 open, 1 suspect\)")
        self.assertRegex(out, r"records\s+%d\n" % self.fx.seq)
        self.assertRegex(out, r"on disk\s+3 files, 3\.4 KiB \(3500 bytes\)")
        warnings = [l for l in out.splitlines() if l.startswith("warning:")]
        text = "\n".join(warnings)
        self.assertIn("'city-mastodon' status is rate-limited", text)
        self.assertIn("'city-mastodon' has 1 open capture gap", text)
        self.assertIn("'parks-mastodon' status is auth-failed", text)
        self.assertIn("'parks-mastodon' has 2 open capture gaps", text)
        self.assertIn("1 suspect segment", text)
        self.assertNotIn("city-facebook", text)

    def test_status_missing_archive_dir(self):
        d = self.state_db("noarchive")
        rc, out, err = run("status", "--json", state_dir=d)
        self.assertEqual(rc, 3)
        self.assertIn("cannot read archive directory", err)
        self.assertIn("error", json.loads(out)["archive"])

    # --- search -----------------------------------------------------------

    def test_search_all_default(self):
        # Times are UTC whatever the local zone.
        out, _ = self.cli("search", env={"TZ": "America/Chicago"})
        lines = out.splitlines()
        self.assertEqual(lines[0], "11 items match (showing 1-11)")
        self.assertRegex(lines[1], r"^\s*ID PLATFORM\s+ACCOUNT\s+KIND\s+"
                         r"CREATED\s+STATE\s+AUTHOR\s+TEXT$")
        self.assertEqual(len(lines), 2 + 11)
        # Oldest first; item 1 is the earliest created.
        self.assertRegex(lines[2], r"^\s*1 facebook\s+city-facebook\s+post\s+"
                         r"2026-03-01T09:00:00Z live\s+City of Example\s+"
                         r"Road closure on Main Street")

    def test_search_account_and_platform(self):
        self.assertEqual(self.search_ids("--account", "city-mastodon"),
                         [7, 8, 9, 10])
        self.assertEqual(self.search_ids("--platform", "facebook"),
                         [1, 2, 3, 4, 5, 6])
        self.assertEqual(self.search_ids("--platform", "mastodon"),
                         [7, 8, 9, 10, 11])
        self.assertEqual(self.search_ids("--platform", "mastodon",
                                         "--account", "parks-mastodon"),
                         [11])

    def test_search_unknown_account(self):
        _, err = self.cli("search", "--account", "city-twitter", code=1)
        self.assertIn("no account 'city-twitter'", err)

    def test_search_dates(self):
        # A bare --to date includes that whole day.
        self.assertEqual(self.search_ids("--from", "2026-03-02",
                                         "--to", "2026-03-02"),
                         [7, 2, 3, 4])
        self.assertEqual(self.search_ids("--from", "2026-03-05"),
                         [8, 9, 10, 11])
        self.assertEqual(self.search_ids("--to", "2026-03-01"), [1])
        # RFC 3339 bounds are exact and inclusive; offsets are honoured.
        self.assertEqual(self.search_ids("--from", "2026-03-02T14:05:09Z",
                                         "--to", "2026-03-02T15:00:00Z"),
                         [2, 3])
        self.assertEqual(self.search_ids("--from",
                                         "2026-03-02T10:05:10-04:00",
                                         "--to", "2026-03-02T15:00:00Z"),
                         [3])

    def test_search_text_finds_old_versions(self):
        # "Tuesday" is only in the first version of item 2.
        out, _ = self.cli("search", "--json", "--text", "Tuesday")
        items = json.loads(out)["items"]
        self.assertEqual([o["id"] for o in items], [2])
        self.assertEqual(items[0]["text"], V3)
        self.assertEqual(self.search_ids("--text", "wednesday"), [2])

    def test_search_text_words_and(self):
        self.assertEqual(self.search_ids("--text", "road closure"), [1])
        self.assertEqual(self.search_ids("--text", "closure"), [1])
        self.search_ids("--text", "road thursday", code=1)
        # Words only in an item's author are found too.
        self.assertEqual(self.search_ids("--text", "jane"), [3])
        # Diacritics are folded as in the index.
        self.assertEqual(self.search_ids("--text", "emergéncy"), [7])

    def test_search_text_punctuation_words(self):
        # A word with nothing to search for does not void the search.
        self.assertEqual(self.search_ids("--text", "Main & Street"), [1])
        self.assertEqual(self.search_ids("--text", '("NEAR" the park)'), [6])
        self.assertEqual(self.search_ids("--text", '"on site"'), [6])
        _, err = self.cli("search", "--text", "& --", code=2)
        self.assertIn("no words to search for", err)

    def test_search_hostile_text(self):
        hostile = ['"', '""', '"unterminated', "a\"b", "(", ")", "((((",
                   "NEAR", "NEAR(a b)", "NEAR/3", "*", "a*", "^start",
                   "AND", "OR", "NOT", "a OR b", "col:word", "text:road",
                   "-road", "+road", "{text author}: road", "'; DROP TABLE "
                   "items; --", "%", "_", "\\", "road\x7f",
                   "x" * 10240, " ".join(["w%d" % i for i in range(2000)]),
                   "(" * 5000, '"' * 10000]
        for text in hostile:
            rc, out, err = run("search", "--text", text,
                               state_dir=self.state)
            self.assertIn(rc, (0, 1, 2), text[:40])
            for bad in ("fts5", "syntax error", "SQL", "malformed MATCH",
                        "cannot read index"):
                self.assertNotIn(bad, err, text[:40])
        # Query syntax (tests/e2e/test_search.py has the rest); quoted
        # words are matched literally.
        self.assertEqual(self.search_ids("--text", "road*"), [1])
        self.assertEqual(self.search_ids("--text", '"NEAR"'), [6])
        self.assertEqual(self.search_ids("--text", "road OR snow"), [1, 7])
        self.search_ids("--text", '"road OR snow"', code=1)

    def test_search_invalid_utf8(self):
        for raw in (b"\xff\xfe", b"road\xc3", b"\xed\xa0\x80x",
                    b"caf\xe9", b"\xc0\xaf"):
            p = subprocess.run([CLI, "-s", self.state, "search", "--text",
                                raw], capture_output=True, timeout=60)
            self.assertIn(p.returncode, (0, 1, 2), raw)
            self.assertNotIn(b"fts5", p.stderr)
            self.assertNotIn(b"syntax", p.stderr)
            self.assertNotIn(b"Sanitizer", p.stderr)
        for raw in (b"\xff", b"caf\xe9"):
            p = subprocess.run([CLI, "-s", self.state, "search", "--author",
                                raw, "--json"], capture_output=True,
                               timeout=60)
            self.assertEqual(p.returncode, 1, raw)

    def test_search_author(self):
        self.assertEqual(self.search_ids("--author", "city of"),
                         [1, 2, 5, 6])
        self.assertEqual(self.search_ids("--author", "RESIDENT"), [3, 8])
        self.assertEqual(self.search_ids("--author", "resident@"), [8])
        # LIKE wildcards are plain characters.
        self.search_ids("--author", "%", code=1)
        self.search_ids("--author", "_", code=1)

    def test_search_state_and_kind(self):
        self.assertEqual(self.search_ids("--state", "removed"), [6])
        self.assertEqual(self.search_ids("--state", "hidden"), [4])
        self.assertEqual(self.search_ids("--state", "edited"), [2])
        self.assertEqual(self.search_ids("--state", "restored"), [8])
        self.assertEqual(self.search_ids("--kind", "comment"), [3, 4])
        self.assertEqual(self.search_ids("--kind", "reply"), [5, 8])
        self.assertEqual(self.search_ids("--kind", "post",
                                         "--account", "city-facebook"),
                         [1, 2, 6])
        self.assertEqual(self.search_ids("--kind", "reply",
                                         "--platform", "mastodon",
                                         "--state", "restored",
                                         "--from", "2026-03-05"), [8])

    def test_search_limit(self):
        out, err = self.cli("search", "--json", "--limit", "2")
        page = json.loads(out)
        self.assertEqual([o["id"] for o in page["items"]], [1, 7])
        self.assertEqual((page["total"], page["limit"]), (11, 2))
        out, err = self.cli("search", "--json", "--limit", "11")
        self.assertEqual(len(json.loads(out)["items"]), 11)

    def test_search_no_match(self):
        out, err = self.cli("search", "--text", "zoning", code=1)
        self.assertEqual(out, "")
        self.assertIn("no items match", err)
        out, _ = self.cli("search", "--json", "--state", "removed",
                          "--platform", "mastodon", code=1)
        self.assertEqual(out, "")

    def test_search_json_fields(self):
        out, _ = self.cli("--json", "search", "--state", "removed")
        (o,) = json.loads(out)["items"]
        self.assertEqual(o["id"], 6)
        self.assertEqual(o["platform"], "facebook")
        self.assertEqual(o["account"], "city-facebook")
        self.assertEqual(o["kind"], "post")
        self.assertEqual(o["platform_id"], FB_REMOVED)
        self.assertEqual(o["created"], "2026-03-04T10:00:00Z")
        self.assertEqual(o["state"], "removed")
        self.assertEqual(o["author"], "City of Example")
        self.assertEqual(o["last_seen"], "2026-03-04T18:00:00Z")
        self.assertEqual(o["first_missing"], "2026-03-04T19:00:00Z")
        self.assertEqual(o["removed_at"], "2026-03-04T19:05:00Z")
        self.assertIs(o["hidden"], False)
        self.assertEqual(o["nversions"], 1)
        self.assertIn("\u2014", o["text"])
        for key in ("url", "parent_id", "root_id", "author_id",
                    "first_seen"):
            self.assertIn(key, o)

    def test_search_truncates_text_to_width(self):
        out, _ = self.cli("search", "--text", "thursday",
                          env={"COLUMNS": "100"})
        line = out.splitlines()[2]
        self.assertLessEqual(len(line), 100)
        self.assertTrue(line.endswith("..."), line)
        self.assertNotIn("\n", line)
        out, _ = self.cli("search", "--text", "thursday",
                          env={"COLUMNS": "400"})
        self.assertIn("City Hall. Agenda attached.", out)

    def test_terminal_escapes_neutralised(self):
        out, _ = self.cli("search", "--text", "alert")
        self.assertNotIn("\x1b", out)
        self.assertNotIn("\x07", out)
        self.assertIn("\\x1b[31mRED", out)
        out, _ = self.cli("show", str(9))
        self.assertNotIn("\x1b", out)
        self.assertIn("\\x07 bell", out)
        out, _ = self.cli("show", "--json", "9")
        self.assertIn("\x1b[31m", json.loads(out)["versions"][0]["text"])

    # --- show -------------------------------------------------------------

    def test_show_edited_item_every_version(self):
        out, _ = self.cli("show", "2")
        self.assertRegex(out, r"platform id\s+%s\n" % FB_EDITED)
        self.assertRegex(out, r"state\s+edited\n")
        self.assertRegex(out, r"created\s+2026-03-02T14:05:09Z\n")
        for n, (h, seg, off, length) in enumerate(self.fx.versions[2], 1):
            self.assertIn("version %d of 3" % n, out)
            self.assertIn(h, out)
            self.assertIn("%s offset %d length %d" % (seg, off, length),
                          out)
        # Oldest first, full text, multi-line text kept.
        self.assertLess(out.index(V1), out.index(V2))
        self.assertLess(out.index(V2), out.index("Thursday at City Hall"))
        self.assertIn("    Agenda attached.", out)

    def test_show_removed_item_bounds_and_events(self):
        out, _ = self.cli("show", "6")
        self.assertRegex(out, r"state\s+removed\n")
        self.assertRegex(out, r"last seen\s+2026-03-04T18:00:00Z\n")
        self.assertRegex(out, r"first missing\s+2026-03-04T19:00:00Z\n")
        self.assertRegex(out, r"removal confirmed\s+2026-03-04T19:05:00Z\n")
        self.assertRegex(out, r"hidden\s+no\n")
        ev = out[out.index("\nevents\n"):]
        self.assertRegex(ev, r"2026-03-04T19:05:00Z\s+removed\s+"
                         r'\{"lookup":"404"')

    def test_show_hidden_comment_thread(self):
        out, _ = self.cli("show", "4")
        self.assertRegex(out, r"kind\s+comment\n")
        self.assertRegex(out, r"hidden\s+yes\n")
        self.assertRegex(out, r"parent\s+%s \(item 2\)\n" % FB_EDITED)
        self.assertRegex(out, r"thread root\s+%s \(item 2\)\n" % FB_EDITED)
        self.assertRegex(out, r"2026-03-02T18:00:00Z\s+hidden\s+")
        out, _ = self.cli("show", "8")
        ev = out[out.index("\nevents\n"):]
        self.assertLess(ev.index("removed"), ev.index("restored"))

    def test_show_by_platform_id(self):
        out, _ = self.cli("show", "--json", FB_REMOVED)
        self.assertEqual(json.loads(out)["id"], 6)
        out, _ = self.cli("show", MA_POST)
        self.assertRegex(out, r"^item 7\n")
        out, _ = self.cli("show", "city-mastodon:" + MA_REPLY)
        self.assertRegex(out, r"^item 8\n")

    def test_show_ambiguous_platform_id(self):
        out, err = self.cli("show", SHARED, code=2)
        self.assertEqual(out, "")
        self.assertIn("matches 2 items", err)
        self.assertIn("city-mastodon:" + SHARED, err)
        self.assertIn("parks-mastodon:" + SHARED, err)
        out, _ = self.cli("show", "parks-mastodon:" + SHARED)
        self.assertIn("Trail closed", out)
        self.assertNotIn("Library hours", out)

    def test_show_not_found(self):
        for item in ("999", "100000000000001_999", "city-facebook:" + MA_POST,
                     "nobody:1"):
            out, err = self.cli("show", item, code=1)
            self.assertEqual(out, "")
            self.assertIn("no item", err)
        self.cli("show", ":123", code=2)
        self.cli("show", "city-facebook:", code=2)

    def test_show_json(self):
        out, _ = self.cli("show", "--json", "2")
        o = json.loads(out)
        for key, want in (("id", 2), ("platform", "facebook"),
                          ("account", "city-facebook"), ("kind", "post"),
                          ("platform_id", FB_EDITED), ("state", "edited"),
                          ("created", "2026-03-02T14:05:09Z"),
                          ("author", "City of Example"), ("hidden", False),
                          ("nversions", 3)):
            self.assertEqual(o[key], want, key)
        self.assertEqual([v["number"] for v in o["versions"]], [1, 2, 3])
        self.assertEqual([v["text"] for v in o["versions"]], [V1, V2, V3])
        for v, (h, seg, off, length) in zip(o["versions"],
                                            self.fx.versions[2]):
            self.assertEqual(v["hash"], h)
            self.assertEqual(v["record"]["segment"], seg)
            self.assertEqual(v["record"]["offset"], off)
            self.assertEqual(v["record"]["length"], length)
            self.assertRegex(v["record"]["record_id"], r"^urn:uuid:")
            self.assertRegex(v["captured"], r"^2026-03-02T\d\d:\d\d:\d\dZ$")
        self.assertEqual(o["events"], [])
        out, _ = self.cli("show", "--json", "1")
        (m,) = json.loads(out)["media"]
        self.assertEqual((m["content_type"], m["size"]), ("image/jpeg", 48213))
        out, _ = self.cli("show", "--json", "6")
        (e,) = json.loads(out)["events"]
        self.assertEqual(e["type"], "removed")
        self.assertEqual(e["detail"]["lookup"], "404")

    def test_read_only(self):
        """The CLI never writes the index."""
        path = os.path.join(self.state, "index.sqlite")
        before = os.stat(path).st_mtime_ns
        with open(path, "rb") as f:
            data = f.read()
        self.cli("status")
        self.cli("search", "--text", "road")
        self.cli("show", "2")
        self.assertEqual(os.stat(path).st_mtime_ns, before)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), data)


if __name__ == "__main__":
    unittest.main()
