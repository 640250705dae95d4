#!/usr/bin/env python3
"""Self-test of the platform simulator: python3 tests/sim/test_simulator.py

Starts simulator.py as a child process on port 0 (as the end-to-end tests
do) and checks paging, edits, deletions, every fault kind, the control API,
the request log and the command line.  The tests run in order against one
city.json simulator, stepping it forward; the last ones start their own.
Prints "N passed, M failed" last and exits 1 if anything failed.
"""

import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from urllib.parse import urlencode, urlsplit, parse_qs

HERE = os.path.dirname(os.path.abspath(__file__))
SIMULATOR = os.path.join(HERE, "simulator.py")
CITY = os.path.join(HERE, "scenarios", "city.json")
SMALL = os.path.join(HERE, "scenarios", "small.json")

CITY_PAGE, POLICE_PAGE = "100000000000001", "100000000000077"
MASTO_ACCOUNT = "110000000000000001"
CITY_TOKEN = "EAAB-city-page-token-SIMULATED"
POLICE_TOKEN = "EAAB-police-page-token-SIMULATED"
POLICE_SECRET = "example-app-secret"
MASTO_TOKEN = "mastodon-city-token-SIMULATED"

FB_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$")
MASTO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
RESET_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
UNSUPPORTED = re.compile(r"^Unsupported get request\. Object with ID "
    r"'[0-9_]+' does not exist, cannot be loaded due to missing permissions, "
    r"or does not support this operation\. Please read the Graph API "
    r"documentation at https://developers\.facebook\.com/docs/graph-api$")

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def check(cond, message="check failed"):
    if not cond:
        raise AssertionError(message)


def proof(secret, token):
    """appsecret_proof, computed independently of the simulator."""
    return hmac.new(secret.encode(), token.encode(),
        hashlib.sha256).hexdigest()


def parse_reset(text):
    return time.mktime(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")) - \
        time.timezone + float("0" + text[19:-1])


class Sim:
    """One simulator child process and an HTTP client for it."""

    def __init__(self, scenario, *extra):
        self.dir = tempfile.mkdtemp(prefix="simtest-")
        self.port_file = os.path.join(self.dir, "port")
        self.log_path = os.path.join(self.dir, "requests.jsonl")
        self.err_path = os.path.join(self.dir, "stderr")
        with open(self.err_path, "w") as err:
            self.proc = subprocess.Popen([sys.executable, SIMULATOR,
                "--scenario", scenario, "--port", "0", "--port-file",
                self.port_file, "--log", self.log_path] + list(extra),
                stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.time() + 10
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                raise AssertionError("simulator did not start: %s" %
                    open(self.err_path).read())
            time.sleep(0.02)
        with open(self.port_file) as f:
            self.port_text = f.read()
        self.port = int(self.port_text)

    def request(self, method, target, headers=None, body=None, timeout=10):
        """(status, lower-cased headers, body bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
            timeout=timeout)
        try:
            conn.request(method, target, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in
                resp.getheaders()}, data
        finally:
            conn.close()

    def fb(self, path, token=CITY_TOKEN, secret=None, **params):
        query = {"access_token": token} if token else {}
        if secret:
            query["appsecret_proof"] = proof(secret, token)
        query.update(params)
        return self.fb_url("/v25.0%s?%s" % (path, urlencode(query)))

    def fb_url(self, url):
        """GET an absolute or relative Graph URL on the simulator."""
        parts = urlsplit(url)
        status, headers, body = self.request("GET", parts.path + "?" +
            parts.query)
        return status, headers, json.loads(body) if body else None

    def masto(self, target, token=MASTO_TOKEN):
        headers = {"Authorization": "Bearer " + token} if token else {}
        parts = urlsplit(target)
        status, h, body = self.request("GET", parts.path +
            ("?" + parts.query if parts.query else ""), headers)
        return status, h, json.loads(body) if body else None

    def control(self, method, path, payload=None):
        body = json.dumps(payload).encode() if payload is not None else None
        status, _, data = self.request(method, "/_sim/" + path, body=body)
        return status, json.loads(data)

    def step(self, reset_faults=True):
        status, out = self.control("POST", "step")
        check(status == 200, "step failed")
        if reset_faults:
            self.control("POST", "reset-faults")
        return out

    def fault(self, **spec):
        status, out = self.control("POST", "fault", spec)
        check(status == 200, "fault rejected: %s" % out)

    def truth(self):
        return {it["key"]: it for it in self.control("GET", "truth")[1][
            "items"]}

    def log(self):
        with open(self.log_path) as f:
            return [json.loads(line) for line in f]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=5)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            shutil.rmtree(self.dir, ignore_errors=True)


def walk_fb(sim, first_url):
    """Follow paging.next (rewriting the host); return (items, pages)."""
    items, pages, url = [], [], first_url
    while url:
        status, _, body = sim.fb_url(url)
        check(status == 200, "page %s: %s %s" % (url, status, body))
        pages.append(body)
        items += body["data"]
        url = body.get("paging", {}).get("next")
        check(len(pages) < 50, "paging does not end")
    return items, pages


def walk_masto(sim, first):
    items, pages, target = [], 0, first
    while target:
        status, headers, body = sim.masto(target)
        check(status == 200, "status %s" % status)
        pages += 1
        items += body
        target = None
        for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"',
                headers.get("link", "")):
            if rel == "next":
                target = url
        check(pages < 50, "paging does not end")
    return items, pages


# Tests against one city.json simulator, in order.

@test
def startup_and_status(env):
    sim = env["city"]
    check(re.match(r"^\d+\n$", sim.port_text), "port file %r" %
        sim.port_text)
    status, out = sim.control("GET", "status")
    check(status == 200 and out["step"] == 0 and out["steps"] == 13 and
        out["done"] is False, "status %s" % out)
    with open(sim.err_path) as f:
        check("listening on 127.0.0.1:%d" % sim.port in f.read(),
            "no listening line on stderr")
    status, headers, body = sim.request("GET", "/nowhere")
    check(status == 404, "unknown path %s" % status)


@test
def facebook_auth(env):
    sim = env["city"]
    check(proof("example-app-secret", "EAAB-example-page-token") ==
        "3cc937fd2e866b797cb326e58ec9ccce8d5b5f9024d7d5997735f91b3754480c",
        "reference test vector")
    for token in (None, "EAAB-wrong"):
        status, _, body = sim.fb("/%s/posts" % CITY_PAGE, token=token)
        check(status == 400 and body["error"]["code"] == 190 and
            body["error"]["type"] == "OAuthException", "bad token: %s" % body)
    status, _, body = sim.fb("/%s/posts" % POLICE_PAGE, token=POLICE_TOKEN)
    check(status == 400 and body["error"]["code"] == 100 and
        body["error"]["message"] == "(#100) Pages Public Content Access "
        "requires either app secret proof or an app token", "no proof")
    status, _, body = sim.fb("/%s/posts" % POLICE_PAGE, token=POLICE_TOKEN,
        appsecret_proof="00" * 32)
    check(status == 400 and body["error"]["code"] == 100, "wrong proof")
    status, _, body = sim.fb("/%s/posts" % POLICE_PAGE, token=POLICE_TOKEN,
        secret=POLICE_SECRET)
    check(status == 200 and len(body["data"]) == 25, "with proof %s" % status)
    status, _, body = sim.fb("/%s/posts" % POLICE_PAGE)    # city token
    check(status == 400 and body["error"]["error_subcode"] == 33,
        "other page's token")


@test
def facebook_post_paging(env):
    sim, truth = env["city"], env["city"].truth()
    first = "/v25.0/%s/posts?%s" % (CITY_PAGE, urlencode({"access_token":
        CITY_TOKEN, "fields": "id,message,created_time"}))
    items, pages = walk_fb(sim, first)
    check(len(pages) == 2 and len(pages[0]["data"]) == 25, "pages %d" %
        len(pages))
    nxt = pages[0]["paging"]["next"]
    check(nxt.startswith("https://graph.facebook.com/v25.0/%s/posts?" %
        CITY_PAGE) and "access_token=" + CITY_TOKEN in nxt and "fields=" in
        nxt and "after=" in nxt, "next %s" % nxt)
    check("next" not in pages[1]["paging"] and "previous" in
        pages[1]["paging"], "last page paging")
    want = [t["id"] for t in truth.values() if t["account"] == CITY_PAGE
        and t["kind"] == "post" and not t["deleted"]]
    check(sorted(p["id"] for p in items) == sorted(want) and len(want) == 30,
        "posts differ from truth")
    times = [p["created_time"] for p in items]
    check(times == sorted(times, reverse=True), "not newest first")
    post = next(p for p in items if p["id"] == truth["c03"]["id"])
    check(FB_TIME.match(post["created_time"]) and FB_TIME.match(
        post["updated_time"]), "time format")
    att = post["attachments"]["data"][0]
    check(att["media_type"] == "photo" and "oe=" in post["full_picture"]
        and att["media"]["image"]["src"].startswith("http://127.0.0.1") and
        att["target"]["id"] == truth["c03"]["media"][0]["id"], "attachment")
    for field in ("status_type", "permalink_url", "shares", "comments",
            "reactions", "like"):
        check(field in post, "post lacks %s" % field)
    album = next(p for p in items if p["id"] == truth["c13"]["id"])
    check(len(album["attachments"]["data"][0]["subattachments"]["data"]) ==
        2, "album")

    status, headers, body = sim.fb("/%s/posts" % CITY_PAGE, limit=100)
    check(len(body["data"]) == 30 and "next" not in body["paging"],
        "limit=100")
    check(headers["content-type"] == "application/json; charset=UTF-8",
        "content-type")
    usage = json.loads(headers["x-app-usage"])
    check(set(usage) == {"call_count", "total_time", "total_cputime"},
        "X-App-Usage")
    buc = json.loads(headers["x-business-use-case-usage"])
    check(buc[CITY_PAGE][0]["type"] == "pages" and
        "estimated_time_to_regain_access" in buc[CITY_PAGE][0], "BUC")
    status, _, body = sim.fb("/%s/posts" % CITY_PAGE, since=int(time.time())
        + 3600)
    check(status == 200 and body == {"data": []}, "empty page %s" % body)

    # The police page: next drops appsecret_proof; the client re-adds it.
    status, _, body = sim.fb("/%s/posts" % POLICE_PAGE, token=POLICE_TOKEN,
        secret=POLICE_SECRET)
    nxt = body["paging"]["next"]
    check("appsecret_proof" not in nxt, "next keeps the proof")
    status, _, body = sim.fb_url(nxt + "&appsecret_proof=" +
        proof(POLICE_SECRET, POLICE_TOKEN))
    check(status == 200 and len(body["data"]) == 5, "police page 2")


@test
def facebook_comments(env):
    sim, truth = env["city"], env["city"].truth()
    post = truth["c04"]["id"]
    status, _, body = sim.fb("/%s/comments" % post, filter="stream",
        summary="true", order="chronological")
    data = body["data"]
    check([c["id"] for c in data] == [truth[k]["id"] for k in ("c04-k1",
        "c04-k1-r1", "c04-k1-r1-r1", "c04-k2")], "stream order")
    check("parent" not in data[0] and data[1]["parent"]["id"] ==
        data[0]["id"] and data[2]["parent"]["id"] == data[1]["id"],
        "parents")
    check(body["summary"]["total_count"] == 4, "summary")
    c = data[0]
    check(c["id"].startswith(post.split("_")[1] + "_") and
        FB_TIME.match(c["created_time"]) and c["from"]["name"] ==
        "A. Resident" and c["comment_count"] == 1 and c["is_hidden"] is False
        and "like_count" in c and "permalink_url" in c, "comment shape %s" % c)
    check(data[1]["from"]["id"] == CITY_PAGE, "page reply author")
    status, _, body = sim.fb("/%s/comments" % post)
    check([c["id"] for c in body["data"]] == [truth["c04-k1"]["id"],
        truth["c04-k2"]["id"]], "toplevel")
    status, _, body = sim.fb("/%s/comments" % truth["c04-k1"]["id"])
    check([c["id"] for c in body["data"]] == [truth["c04-k1-r1"]["id"]],
        "comment's own comments")
    items, pages = walk_fb(sim, "/v25.0/%s/comments?%s" % (post, urlencode(
        {"access_token": CITY_TOKEN, "filter": "stream", "limit": 3})))
    check(len(pages) == 2 and [c["id"] for c in items] == [c["id"]
        for c in data], "comment paging")
    status, _, body = sim.fb("/%s" % truth["c04-k1"]["id"])
    check(status == 200 and body["message"] == "When does it reopen?",
        "single comment")


@test
def mastodon_paging(env):
    sim, truth = env["city"], env["city"].truth()
    items, pages = walk_masto(sim, "/api/v1/accounts/%s/statuses?limit=20" %
        MASTO_ACCOUNT)
    want = [t["id"] for t in truth.values() if t["platform"] == "mastodon"
        and t["author_id"] == MASTO_ACCOUNT and not t["deleted"]]
    ids = [s["id"] for s in items]
    check(sorted(ids) == sorted(want) and len(ids) == len(set(ids)),
        "statuses differ from truth")
    check(pages == 3, "pages %d" % pages)
    check(all(re.match(r"^\d{18}$", i) for i in ids) and
        [int(i) for i in ids] == sorted((int(i) for i in ids), reverse=True),
        "ids")
    status, headers, body = sim.masto("/api/v1/accounts/%s/statuses" %
        MASTO_ACCOUNT)
    check(len(body) == 20, "default limit")
    check(headers["x-ratelimit-limit"] == "300" and
        headers["x-ratelimit-remaining"].isdigit() and
        RESET_TIME.match(headers["x-ratelimit-reset"]), "rate headers")
    link = headers["link"]
    check('max_id=%s>; rel="next"' % body[-1]["id"] in link and
        'min_id=%s>; rel="prev"' % body[0]["id"] in link and
        link.startswith("<http://127.0.0.1:%d/api/v1/" % sim.port), link)
    s = body[0]
    check(MASTO_TIME.match(s["created_at"]) and s["content"].startswith(
        "<p>") and s["account"]["id"] == MASTO_ACCOUNT, "status shape")
    for key in ("edited_at", "in_reply_to_id", "in_reply_to_account_id",
            "sensitive", "spoiler_text", "visibility", "language", "uri",
            "url", "replies_count", "reblogs_count", "favourites_count",
            "media_attachments", "mentions", "tags", "emojis", "card",
            "poll"):
        check(key in s, "status lacks %s" % key)
    oldest = min(ids, key=int)
    status, headers, body = sim.masto("/api/v1/accounts/%s/statuses?max_id=%s"
        % (MASTO_ACCOUNT, oldest))
    check(status == 200 and body == [] and "link" not in headers,
        "empty page")
    status, _, body = sim.masto("/api/v1/accounts/%s/statuses?limit=2&"
        "min_id=%s" % (MASTO_ACCOUNT, oldest))
    asc = sorted(ids, key=int)
    check([x["id"] for x in body] == [asc[2], asc[1]], "min_id")
    status, _, body = sim.masto("/api/v1/accounts/%s/statuses?limit=40&"
        "exclude_replies=true" % MASTO_ACCOUNT)
    check(all(x["in_reply_to_id"] is None for x in body) and len(body) == 40,
        "exclude_replies")
    media = next(x for x in items if x["id"] == truth["m05"]["id"])
    m = media["media_attachments"][0]
    check(m["type"] == "image" and m["meta"]["original"]["width"] and
        m["blurhash"] and m["url"].endswith(".png"), "media attachment")


@test
def mastodon_objects_and_auth(env):
    sim, truth = env["city"], env["city"].truth()
    status, _, body = sim.masto("/api/v1/statuses/%s" % truth["m10"]["id"])
    check(status == 200 and body["replies_count"] == 1, "status")
    status, _, body = sim.masto("/api/v1/statuses/%s/context" %
        truth["m10"]["id"])
    check(body["ancestors"] == [] and [s["id"] for s in body["descendants"]]
        == [truth[k]["id"] for k in ("m10-k1", "m10-k1-r1", "m10-k1-r1-r1")],
        "context")
    check(body["descendants"][1]["in_reply_to_id"] == truth["m10-k1"]["id"]
        and body["descendants"][0]["account"]["id"] != MASTO_ACCOUNT,
        "reply links")
    status, _, body = sim.masto("/api/v1/statuses/%s/context" %
        truth["m10-k1-r1"]["id"])
    check([s["id"] for s in body["ancestors"]] == [truth["m10"]["id"],
        truth["m10-k1"]["id"]], "ancestors")
    status, _, body = sim.masto("/api/v1/statuses/%s/history" %
        truth["m10"]["id"])
    check(len(body) == 1 and set(body[0]) == {"content", "spoiler_text",
        "sensitive", "created_at", "account", "media_attachments", "emojis"},
        "history of unedited")
    status, _, body = sim.masto("/api/v1/statuses/abc")
    check(status == 404 and body == {"error": "Not Found"}, "malformed id")
    status, _, body = sim.masto("/api/v1/statuses/123456789012345678")
    check(status == 404 and body == {"error": "Record not found"}, "unknown")
    for token in ("wrong", None):
        status, headers, body = sim.masto("/api/v1/statuses/%s" %
            truth["m10"]["id"], token=token)
        check(status == 401 and body == {"error":
            "The access token is invalid"}, "auth %s" % status)


@test
def steps_edits_and_volatile_counts(env):
    sim = env["city"]
    truth = sim.truth()
    _, _, before = sim.fb("/%s" % truth["c03"]["id"])
    _, _, mbefore = sim.masto("/api/v1/statuses/%s" % truth["m03"]["id"])
    old_url = before["full_picture"]
    out = sim.step()
    check(out == {"step": 1, "done": False}, "step %s" % out)
    _, _, after = sim.fb("/%s" % truth["c03"]["id"])
    _, _, mafter = sim.masto("/api/v1/statuses/%s" % truth["m03"]["id"])
    check(after["like"]["summary"]["total_count"] !=
        before["like"]["summary"]["total_count"] and
        mafter["favourites_count"] != mbefore["favourites_count"],
        "counts did not change")
    check(after["message"] == before["message"] and after["updated_time"] ==
        before["updated_time"], "a touch-free step changed content")
    new_url = after["full_picture"]
    check(new_url != old_url and parse_qs(urlsplit(new_url).query)["oe"] !=
        parse_qs(urlsplit(old_url).query)["oe"], "oe did not change")
    a = sim.request("GET", urlsplit(old_url).path + "?" +
        urlsplit(old_url).query)
    b = sim.request("GET", urlsplit(new_url).path + "?" +
        urlsplit(new_url).query)
    check(a[0] == 200 and a[2] == b[2] and a[1]["content-type"] ==
        "image/jpeg" and a[2].startswith(b"\xff\xd8"), "media bytes")
    m = mafter["media_attachments"][0] if mafter["media_attachments"] else \
        None
    check(m is None, "m03 has no media")

    # Step 2 queues a rate_limit on the city's /posts: the next call gets it.
    sim.step(reset_faults=False)
    status, headers, body = sim.fb("/%s/posts" % CITY_PAGE)
    check(status == 403 and body["error"]["code"] == 4, "scenario fault")
    status, _, _ = sim.fb("/%s/posts" % CITY_PAGE)
    check(status == 200, "fault not used up")

    truth = sim.truth()
    _, _, post0 = sim.fb("/%s" % truth["c31"]["id"])
    sim.step()                                  # step 3: edits
    _, _, post1 = sim.fb("/%s" % truth["c31"]["id"])
    check(post1["message"].endswith("until 7am.") and
        post1["updated_time"] >= post0["updated_time"] and
        post1["created_time"] == post0["created_time"], "post edit")
    _, _, comment = sim.fb("/%s" % truth["c31-k1"]["id"])
    check(comment["message"] == "How long will the water be off on Elm Ave?",
        "comment edit")
    _, _, status = sim.masto("/api/v1/statuses/%s" % truth["m46"]["id"])
    check(status["edited_at"] and MASTO_TIME.match(status["edited_at"]),
        "edited_at")
    _, _, history = sim.masto("/api/v1/statuses/%s/history" %
        truth["m46"]["id"])
    check([h["content"] for h in history] == ["<p>Snow emergency declared "
        "from 8pm.</p>", "<p>Snow emergency declared from 8pm tonight until "
        "further notice.</p>"], "history %s" % history)
    t = sim.truth()["m46"]
    check([v["step"] for v in t["versions"]] == [1, 3], "truth versions")


@test
def hide_unhide_and_delete(env):
    sim = env["city"]
    truth = sim.truth()
    post = truth["c28"]["id"]

    def hidden():
        _, _, body = sim.fb("/%s/comments" % post, filter="stream")
        return {c["id"]: c["is_hidden"] for c in body["data"]}[
            truth["c28-k2"]["id"]]
    check(hidden() is False, "hidden too early")
    sim.step()                                  # 4: hide
    check(hidden() is True, "not hidden")
    sim.step()                                  # 5
    sim.step()                                  # 6: unhide
    check(hidden() is False, "not unhidden")
    check(sim.truth()["p03-new1"]["created"] > truth["p03"]["created"] +
        50 * 86400, "old post got a new comment")
    sim.step()                                  # 7: deletes
    _, _, body = sim.fb("/%s/comments" % truth["c12"]["id"], filter="stream")
    check(body == {"data": []}, "deleted comment still listed: %s" % body)
    for key in ("c12-k1", "c12-k1-r1"):
        status, _, body = sim.fb("/%s" % truth[key]["id"])
        check(status == 400 and body["error"]["code"] == 100 and
            body["error"]["error_subcode"] == 33 and body["error"]["type"] ==
            "GraphMethodException" and UNSUPPORTED.match(
            body["error"]["message"]), "deleted comment %s" % body)
    items, _ = walk_fb(sim, "/v25.0/%s/posts?%s" % (POLICE_PAGE, urlencode(
        {"access_token": POLICE_TOKEN, "appsecret_proof": proof(
        POLICE_SECRET, POLICE_TOKEN), "limit": 100})))
    ids = [p["id"] for p in items]
    check(truth["p20"]["id"] not in ids and truth["p19"]["id"] in ids,
        "deleted post listed")
    status, _, body = sim.fb("/%s" % truth["p20"]["id"], token=POLICE_TOKEN,
        secret=POLICE_SECRET)
    check(status == 400 and body["error"]["error_subcode"] == 33,
        "deleted post lookup")
    for key in ("m10-k1", "m30"):
        status, _, body = sim.masto("/api/v1/statuses/%s" % truth[key]["id"])
        check(status == 404 and body == {"error": "Record not found"},
            "mastodon delete %s" % key)
    status, _, body = sim.masto("/api/v1/statuses/%s/context" %
        truth["m10"]["id"])
    check(body["descendants"] == [], "deleted reply in context")
    status, _, _ = sim.masto("/api/v1/statuses/%s" % truth["m10-k1-r1"]["id"])
    check(status == 200, "Mastodon keeps replies of a deleted status")
    t = sim.truth()
    check(t["c12-k1-r1"]["deleted"] and t["m30"]["deleted"] and
        t["m30"]["deleted_time"] and not t["m10-k1-r1"]["deleted"],
        "truth deletions")


@test
def rate_limit_faults(env):
    sim = env["city"]
    sim.fault(platform="facebook", path="/posts$", kind="rate_limit",
        code=80001, regain_minutes=5)
    status, headers, body = sim.fb("/%s/posts" % CITY_PAGE)
    check(status == 400 and body["error"]["code"] == 80001 and
        body["error"]["is_transient"] is True and
        body["error"]["message"].startswith("(#80001) There have been too "
        "many calls to this Page account."), "80001 %s" % body)
    check(json.loads(headers["x-app-usage"])["call_count"] == 100 and
        json.loads(headers["x-business-use-case-usage"])[CITY_PAGE][0][
        "estimated_time_to_regain_access"] == 5, "usage headers")
    sim.fault(platform="facebook", kind="rate_limit")
    status, _, body = sim.fb("/%s/posts" % CITY_PAGE)
    check(status == 403 and body["error"] == {"message": "(#4) Application "
        "request limit reached", "type": "OAuthException", "is_transient":
        True, "code": 4, "fbtrace_id": body["error"]["fbtrace_id"]}, "code 4")
    sim.fault(platform="mastodon", kind="rate_limit", reset_seconds=2)
    t0 = time.time()
    status, headers, body = sim.masto("/api/v1/accounts/%s/statuses" %
        MASTO_ACCOUNT)
    check(status == 429 and body == {"error": "Too many requests"} and
        headers["x-ratelimit-remaining"] == "0" and "retry-after" not in
        headers, "mastodon 429")
    reset = parse_reset(headers["x-ratelimit-reset"])
    check(RESET_TIME.match(headers["x-ratelimit-reset"]) and
        t0 + 1 < reset < t0 + 4, "reset %s" % headers["x-ratelimit-reset"])
    sim.fault(platform="facebook", kind="usage", percent=90)
    status, headers, _ = sim.fb("/%s/posts" % CITY_PAGE)
    check(status == 200 and json.loads(headers["x-app-usage"])[
        "call_count"] == 90, "usage fault")


@test
def transport_faults(env):
    sim = env["city"]
    path = "/api/v1/accounts/%s/statuses" % MASTO_ACCOUNT
    auth = {"Authorization": "Bearer " + MASTO_TOKEN}
    sim.fault(platform="mastodon", kind="stall", seconds=1)
    t0 = time.time()
    try:
        sim.request("GET", path, auth, timeout=5)
        check(False, "stall answered")
    except (http.client.HTTPException, ConnectionError):
        pass
    check(time.time() - t0 >= 0.9, "stall too short")
    sim.fault(platform="mastodon", kind="truncate")
    try:
        sim.request("GET", path, auth)
        check(False, "truncated body read whole")
    except http.client.IncompleteRead as e:
        check(len(e.partial) > 0, "nothing sent")
    sim.fault(platform="facebook", kind="malformed")
    status, headers, body = sim.request("GET", "/v25.0/%s/posts?"
        "access_token=%s" % (CITY_PAGE, CITY_TOKEN))
    try:
        json.loads(body)
        check(False, "malformed body parses")
    except ValueError:
        check(status == 200, "malformed status")
    sim.fault(kind="html200")
    status, headers, body = sim.request("GET", path, auth)
    check(status == 200 and headers["content-type"].startswith("text/html")
        and b"<html>" in body, "html200")
    sim.fault(kind="empty200", path="/statuses$")
    status, headers, body = sim.request("GET", path, auth)
    check(status == 200 and body == b"" and headers["content-length"] == "0",
        "empty200")


@test
def api_faults(env):
    sim, truth = env["city"], env["city"].truth()
    sim.fault(platform="facebook", kind="http_5xx", count=2)
    for _ in range(2):
        status, _, body = sim.fb("/%s/posts" % CITY_PAGE)
        check(status == 503 and body["error"]["code"] == 2, "fb 503")
    status, _, _ = sim.fb("/%s/posts" % CITY_PAGE)
    check(status == 200, "count=2 not honoured")
    sim.fault(platform="mastodon", kind="http_5xx", status=502)
    status, headers, body = sim.request("GET",
        "/api/v1/statuses/%s" % truth["m03"]["id"],
        {"Authorization": "Bearer " + MASTO_TOKEN})
    check(status == 502 and headers["content-type"].startswith("text/html"),
        "mastodon 502")
    sim.fault(platform="facebook", kind="auth")
    status, _, body = sim.fb("/%s/posts" % CITY_PAGE)
    check(status == 400 and body["error"]["code"] == 190 and
        body["error"]["error_subcode"] == 463, "fb auth")
    sim.fault(platform="mastodon", kind="auth")
    status, _, body = sim.masto("/api/v1/statuses/%s" % truth["m03"]["id"])
    check(status == 401, "mastodon auth")
    sim.fault(platform="facebook", kind="not_found", path="/v25.0/[0-9_]+$")
    status, _, body = sim.fb("/%s" % truth["c03"]["id"])
    check(status == 400 and body["error"]["error_subcode"] == 33 and
        truth["c03"]["id"] in body["error"]["message"], "fb not_found")
    sim.fault(platform="mastodon", kind="not_found")
    status, _, body = sim.masto("/api/v1/statuses/%s" % truth["m03"]["id"])
    check(status == 404 and body == {"error": "Record not found"},
        "mastodon not_found")
    # loop: next points back at the same page.
    sim.fault(platform="facebook", kind="loop", query="after=")
    status, _, page1 = sim.fb("/%s/posts" % CITY_PAGE)
    nxt = page1["paging"]["next"]
    status, _, page2 = sim.fb_url(nxt)
    check(page2["paging"]["next"] == nxt, "fb loop")
    sim.fault(platform="mastodon", kind="loop")
    target = "/api/v1/accounts/%s/statuses?limit=5" % MASTO_ACCOUNT
    status, headers, _ = sim.masto(target)
    check('<http://127.0.0.1:%d%s>; rel="next"' % (sim.port, target) in
        headers["link"], "mastodon loop %s" % headers["link"])
    _, status_out = sim.control("GET", "status")
    check(status_out["pending_faults"] == [], "faults left over")
    status, out = sim.control("POST", "fault", {"kind": "explode"})
    check(status == 400, "bad fault accepted")


@test
def request_log(env):
    sim = env["city"]
    entries = sim.log()
    check(all(set(e) == {"t", "method", "path", "query", "headers",
        "status", "fault"} for e in entries), "log keys")
    faults = {e["fault"] for e in entries}
    for kind in ("rate_limit", "http_5xx", "stall", "truncate", "malformed",
            "html200", "empty200", "loop", "auth", "not_found"):
        check(kind in faults, "%s not logged" % kind)
    stall = next(e for e in entries if e["fault"] == "stall")
    check(stall["status"] == 0 and stall["headers"]["Authorization"],
        "stall entry")
    fb = next(e for e in entries if e["path"] == "/v25.0/%s/posts" %
        CITY_PAGE and e["status"] == 200)
    check(fb["query"]["access_token"] == CITY_TOKEN and
        isinstance(fb["status"], int) and isinstance(fb["t"], float),
        "fb entry")


@test
def run_to_end_and_truth(env):
    sim = env["city"]
    out = None
    for _ in range(5):
        out = sim.step()
    check(out == {"step": 12, "done": True}, "end %s" % out)
    check(sim.step() == {"step": 12, "done": True}, "step past the end")
    truth = sim.control("GET", "truth")[1]["items"]
    keys = [t["key"] for t in truth]
    check(len(keys) == len(set(keys)), "duplicate keys")
    by_key = {t["key"]: t for t in truth}
    check(by_key["c33-k1-r1-r1-r1"]["deleted"] and
        by_key["c33-k1-r1-r1-r1"]["kind"] == "reply" and
        by_key["c33-k1-r1-r1-r1"]["parent_id"] ==
        by_key["c33-k1-r1-r1"]["id"], "deep reply")
    check(len(by_key["m46"]["versions"]) == 3, "second edit")
    check(any("pothole" in t["versions"][-1]["text"].lower() and
        t["kind"] != "post" for t in truth), "no pothole comment")
    status, _, body = sim.fb("/%s/comments" % by_key["c33"]["id"],
        filter="stream")
    check(len(body["data"]) == 3, "deep chain %d" % len(body["data"]))
    status, _, body = sim.masto("/api/v1/statuses/%s/context" %
        by_key["m47"]["id"])
    check(body == {"ancestors": [], "descendants": []}, "empty context")
    status, out = sim.control("POST", "actions", [{"op": "comment",
        "on": "c33", "key": "extra", "text": "Added by a test."}])
    check(status == 200 and sim.truth()["extra"]["versions"][0]["step"] ==
        12, "actions endpoint %s" % out)
    status, out = sim.control("POST", "actions", [{"op": "edit",
        "key": "c33-k1-r1-r1-r1", "text": "x"}])
    check(status == 400 and "deleted" in out["error"], "edit of deleted")


# Tests that start their own simulator.

@test
def small_scenario_cli(env):
    tmp = tempfile.mkdtemp(prefix="simtest-")
    try:
        with open(SMALL) as f:
            scenario = json.load(f)
        scenario["settings"] = {"fb_app_calls_per_window": 10,
            "mastodon_rate_limit": 3}
        path = os.path.join(tmp, "small.json")
        with open(path, "w") as f:
            json.dump(scenario, f)
        sim = Sim(path, "--step-interval", "0.2", "--fb-next-host", "self")
        try:
            deadline = time.time() + 10
            while not sim.control("GET", "status")[1]["done"]:
                check(time.time() < deadline, "auto-step did not finish")
                time.sleep(0.05)
            status, _, body = sim.fb("/%s/posts" % CITY_PAGE, limit=1)
            check(body["paging"]["next"].startswith("http://127.0.0.1:%d/"
                "v25.0/" % sim.port), "self host %s" % body["paging"]["next"])
            usage = [json.loads(sim.fb("/%s" % CITY_PAGE)[1]["x-app-usage"])[
                "call_count"] for _ in range(3)]
            check(usage[0] < usage[1] < usage[2], "usage %s" % usage)
            codes = [sim.masto("/api/v1/accounts/%s" % MASTO_ACCOUNT)[0]
                for _ in range(4)]
            check(codes == [200, 200, 200, 429], "natural 429 %s" % codes)
            truth = sim.truth()
            check(truth["fbr1"]["deleted"] and truth["ma2"]["deleted"] and
                truth["fbc1"]["hidden"], "small truth")
        finally:
            check(sim.stop() == 0, "SIGTERM exit code")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@test
def invalid_scenario_rejected(env):
    tmp = tempfile.mkdtemp(prefix="simtest-")
    try:
        path = os.path.join(tmp, "bad.json")
        with open(path, "w") as f:
            json.dump({"accounts": [{"platform": "facebook", "id": "1",
                "token": "t"}], "steps": [[{"op": "edit", "key": "nope"}]]},
                f)
        proc = subprocess.run([sys.executable, SIMULATOR, "--scenario",
            path], capture_output=True, text=True, timeout=10)
        check(proc.returncode == 2 and "nope" in proc.stderr,
            "rc %s: %s" % (proc.returncode, proc.stderr))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    started = time.time()
    env = {"city": Sim(CITY)}
    passed = failed = 0
    try:
        for fn in TESTS:
            try:
                fn(env)
                passed += 1
                print("ok   %s" % fn.__name__)
            except Exception as e:
                failed += 1
                print("FAIL %s: %s" % (fn.__name__, e))
                if not isinstance(e, AssertionError):
                    traceback.print_exc()
    finally:
        rc = env["city"].stop()
        if rc != 0:
            print("FAIL city simulator exited %s" % rc)
            failed += 1
    print("(%.1fs)" % (time.time() - started))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
