"""Injected platform faults, end to end: every fault the simulator can
inject ends as a capture gap (or a retry that succeeds), never as a
version or a removal, and the account recovers by itself afterwards.

What an IT administrator or a records manager relies on, checked against
the real sunarchived and the simulator's request log:

- a rate limit pauses the account (status 'rate-limited', paused_until in
  the future), no request is sent for that account until the pause ends,
  and the next clean cycle closes the gap;
- a server error is retried; a persistent one, a stall (timeout), a
  truncated / malformed / HTML / empty 200 reply, a pagination loop or a
  rejected token becomes a gap with a reason, and the items the failed
  page did not show are never taken for removed;
- a genuine deletion during a fault is recorded only once a complete
  listing and a lookup confirm it;
- every version comes from a complete HTTP 200 JSON response.

Each class runs one daemon against a small scenario written by the test
(two listing pages per platform, a few threads re-read every cycle) and
walks through its faults one after another, resetting and waiting for a
clean cycle between them.
"""
import json
import os
import re
import sys
import time
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

FB, MA = "facebook", "mastodon"
FB_ID = "100000000000001"
MA_ID = "110000000000000001"
TOKENS = {FB: "EAAB-faults-page-token-SIMULATED",
          MA: "mastodon-faults-token-SIMULATED"}
ACCOUNT = {FB: "fb-001", MA: "ma-001"}

# Simulator log paths that belong to each account (one account a platform).
API_RE = {FB: re.compile(r"^/v\d+\.\d+/|^/media/facebook/"),
          MA: re.compile(r"^/api/v1/|^/media/mastodon/")}
# Fault path / query patterns (re.search on the URL path / raw query).
LISTING = {FB: rf"^/v\d+\.\d+/{FB_ID}/posts$",
           MA: rf"^/api/v1/accounts/{MA_ID}/statuses$"}
THREAD = {FB: r"^/v\d+\.\d+/\d+_\d+/comments$",
          MA: r"^/api/v1/statuses/\d+/context$"}
PAGE1 = {FB: r"^(?!.*(^|&)after=)", MA: r"^(?!.*(^|&)max_id=)"}
PAGE2 = {FB: r"(^|&)after=", MA: r"(^|&)max_id="}
ALL_API = {FB: r"^/v\d+\.\d+/", MA: r"^/api/v1/"}

# Gap reasons a failed fetch may carry.
FETCH_REASONS = ("fetch-failed", "bad-response", "api-error")


def lookup_path(platform, pid):
    if platform == FB:
        return rf"^/v\d+\.\d+/{pid}$"
    return rf"^/api/v1/statuses/{pid}$"


def make_scenario():
    """28 Facebook posts (two pages of 25), 43 statuses (two pages of 40).
    The three newest of each have a comment (one with a reply): their
    threads are re-read every cycle. The old posts' threads are read once
    (recheck_* = 1h)."""
    step0 = []
    for i in (1, 2, 3):
        step0 += [
            {"op": "post", "platform": FB, "account": FB_ID,
             "key": f"fr{i}", "text": f"Road works notice {i}."},
            {"op": "comment", "on": f"fr{i}", "key": f"fc{i}",
             "text": f"Which streets, notice {i}?", "author": "A. Resident"},
            {"op": "post", "platform": MA, "account": MA_ID,
             "key": f"mr{i}", "text": f"Library update {i}."},
            {"op": "comment", "on": f"mr{i}", "key": f"mc{i}",
             "text": f"Thanks for update {i}!", "author": "B. Neighbor"},
        ]
    step0 += [
        {"op": "reply", "on": "fc1", "key": "fx1", "text": "Main St only.",
         "author": "City of Example"},
        {"op": "reply", "on": "mc1", "key": "mx1", "text": "You're welcome.",
         "author": "City of Example"},
    ]
    for i in range(25):
        step0.append({"op": "old_post", "platform": FB, "account": FB_ID,
                      "key": f"fo{i}", "age_days": 2 + i,
                      "text": f"Archived Page notice number {i}."})
    for i in range(40):
        step0.append({"op": "old_post", "platform": MA, "account": MA_ID,
                      "key": f"mo{i}", "age_days": 2 + i,
                      "text": f"Archived status number {i}."})
    return {
        "accounts": [
            {"platform": FB, "id": FB_ID, "name": "City of Example",
             "token": TOKENS[FB]},
            {"platform": MA, "id": MA_ID, "username": "city",
             "name": "City of Example", "token": TOKENS[MA]},
        ],
        "steps": [step0],
    }


def poll(pred, timeout, interval=0.1):
    """pred()'s first true value within timeout, else None."""
    end = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() >= end:
            return None
        time.sleep(interval)


class FaultCase(unittest.TestCase):
    """One daemon per class; each test injects faults, checks, recovers."""

    NAME = "faults"
    GLOBAL = {"request_timeout": "2s", "rate_limit_pause": "3s",
              "recheck_week": "1h", "recheck_month": "1h",
              "recheck_older": "1h"}
    EXTRA_GLOBAL = {}

    @classmethod
    def setUpClass(cls):
        if cls is FaultCase:
            raise unittest.SkipTest("base class")
        cls.wd = harness.Workdir(cls.NAME)
        try:
            path = os.path.join(cls.wd.path, "faults-scenario.json")
            with open(path, "w") as f:
                json.dump(make_scenario(), f)
            settings = dict(harness.Simulator.FAST)
            # Mastodon's X-RateLimit-Reset is the end of an aligned window:
            # keep it near so that a near-limit pause stays short.
            settings["mastodon_rate_period"] = 4
            cls.sim = harness.Simulator(cls.wd.path, path,
                                        settings=settings)
            g = dict(cls.GLOBAL)
            g.update(cls.EXTRA_GLOBAL)
            cls.cfg = g
            cls.d = harness.Daemon(cls.wd.path, cls.sim, extra_global=g)
            cls.d.start()
            cls.d.wait_cycles(1, timeout=60)
            cls.ids = {t["key"]: t["id"] for t in cls.sim.truth()["items"]}
        except BaseException:
            cls._cleanup()
            raise

    @classmethod
    def _cleanup(cls):
        d = getattr(cls, "d", None)
        rc = None
        if d is not None and d.proc is not None:
            try:
                rc = d.stop()
            except AssertionError:
                rc = "did not stop on SIGTERM"
        sim = getattr(cls, "sim", None)
        if sim is not None:
            sim.stop()
        return rc

    @classmethod
    def tearDownClass(cls):
        rc = None
        log = ""
        try:
            rc = cls._cleanup()
            log = cls.d.log()
        finally:
            cls.wd.cleanup()
        # A clean stop, and no token anywhere in what the daemon logged.
        if rc not in (None, 0):
            raise AssertionError(f"sunarchived exit status {rc}:\n"
                                 f"{log[-3000:]}")
        for tok in TOKENS.values():
            if tok in log:
                raise AssertionError("a token appears in the daemon log")

    # -- per test ---------------------------------------------------------
    def setUp(self):
        self.settle()
        self.t0 = time.time()
        self.base_versions = self.version_count()
        self.base_event = self.d.query(
            "SELECT COALESCE(MAX(id), 0) FROM events")[0][0]
        self.base_removed = self.removed_items()

    def settle(self, timeout=60):
        """No fault queued; every account finished a clean cycle that
        started after now, has no open gap and no pause ahead."""
        self.sim.reset_faults()
        t = time.time()

        def clean():
            rows = self.accounts()
            if set(rows) != set(ACCOUNT.values()):
                return False
            now = time.time()
            return all(r["status"] == "ok" and r["open_gaps"] == 0 and
                       (r["paused_until"] or 0) <= now and
                       (r["last_poll"] or 0) > t for r in rows.values())
        harness.wait_until(clean, timeout, 0.2,
                           f"clean cycles (accounts: {self.accounts()})")

    # -- reading the index --------------------------------------------------
    def accounts(self):
        rows = self.d.query(
            "SELECT a.name, a.status, a.paused_until, a.last_poll,"
            " a.last_poll_ok, (SELECT COUNT(*) FROM gaps g WHERE"
            " g.account_id = a.id AND g.closed IS NULL) FROM accounts a")
        return {r[0]: {"status": r[1], "paused_until": r[2],
                       "last_poll": r[3], "last_poll_ok": r[4],
                       "open_gaps": r[5]} for r in rows}

    def account(self, platform):
        return self.accounts()[ACCOUNT[platform]]

    def gaps(self, platform, since):
        rows = self.d.query(
            "SELECT g.id, g.opened, g.closed, g.reason, g.detail FROM gaps g"
            " JOIN accounts a ON a.id = g.account_id WHERE a.name = ?"
            " AND g.opened >= ? ORDER BY g.id",
            (ACCOUNT[platform], int(since)))
        return [{"id": r[0], "opened": r[1], "closed": r[2],
                 "reason": r[3], "detail": r[4]} for r in rows]

    def version_count(self):
        return self.d.query("SELECT COUNT(*) FROM versions")[0][0]

    def removed_items(self):
        return {r[0] for r in self.d.query(
            "SELECT platform_id FROM items WHERE state = 'removed'")}

    def item(self, key):
        rows = self.d.query(
            "SELECT state, last_seen, first_missing, removed_at FROM items"
            " WHERE platform_id = ?", (self.ids[key],))
        self.assertTrue(rows, f"{key} was never archived")
        r = rows[0]
        return {"state": r[0], "last_seen": r[1], "first_missing": r[2],
                "removed_at": r[3]}

    def removal_events_since_setup(self):
        return [r[0] for r in self.d.query(
            "SELECT COALESCE(i.platform_id, e.detail) FROM events e"
            " LEFT JOIN items i ON i.id = e.item_id"
            " WHERE e.type = 'removed' AND e.id > ?", (self.base_event,))]

    # -- reading the simulator's request log --------------------------------
    def reqs(self, platform, since=None, until=None):
        since = self.t0 if since is None else since
        return [r for r in self.sim.requests()
                if API_RE[platform].search(r["path"]) and r["t"] >= since and
                (until is None or r["t"] <= until)]

    def after(self, platform, t):
        """Requests of the account strictly after time t."""
        return [r for r in self.reqs(platform, t) if r["t"] > t]

    def hits(self, platform, kind, since=None):
        return [r for r in self.reqs(platform, since) if r["fault"] == kind]

    def wait_hits(self, platform, kind, n=1, timeout=20, since=None):
        got = poll(lambda: len(self.hits(platform, kind, since)) >= n and
                   self.hits(platform, kind, since), timeout)
        self.assertTrue(got, f"{platform}: fault '{kind}' never hit "
                        f"{n} time(s)")
        return got

    def wait_cycle_after(self, platform, t, timeout=30):
        """Wait until a cycle of the account that started after t has
        ended, so the one running at t is over too."""
        ok = poll(lambda: (self.account(platform)["last_poll"] or 0) > t,
                  timeout, 0.1)
        self.assertTrue(ok, f"{platform}: no cycle ended after {t}")

    def cycles_logged(self, platform):
        return len(re.findall(rf"polled '{ACCOUNT[platform]}':",
                              self.d.log()))

    def wait_cycle_end(self, platform, timeout=30):
        """Wait for the end of the account's cycle running now (or, between
        cycles, of the next one)."""
        n = self.cycles_logged(platform)
        ok = poll(lambda: self.cycles_logged(platform) > n, timeout, 0.05)
        self.assertTrue(ok, f"{platform}: no cycle ended")

    def wait_failed_cycle(self, platform, timeout=30):
        """Wait for the end of the first cycle that went wrong since setUp
        (which left every account 'ok'): its status is not 'ok'."""
        a = poll(lambda: self.account(platform)["status"] != "ok" and
                 self.account(platform), timeout, 0.05)
        self.assertTrue(a, f"{platform}: status still ok after a fault")
        return a

    def wait_gap(self, platform, reasons, since=None, timeout=25):
        since = self.t0 if since is None else since
        got = poll(lambda: [g for g in self.gaps(platform, since)
                            if g["reason"] in reasons], timeout)
        self.assertTrue(got, f"{platform}: no gap {reasons} since {since};"
                        f" gaps: {self.gaps(platform, since)}")
        return got[0]

    def wait_next_gap(self, platform, gap, timeout=25):
        """A gap opened after `gap`, by a later cycle."""
        got = poll(lambda: [g for g in self.gaps(platform, gap["opened"])
                            if g["id"] > gap["id"]], timeout)
        self.assertTrue(got, f"{platform}: no gap after {gap}")
        return got[0]

    def wait_recovered(self, platform, since=None, timeout=40):
        """Every gap opened since `since` closed by a clean cycle, status
        back to 'ok'."""
        since = self.t0 if since is None else since

        def ok():
            a = self.account(platform)
            gs = self.gaps(platform, since)
            return a["status"] == "ok" and a["open_gaps"] == 0 and \
                all(g["closed"] is not None for g in gs)
        got = poll(ok, timeout, 0.2)
        self.assertTrue(got, f"{platform} did not recover: "
                        f"{self.account(platform)}; gaps "
                        f"{self.gaps(platform, since)}")
        for g in self.gaps(platform, since):
            self.assertGreaterEqual(g["closed"], g["opened"], g)

    # -- the invariants ------------------------------------------------------
    def assert_no_removal(self, allowed=()):
        allowed = {self.ids[k] for k in allowed}
        events = [e for e in self.removal_events_since_setup()
                  if e not in allowed]
        self.assertEqual(events, [], "'removed' events written during a"
                         " fault")
        now = self.removed_items() - self.base_removed - allowed
        self.assertEqual(now, set(), "items marked removed during a fault")

    def assert_no_new_versions(self):
        self.assertEqual(self.version_count(), self.base_versions,
                         "a faulty response produced versions")

    def read_response(self, seq):
        rows = self.d.query(
            "SELECT s.name, r.offset, r.length, r.type FROM records r"
            " JOIN segments s ON s.id = r.segment_id WHERE r.seq = ?",
            (seq,))
        self.assertTrue(rows, f"no record {seq}")
        name, off, length, rtype = rows[0]
        self.assertEqual(rtype, "response", f"record {seq}")
        base = os.path.join(self.d.state, "archive", name)
        for _ in range(3):
            for path in (base, base + ".open"):
                try:
                    with open(path, "rb") as f:
                        f.seek(off)
                        plain = zlib.decompress(f.read(length), 31)
                    return harness.parse_warc(plain)[1]
                except FileNotFoundError:
                    continue
            time.sleep(0.2)     # sealed (renamed) under our feet
        self.fail(f"segment {name} not found")

    def assert_versions_from_complete_200(self):
        """Every version ever archived points at an HTTP 200 response whose
        body is complete JSON."""
        seen = {}
        for vid, seq in self.d.query("SELECT id, source_seq FROM versions"):
            self.assertIsNotNone(seq, f"version {vid} has no source")
            if seq in seen:
                continue
            block = self.read_response(seq)
            self.assertTrue(block.startswith(b"HTTP/1.1 200 "),
                            f"version {vid} from {block[:40]!r}")
            body = block.partition(b"\r\n\r\n")[2]
            try:
                json.loads(body)
            except ValueError:
                self.fail(f"version {vid} from a broken body {body[:60]!r}")
            seen[seq] = True

    def assert_recovery(self, platforms):
        for p in platforms:
            self.wait_recovered(p)
        self.assert_no_removal()
        self.assert_versions_from_complete_200()

    # -- shared scenarios ---------------------------------------------------
    def persistent_fault(self, faults, reasons, check_attempts=True):
        """Inject persistent faults ({platform: fault}), expect a gap with
        one of `reasons` on each platform, no removal and no version while
        failing, then recovery after reset."""
        for p, f in faults.items():
            self.sim.fault(platform=p, count=-1, **f)
        opened = {p: self.wait_gap(p, reasons) for p in faults}
        for p in faults:
            # the cycle that hit the fault is over before we look
            self.wait_failed_cycle(p)
        self.assert_no_removal()
        self.assert_no_new_versions()
        if check_attempts:
            want = int(self.cfg.get("retry_attempts", 2)) + 1
            for p, f in faults.items():
                burst = self.hits(p, f["kind"])[:want]
                self.assertEqual(len(burst), want, f"{p}: not retried "
                                 f"{want - 1} time(s) before the gap")
                self.assertLess(burst[-1]["t"] - burst[0]["t"], 1.0,
                                f"{p}: retries not within one cycle")
        self.sim.reset_faults()
        self.assert_recovery(faults)
        return opened


class RateLimits(FaultCase):
    NAME = "faults-rate"

    def rate_limited(self, faults, reasons=("rate-limited",)):
        """Inject one rate-limit fault per platform ({platform: fault})."""
        for p, f in faults.items():
            self.sim.fault(platform=p, count=1, **f)
        hit = {}
        for p, f in faults.items():
            hit[p] = self.wait_hits(p, f["kind"])[0]
        paused = {}
        for p in faults:
            # While paused: status rate-limited, paused_until ahead.
            def seen_paused(p=p):
                a = self.account(p)
                now = time.time()
                if a["status"] == "rate-limited" and \
                        (a["paused_until"] or 0) > now:
                    return a
                return None
            a = poll(seen_paused, 10, 0.05)
            self.assertTrue(a, f"{p}: never seen rate-limited with a pause"
                            f" ahead: {self.account(p)}")
            paused[p] = a["paused_until"]
            self.assertGreater(paused[p], hit[p]["t"], p)
            g = self.wait_gap(p, reasons)
            self.assertEqual(g["reason"], "rate-limited")
        self.assert_no_removal()
        for p in faults:
            self.wait_recovered(p)
            # Honoured: nothing for that account between the limit and the
            # end of the pause; the next request at or after it.
            during = [r for r in self.after(p, hit[p]["t"])
                      if r["t"] < paused[p]]
            self.assertEqual(during, [], f"{p}: requests while paused"
                             f" until {paused[p]}")
            after = self.after(p, hit[p]["t"])
            self.assertTrue(after, f"{p}: never resumed")
            self.assertGreaterEqual(after[0]["t"], paused[p])
        self.assert_no_removal()
        self.assert_versions_from_complete_200()
        return hit, paused

    def test_01_fb_code4_and_mastodon_429_on_listing(self):
        hit, paused = self.rate_limited({
            FB: {"kind": "rate_limit", "path": LISTING[FB], "code": 4},
            MA: {"kind": "rate_limit", "path": LISTING[MA],
                 "reset_seconds": 3}})
        self.assertEqual(hit[FB]["status"], 403)
        self.assertEqual(hit[MA]["status"], 429)
        # Facebook gives no time: rate_limit_pause (3 s) applies.
        self.assertGreaterEqual(paused[FB] - int(hit[FB]["t"]), 3)
        # Mastodon: until X-RateLimit-Reset, not sooner.
        self.assertGreaterEqual(paused[MA], int(hit[MA]["t"] + 3) - 1)

    def test_02_fb_code17_listing_and_mastodon_429_on_context(self):
        hit, _ = self.rate_limited({
            FB: {"kind": "rate_limit", "path": LISTING[FB], "code": 17},
            MA: {"kind": "rate_limit", "path": THREAD[MA],
                 "reset_seconds": 3}})
        self.assertEqual(hit[FB]["status"], 400)

    def test_03_fb_code32_on_comments(self):
        hit, _ = self.rate_limited({
            FB: {"kind": "rate_limit", "path": THREAD[FB], "code": 32}})
        self.assertEqual(hit[FB]["status"], 400)

    def test_04_fb_code613_on_second_listing_page(self):
        # Page 1 read, page 2 limited: the 3 oldest posts are "missing"
        # from the listing and must not be taken for removed.
        self.rate_limited({
            FB: {"kind": "rate_limit", "path": LISTING[FB],
                 "query": PAGE2[FB], "code": 613}})

    def test_05_fb_code80001_on_listing(self):
        self.rate_limited({
            FB: {"kind": "rate_limit", "path": LISTING[FB],
                 "code": 80001}})

    def test_06_near_limit_usage_archives_the_reply_then_pauses(self):
        fault = {FB: {"kind": "usage", "path": LISTING[FB],
                      "query": PAGE1[FB], "percent": 95},
                 MA: {"kind": "usage", "path": LISTING[MA],
                      "query": PAGE1[MA], "remaining": 1}}
        new = {FB: "fnew", MA: "mnew"}
        acct = {FB: FB_ID, MA: MA_ID}
        for p in (FB, MA):
            # The new post and the fault in one step: the usage reply is
            # the first to list the post.
            self.sim.actions([
                {"op": "post", "platform": p, "account": acct[p],
                 "key": new[p], "text": f"Fresh {p} notice."},
                dict(fault[p], op="fault", platform=p, count=1)])
        self.ids.update({t["key"]: t["id"] for t in self.sim.truth()["items"]
                         if t["key"] in new.values()})
        for p in (FB, MA):
            hit = self.wait_hits(p, "usage")[0]
            self.assertEqual(hit["status"], 200)
            # paused_until stays in the index after the pause: a pause
            # set by this reply is one past its time. (Mastodon's reset is
            # the next aligned second, possibly only moments away.)
            a = poll(lambda p=p: (self.account(p)["paused_until"] or 0) >
                     hit["t"] and self.account(p), 10, 0.05)
            self.assertTrue(a, f"{p}: no pause after a near-limit reply: "
                            f"{self.account(p)}")
            pause = a["paused_until"]
            self.assertGreaterEqual(pause, int(hit["t"]) + (
                int(self.cfg["rate_limit_pause"].rstrip("s"))
                if p == FB else 1))
            # The reply's data is archived: the new post's version comes
            # from the near-limit response itself.
            row = self.d.query(
                "SELECT v.source_seq FROM versions v JOIN items i ON"
                " i.id = v.item_id WHERE i.platform_id = ? ORDER BY v.id",
                (self.ids[new[p]],))
            self.assertTrue(row, f"{p}: the near-limit reply's post was"
                            " not archived")
            block = self.read_response(row[0][0])
            head = block.partition(b"\r\n\r\n")[0].decode().lower()
            if p == FB:
                m = re.search(r"^x-app-usage: *(.*?)\r?$", head, re.M)
                self.assertTrue(m, head)
                self.assertEqual(json.loads(m.group(1))["call_count"], 95)
            else:
                self.assertRegex(head, r"(?m)^x-ratelimit-remaining: 1\r?$")
            self.wait_recovered(p)
            during = [r for r in self.after(p, hit["t"])
                      if r["t"] < pause]
            self.assertEqual(during, [], f"{p}: requests while paused")
            self.assertEqual(self.gaps(p, self.t0), [],
                             "a near-limit pause is not a gap")
        self.assert_no_removal()
        self.assert_versions_from_complete_200()

    def test_99_regain_time_is_honoured(self):
        # Last in the class: it leaves Facebook paused for a minute.
        self.sim.fault(platform=FB, path=LISTING[FB], kind="rate_limit",
                       code=80001, regain_minutes=1, count=1)
        hit = self.wait_hits(FB, "rate_limit")[0]
        a = poll(lambda: self.account(FB)["status"] == "rate-limited" and
                 self.account(FB), 10, 0.05)
        self.assertTrue(a, self.account(FB))
        self.assertGreaterEqual(a["paused_until"], int(hit["t"]) + 59,
                                "estimated_time_to_regain_access ignored")
        self.wait_gap(FB, ("rate-limited",))
        t = time.time()
        time.sleep(3)
        self.assertEqual(self.after(FB, hit["t"]), [],
                         "requests during the regain time")
        # The other account is polled meanwhile.
        self.assertTrue(self.reqs(MA, t), "Mastodon stalled by the pause")
        self.assert_no_removal()


class ErrorsAndBadReplies(FaultCase):
    NAME = "faults-errors"

    def test_01_single_server_errors_are_retried_without_gap(self):
        faults = [(FB, LISTING[FB], {"status": 503}),
                  (FB, THREAD[FB], {"status": 500}),
                  (MA, LISTING[MA], {"status": 503}),
                  (MA, THREAD[MA], {"status": 502, "body": "json"})]
        for p, path, params in faults:
            self.sim.fault(platform=p, path=path, kind="http_5xx", count=1,
                           **params)
        for p in (FB, MA):
            failed = self.wait_hits(p, "http_5xx", 2)
            for f in failed:
                self.assertGreaterEqual(f["status"], 500)
                again = poll(lambda f=f: [
                    r for r in self.after(p, f["t"])
                    if r["path"] == f["path"] and r["status"] == 200
                    and r["t"] - f["t"] < 5], 10)
                self.assertTrue(again, f"{f['path']} not retried")
            self.wait_cycle_after(p, failed[-1]["t"])
            self.assertEqual(self.gaps(p, self.t0), [],
                             f"{p}: a retried error left a gap")
            self.assertEqual(self.account(p)["status"], "ok")
        self.assert_no_removal()
        self.assert_no_new_versions()
        self.assert_versions_from_complete_200()

    def test_02_persistent_server_error_is_a_gap(self):
        self.persistent_fault(
            {FB: {"kind": "http_5xx", "path": LISTING[FB], "status": 503},
             MA: {"kind": "http_5xx", "path": LISTING[MA], "status": 500}},
            FETCH_REASONS)

    def test_03_truncated_second_page(self):
        self.persistent_fault(
            {p: {"kind": "truncate", "path": LISTING[p], "query": PAGE2[p]}
             for p in (FB, MA)}, FETCH_REASONS)

    def test_04_malformed_second_page(self):
        self.persistent_fault(
            {p: {"kind": "malformed", "path": LISTING[p], "query": PAGE2[p]}
             for p in (FB, MA)}, FETCH_REASONS)

    def test_05_html_200_first_page(self):
        self.persistent_fault(
            {p: {"kind": "html200", "path": LISTING[p], "query": PAGE1[p]}
             for p in (FB, MA)}, FETCH_REASONS)

    def test_06_empty_200_first_page(self):
        self.persistent_fault(
            {p: {"kind": "empty200", "path": LISTING[p], "query": PAGE1[p]}
             for p in (FB, MA)}, FETCH_REASONS)

    def test_07_malformed_threads(self):
        # Every re-read thread fails: its comments are "missing" from it.
        self.persistent_fault(
            {p: {"kind": "malformed", "path": THREAD[p]} for p in (FB, MA)},
            FETCH_REASONS)

    def test_08_pagination_loop(self):
        self.persistent_fault(
            {p: {"kind": "loop", "path": LISTING[p]} for p in (FB, MA)},
            ("pagination-loop",), check_attempts=False)
        for p in (FB, MA):
            looped = self.hits(p, "loop")
            cycles = len({g["id"] for g in self.gaps(p, self.t0)
                          if g["reason"] == "pagination-loop"})
            # A loop is noticed at the first repeat: at most two listing
            # requests per cycle, not thousands.
            self.assertLessEqual(len(looped), 2 * cycles + 2,
                                 f"{p}: {len(looped)} looping requests in"
                                 f" {cycles} cycle(s)")

    def test_09_rejected_token(self):
        for p in (FB, MA):
            self.sim.fault(platform=p, path=LISTING[p], kind="auth",
                           count=-1)
        for p in (FB, MA):
            g = self.wait_gap(p, ("auth",))
            self.assertEqual(g["reason"], "auth")
            a = poll(lambda p=p: self.account(p)["status"] == "auth-failed"
                     and self.account(p), 10, 0.05)
            self.assertTrue(a, f"{p}: status {self.account(p)}")
        for p in (FB, MA):
            # A second cycle, to see how often it asks.
            self.wait_hits(p, "auth", 2, timeout=30)
        self.sim.reset_faults()
        self.assert_no_removal()
        self.assert_no_new_versions()
        status = {FB: 400, MA: 401}
        for p in (FB, MA):
            failed = self.hits(p, "auth")
            for f in failed:
                self.assertEqual(f["status"], status[p])
                # Not retried, and nothing else asked, in that cycle.
                nxt = self.after(p, f["t"])
                if nxt:
                    self.assertGreaterEqual(
                        nxt[0]["t"] - f["t"], 1.0,
                        f"{p}: {nxt[0]['path']} right after a rejected"
                        " token")
        log = self.d.log()
        for tok in TOKENS.values():
            self.assertNotIn(tok, log, "token in the daemon log")
        self.assert_recovery((FB, MA))
        for p in (FB, MA):
            # exactly one request in each cycle that met the bad token
            self.assertEqual(len(self.hits(p, "auth")), 2, p)

    def test_10_not_found_listing_never_removes(self):
        for p in (FB, MA):
            self.sim.fault(platform=p, path=LISTING[p], kind="not_found",
                           count=-1)
        for p in (FB, MA):
            hits = self.wait_hits(p, "not_found", 2, timeout=30)
            self.wait_cycle_after(p, hits[1]["t"])
        self.assert_no_removal()
        self.assert_no_new_versions()
        self.sim.reset_faults()
        self.assert_recovery((FB, MA))

    def test_11_fb_comments_not_found_never_removes(self):
        self.sim.fault(platform=FB, path=THREAD[FB], kind="not_found",
                       count=-1)
        hits = self.wait_hits(FB, "not_found", 6, timeout=30)
        self.wait_cycle_after(FB, hits[-1]["t"])
        self.assert_no_removal()
        self.assert_no_new_versions()
        self.sim.reset_faults()
        self.assert_recovery((FB,))

    # Daemon bug: capture_get() returns -ENOENT for a not-found answer
    # without recording a gap (right for lookups), and fb_poll()/ma_poll()
    # just stop the walk, so a listing that failed this way ends as a clean
    # cycle: status 'ok', last_poll_ok moved, open gaps closed.
    def test_12_not_found_listing_is_a_gap(self):
        for p in (FB, MA):
            self.sim.fault(platform=p, path=LISTING[p], kind="not_found",
                           count=-1)
        try:
            for p in (FB, MA):
                hit = self.wait_hits(p, "not_found")[0]
                self.wait_cycle_after(p, hit["t"])
            wrong = [f"{p}: no gap, status {self.account(p)['status']}"
                     for p in (FB, MA) if not self.gaps(p, self.t0) or
                     self.account(p)["status"] == "ok"]
            self.assertEqual(wrong, [], "a listing that answered"
                             " not-found passed for a clean cycle")
        finally:
            self.sim.reset_faults()

    # Daemon bug: fb_thread() treats a not-found answer from the comments
    # edge as a complete, empty listing and runs capture_listing_complete():
    # every known comment is looked up, answers not-found too, and is
    # marked removed (then 'restored' once the fault clears).
    def test_13_fb_everything_not_found_never_removes(self):
        # What a Page token swapped with another Page's gets: every object
        # answers 100/33 "does not exist". Nothing was listed completely,
        # so nothing may be marked removed.
        self.sim.fault(platform=FB, path=ALL_API[FB], kind="not_found",
                       count=-1)
        try:
            hits = self.wait_hits(FB, "not_found", 2)
            self.wait_cycle_after(FB, hits[-1]["t"])
            self.assert_no_removal()
        finally:
            self.sim.reset_faults()

    def test_14_mastodon_everything_not_found_never_removes(self):
        self.sim.fault(platform=MA, path=ALL_API[MA], kind="not_found",
                       count=-1)
        hits = self.wait_hits(MA, "not_found", 2)
        self.wait_cycle_after(MA, hits[-1]["t"])
        self.assert_no_removal()
        self.assert_no_new_versions()
        self.sim.reset_faults()
        self.assert_recovery((MA,))


class Stalls(FaultCase):
    NAME = "faults-stall"
    EXTRA_GLOBAL = {"retry_attempts": "1"}

    def stalled(self, platform, path, seconds=6):
        timeout = 2
        attempts = int(self.cfg["retry_attempts"]) + 1
        self.sim.fault(platform=platform, path=path, kind="stall",
                       seconds=seconds, count=attempts)
        g = self.wait_gap(platform, ("timeout",), timeout=30)
        stalls = self.hits(platform, "stall")
        self.assertEqual(len(stalls), attempts)
        for a, b in zip(stalls, stalls[1:]):
            # the next attempt after the timeout, not before, not much later
            self.assertGreaterEqual(b["t"] - a["t"], timeout - 0.2)
            self.assertLess(b["t"] - a["t"], timeout + 2)
        spent = g["opened"] - stalls[0]["t"]
        self.assertGreaterEqual(spent, timeout * attempts - 1)
        self.assertLess(spent, timeout * attempts + 3,
                        "the stalled request was not aborted in time")
        self.assertTrue(all(s["status"] == 0 for s in stalls))
        self.assert_no_removal()
        self.assert_no_new_versions()
        self.assert_recovery((platform,))
        return stalls

    def test_01_fb_listing_stall_times_out_into_a_gap(self):
        stalls = self.stalled(FB, LISTING[FB])
        # The daemon kept working: Mastodon was polled meanwhile.
        self.assertTrue(self.reqs(MA, stalls[-1]["t"]))

    def test_02_mastodon_context_stall_times_out_into_a_gap(self):
        self.stalled(MA, THREAD[MA])

    def test_03_sigterm_during_a_stall_stops_promptly(self):
        self.sim.fault(platform=FB, path=LISTING[FB], kind="stall",
                       seconds=30, count=-1)
        self.wait_hits(FB, "stall")
        time.sleep(0.5)
        t = time.time()
        rc = self.d.stop(timeout=15)
        took = time.time() - t
        self.assertEqual(rc, 0, self.d.log()[-2000:])
        self.assertLess(took, 3.0, "SIGTERM waited for the stalled request")
        self.assert_no_removal()
        self.assert_versions_from_complete_200()
        # Restarted with the fault gone, it catches up cleanly.
        self.sim.reset_faults()
        self.d.start()
        self.settle()
        self.assert_no_removal()


    # Daemon bug: capture_cycle() sets status 'ok' and last_poll_ok for a
    # cycle that stopped early (cap->stop) without a gap, here a listing
    # cancelled by SIGTERM in the middle of a stalled request.
    def test_04_cycle_cut_short_is_not_a_successful_poll(self):
        # accounts.last_poll_ok is "the last fully successful cycle": a
        # cycle whose listing never answered (stalled, then cut short by
        # SIGTERM) must not move it.
        self.sim.fault(platform=FB, path=LISTING[FB], kind="stall",
                       seconds=30, count=-1)
        try:
            self.wait_hits(FB, "stall")
            before = self.account(FB)
            self.assertEqual(self.d.stop(timeout=15), 0)
            after = self.account(FB)
        finally:
            self.sim.reset_faults()
            if self.d.proc is None:
                self.d.start()
                self.settle()
        self.assertGreater(after["last_poll"], before["last_poll"])
        self.assertEqual(after["last_poll_ok"], before["last_poll_ok"],
                         f"interrupted cycle recorded as successful: "
                         f"{before} -> {after}")


class DeletionsDuringFaults(FaultCase):
    NAME = "faults-delete"

    def assert_removed_after(self, key, t_deleted, t_confirm):
        it = poll(lambda: self.item(key)["state"] == "removed" and
                  self.item(key), 30, 0.2)
        self.assertTrue(it, f"{key} never removed: {self.item(key)}")
        self.assertLessEqual(it["last_seen"], t_deleted, key)
        self.assertIsNotNone(it["first_missing"], key)
        self.assertGreater(it["first_missing"], it["last_seen"], key)
        self.assertGreaterEqual(it["first_missing"], int(t_confirm), key)
        self.assertGreaterEqual(it["removed_at"], it["first_missing"], key)

    def test_01_deleted_while_listing_fails(self):
        keys = {FB: "fo5", MA: "mo5"}
        kinds = {FB: "http_5xx", MA: "malformed"}
        for p in (FB, MA):
            self.sim.fault(platform=p, path=LISTING[p], kind=kinds[p],
                           count=-1)
        first = {p: self.wait_gap(p, FETCH_REASONS) for p in (FB, MA)}
        t_deleted = time.time()
        self.sim.actions([{"op": "delete", "key": keys[FB]},
                          {"op": "delete", "key": keys[MA]}])
        # A further failing cycle after the deletion, to its end.
        for p in (FB, MA):
            self.wait_next_gap(p, first[p])
            self.wait_cycle_end(p)
        for p in (FB, MA):
            it = self.item(keys[p])
            self.assertNotEqual(it["state"], "removed",
                                f"{keys[p]} removed while the listing failed")
            self.assertIsNone(it["first_missing"], keys[p])
        self.assert_no_removal()
        t_reset = time.time()
        self.sim.reset_faults()
        for p in (FB, MA):
            self.assert_removed_after(keys[p], t_deleted, t_reset)
            self.wait_recovered(p)
        self.assert_no_removal(allowed=keys.values())
        self.assert_versions_from_complete_200()

    # Daemon bug (same cause as ErrorsAndBadReplies.test_13): the deleted
    # post's comments edge answers not-found, fb_thread() takes that for a
    # complete empty listing, and the comment is removed while no complete
    # listing has been read.
    def test_02_fb_comment_of_post_deleted_while_listing_fails(self):
        # fr2's thread is re-read every cycle. Deleted with its post while
        # the posts listing fails, its comment may be marked removed only
        # after a complete listing (and lookups) confirm it.
        self.sim.fault(platform=FB, path=LISTING[FB], kind="http_5xx",
                       count=-1)
        try:
            first = self.wait_gap(FB, FETCH_REASONS)
            self.sim.actions([{"op": "delete", "key": "fr2"}])
            self.wait_next_gap(FB, first)
            self.wait_cycle_end(FB)
            self.assertNotEqual(self.item("fc2")["state"], "removed",
                                "comment removed while the listing failed")
        finally:
            self.sim.reset_faults()

    def test_03_rate_limited_lookup(self):
        keys = {FB: "fo7", MA: "mo7"}
        t_deleted = time.time()
        # The fault first, then the deletion, in one step: the first
        # lookup of the deleted post is the one limited.
        self.sim.actions([
            {"op": "fault", "platform": FB, "kind": "rate_limit",
             "path": lookup_path(FB, self.ids[keys[FB]]), "code": 4},
            {"op": "fault", "platform": MA, "kind": "rate_limit",
             "path": lookup_path(MA, self.ids[keys[MA]]),
             "reset_seconds": 3},
            {"op": "delete", "key": keys[FB]},
            {"op": "delete", "key": keys[MA]}])
        hits = {p: self.wait_hits(p, "rate_limit")[0] for p in (FB, MA)}
        paused = {}
        for p in (FB, MA):
            a = poll(lambda p=p: self.account(p)["status"] == "rate-limited"
                     and (self.account(p)["paused_until"] or 0) >
                     time.time() and self.account(p), 10, 0.05)
            self.assertTrue(a, f"{p}: not paused: {self.account(p)}")
            paused[p] = a["paused_until"]
            self.wait_gap(p, ("rate-limited",))
            it = self.item(keys[p])
            self.assertNotEqual(it["state"], "removed",
                                f"{keys[p]} removed though its lookup was"
                                " rate limited")
        for p in (FB, MA):
            it = poll(lambda p=p: self.item(keys[p])["state"] == "removed"
                      and self.item(keys[p]), 30, 0.2)
            self.assertTrue(it, f"{keys[p]} never removed")
            self.assertLessEqual(it["last_seen"], t_deleted)
            self.assertGreater(it["first_missing"], it["last_seen"])
            # confirmed by a lookup after the pause, not before
            self.assertGreaterEqual(it["removed_at"], paused[p])
            self.wait_recovered(p)
            during = [r for r in self.after(p, hits[p]["t"])
                      if r["t"] < paused[p]]
            self.assertEqual(during, [], f"{p}: requests while paused")
        self.assert_no_removal(allowed=keys.values())
        self.assert_versions_from_complete_200()

    def test_04_failing_lookups(self):
        keys = {FB: "fo8", MA: "mo8"}
        t_deleted = time.time()
        self.sim.actions([
            {"op": "fault", "platform": FB, "kind": "auth", "count": -1,
             "path": lookup_path(FB, self.ids[keys[FB]])},
            {"op": "fault", "platform": MA, "kind": "http_5xx", "count": -1,
             "path": lookup_path(MA, self.ids[keys[MA]])},
            {"op": "delete", "key": keys[FB]},
            {"op": "delete", "key": keys[MA]}])
        self.wait_gap(FB, ("auth",))
        self.wait_gap(MA, FETCH_REASONS)
        for p in (FB, MA):
            self.wait_failed_cycle(p)
            it = self.item(keys[p])
            self.assertNotEqual(it["state"], "removed",
                                f"{keys[p]} removed on a failed lookup")
            # A complete listing lacked it: first_missing is recorded.
            self.assertIsNotNone(it["first_missing"], keys[p])
        self.assertEqual(self.account(FB)["status"], "auth-failed")
        self.assertEqual(self.account(MA)["status"], "gap")
        self.assert_no_removal()
        t_reset = time.time()
        self.sim.reset_faults()
        for p in (FB, MA):
            it = poll(lambda p=p: self.item(keys[p])["state"] == "removed"
                      and self.item(keys[p]), 40, 0.2)
            self.assertTrue(it, f"{keys[p]} never removed")
            self.assertLessEqual(it["last_seen"], t_deleted)
            self.assertGreater(it["first_missing"], it["last_seen"])
            self.assertGreaterEqual(it["removed_at"], int(t_reset))
            self.wait_recovered(p)
        self.assert_no_removal(allowed=keys.values())
        self.assert_versions_from_complete_200()


if __name__ == "__main__":
    unittest.main()
