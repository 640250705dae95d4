#!/usr/bin/env python3
"""Records-request response packages from the real archive.

The real sunarchived archives the simulator's small.json scenario (edits,
a hidden comment, deletions on both platforms), with comments planted
through /_sim/actions that carry Social Security numbers, Luhn-valid
card numbers, look-alikes that must be kept, an SSN edited away, and a
phone number for a clerk's manual redaction; it signs checkpoints and
time-stamps them at a local TSA (tests/tsa). Then, with the daemon
stopped, `sunarchive export` writes packages (.zip and .tar.gz), by
filters and by a records request, and each is checked independently:

- exactly the items the filter matches and every version of each, with
  states and removal bounds as the index has them; removed content is
  present and marked (HTML banner with its times, CSV state and bounds);
- the bag: bagit.txt, Payload-Oxum, every manifest and tag manifest line
  verifies, and no payload file is unlisted;
- the WARC copy parses, every digest verifies, and every member is byte
  for byte the stored member at the offset the index gives;
- HTML pages load nothing: no script, no http(s) or protocol-relative
  src/href, no url() in CSS;
- records.csv parses with Python's csv module, one row per version;
- redaction: planted SSNs and Luhn-valid cards are gone from the HTML,
  CSV and JSON copies (also an edited-away version), look-alikes stay,
  redactions.csv lists each with its citation, the WARC copy is left out
  unless --include-originals (and then holds the originals);
- with the TSA, the commands VERIFY.txt gives succeed as written;
- the archive directory and the index are byte-identical before and
  after; an "export" event is queued in the spool.

Run by tests/run.py or alone:
    SUNARCHIVE_BUILD=/abs/build python3 tests/e2e/test_export.py
"""
import csv
import hashlib
import html.parser
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import unittest
import zipfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

CLI = os.path.join(harness.BUILD, "sunarchive")
MKTSA = os.path.join(harness.ROOT, "tests", "tsa", "mktsa.sh")
TSA_SERVER = os.path.join(harness.ROOT, "tests", "tsa", "tsa_server.py")
OPENSSL = shutil.which("openssl")
SHA256SUM = shutil.which("sha256sum")

# Planted in comments (kept apart so each can be looked for alone).
SSN_A = "212-33-4455"           # in a comment
SSN_B = "345-67-8901"           # only in the first version of another
CARD_FB = "4111 1111 1111 1111"     # Visa test number, Luhn-valid
CARD_MA = "5555555555554444"        # Mastercard test number, Luhn-valid
LOOK_CARD = "4111 1111 1111 1112"   # fails Luhn
LOOK_SSN = "000-12-3456"            # area 000: never an SSN
PHONE = "555-0142"                  # the clerk redacts it by hand
MANUAL_CITE = "Fla. Stat. 119.071(4)(d) (test)"

PLANTED = [
    {"op": "comment", "on": "fb1", "key": "p_ssn", "author": "P. Leaker",
     "text": f"My SSN is {SSN_A}, please fix my utility account."},
    {"op": "comment", "on": "fb1", "key": "p_card", "author": "C. Payer",
     "text": f"Charge it to {CARD_FB} exp 12/27 thanks"},
    {"op": "comment", "on": "fb1", "key": "p_look", "author": "L. Alike",
     "text": f"Order {LOOK_CARD}, reference {LOOK_SSN}."},
    {"op": "comment", "on": "fb1", "key": "p_edit", "author": "E. Ditor",
     "text": f"Call me about it, SSN {SSN_B}"},
    {"op": "comment", "on": "fb1", "key": "p_phone", "author": "R. Caller",
     "text": f"My number is {PHONE}, call after 5pm."},
    {"op": "comment", "on": "ma1", "key": "p_macard", "author": "M. Toot",
     "text": f"pay with {CARD_MA} please"},
]
EDIT_AWAY = [{"op": "edit", "key": "p_edit", "text": "Call me about it."}]

TSA_DIR = None


def setUpModule():
    global TSA_DIR
    if OPENSSL is None:
        return
    TSA_DIR = tempfile.mkdtemp(prefix="sunarchive-export-tsa-")
    subprocess.run(["sh", MKTSA, TSA_DIR], check=True, capture_output=True,
                   timeout=120)


def tearDownModule():
    if TSA_DIR is not None and not os.environ.get("SUNARCHIVE_KEEP"):
        shutil.rmtree(TSA_DIR, ignore_errors=True)


class Tsa:
    """tests/tsa/tsa_server.py as a child process."""

    def __init__(self, workdir):
        self.portfile = os.path.join(workdir, "tsa.port")
        self.errf = open(os.path.join(workdir, "tsa.err"), "w")
        self.proc = subprocess.Popen(
            [sys.executable, TSA_SERVER, "--dir", TSA_DIR, "--port", "0",
             "--port-file", self.portfile, "--log",
             os.path.join(workdir, "tsa.jsonl")],
            stdout=self.errf, stderr=self.errf)
        harness.wait_until(lambda: os.path.exists(self.portfile), 15,
                           what="TSA port file")
        with open(self.portfile) as f:
            self.url = "http://127.0.0.1:%d/" % int(f.read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.errf.close()


def run(*args, timeout=120):
    p = subprocess.run([CLI] + list(args), capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def tree_hashes(*paths):
    """{path: sha256} of every file under the paths (files or dirs)."""
    out = {}
    for p in paths:
        if os.path.isfile(p):
            with open(p, "rb") as f:
                out[p] = hashlib.sha256(f.read()).hexdigest()
            continue
        for root, _, files in os.walk(p):
            for name in files:
                full = os.path.join(root, name)
                with open(full, "rb") as f:
                    out[full] = hashlib.sha256(f.read()).hexdigest()
    return out


def read_bag(path):
    """(top directory, {relative name: bytes}) of a .zip or .tar.gz."""
    files = {}
    if path.endswith(".zip"):
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if not info.is_dir():
                    files[info.filename] = z.read(info)
    else:
        with tarfile.open(path, "r:gz") as t:
            for m in t.getmembers():
                if m.isfile():
                    files[m.name] = t.extractfile(m).read()
    tops = {n.split("/", 1)[0] for n in files}
    assert len(tops) == 1, tops
    top = tops.pop()
    return top, {n.split("/", 1)[1]: b for n, b in files.items()}


def tfmt(t):
    if t is None or t == 0:
        return ""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class NoExternal(html.parser.HTMLParser):
    """Collects what an HTML page would load or run."""

    def __init__(self):
        super().__init__()
        self.problems = []
        self.in_style = False

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed", "base"):
            self.problems.append(f"<{tag}>")
        if tag == "link":
            self.problems.append("<link>")
        if tag == "style":
            self.in_style = True
        for k, v in attrs:
            v = v or ""
            if k.startswith("on"):
                self.problems.append(f"{tag} {k}=")
            if k in ("src", "href", "srcset", "poster", "action", "data") \
                    and re.match(r"\s*([a-z][a-z0-9+.-]*:|//)", v, re.I):
                self.problems.append(f"{tag} {k}={v}")
            if k == "style" and "url(" in v.lower():
                self.problems.append(f"{tag} style url()")

    def handle_endtag(self, tag):
        if tag == "style":
            self.in_style = False

    def handle_data(self, data):
        if self.in_style and ("url(" in data.lower() or
                              "@import" in data.lower()):
            self.problems.append("url() in <style>")


class Export(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.wd = harness.Workdir("export")
        w = cls.wd.path
        cls.tsa = Tsa(w) if TSA_DIR is not None else None
        cls.sim = harness.Simulator(w, "small.json")
        rc, _, err = run("keygen", "--name", "city.example.gov/export-test",
                         "--out", os.path.join(w, "ledger.key"))
        assert rc == 0, err
        g = {"signing_key_file": os.path.join(w, "ledger.key"),
             "signing_key_name": "city.example.gov/export-test"}
        if cls.tsa is not None:
            g.update({"tsa_url": cls.tsa.url, "tsa_interval": "0",
                      "tsa_ca_file": os.path.join(TSA_DIR, "ca1.pem")})
        cls.d = harness.Daemon(w, cls.sim, extra_global=g)
        cls.d.start()
        try:
            cls.d.wait_cycles(1)
            cls.sim.actions(PLANTED)
            cls.d.wait_cycles(2)
            cls.sim.actions(EDIT_AWAY)
            cls.d.wait_cycles(2)
            # A capture gap on Mastodon: its listing fails for a while.
            cls.sim.fault(platform="mastodon", kind="http_5xx", count=-1,
                          path=r"^/api/v1/accounts/\d+/statuses$")
            cls.d.wait_cycles(1)
            cls.sim.reset_faults()
            for _ in range(1, cls.sim.status()["steps"]):
                cls.sim.step()
                cls.d.wait_cycles(2)
            cls.d.wait_cycles(1)
        finally:
            cls.rc = cls.d.stop()
        cls.truth = {t["key"]: t for t in cls.sim.truth()["items"]}
        cls.sim.stop()
        cls.state = cls.d.state
        # A records request (this writes the index and the spool).
        rc, out, err = cls.cli("request", "open", "--requester",
                               "J. Public", "--received", "2026-03-02",
                               "--state", "FL", "--description",
                               "City Mastodon posts", "--account", "ma-001",
                               "--json")
        cls.request = json.loads(out)["request"] if rc == 0 else None
        cls.request_err = err
        cls.before = cls.archive_hashes()
        cls.out = os.path.join(w, "out")
        os.mkdir(cls.out)
        cls.cache = {}

    @classmethod
    def tearDownClass(cls):
        if cls.tsa is not None:
            cls.tsa.stop()
        cls.wd.cleanup()

    @classmethod
    def cli(cls, *args):
        return run("-s", cls.d.state, *args)

    @classmethod
    def archive_hashes(cls):
        return tree_hashes(os.path.join(cls.d.state, "archive"),
                           os.path.join(cls.d.state, "index.sqlite"))

    def export(self, name, *args, expect=0):
        """Export into out/NAME once; (summary, top, files)."""
        if name in self.cache:
            return self.cache[name]
        path = os.path.join(self.out, name)
        rc, out, err = self.cli("export", *args, "--out", path, "--json")
        self.assertEqual(rc, expect, err)
        summary = json.loads(out)
        top, files = read_bag(path)
        self.cache[name] = (summary, top, files)
        return self.cache[name]

    def fb(self):
        return self.export("fb.zip", "--account", "fb-001")

    # -- helpers over the index ------------------------------------------
    def items_of(self, account):
        rows = self.d.query(
            "SELECT i.id, i.platform_id, i.state, i.hidden, i.last_seen,"
            " i.first_missing, i.removed_at, i.nversions FROM items i"
            " JOIN accounts a ON a.id = i.account_id WHERE a.name = ?",
            (account,))
        return {r[1]: r for r in rows}

    def versions_of(self, item_id):
        return self.d.query("SELECT hash, text FROM versions WHERE item_id"
                            " = ? ORDER BY id", (item_id,))

    def csv_rows(self, files):
        text = files["data/records.csv"].decode("utf-8")
        return list(csv.DictReader(io.StringIO(text, newline="")))

    def pid(self, key):
        return self.truth[key]["id"]

    # -- tests -------------------------------------------------------------
    def test_daemon_ran_and_planted_items_archived(self):
        self.assertEqual(self.rc, 0, self.d.log()[-2000:])
        items = self.items_of("fb-001")
        for key in ("p_ssn", "p_card", "p_look", "p_edit", "p_phone"):
            self.assertIn(self.pid(key), items, key)
        self.assertEqual(items[self.pid("p_edit")][7], 2,
                         "the SSN was edited away: two versions")

    def test_exactly_the_matching_items_and_every_version(self):
        summary, _, files = self.fb()
        items = self.items_of("fb-001")
        rows = self.csv_rows(files)
        self.assertEqual({r["item_id"] for r in rows}, set(items))
        # Same set as `search` gives.
        rc, out, _ = self.cli("search", "--account", "fb-001", "--limit",
                              "100000", "--json")
        self.assertEqual(rc, 0)
        self.assertEqual({i["platform_id"] for i in json.loads(out)["items"]},
                         set(items))
        self.assertEqual(len(rows), sum(r[7] for r in items.values()))
        self.assertEqual(summary["versions"], len(rows))
        self.assertEqual(summary["items"], len(items))
        for pid, it in items.items():
            mine = [r for r in rows if r["item_id"] == pid]
            want = self.versions_of(it[0])
            self.assertEqual([r["content_sha256"] for r in mine],
                             [h for h, _ in want], pid)
            self.assertEqual([int(r["version"]) for r in mine],
                             list(range(1, len(want) + 1)))
            for r in mine:
                self.assertEqual(r["state"], it[2], pid)
                self.assertEqual(r["hidden"], "yes" if it[3] else "no")
                self.assertEqual(r["last_seen"], tfmt(it[4]), pid)
                self.assertEqual(r["first_missing"], tfmt(it[5]), pid)
                self.assertEqual(r["removed_at"], tfmt(it[6]), pid)
                self.assertEqual(r["match"], "match")
                # The JSON copy is the archived content, byte for byte.
                self.assertEqual(hashlib.sha256(files[r["json_file"]])
                                 .hexdigest(), r["content_sha256"])

    def test_removed_hidden_edited_are_marked(self):
        _, _, files = self.fb()
        items = self.items_of("fb-001")
        rows = self.csv_rows(files)
        pages = {n: b.decode() for n, b in files.items()
                 if n.startswith("data/threads/")}
        removed = [it for it in items.values() if it[2] == "removed"]
        self.assertTrue(removed, "small.json deletes fbr1")
        for it in removed:
            row = [r for r in rows if r["item_id"] == it[1]][0]
            self.assertEqual(row["state"], "removed")
            self.assertTrue(row["removed_at"] and row["first_missing"])
            # Its content is there, and its article carries the banner.
            art = [p for p in pages.values() if f'id="item-{it[0]}"' in p]
            self.assertEqual(len(art), 1)
            seg = art[0].split(f'id="item-{it[0]}"', 1)[1]
            banner = (f"REMOVED &mdash; last seen {tfmt(it[4])}, found"
                      f" missing {tfmt(it[5])}, removal confirmed"
                      f" {tfmt(it[6])}")
            self.assertIn(banner, seg.split("<article", 1)[0])
            text = self.versions_of(it[0])[-1][1]
            self.assertIn(html_escape(text), seg)
            self.assertIn(text, row["text"])
        hidden = self.items_of("fb-001")[self.pid("fbc1")]
        self.assertEqual(hidden[3], 1)
        page = [p for p in pages.values() if f'id="item-{hidden[0]}"' in p][0]
        self.assertIn("HIDDEN &mdash;", page.split(
            f'id="item-{hidden[0]}"', 1)[1].split("<section", 1)[0])
        edited = items[self.pid("fb2")]
        page = [p for p in pages.values() if f'id="item-{edited[0]}"' in p][0]
        for i, (_, text) in enumerate(self.versions_of(edited[0]), 1):
            self.assertIn(html_escape(text), page)
            self.assertIn(f"Version {i} of 2", page)
        self.assertLess(page.index("9am-3pm"), page.index("9am-4pm"),
                        "oldest version first")

    def test_thread_pages_nest_replies(self):
        _, _, files = self.fb()
        items = self.items_of("fb-001")
        post, comment = items[self.pid("fb2")], items[self.pid("fbc1")]
        name = f"data/threads/fb-001-{self.pid('fb2')}.html"
        self.assertIn(name, files)
        page = files[name].decode()
        # The comment's article is inside the post's replies.
        p = page.index(f'id="item-{post[0]}"')
        c = page.index(f'id="item-{comment[0]}"')
        self.assertLess(p, c)
        self.assertIn('<div class="replies">', page[p:c])
        self.assertIn("../index.html", page)
        index = files["data/index.html"].decode()
        self.assertIn(name[len("data/"):], index)
        self.assertIn("@media print", page)

    def test_bag_validates(self):
        for name, args in (("fb.zip", ("--account", "fb-001")),
                           ("fb.tar.gz", ("--account", "fb-001"))):
            _, top, files = self.export(name, *args)
            self.assertEqual(top, "fb")
            self.assert_bag(files)

    def assert_bag(self, files):
        self.assertEqual(files["bagit.txt"], b"BagIt-Version: 1.0\n"
                         b"Tag-File-Character-Encoding: UTF-8\n")
        info = dict(line.split(": ", 1) for line in
                    files["bag-info.txt"].decode().splitlines())
        payload = {n: b for n, b in files.items() if n.startswith("data/")}
        self.assertEqual(info["Payload-Oxum"], "%d.%d" % (
            sum(len(b) for b in payload.values()), len(payload)))
        for key in ("Source-Organization", "Bagging-Date", "Bag-Size",
                    "External-Description", "Contact-Name"):
            self.assertIn(key, info)
        listed = set()
        for line in files["manifest-sha256.txt"].decode().splitlines():
            digest, name = line.split("  ", 1)
            self.assertEqual(hashlib.sha256(files[name]).hexdigest(), digest,
                             name)
            listed.add(name)
        self.assertEqual(listed, set(payload), "payload not in the manifest")
        tags = set()
        for line in files["tagmanifest-sha256.txt"].decode().splitlines():
            digest, name = line.split("  ", 1)
            self.assertEqual(hashlib.sha256(files[name]).hexdigest(), digest)
            tags.add(name)
        self.assertTrue({"bagit.txt", "bag-info.txt",
                         "manifest-sha256.txt"} <= tags)
        for name in ("data/index.html", "data/records.csv",
                     "data/search.json", "data/gaps.csv",
                     "data/custodian-certificate.txt",
                     "data/custodian-certificate.html", "README.txt",
                     "VERIFY.txt"):
            self.assertIn(name, files)

    def test_tar_and_zip_hold_the_same_payload(self):
        _, _, z = self.export("fb.zip", "--account", "fb-001")
        _, _, t = self.export("fb.tar.gz", "--account", "fb-001")
        for name, data in z.items():
            if name.startswith(("data/records/", "data/media/")) or \
                    name == "data/archive.warc.gz":
                self.assertEqual(t.get(name), data, name)

    def test_warc_copy_is_the_archive_byte_for_byte(self):
        _, _, files = self.fb()
        path = os.path.join(self.out, "fb-copy.warc.gz")
        with open(path, "wb") as f:
            f.write(files["data/archive.warc.gz"])
        segs = dict(self.d.query("SELECT id, name FROM segments"))
        recs = {r[0]: r[1:] for r in self.d.query(
            "SELECT record_id, segment_id, offset, length, type FROM"
            " records")}
        types, ids = {}, set()
        for _, stored, plain in harness.read_members(path):
            fields, block = harness.parse_warc(plain)
            harness.verify_digests(fields, block)
            rid = fields["warc-record-id"].strip("<>")
            ids.add(rid)
            seg, off, length, typ = recs[rid]
            seg_path = os.path.join(self.state, "archive", segs[seg])
            if not os.path.exists(seg_path):
                seg_path += ".open"
            with open(seg_path, "rb") as f:
                f.seek(off)
                self.assertEqual(f.read(length), stored, rid)
            types[typ] = types.get(typ, 0) + 1
        for typ in ("warcinfo", "request", "response", "conversion",
                    "metadata"):
            self.assertIn(typ, types)
        # Every version, the response it came from and that request.
        for r in self.csv_rows(files):
            self.assertIn(r["record_id"], ids)
            self.assertIn(r["source_record_id"], ids)
        for seq, in self.d.query(
                "SELECT r2.seq FROM records r2 JOIN records r1 ON"
                " r1.seq = r2.seq + 1 WHERE r2.type = 'request' AND"
                " r1.record_id IN (%s)" % ",".join(
                    "'%s'" % r["source_record_id"]
                    for r in self.csv_rows(files))):
            rid = self.d.query("SELECT record_id FROM records WHERE"
                               " seq = ?", (seq,))[0][0]
            self.assertIn(rid, ids)

    def test_html_loads_nothing_external(self):
        for _, _, files in (self.fb(), self.redacted()):
            pages = [n for n in files if n.endswith(".html")]
            self.assertGreater(len(pages), 2)
            for n in pages:
                p = NoExternal()
                p.feed(files[n].decode("utf-8"))
                self.assertEqual(p.problems, [], n)

    def test_csv_parses_one_row_per_version(self):
        summary, _, files = self.fb()
        rows = self.csv_rows(files)
        self.assertEqual(len(rows), summary["versions"])
        self.assertEqual(list(rows[0])[:4], ["platform", "account", "item_id",
                                             "item_number"])
        for r in rows:
            self.assertEqual(len(r), 29)
            self.assertIsNone(r.get(None))

    def test_media_files(self):
        summary, _, files = self.fb()
        media = {n: b for n, b in files.items() if n.startswith("data/media/")}
        self.assertEqual(len(media), summary["media"])
        self.assertTrue(media, "small.json has a photo on fb2")
        rows = self.d.query("SELECT m.sha256 FROM media m JOIN accounts a"
                            " ON a.id = m.account_id WHERE a.name ="
                            " 'fb-001'")
        self.assertEqual(sorted(hashlib.sha256(b).hexdigest()
                                for b in media.values()),
                         sorted(r[0] for r in rows))

    def test_gaps_in_the_period(self):
        _, _, files = self.export("ma.zip", "--account", "ma-001")
        rows = list(csv.DictReader(io.StringIO(
            files["data/gaps.csv"].decode(), newline="")))
        want = self.d.query("SELECT g.opened, g.reason FROM gaps g JOIN"
                            " accounts a ON a.id = g.account_id WHERE"
                            " a.name = 'ma-001'")
        self.assertTrue(want, "the injected 5xx left no gap")
        self.assertEqual(sorted((r["opened"], r["reason"]) for r in rows),
                         sorted((tfmt(o), r) for o, r in want))
        self.assertEqual({r["account"] for r in rows}, {"ma-001"})
        cert = files["data/custodian-certificate.txt"].decode()
        self.assertIn("ma-001: from " + tfmt(want[0][0]), cert)
        _, _, fb = self.fb()
        self.assertNotIn(b"ma-001", fb["data/gaps.csv"])

    def test_with_thread_context(self):
        summary, _, files = self.export("thr.zip", "--account", "fb-001",
                                        "--kind", "reply", "--with-thread")
        rows = self.csv_rows(files)
        match = {r["item_id"] for r in rows if r["match"] == "match"}
        context = {r["item_id"] for r in rows if r["match"] == "context"}
        self.assertEqual(match, {self.pid("fbr1")})
        self.assertEqual(context, {self.pid("fb2"), self.pid("fbc1")})
        self.assertEqual(summary["context_items"], 2)
        page = files[f"data/threads/fb-001-{self.pid('fb2')}.html"].decode()
        self.assertIn("thread context", page)
        # Without it, only the match, on a page of its thread.
        _, _, alone = self.export("reply.zip", "--account", "fb-001",
                                  "--kind", "reply")
        self.assertEqual({r["item_id"] for r in self.csv_rows(alone)},
                         {self.pid("fbr1")})
        page = alone[f"data/threads/fb-001-{self.pid('fb2')}.html"].decode()
        self.assertIn("not part of this package", page)

    # -- redaction ----------------------------------------------------------
    def redacted(self):
        phone = self.items_of("fb-001")[self.pid("p_phone")][0]
        return self.export("fbr.zip", "--account", "fb-001", "--redact",
                           "--redact-item", f"{phone}:text:{PHONE}",
                           "--citation", MANUAL_CITE)

    def test_redaction_everywhere_in_the_copy(self):
        summary, _, files = self.redacted()
        self.assertTrue(summary["redacted"])
        self.assertNotIn("data/archive.warc.gz", files)
        self.assertFalse(summary["originals"])
        copies = {n: b.decode("utf-8") for n, b in files.items()
                  if n.endswith((".html", ".csv", ".json", ".txt"))}
        for secret in (SSN_A, SSN_B, CARD_FB, PHONE):
            digits = re.sub(r"\D", "", secret)
            for n, text in copies.items():
                self.assertNotIn(secret, text, n)
                self.assertNotIn(digits, re.sub(r"[ -]", "", text), n)
        both = copies["data/records.csv"] + "".join(
            t for n, t in copies.items() if n.startswith("data/threads/"))
        for kept in (LOOK_CARD, LOOK_SSN):
            self.assertIn(kept, both)
        self.assertIn("[REDACTED: SSN]", both)
        self.assertIn("[REDACTED: card number]", both)
        # The log: each planted value once per version and field.
        log = list(csv.DictReader(io.StringIO(
            copies["data/redactions.csv"], newline="")))
        items = self.items_of("fb-001")
        got = {(r["item_id"], r["version"], r["field"], r["category"])
               for r in log}
        want = {(self.pid("p_ssn"), "1", "text", "SSN"),
                (self.pid("p_card"), "1", "text", "card number"),
                (self.pid("p_edit"), "1", "text", "SSN"),
                (self.pid("p_phone"), "1", "text", "manual")}
        self.assertEqual(got, want)
        self.assertEqual(summary["redactions"], len(log))
        for r in log:
            self.assertTrue(r["citation"], r)
            self.assertTrue(r["record_id"].startswith("urn:uuid:"))
            if r["category"] == "SSN":
                self.assertIn("119.071", r["citation"])
                self.assertIn("610.035", r["citation"])
            if r["category"] == "manual":
                self.assertEqual(r["citation"], MANUAL_CITE)
            self.assertNotRegex(r["preview"], r"\d{5}")
        self.assertEqual(int(items[self.pid("p_edit")][7]), 2)
        # Version 2 of the edited comment had nothing to redact: as
        # archived; version 1 is a redacted copy.
        rows = {(r["item_id"], r["version"]): r for r in self.csv_rows(files)}
        v2 = rows[(self.pid("p_edit"), "2")]
        self.assertEqual(v2["redacted"], "no")
        self.assertEqual(hashlib.sha256(files[v2["json_file"]]).hexdigest(),
                         v2["content_sha256"])
        self.assertEqual(rows[(self.pid("p_edit"), "1")]["redacted"], "yes")

    def test_redaction_state_and_originals(self):
        summary, _, files = self.export(
            "fbr-fl.tar.gz", "--account", "fb-001", "--redact", "--state",
            "FL", "--include-originals")
        self.assertTrue(summary["originals"])
        log = list(csv.DictReader(io.StringIO(
            files["data/redactions.csv"].decode(), newline="")))
        self.assertTrue(log)
        for r in log:
            self.assertIn("Fla. Stat.", r["citation"])
            self.assertNotIn("Mo. Rev. Stat.", r["citation"])
        # The originals are the archive's: the SSN is in them, unaltered.
        path = os.path.join(self.out, "fbr-fl.warc.gz")
        with open(path, "wb") as f:
            f.write(files["data/archive.warc.gz"])
        blocks = b"".join(plain for _, _, plain in
                          harness.read_members(path))
        self.assertIn(SSN_A.encode(), blocks)
        self.assert_bag(files)

    def test_mastodon_json_and_html_fields_redacted(self):
        summary, _, files = self.export("mar.zip", "--account", "ma-001",
                                        "--redact")
        copies = b"".join(b for n, b in files.items()
                          if n.endswith((".html", ".csv", ".json")))
        self.assertNotIn(CARD_MA.encode(), copies)
        log = list(csv.DictReader(io.StringIO(
            files["data/redactions.csv"].decode(), newline="")))
        fields = {r["field"] for r in log if r["item_id"] ==
                  self.pid("p_macard")}
        self.assertIn("text", fields)
        self.assertIn("content", fields, "Mastodon's HTML content too")

    # -- requests, TSA, refusals ---------------------------------------------
    def test_request_export(self):
        if self.request is None:
            self.skipTest("request open failed: " + self.request_err)
        summary, top, files = self.export(
            "req.zip", "--request", self.request, "--redact")
        _, _, by_filter = self.export("ma.zip", "--account", "ma-001")
        self.assertEqual({r["item_id"] for r in self.csv_rows(files)},
                         {r["item_id"] for r in self.csv_rows(by_filter)})
        self.assertEqual(summary["request"], self.request)
        search = json.loads(files["data/search.json"])
        self.assertEqual(search["request_id"], self.request)
        self.assertEqual(search["request"]["requester"], "J. Public")
        self.assertEqual(search["filter"]["account"], "ma-001")
        info = files["bag-info.txt"].decode()
        self.assertIn(f"External-Identifier: records-request-{self.request}",
                      info)
        self.assertIn("City Mastodon posts", info)
        cert = files["data/custodian-certificate.txt"].decode()
        self.assertIn(self.request, cert)
        self.assertIn("Signature:", cert)
        # The request is a Florida one: Florida citations only.
        log = list(csv.DictReader(io.StringIO(
            files["data/redactions.csv"].decode(), newline="")))
        self.assertTrue(log)
        self.assertTrue(all("Fla." in r["citation"] and "Mo." not in
                            r["citation"] for r in log))
        self.assert_bag(files)

    def test_tsa_token_verifies_as_verify_txt_says(self):
        if self.tsa is None or SHA256SUM is None:
            self.skipTest("needs openssl and sha256sum")
        path = os.path.join(self.out, "tsa.tar.gz")
        rc, out, err = run("-f", self.d.conf, "export", "--account",
                           "fb-001", "--out", path, "--tsa", "--json")
        self.assertEqual(rc, 0, err)
        self.assertTrue(json.loads(out)["timestamped"])
        dest = os.path.join(self.out, "tsa")
        os.mkdir(dest)
        with tarfile.open(path, "r:gz") as t:
            t.extractall(dest)
        bag = os.path.join(dest, "tsa")
        self.assertTrue(os.path.exists(os.path.join(
            bag, "tagmanifest-sha256.txt.tsr")))
        with open(os.path.join(bag, "VERIFY.txt")) as f:
            commands = [line.strip() for line in f
                        if line.strip().startswith(("sha256sum ",
                                                    "openssl "))]
        self.assertIn("sha256sum -c manifest-sha256.txt", commands)
        self.assertIn("sha256sum -c tagmanifest-sha256.txt", commands)
        self.assertIn("openssl ts -verify -data tagmanifest-sha256.txt -in"
                      " tagmanifest-sha256.txt.tsr -token_in -CAfile"
                      " tsa-ca.pem", commands)
        for cmd in commands:
            p = subprocess.run(cmd.split(), cwd=bag, capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(p.returncode, 0, f"{cmd}: {p.stdout}{p.stderr}")
        # The checkpoint covering the records, with its own token.
        self.assertTrue(any("data/checkpoint/" in c for c in commands))
        # A changed file fails the manifest check.
        with open(os.path.join(bag, "data", "records.csv"), "ab") as f:
            f.write(b"x")
        p = subprocess.run(["sha256sum", "-c", "--quiet",
                            "manifest-sha256.txt"], cwd=bag,
                           capture_output=True)
        self.assertNotEqual(p.returncode, 0)

    def test_certificate_and_checkpoint(self):
        _, _, files = self.fb()
        cert = files["data/custodian-certificate.txt"].decode()
        for s in ("What was searched", "fb-001", "SHA-256", "WARC",
                  "Known capture gaps", "Name:", "Title:", "Date:"):
            self.assertIn(s, cert)
        notes = [n for n in files if n.startswith("data/checkpoint/") and
                 n.endswith(".note")]
        self.assertTrue(notes, "the daemon made checkpoints")
        size = int(re.search(r"checkpoint-(\d+)\.note", notes[0]).group(1))
        row = self.d.query("SELECT note FROM checkpoints WHERE size = ?",
                           (size,))
        self.assertEqual(files[notes[0]].decode(), row[0][0])
        self.assertIn(f"tree size              {size}", cert)
        self.assertIn("city.example.gov/export-test", cert)
        self.assertIn("data/checkpoint/ledger.pub", files)

    def test_refusals(self):
        path = os.path.join(self.out, "exists.zip")
        with open(path, "w") as f:
            f.write("keep me")
        rc, _, err = self.cli("export", "--account", "fb-001", "--out", path)
        self.assertEqual(rc, 1)
        self.assertIn("exists", err)
        with open(path) as f:
            self.assertEqual(f.read(), "keep me")
        for args, code in (
                (("--account", "fb-001", "--out",
                  os.path.join(self.out, "x.rar")), 2),
                (("--out", os.path.join(self.out, "y.zip")), 2),
                (("--account", "nosuch", "--out",
                  os.path.join(self.out, "none.zip")), 1),
                (("--account", "fb-001", "--redact-item", "1:text", "--out",
                  os.path.join(self.out, "z.zip")), 2),
                (("--account", "fb-001", "--state", "TX", "--out",
                  os.path.join(self.out, "z.zip")), 2),
                (("--account", "fb-001", "--all", "--out",
                  os.path.join(self.out, "z.zip")), 2),
                (("--request", "PRR-1999-0001", "--out",
                  os.path.join(self.out, "z.zip")), 1)):
            rc, _, err = self.cli("export", *args)
            self.assertEqual(rc, code, (args, err))
        left = [n for n in os.listdir(self.out) if n.startswith(
            ("x.", "y.", "none.", "z.", "."))]
        self.assertEqual(left, [], "no file or temporary left behind")

    def test_spool_event_queued(self):
        _, _, files = self.fb()
        digest = hashlib.sha256(files["tagmanifest-sha256.txt"]).hexdigest()
        spool = os.path.join(self.state, "spool")
        events = []
        for name in os.listdir(spool):
            with open(os.path.join(spool, name)) as f:
                events.append(json.load(f))
        mine = [e for e in events if e.get("event") == "export" and
                e.get("file") == "fb.zip"]
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine[0]["tagmanifest_sha256"], digest)
        self.assertEqual(mine[0]["versions"], self.fb()[0]["versions"])

    def test_zz_archive_and_index_byte_identical(self):
        # Runs last (name order): after every export above.
        self.fb()
        self.redacted()
        self.assertEqual(self.archive_hashes(), self.before)


def html_escape(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


if __name__ == "__main__":
    unittest.main()
