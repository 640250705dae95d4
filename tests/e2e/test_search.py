#!/usr/bin/env python3
"""sunarchive search: what a records request needs from it.

The fixture index of test_cli.py (three accounts, a thread with a hidden
comment, a removed post, an edited post, ...) plus a longer thread of
comments, some removed or hidden, and texts made for ranking. Every test
runs twice: on an index with the search step of the schema migrations
(the SQL of daemon/index.c applied, as the daemon would) and on the bare
version 1 schema, which the CLI must search the same way, only slower.

Checked through the real binary: every new option narrows correctly;
removed items are included by default; --with-thread returns whole
threads with context marked; paging, counts and totals agree; sort
orders; the JSON shape; and hostile text (quotes, NEAR, parentheses,
10 KB, invalid UTF-8, SQL) gets exit 2 with a message naming the
position, or a correct result: never a crash, a signal, or SQL.

Run by tests/run.py or alone:
    SUNARCHIVE_BUILD=/abs/build python3 tests/e2e/test_search.py
"""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

import test_cli
from test_cli import CLI, ROOT, run, ts

INDEX_C = os.path.join(ROOT, "daemon", "index.c")
# The extra thread: comments on item 1 (FB_POST), items 12..35.
EXTRA = range(12, 36)
REMOVED_EXTRA = {12, 20}
HIDDEN_EXTRA = {15}
T_EXTRA = ts("2026-03-06T00:00:00Z")


def search_migration_sql():
    """The SQL of the "2 -> 3: search" step of migrations[] in index.c."""
    with open(INDEX_C, encoding="utf-8") as f:
        src = f.read()
    start = src.index("2 -> 3: search")
    start = src.index("*/", start) + 2
    sql = []
    for line in src[start:].splitlines():
        s = line.strip()
        if s.startswith("/*") or s.startswith("};"):
            break
        for lit in re.findall(r'"((?:[^"\\]|\\.)*)"', s):
            sql.append(lit.replace('\\"', '"'))
    text = "".join(sql)
    if "item_authors" not in text:
        raise RuntimeError("cannot find the search migration in index.c")
    return text


class SearchFixture(test_cli.Fixture):
    def extra(self, migrate):
        """The extra items, then the search migration if asked."""
        self.db = sqlite3.connect(os.path.join(self.state_dir,
                                               "index.sqlite"))
        if migrate:
            # As index_open() migrates: the step, then the version.
            self.db.executescript(search_migration_sql())
            self.db.execute("PRAGMA user_version=3")
        for n, iid in enumerate(EXTRA):
            t = T_EXTRA + n * 3600
            state = "removed" if iid in REMOVED_EXTRA else (
                "hidden" if iid in HIDDEN_EXTRA else "live")
            text = "Parking permit question %d" % iid
            if iid == 30:
                text = "parking parking parking lot full, parking again"
            if iid == 31:
                text = ("A long note that mentions parking once among many"
                        " other words about the library, the schedule,"
                        " the council and the weather this week")
            self.item(iid, 1, "facebook",
                      "200000000000001_4000000000%05d" % iid,
                      "comment" if iid % 4 else "reply", t,
                      "Resident %d" % iid, [(t + 60 + (35 - iid) * 600,
                                             text)],
                      parent_id=test_cli.FB_POST,
                      root_id=test_cli.FB_POST, state=state,
                      hidden=1 if iid in HIDDEN_EXTRA else 0)
        self.db.commit()
        self.db.close()


class SearchTest(unittest.TestCase):
    migrate = True

    @classmethod
    def setUpClass(cls):
        if not os.access(CLI, os.X_OK):
            raise RuntimeError("no %s: build it first (make)" % CLI)
        cls.tmp = tempfile.mkdtemp(prefix="sunarchive-search-")
        cls.state = os.path.join(cls.tmp, "state")
        os.mkdir(cls.state)
        cls.fx = SearchFixture(cls.state)
        cls.fx.build()
        cls.fx.extra(cls.migrate)
        db = sqlite3.connect(os.path.join(cls.state, "index.sqlite"))
        cls.rows = {r[0]: r for r in db.execute(
            "SELECT id, kind, state, hidden, created, first_seen, root_id,"
            " platform_id, account_id FROM items")}
        db.close()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def cli(self, *args, code=0, **kw):
        rc, out, err = run(*args, state_dir=self.state, **kw)
        self.assertEqual(rc, code, "exit %d for %r\nstdout:\n%s\nstderr:\n%s"
                         % (rc, args, out[:2000], err[:2000]))
        self.assertNotIn("Sanitizer", err)
        self.assertNotIn("runtime error", err)
        return out, err

    def page(self, *args, code=0):
        out, _ = self.cli("search", "--json", "--limit", "1000", *args,
                          code=code)
        if code != 0:
            self.assertEqual(out, "")
            return None
        return json.loads(out)

    def ids(self, *args, code=0):
        p = self.page(*args, code=code)
        return [] if p is None else [o["id"] for o in p["items"]]

    def by_created(self, pred):
        return [r[0] for r in sorted(self.rows.values(),
                                     key=lambda r: (r[4], r[0]))
                if pred(r)]

    # --- removed and hidden ----------------------------------------------

    def test_removed_included_by_default(self):
        everything = self.ids()
        self.assertEqual(len(everything), len(self.rows))
        for iid in {6} | REMOVED_EXTRA:
            self.assertIn(iid, everything)
        self.assertEqual(self.ids("--include-removed"), everything)
        self.assertEqual(self.ids("--only-removed"),
                         self.by_created(lambda r: r[2] == "removed"))
        self.assertEqual(self.ids("--exclude-removed"),
                         self.by_created(lambda r: r[2] != "removed"))
        # The last of the three options given wins.
        self.assertEqual(self.ids("--exclude-removed", "--only-removed"),
                         self.ids("--only-removed"))
        out, _ = self.cli("search", "--help")
        self.assertIn("--include-removed", out)
        self.assertIn("records law", out)

    def test_hidden(self):
        self.assertEqual(self.ids("--hidden", "only"), [4, 15])
        self.assertEqual(self.ids("--hidden", "exclude"),
                         self.by_created(lambda r: not r[3]))
        self.assertEqual(self.ids("--hidden", "include"), self.ids())
        _, err = self.cli("search", "--hidden", "some", code=2)
        self.assertIn("unknown --hidden 'some'", err)

    def test_kind(self):
        for kind in ("post", "comment", "reply"):
            self.assertEqual(self.ids("--kind", kind),
                             self.by_created(lambda r: r[1] == kind), kind)
        self.assertEqual(self.ids("--kind", "reply", "--only-removed"),
                         [12, 20])
        self.cli("search", "--kind", "tweet", code=2)

    def test_filters_combine(self):
        self.assertEqual(self.ids("--text", "parking", "--kind", "comment",
                                  "--exclude-removed", "--hidden",
                                  "exclude", "--account", "city-facebook"),
                         [3] + [i for i in EXTRA if i % 4 and
                                i not in REMOVED_EXTRA | HIDDEN_EXTRA])
        self.assertEqual(self.ids("--author", "resident 2",
                                  "--from", "2026-03-06"),
                         [i for i in EXTRA if str(i).startswith("2")])

    # --- text syntax -----------------------------------------------------

    def test_text_syntax(self):
        self.assertEqual(self.ids("--text", '"moved to wednesday"'), [2])
        self.ids("--text", '"to wednesday moved"', code=1)
        self.assertEqual(self.ids("--text", "wednes*"), [2])
        self.assertEqual(self.ids("--text", "snow OR garage"), [7, 5])
        self.assertEqual(self.ids("--text", "(snow OR garage) odd"),
                         [7])
        self.assertEqual(self.ids("--text", "parking NOT permit"),
                         [3, 30, 31])
        self.assertEqual(self.ids("--text", "budget AND tuesday"), [2])
        # Lower-case operators are words.
        self.ids("--text", "snow or garage", code=1)
        self.assertEqual(self.ids("--text", '"NEAR" park'), [6])

    def test_text_errors_name_the_position(self):
        for text, want in (
                ("NEAR", "NEAR at character 1"),
                ("road NEAR(a b)", "NEAR at character 6"),
                ("text:road", "':' at character 5"),
                ("^road", "'^' at character 1"),
                ("road -closure", "'-' at character 6"),
                ("(road", "'(' at character 1 is not closed"),
                ("road)", "')' at character 5"),
                ("()", "empty parentheses at character 1"),
                ('"road', "quote at character 1 is not closed"),
                ("road AND", "AND at character 6"),
                ("OR road", "OR at character 1"),
                ("ro*ad", "'*' at character 3"),
                ("x" * 1001, "too long"),
                (" ".join("w%d" % i for i in range(65)), "too many words"),
                ("(" * 17 + "a" + ")" * 17, "nested more than 16"),
                ("& --", "no words to search for")):
            out, err = self.cli("search", "--text", text, code=2)
            self.assertEqual(out, "")
            self.assertIn("bad --text query: ", err, text[:40])
            self.assertIn(want, err, text[:40])
            self.assertEqual(err.count("\n"), 1, err)

    def test_hostile_text(self):
        hostile = ['"', '""', '"unterminated', 'a"b', "(", ")", "((((",
                   "))))", "(()", "NEAR", "NEAR(a b)", "NEAR/3", "*", "a*",
                   "**", "^start", "AND", "OR", "NOT", "a OR", "NOT a",
                   "a NOT", "a OR b", "col:word", "text:road", "-road",
                   "+road", "{text author}: road", "'; DROP TABLE items; --",
                   "'); DROP TABLE items; --",
                   '") OR 1=1 --', "%", "_", "\\", "road\x7f", "\x1b[31m",
                   "x" * 10240, " ".join("w%d" % i for i in range(2000)),
                   "(" * 5000, '"' * 10000, "(" * 1000 + ")" * 1000,
                   "a " * 500, '"a" ' * 300, "\u202eroad",
                   "\ufeffroad", "r\u00f6ad", "\U0001f642"]
        for text in hostile:
            rc, out, err = run("search", "--text", text,
                               state_dir=self.state)
            self.assertIn(rc, (0, 1, 2), repr(text[:40]))
            for bad in ("fts5", "syntax error", "SQL", "malformed MATCH",
                        "cannot read index", "cannot search"):
                self.assertNotIn(bad, err, repr(text[:40]))
            if rc == 2:
                self.assertIn("bad --text query", err)
        # Whatever was typed, the tables are all still there.
        self.assertEqual(len(self.ids()), len(self.rows))

    def test_invalid_utf8_and_nul(self):
        for raw in (b"\xff\xfe", b"road\xc3", b"\xed\xa0\x80x",
                    b"caf\xe9", b"\xc0\xaf", b"\xf4\x90\x80\x80"):
            p = subprocess.run([CLI, "-s", self.state, "search", "--text",
                                raw], capture_output=True, timeout=60)
            self.assertEqual(p.returncode, 2, raw)
            self.assertIn(b"not valid UTF-8 at character", p.stderr)
        # A NUL cannot be passed in argv; the translator refuses it (unit
        # test). Other options take any bytes as values and match nothing.
        for opt in ("--author", "--account"):
            p = subprocess.run([CLI, "-s", self.state, "search", opt,
                                b"\xff'--", "--json"], capture_output=True,
                               timeout=60)
            self.assertEqual(p.returncode, 1, opt)

    def test_sql_in_values(self):
        for opt, val in (("--account", "x' OR '1'='1"),
                         ("--author", "' OR 1=1; DROP TABLE items; --"),
                         ("--author", "%"),
                         ("--text", '"\'); DROP TABLE items; --"')):
            out, err = self.cli("search", opt, val, code=1)
            self.assertEqual(out, "")
        self.assertEqual(len(self.ids()), len(self.rows))

    # --- threads ---------------------------------------------------------

    def test_with_thread(self):
        p = self.page("--text", "garage", "--with-thread")
        got = [(o["id"], o["context"]) for o in p["items"]]
        # The post first, then its comments and replies by creation time.
        self.assertEqual(got, [(2, True), (3, True), (4, True), (5, False)])
        self.assertEqual(p["total"], 1)
        self.assertEqual(self.page("--text", "garage")["items"][0]["context"],
                         False)
        # A Mastodon thread; the same status id on another instance is not
        # part of it.
        self.assertEqual(self.ids("--text", "thanks", "--with-thread"),
                         [7, 8])
        self.assertEqual(self.ids("--account", "parks-mastodon",
                                  "--with-thread"), [11])
        # Two matches in one thread: the thread once, both matches marked.
        p = self.page("--text", "hearing OR parking", "--account",
                      "city-facebook", "--kind", "post", "--with-thread")
        ctx = {o["id"]: o["context"] for o in p["items"]}
        self.assertFalse(ctx[2])
        self.assertTrue(ctx[3])
        self.assertEqual(len(p["items"]), len(ctx))

    def test_with_thread_whole_thread(self):
        thread = self.by_created(lambda r: r[8] == 1 and (
            r[7] == test_cli.FB_POST or r[6] == test_cli.FB_POST))
        thread.remove(1)
        p = self.page("--text", "closure", "--with-thread")
        self.assertEqual([o["id"] for o in p["items"]], [1] + thread)
        self.assertEqual([o["id"] for o in p["items"] if not o["context"]],
                         [1])
        # Removed and hidden items of the thread are there too.
        for iid in REMOVED_EXTRA | HIDDEN_EXTRA:
            self.assertIn(iid, [o["id"] for o in p["items"]])
        out, _ = self.cli("search", "--text", "closure", "--with-thread")
        lines = out.splitlines()
        self.assertRegex(lines[0], r"^1 item matches \(showing 1-1, with"
                         r" %d more items of their threads as context\)$"
                         % len(thread))
        self.assertRegex(lines[1], r"^MATCH\s+ID PLATFORM")
        self.assertRegex(lines[2], r"^match\s+1 facebook")
        self.assertRegex(lines[3], r"^context\s+\d+ facebook")

    # --- paging, counts, order ------------------------------------------

    def test_paging_and_totals(self):
        full = self.ids("--text", "parking")
        self.assertGreater(len(full), 20)
        got = []
        for off in range(0, len(full) + 5, 5):
            p = self.page("--text", "parking", "--limit", "5", "--offset",
                          str(off))
            self.assertEqual(p["total"], len(full))
            self.assertEqual((p["offset"], p["limit"]), (off, 5))
            got += [o["id"] for o in p["items"]]
        self.assertEqual(got, full)
        self.assertEqual(self.ids("--text", "parking", "--limit", "5",
                                  "--page", "3"), full[10:15])
        out, _ = self.cli("search", "--text", "parking", "--limit", "5",
                          "--page", "2")
        self.assertEqual(out.splitlines()[0], "%d items match (showing"
                         " 6-10)" % len(full))
        # Past the end: the total, no rows, exit 0.
        out, _ = self.cli("search", "--text", "parking", "--offset", "500")
        self.assertEqual(out, "%d items match (none shown: --offset 500 is"
                         " past the end)\n" % len(full))
        p = json.loads(self.cli("search", "--json", "--offset", "500")[0])
        self.assertEqual((p["total"], p["items"]), (len(self.rows), []))
        self.cli("search", "--page", "2", "--offset", "5", code=2)
        self.cli("search", "--page", "0", code=2)
        self.cli("search", "--offset", "-1", code=2)

    def test_count(self):
        out, _ = self.cli("search", "--count")
        db = sqlite3.connect(os.path.join(self.state, "index.sqlite"))
        nver = db.execute("SELECT COUNT(*) FROM versions").fetchone()[0]
        db.close()
        self.assertEqual(out, "%d items match (%d versions)\n"
                         % (len(self.rows), nver))
        c = json.loads(self.cli("search", "--count", "--json")[0])
        self.assertEqual(c, {"total": len(self.rows), "versions": nver})
        for args in (("--text", "parking"), ("--only-removed",),
                     ("--kind", "reply", "--hidden", "exclude"),
                     ("--text", "permit", "--exclude-removed")):
            c = json.loads(self.cli("search", "--count", "--json",
                                    *args)[0])
            self.assertEqual(c["total"], len(self.ids(*args)), args)
            self.assertEqual(c["total"], self.page(*args)["total"], args)
        # With text, the versions that match: all three of item 2.
        c = json.loads(self.cli("search", "--count", "--json", "--text",
                                "budget")[0])
        self.assertEqual(c, {"total": 1, "versions": 3})
        c = json.loads(self.cli("search", "--count", "--json", "--text",
                                "tuesday")[0])
        self.assertEqual(c, {"total": 1, "versions": 1})
        out, err = self.cli("search", "--count", "--text", "zoning",
                            code=1)
        self.assertEqual(out, "0 items match (0 versions)\n")

    def test_sort_orders(self):
        self.assertEqual(self.ids(), self.by_created(lambda r: True))
        self.assertEqual(self.ids("--order", "desc"),
                         self.by_created(lambda r: True)[::-1])
        by_seen = [r[0] for r in sorted(self.rows.values(),
                                        key=lambda r: (r[5], r[0]))]
        self.assertEqual(self.ids("--sort", "captured"), by_seen)
        self.assertEqual(self.ids("--sort", "captured", "--order", "desc"),
                         by_seen[::-1])
        rel = self.ids("--text", "parking", "--sort", "relevance")
        self.assertEqual(sorted(rel), sorted(self.ids("--text", "parking")))
        # Four times "parking" in a short text beats once in a long one.
        self.assertEqual(rel[0], 30)
        self.assertLess(rel.index(30), rel.index(31))
        self.assertEqual(self.ids("--text", "parking", "--sort",
                                  "relevance", "--order", "asc"),
                         rel[::-1])
        _, err = self.cli("search", "--sort", "relevance", code=2)
        self.assertIn("--sort relevance needs --text", err)
        self.cli("search", "--sort", "random", code=2)
        self.cli("search", "--order", "up", code=2)

    def test_json_shape(self):
        p = self.page("--text", "garage")
        self.assertEqual(list(p), ["total", "offset", "limit", "items"])
        self.assertEqual((p["total"], p["offset"], p["limit"]), (1, 0, 1000))
        (o,) = p["items"]
        self.assertEqual(o["id"], 5)
        self.assertEqual(o["text"], "Yes, the garage on 5th is open")
        self.assertIs(o["context"], False)
        for key in ("platform", "account", "kind", "platform_id",
                    "root_id", "created", "state", "hidden", "nversions"):
            self.assertIn(key, o)
        out, _ = self.cli("search", "--json")
        self.assertEqual(json.loads(out)["limit"], 100)

    def test_no_match_and_io(self):
        out, err = self.cli("search", "--text", "zoning", code=1)
        self.assertEqual((out, err.strip()), ("", "sunarchive: no items"
                                              " match"))
        _, err = self.cli("search", "--account", "city-twitter", code=1)
        self.assertIn("no account 'city-twitter'", err)
        rc, _, err = run("search", "--text", "road",
                         state_dir=os.path.join(self.tmp, "nowhere"))
        self.assertEqual(rc, 3)
        self.assertIn("cannot open index", err)


class SearchTestSchemaV1(SearchTest):
    """The same on an index without the search migration."""
    migrate = False


if __name__ == "__main__":
    unittest.main()
