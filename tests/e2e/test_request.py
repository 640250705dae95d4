#!/usr/bin/env python3
"""sunarchive request and hold: the records request log and legal holds.

First against the fixture index tests/e2e/test_cli.py builds (a fresh copy
per test): request open for Missouri and Florida prints the id and the
deadline or acknowledgment, holds exactly what "search" finds for the same
filter (threads included with --with-thread), and queues its events in the
spool; list, show (with the effort estimate) and close; OVERDUE for a
Missouri request received in the past, and not for one received today;
holidays from --holidays or the configuration's holidays_file, and a bad
calendar line named FILE:LINE; hold add, list and release, and the
refusal to release an open request's holds; usage errors exit 2.

Then with the real daemon against the simulator: the events the tool
queues are archived as metadata records, the index rows the tool wrote at
once are unchanged by the daemon applying the same events again, and
"sunarchive reindex --out NEW" rebuilds the same requests and holds.

    SUNARCHIVE_BUILD=/abs/build python3 tests/e2e/test_request.py
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_cli  # noqa: E402

BUILD = harness.BUILD
CLI = os.path.join(BUILD, "sunarchive")
TZ = "America/Chicago"


def run(*args, env=None):
    e = dict(os.environ)
    e["LC_ALL"] = "C.UTF-8"
    e["TZ"] = TZ
    e.pop("SUDO_USER", None)
    if env:
        e.update(env)
    p = subprocess.run([CLI] + list(args), capture_output=True, env=e,
                       timeout=60)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def spool_events(state):
    d = os.path.join(state, "spool")
    out = []
    for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        with open(os.path.join(d, name)) as f:
            out.append(json.load(f))
    return out


def today():
    """Local midnight of today, as YYYY-MM-DD (the CLI's TZ)."""
    os.environ["TZ"] = TZ
    time.tzset()
    return time.strftime("%Y-%m-%d", time.localtime())


class FixtureTest(unittest.TestCase):
    def setUp(self):
        if not os.access(CLI, os.X_OK):
            raise RuntimeError("no %s: build it first (make)" % CLI)
        self.tmp = tempfile.mkdtemp(prefix="sunarchive-request-")
        self.state = os.path.join(self.tmp, "state")
        os.mkdir(self.state)
        test_cli.Fixture(self.state).build()
        # No configuration: request commands must not read the system's.
        self.conf = os.path.join(self.tmp, "none.conf")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def cli(self, *args, code=0, env=None):
        rc, out, err = run("-f", self.conf, "-s", self.state, *args,
                           env=env)
        self.assertEqual(rc, code, "exit %d for %r\nstdout:\n%s\nstderr:\n%s"
                         % (rc, args, out, err))
        self.assertNotIn("AddressSanitizer", err)
        self.assertNotIn("runtime error", err)
        return out, err

    def db(self):
        return sqlite3.connect(os.path.join(self.state, "index.sqlite"))

    def held(self, hold=None):
        sql = ("SELECT item_id FROM holds WHERE released IS NULL" +
               (" AND hold_id = ?" if hold else ""))
        with self.db() as c:
            return sorted(r[0] for r in c.execute(sql, (hold,) if hold
                                                  else ()))

    def search_ids(self, *filters):
        out, _ = self.cli("search", "--json", "--limit", "1000", *filters)
        return sorted(o["id"] for o in json.loads(out)["items"])

    OPEN_MO = ("request", "open", "--requester", "Jane Doe", "--received",
               "2026-03-02", "--state", "MO", "--description",
               "Posts and comments about the budget hearing")

    def test_open_mo_prints_id_deadline_and_holds_matches(self):
        out, _ = self.cli(*self.OPEN_MO, "--text", "budget",
                          "--with-thread")
        self.assertIn("opened PRR-2026-0001: Missouri request from "
                      "'Jane Doe'", out)
        self.assertIn("received        2026-03-02 (Monday)", out)
        # Monday -> the end of Thursday, local time.
        self.assertIn("deadline        2026-03-05 23:59:59 CST "
                      "(Thursday)", out)
        self.assertIn("OVERDUE", out)
        self.assertIn("no holidays_file configured", out)
        # Exactly what search finds for the same filter, threads included.
        want = self.search_ids("--text", "budget", "--with-thread")
        self.assertEqual(want, [2, 3, 4, 5])
        self.assertEqual(self.held("PRR-2026-0001"), want)
        self.assertIn("4 item(s) placed on legal hold (3 as thread "
                      "context)", out)
        # Events queued for the daemon.
        evs = spool_events(self.state)
        self.assertEqual(sorted(e["event"] for e in evs),
                         ["hold-placed", "request-opened"])
        op = [e for e in evs if e["event"] == "request-opened"][0]
        self.assertEqual(op["request"], "PRR-2026-0001")
        self.assertEqual(op["received"], "2026-03-02T06:00:00Z")
        self.assertEqual(op["deadline"], "2026-03-06T05:59:59Z")
        self.assertEqual(op["state"], "MO")
        self.assertEqual(op["search"], {"text": "budget", "removed":
                                        "include", "hidden": "include",
                                        "with_thread": True})
        hp = [e for e in evs if e["event"] == "hold-placed"][0]
        self.assertEqual(hp["hold"], "PRR-2026-0001")
        self.assertEqual(sorted(i["platform_id"] for i in hp["items"]),
                         sorted([test_cli.FB_EDITED, test_cli.FB_COMMENT,
                                 test_cli.FB_HIDDEN, test_cli.FB_REPLY]))
        self.assertTrue(all(i["account"] == "city-facebook"
                            for i in hp["items"]))

    def test_open_fl_records_acknowledgment_and_ids_per_year(self):
        out, _ = self.cli("request", "open", "--requester", "Bob Roe",
                          "--received", "2026-03-05T10:00:00-06:00",
                          "--state", "FL", "--description", "parks",
                          "--account", "parks-mastodon", "--json")
        o = json.loads(out)
        self.assertEqual(o["request"], "PRR-2026-0001")
        self.assertIsNone(o["deadline"])
        self.assertIsNotNone(o["acknowledged"])
        self.assertEqual(o["holds"], 1)
        self.assertEqual(self.held("PRR-2026-0001"), [11])
        out, _ = self.cli("request", "open", "--requester", "Bob Roe",
                          "--received", "2025-12-31", "--acknowledged",
                          "2026-01-02", "--state", "FL", "--description",
                          "old", "--platform", "mastodon", "--kind",
                          "reply")
        self.assertIn("opened PRR-2025-0001: Florida request", out)
        self.assertIn("acknowledged    2026-01-02 00:00:00 CST", out)
        self.assertIn("no fixed deadline", out)
        self.assertNotIn("deadline        ", out)
        out, _ = self.cli("request", "open", "--requester", "C", "--state",
                          "FL", "--received", "2026-03-06", "--description",
                          "d", "--only-removed")
        self.assertIn("opened PRR-2026-0002", out)
        self.assertEqual(self.held("PRR-2026-0002"), [6])

    def test_list_show_close_and_overdue(self):
        self.cli("request", "list", code=1)
        self.cli(*self.OPEN_MO, "--account", "city-facebook", "--kind",
                 "post")
        self.cli("request", "open", "--requester", "Today Smith",
                 "--received", today(), "--state", "MO", "--description",
                 "recent", "--account", "city-mastodon")
        self.cli("request", "open", "--requester", "Flo Rida",
                 "--received", "2026-03-04", "--state", "FL",
                 "--description", "everything")
        out, _ = self.cli("request", "list")
        lines = out.splitlines()
        self.assertTrue(lines[0].startswith("REQUEST"))
        # Soonest deadline first, Florida (no deadline) last.
        recent = json.loads(self.cli("request", "list", "--json")[0])[1]
        self.assertEqual(recent["requester"], "Today Smith")
        self.assertEqual([ln.split()[0] for ln in lines[1:]],
                         ["PRR-2026-0001", recent["request"],
                          "PRR-2026-%04d" % (3 if recent["request"]
                                             .startswith("PRR-2026")
                                             else 2)])
        self.assertIn("OVERDUE", lines[1])
        self.assertNotIn("OVERDUE", lines[2])
        self.assertNotIn("OVERDUE", lines[3])
        rows = json.loads(self.cli("request", "list", "--json")[0])
        self.assertEqual([r["overdue"] for r in rows], [True, False, False])
        self.assertEqual(rows[0]["deadline"], "2026-03-06T05:59:59Z")
        self.assertEqual(rows[0]["state"], "MO")
        self.assertGreater(rows[0]["age_days"], 0)
        self.assertIsNone(rows[2]["deadline"])

        # show: everything, holds and the estimate.
        o = json.loads(self.cli("request", "show", "PRR-2026-0001",
                                "--json")[0])
        self.assertEqual(o["requester"], "Jane Doe")
        self.assertEqual(o["status"], "open")
        self.assertTrue(o["overdue"])
        self.assertEqual(o["holds"], 3)
        e = o["estimate"]
        # Posts 1, 2 (3 versions) and 6: 5 records of 300 bytes, 1 photo.
        self.assertEqual((e["items"], e["context_items"], e["records"],
                          e["record_bytes"], e["media"], e["media_bytes"],
                          e["bytes"], e["pages"]),
                         (3, 0, 5, 1500, 1, 48213, 49713, 2))
        out, _ = self.cli("request", "show", "PRR-2026-0001")
        self.assertIn("request PRR-2026-0001 (Missouri)", out)
        self.assertIn("open, OVERDUE", out)
        self.assertIn("3 item(s) held, 0 released", out)
        self.assertIn("5 record(s) (item versions)", out)
        self.assertIn("about 2 printed page(s)", out)
        self.assertIn("Posts and comments about the budget hearing", out)
        self.cli("request", "show", "PRR-2026-0099", code=1)

        # close: disposition recorded, holds stay.
        out, _ = self.cli("request", "close", "PRR-2026-0001",
                          "--disposition", "fulfilled", "--note",
                          "sent 3 posts")
        self.assertIn("closed PRR-2026-0001: fulfilled", out)
        self.assertIn("3 item(s) remain on legal hold", out)
        self.assertIn("hold release --request PRR-2026-0001", out)
        self.assertEqual(self.held("PRR-2026-0001"), [1, 2, 6])
        self.cli("request", "close", "PRR-2026-0001", "--disposition",
                 "denied", "--note", "x", code=1)
        out, _ = self.cli("request", "list")
        self.assertNotIn("PRR-2026-0001", out)
        out, _ = self.cli("request", "list", "--all")
        self.assertIn("closed: fulfilled", out)
        o = json.loads(self.cli("request", "show", "PRR-2026-0001",
                                "--json")[0])
        self.assertEqual((o["status"], o["disposition"], o["note"],
                          o["overdue"]), ("closed", "fulfilled",
                                          "sent 3 posts", False))
        closes = [e for e in spool_events(self.state)
                  if e["event"] == "request-closed"]
        self.assertEqual(len(closes), 1)
        self.assertEqual(closes[0]["disposition"], "fulfilled")

    def test_holidays(self):
        cal = os.path.join(self.tmp, "holidays")
        with open(cal, "w") as f:
            f.write("# Memorial Day\n2026-05-25\n")
        out, _ = self.cli("request", "open", "--requester", "J",
                          "--received", "2026-05-22", "--state", "MO",
                          "--description", "d", "--holidays", cal)
        self.assertIn("2026-05-28 23:59:59 CDT (Thursday)", out)
        self.assertNotIn("no holidays_file", out)
        # From the configuration file, with -f and no -s.
        conf = os.path.join(self.tmp, "sunarchive.conf")
        with open(conf, "w") as f:
            f.write("state_dir = %s\nholidays_file = %s\n"
                    % (self.state, cal))
        rc, out, err = run("-f", conf, "request", "open", "--requester",
                           "J", "--received", "2026-05-22", "--state",
                           "MO", "--description", "d", "--json")
        self.assertEqual(rc, 0, err)
        o = json.loads(out)
        self.assertEqual(o["deadline_local"], "2026-05-28 23:59:59 CDT")
        self.assertEqual(o["holidays_file"], cal)
        # A bad line is an error naming FILE:LINE; nothing is opened.
        with open(cal, "a") as f:
            f.write("May 26\n")
        _, err = self.cli("request", "open", "--requester", "J",
                          "--received", "2026-05-22", "--state", "MO",
                          "--description", "d", "--holidays", cal, code=3)
        self.assertIn("%s:3: invalid date 'May 26'" % cal, err)
        with self.db() as c:
            self.assertEqual(c.execute("SELECT COUNT(*) FROM requests")
                             .fetchone()[0], 2)

    def test_hold_add_list_release(self):
        self.cli("hold", "list", code=1)
        out, _ = self.cli("hold", "add", "7",
                          "parks-mastodon:" + test_cli.SHARED,
                          "--reason", "Smith v. City, litigation hold")
        year = today()[:4]
        hid = "HOLD-%s-0001" % year
        self.assertIn("hold %s: 2 item(s) placed" % hid, out)
        self.assertEqual(self.held(hid), [7, 11])
        # An ambiguous platform id is refused and listed nowhere.
        self.cli("hold", "add", test_cli.SHARED, "--reason", "x", code=2)
        self.cli("hold", "add", "999", "--reason", "x", code=1)
        out, _ = self.cli("hold", "list")
        self.assertIn(hid, out)
        self.assertIn("Smith v. City", out)
        rows = json.loads(self.cli("hold", "list", hid, "--json")[0])
        self.assertEqual(sorted((r["account"], r["platform_id"])
                                for r in rows),
                         [("city-mastodon", test_cli.MA_POST),
                          ("parks-mastodon", test_cli.SHARED)])
        ev = [e for e in spool_events(self.state)
              if e["event"] == "hold-placed"]
        self.assertEqual(len(ev), 1)
        self.assertIsNone(ev[0]["request"])
        # Release needs a note, then releases everything under the id.
        self.cli("hold", "release", hid, code=2)
        out, _ = self.cli("hold", "release", hid, "--note",
                          "case settled")
        self.assertIn("released 2 item(s) from hold %s" % hid, out)
        self.assertEqual(self.held(hid), [])
        self.cli("hold", "release", hid, "--note", "again", code=1)
        self.cli("hold", "list", code=1)
        out, _ = self.cli("hold", "list", "--all")
        self.assertIn(hid, out)
        rows = json.loads(self.cli("hold", "list", hid, "--all",
                                   "--json")[0])
        self.assertTrue(all(r["released"] and r["note"] == "case settled"
                            for r in rows))

    def test_request_holds_release_only_when_closed(self):
        self.cli(*self.OPEN_MO, "--kind", "reply")
        self.cli("hold", "add", "1", "--request", "PRR-2026-0001",
                 "--reason", "asked for in a follow-up")
        self.assertEqual(self.held("PRR-2026-0001"), [1, 5, 8])
        _, err = self.cli("hold", "release", "--request", "PRR-2026-0001",
                          "--note", "x", code=1)
        self.assertIn("still open", err)
        self.assertEqual(self.held("PRR-2026-0001"), [1, 5, 8])
        self.cli("request", "close", "PRR-2026-0001", "--disposition",
                 "no-records")
        out, _ = self.cli("hold", "release", "PRR-2026-0001", "--note",
                          "retention period met")
        self.assertIn("released 3 item(s)", out)
        self.assertEqual(self.held(), [])
        rel = [e for e in spool_events(self.state)
               if e["event"] == "hold-released"]
        self.assertEqual(rel[0]["request"], "PRR-2026-0001")

    def test_usage_errors(self):
        base = ["request", "open", "--requester", "J", "--received",
                "2026-03-02", "--state", "MO", "--description", "d"]
        for args in (
                ["request"],
                ["request", "reopen"],
                base[:2] + base[4:],                    # no --requester
                base[:7] + ["TX"] + base[8:],
                base[:5] + ["03/02/2026"] + base[6:],
                base[:5] + ["2099-01-01"] + base[6:],   # in the future
                base + ["--platform", "myspace"],
                base + ["--text", "a NEAR b"],
                base + ["--from", "2026-03-05", "--to", "2026-03-01"],
                base + ["--state", "FL", "extra"],
                base[:9] + [""],
                ["request", "show"],
                ["request", "show", "42"],
                ["request", "close", "PRR-2026-0001"],
                ["request", "close", "PRR-2026-0001", "--disposition",
                 "lost"],
                ["request", "close", "PRR-2026-0001", "--disposition",
                 "denied"],
                ["hold"],
                ["hold", "add", "1"],
                ["hold", "add", "--reason", "x"],
                ["hold", "add", "1", "--reason", "x", "--request", "P-1"],
                ["hold", "list", "X-1"],
                ["hold", "release", "--note", "x"],
                ["hold", "release", "HOLD-2026-0001", "--request",
                 "PRR-2026-0001", "--note", "x"]):
            rc, out, err = run("-f", self.conf, "-s", self.state, *args)
            self.assertEqual(rc, 2, "%r: %s%s" % (args, out, err))
            self.assertIn("usage:", err, args)
        self.assertFalse(os.path.exists(os.path.join(self.state, "spool")))
        with self.db() as c:
            if c.execute("SELECT 1 FROM sqlite_master WHERE name ="
                         " 'requests'").fetchall():
                self.assertEqual(c.execute("SELECT COUNT(*) FROM"
                                           " requests").fetchone()[0], 0)

    def test_unknown_account_and_missing_index(self):
        _, err = self.cli(*self.OPEN_MO, "--account", "nope", code=1)
        self.assertIn("no account 'nope'", err)
        rc, _, err = run("-f", self.conf, "-s", os.path.join(self.tmp, "x"),
                         *self.OPEN_MO)
        self.assertEqual(rc, 3)
        self.assertIn("cannot open index", err)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "x")))

    def test_help(self):
        out, _ = self.cli("help", "request")
        self.assertIn("RSMo 610.023.3", out)
        out, _ = self.cli("help", "hold")
        self.assertIn("HOLD-YYYY-NNNN", out)
        out, _ = self.cli("--help")
        self.assertIn("request", out)


class DaemonTest(unittest.TestCase):
    """The events reach the archive; reindex rebuilds the same rows."""

    REQUESTS = ("SELECT request_id, requester, received, state,"
                " description, search, acknowledged, deadline, status,"
                " disposition, closed, note, opened, opened_by, closed_by"
                " FROM requests")
    HOLDS = ("SELECT a.name, i.platform_id, h.hold_id, h.request_id,"
             " h.reason, h.placed, h.released, h.note FROM holds h"
             " JOIN items i ON i.id = h.item_id"
             " JOIN accounts a ON a.id = i.account_id")

    def setUp(self):
        self.wd = harness.Workdir("request")
        self.sim = None
        self.d = None
        try:
            cal = os.path.join(self.wd.path, "holidays")
            with open(cal, "w") as f:
                f.write("2026-05-25\n")
            self.sim = harness.Simulator(self.wd.path, "small.json")
            self.d = harness.Daemon(self.wd.path, self.sim,
                                    extra_global={"holidays_file": cal})
            self.d.start()
            self.d.wait_cycles(1)
        except BaseException:
            self.tearDown()
            raise

    def tearDown(self):
        if self.d is not None:
            self.d.stop()
        if self.sim is not None:
            self.sim.stop()
        self.wd.cleanup()

    def cli(self, *args, code=0):
        rc, out, err = run("-f", self.d.conf, *args)
        self.assertEqual(rc, code, "exit %d for %r\n%s%s"
                         % (rc, args, out, err))
        return out

    def archived(self, names):
        rows = self.d.query(
            "SELECT e.type FROM events e JOIN records r ON r.seq = e.seq"
            " WHERE r.type = 'metadata' AND e.type IN (%s)"
            % ",".join("?" * len(names)), tuple(names))
        return sorted(r[0] for r in rows)

    def test_events_archived_and_reindex_rebuilds(self):
        d = self.d
        o = json.loads(self.cli("request", "open", "--requester", "Jane",
                                "--received", "2026-05-22", "--state",
                                "MO", "--description", "street closures",
                                "--text", "closed", "--with-thread",
                                "--json"))
        rid = o["request"]
        self.assertEqual(o["deadline_local"], "2026-05-28 23:59:59 CDT")
        self.assertGreater(o["holds"], 0)
        self.cli("request", "open", "--requester", "Flo", "--received",
                 "2026-05-22", "--state", "FL", "--description", "all",
                 "--platform", "mastodon")
        out = self.cli("hold", "add", "1", "--reason", "litigation")
        hid = out.split()[1].rstrip(":")
        self.cli("request", "close", rid, "--disposition", "partial",
                 "--note", "one comment withheld: F.S. 119.071(5)(a)")
        self.cli("hold", "release", "--request", rid, "--note",
                 "retention met")
        self.cli("hold", "release", hid, "--note", "settled")
        before = (sorted(d.query(self.REQUESTS)),
                  sorted(d.query(self.HOLDS)))
        self.assertEqual(len(before[0]), 2)

        want = ["hold-placed"] * 3 + ["hold-released"] * 2 + \
            ["request-closed"] + ["request-opened"] * 2
        harness.wait_until(lambda: self.archived(
            ["request-opened", "request-closed", "hold-placed",
             "hold-released"]) == want, 60, 0.2, "the events archived")
        harness.wait_until(lambda: not os.listdir(
            os.path.join(d.state, "spool")), 30, 0.2, "an empty spool")
        # The daemon applied them again: nothing changed.
        after = (sorted(d.query(self.REQUESTS)),
                 sorted(d.query(self.HOLDS)))
        self.assertEqual(before, after)
        # Archived with their detail, in the records the ledger covers.
        det = d.query("SELECT e.detail FROM events e WHERE e.type ="
                      " 'request-opened'")
        self.assertIn(rid, [json.loads(x)["request"] for (x,) in det])

        self.assertEqual(d.stop(), 0)
        self.d = None
        out = os.path.join(self.wd.path, "rebuilt.sqlite")
        rc, _, err = run("-f", d.conf, "reindex", "--out", out)
        self.assertEqual(rc, 0, err)
        new = sqlite3.connect(out)
        self.assertEqual(sorted(new.execute(self.REQUESTS).fetchall()),
                         after[0])
        self.assertEqual(sorted(new.execute(self.HOLDS).fetchall()),
                         after[1])
        new.close()
        self.d = d      # stopped; tearDown's stop() is a no-op
        d.proc = None


if __name__ == "__main__":
    unittest.main()
