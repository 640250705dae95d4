#!/usr/bin/env python3
"""Platform simulator for sunarchive's end-to-end tests.

Serves fake Facebook Graph and Mastodon APIs on one loopback port, from a
scripted scenario (tests/sim/scenarios/*.json), with injectable faults, a
control API under /_sim/ and a JSON-lines log of every request.  Standard
library only.  Layout:

  Item, Media          what a scenario creates, with every version
  Fault                one queued fault and the requests it matches
  validate_scenario()  static check of a scenario before anything runs
  World                accounts, items, faults, step counter; one lock
  RequestLog           the request log (file and in-memory tail)
  SimApp               routing: control API, media, platform plug-ins
  main()               command line, server thread, signals

Platforms plug in through platforms/__init__.py; see README.md for the
scenario format, control API and fault kinds.
"""

import argparse
import collections
import gzip
import hashlib
import json
import os
import re
import signal
import struct
import sys
import threading
import time
import traceback
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from platforms import PLATFORM_CLASSES  # noqa: E402
from platforms.base import stable_int  # noqa: E402

CREATE_OPS = ("post", "old_post", "comment", "reply")
ITEM_OPS = ("edit", "hide", "unhide", "delete", "touch")
FAULT_KINDS = ("rate_limit", "http_5xx", "stall", "truncate", "malformed",
    "html200", "empty200", "loop", "auth", "not_found", "usage")
# Faults whose reply the platform plug-in writes (fault_response()).
PLATFORM_FAULTS = ("rate_limit", "http_5xx", "auth", "not_found")
# Faults the platform's normal handle() takes into account.
HANDLER_FAULTS = ("loop", "usage")
FAULT_FIELDS = ("op", "platform", "path", "query", "kind", "count")

MEDIA_LIFETIME = 3 * 86400      # how far ahead an FB oe= expiry lies
MEDIA_RE = re.compile(r"^/media/([a-z]+)/(\d+)(_small)?\.([a-z0-9]+)$")
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png",
    "mp4": "video/mp4", "mp3": "audio/mpeg"}
MAX_BODY = 1 << 20              # largest request body read
LOG_TAIL = 10000                # requests kept for GET /_sim/log

HTML_ERROR_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Error</title></head>"
    b"<body><h1>Sorry, something went wrong.</h1><p>We're working on it "
    b"and we'll get it fixed as soon as we can.</p></body></html>\n")


class ScenarioError(Exception):
    """A scenario, action or fault that cannot be used."""


class Media:
    """One attached file; the platform gives it an id, the core serves it."""

    def __init__(self, platform, key, spec, ext, created):
        self.platform = platform
        self.key = key
        self.type = spec.get("type", "image")
        self.ext = ext
        self.description = spec.get("description")
        self.width = int(spec.get("width", 1200))
        self.height = int(spec.get("height", 800))
        self.created = created
        self.id = None


class Item:
    """A post, comment or reply, with every version it ever had.

    account is the id of the account whose post the item belongs to (the
    Page or the Mastodon account), author the display name of who wrote it.
    Each version is {"text", "step", "time", "media": [Media]}.
    """

    def __init__(self, platform, account, key, kind, parent, author,
            created, step, seq):
        self.platform = platform
        self.account = account
        self.key = key
        self.kind = kind
        self.parent = parent
        self.post = parent.post if parent else self
        self.author = author
        self.author_id = None
        self.id = None
        self.created = created
        self.created_step = step
        self.seq = seq
        self.versions = []
        self.hidden = False
        self.deleted = False
        self.deleted_time = None
        self.touches = 0
        self.children = []

    @property
    def text(self):
        return self.versions[-1]["text"]

    @property
    def media(self):
        return self.versions[-1]["media"]

    @property
    def edited(self):
        """Time of the last edit, or None if never edited."""
        return self.versions[-1]["time"] if len(self.versions) > 1 else None

    @property
    def order(self):
        """Sort key: creation time, then creation order."""
        return (int(self.created * 1000), self.seq)

    def descendants(self):
        """All replies below this item, at any depth, deleted ones too."""
        out = []
        for child in self.children:
            out.append(child)
            out.extend(child.descendants())
        return out


class Fault:
    """A fault queued for the next `count` requests it matches."""

    def __init__(self, spec, fault_id):
        self.id = fault_id
        self.spec = dict(spec)
        self.kind = spec["kind"]
        self.platform = spec.get("platform", "*")
        self.path_re = re.compile(spec.get("path", ""))
        self.query_re = re.compile(spec["query"]) if "query" in spec else None
        self.remaining = int(spec.get("count", 1))
        self.params = {k: v for k, v in spec.items() if k not in FAULT_FIELDS}

    def matches(self, platform, path, query):
        if self.platform not in ("*", platform):
            return False
        if not self.path_re.search(path):
            return False
        return self.query_re is None or bool(self.query_re.search(query))

    def to_json(self):
        out = dict(self.spec)
        out.update({"id": self.id, "remaining": self.remaining})
        return out


def check_fault(spec, platform_names):
    """Return why `spec` is not a usable fault, or None."""
    if not isinstance(spec, dict):
        return "a fault must be a JSON object"
    if spec.get("kind") not in FAULT_KINDS:
        return "unknown fault kind %r (one of %s)" % (spec.get("kind"),
            ", ".join(FAULT_KINDS))
    platform = spec.get("platform", "*")
    if platform != "*" and platform not in platform_names:
        return "unknown platform %r" % platform
    for field in ("path", "query"):
        if field in spec:
            try:
                re.compile(spec[field])
            except (re.error, TypeError) as e:
                return "bad %s regex %r: %s" % (field, spec[field], e)
    count = spec.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count == 0 \
            or count < -1:
        return "count must be a positive integer or -1 (forever)"
    for name in ("seconds", "reset_seconds", "regain_minutes", "status",
            "http_status", "code", "percent", "remaining"):
        if name in spec and (not isinstance(spec[name], (int, float)) or
                isinstance(spec[name], bool)):
            return "%s must be a number" % name
    return None


def find_account(accounts, platform, account_id):
    """The account of `platform` with `account_id` (the only one of that
    platform when account_id is None), or None."""
    mine = [a for a in accounts if a["platform"] == platform]
    if account_id is None:
        return mine[0] if len(mine) == 1 else None
    for a in mine:
        if a["id"] == str(account_id):
            return a
    return None


def validate_scenario(data, platform_classes):
    """Check a scenario statically; raise ScenarioError listing problems.

    Walks the steps in order, tracking which keys exist, so an action that
    refers to an item before it is created (or after it is deleted) is
    caught before the simulator starts.
    """
    if not isinstance(data, dict):
        raise ScenarioError("a scenario must be a JSON object")
    errors = []
    accounts = data.get("accounts")
    steps = data.get("steps")
    if not isinstance(accounts, list) or not accounts:
        errors.append("'accounts' must be a non-empty list")
        accounts = []
    if not isinstance(steps, list) or not steps:
        errors.append("'steps' must be a non-empty list of action lists")
        steps = []
    if not isinstance(data.get("settings", {}), dict):
        errors.append("'settings' must be an object")
    seen = set()
    for i, a in enumerate(accounts):
        where = "account %d" % i
        if not isinstance(a, dict):
            errors.append("%s: must be an object" % where)
            continue
        if a.get("platform") not in platform_classes:
            errors.append("%s: unknown platform %r" % (where,
                a.get("platform")))
        for field in ("id", "token"):
            if not isinstance(a.get(field), str) or not a.get(field):
                errors.append("%s: %r must be a non-empty string" % (where,
                    field))
        if (a.get("platform"), a.get("id")) in seen:
            errors.append("%s: duplicate id %r" % (where, a.get("id")))
        seen.add((a.get("platform"), a.get("id")))
    accounts = [a for a in accounts if isinstance(a, dict)]

    keys = {}       # key -> {"platform", "kind", "deleted"}
    for si, step in enumerate(steps):
        if not isinstance(step, list):
            errors.append("step %d: must be a list of actions" % si)
            continue
        for ai, action in enumerate(step):
            where = "step %d action %d" % (si, ai)
            problem = _check_action(action, accounts, platform_classes, keys)
            if problem:
                errors.append("%s: %s" % (where, problem))
    if errors:
        raise ScenarioError("invalid scenario:\n  " + "\n  ".join(errors))


def _check_action(a, accounts, platform_classes, keys):
    """One action of validate_scenario(); updates keys; returns a problem."""
    if not isinstance(a, dict):
        return "an action must be an object"
    op = a.get("op")
    if op == "fault":
        return check_fault(a, platform_classes)
    if op in CREATE_OPS:
        if op in ("post", "old_post"):
            platform = a.get("platform")
            if platform not in platform_classes:
                return "unknown platform %r" % platform
            if find_account(accounts, platform, a.get("account")) is None:
                return "no %s account %r" % (platform, a.get("account"))
            kind = "post"
        else:
            parent = keys.get(a.get("on"))
            if parent is None:
                return "'on' names no item created before: %r" % a.get("on")
            if parent["deleted"]:
                return "%r is deleted" % a.get("on")
            platform = parent["platform"]
            if a.get("platform", platform) != platform:
                return "%r is on %s, not %s" % (a["on"], platform,
                    a["platform"])
            kind = "comment" if parent["kind"] == "post" else "reply"
        if op == "old_post" and not isinstance(a.get("age_days"),
                (int, float)):
            return "old_post needs a number 'age_days'"
        if not isinstance(a.get("text", ""), str):
            return "'text' must be a string"
        problem = _check_media(a.get("media", []), platform_classes[platform])
        if problem:
            return problem
        key = a.get("key")
        if key is not None:
            if not isinstance(key, str) or key in keys:
                return "key %r is not a new string" % (key,)
            keys[key] = {"platform": platform, "kind": kind,
                "deleted": False}
        return None
    if op in ITEM_OPS:
        item = keys.get(a.get("key"))
        if item is None:
            return "'key' names no item created before: %r" % a.get("key")
        if item["deleted"]:
            return "%r is already deleted" % a["key"]
        cls = platform_classes[item["platform"]]
        if op in ("hide", "unhide"):
            if not cls.supports_hide:
                return "%s has no hidden comments" % item["platform"]
            if item["kind"] == "post":
                return "only comments can be hidden"
        if op == "edit":
            if not isinstance(a.get("text", ""), str):
                return "'text' must be a string"
            return _check_media(a.get("media", []), cls)
        if op == "delete":
            item["deleted"] = True
        return None
    return "unknown op %r" % (op,)


def _check_media(media, cls):
    if not isinstance(media, list):
        return "'media' must be a list"
    for m in media:
        if not isinstance(m, dict) or m.get("type", "image") not in \
                cls.media_types:
            return "media must be objects with 'type' one of %s" % \
                ", ".join(cls.media_types)
    return None


class World:
    """Everything the simulator knows, guarded by `lock`.

    Platform plug-ins read it (with the lock held by the core) through
    account(), account_by_token(), find() and items; only the scenario
    player and the control API change it.
    """

    def __init__(self, scenario):
        self.lock = threading.RLock()
        self.accounts = [dict(a) for a in scenario["accounts"]]
        for a in self.accounts:
            a.setdefault("name", a.get("display_name") or a.get("username")
                or a["id"])
        self.settings = dict(scenario.get("settings", {}))
        self.steps = scenario["steps"]
        self.history = []           # every action list applied, in order
        self.step = -1
        self.start_time = time.time()
        self.items = []
        self.by_key = {}
        self.by_id = {}             # (platform, id) -> Item
        self.media_index = {}       # (platform, id) -> Media
        self.faults = []
        self.fault_seq = 0
        self.seq = 0
        self.media_epoch = 0        # FB oe= expiry, moves every step
        self.platforms = {}
        self.base_url = ""

    def attach(self, platforms, base_url):
        self.platforms = {p.name: p for p in platforms}
        self.base_url = base_url

    # Lookups for the platforms.

    def account(self, platform, account_id):
        return find_account(self.accounts, platform, account_id)

    def account_by_token(self, platform, token):
        for a in self.accounts:
            if a["platform"] == platform and token and a["token"] == token:
                return a
        return None

    def find(self, platform, item_id):
        return self.by_id.get((platform, item_id))

    def volatile(self, item, salt, spread=40):
        """A count (likes, favourites...) that grows every step and on
        every "touch" of the item."""
        base = stable_int(item.platform, item.id, salt) % spread
        rate = 1 + stable_int(item.platform, item.id, salt, "rate") % 3
        return base + rate * (self.step - item.created_step) + \
            3 * item.touches

    # The scenario player.

    @property
    def done(self):
        return self.step >= len(self.steps) - 1

    def advance(self):
        """Apply the next step; False if there is none left."""
        if self.done:
            return False
        self.step += 1
        now = time.time()
        self.media_epoch = max(self.media_epoch + 1, int(now) +
            MEDIA_LIFETIME)
        self.apply(self.steps[self.step], now)
        return True

    def apply(self, actions, now=None):
        """Apply a list of actions as part of the current step."""
        now = time.time() if now is None else now
        self.history.append(actions)
        for action in actions:
            self._apply_one(action, now)

    def check_actions(self, actions):
        """Validate ad-hoc actions against everything applied so far."""
        validate_scenario({"accounts": self.accounts,
            "steps": self.history + [actions]}, PLATFORM_CLASSES)

    def _apply_one(self, a, now):
        op = a["op"]
        if op == "fault":
            self.add_fault(a)
        elif op in CREATE_OPS:
            self._create(a, now)
        else:
            item = self.by_key[a["key"]]
            if op == "edit":
                media = self._make_media(item, a["media"], now) \
                    if "media" in a else item.media
                item.versions.append({"text": a.get("text", item.text),
                    "step": self.step, "time": now, "media": media})
            elif op in ("hide", "unhide"):
                item.hidden = op == "hide"
            elif op == "touch":
                item.touches += 1
            elif op == "delete":
                self._delete(item, now)

    def _create(self, a, now):
        created = now - float(a.get("age_days", 0)) * 86400
        if a["op"] in ("post", "old_post"):
            account = self.account(a["platform"], a.get("account"))
            platform, parent, kind = a["platform"], None, "post"
            author = account["name"]
        else:
            parent = self.by_key[a["on"]]
            platform, account = parent.platform, self.account(
                parent.platform, parent.account)
            kind = "comment" if parent.kind == "post" else "reply"
            author = a.get("author", "A. Resident")
        self.seq += 1
        key = a.get("key") or "_%s_%d" % (platform, self.seq)
        item = Item(platform, account["id"], key, kind, parent, author,
            created, self.step, self.seq)
        self.platforms[platform].assign_ids(item)
        item.versions.append({"text": a.get("text", ""), "step": self.step,
            "time": created, "media": self._make_media(item,
            a.get("media", []), created)})
        if parent:
            parent.children.append(item)
        self.items.append(item)
        self.by_key[key] = item
        self.by_id[(platform, item.id)] = item

    def _make_media(self, item, specs, created):
        """Media for a version; a spec whose key the item already has keeps
        that media (and its id)."""
        plugin = self.platforms[item.platform]
        old = {m.key: m for v in item.versions for m in v["media"]}
        out = []
        for spec in specs:
            if spec.get("key") in old:
                out.append(old[spec["key"]])
                continue
            self.seq += 1
            mtype = spec.get("type", "image")
            m = Media(item.platform, spec.get("key") or "_m%d" % self.seq,
                spec, plugin.media_types[mtype], created)
            plugin.assign_media_id(m)
            self.media_index[(item.platform, m.id)] = m
            out.append(m)
        return out

    def _delete(self, item, now):
        doomed = [item]
        if self.platforms[item.platform].delete_cascades:
            doomed += item.descendants()
        for d in doomed:
            if not d.deleted:
                d.deleted, d.deleted_time = True, now

    # Faults.

    def add_fault(self, spec):
        problem = check_fault(spec, self.platforms)
        if problem:
            raise ScenarioError(problem)
        self.fault_seq += 1
        fault = Fault(spec, self.fault_seq)
        self.faults.append(fault)
        return fault

    def take_fault(self, platform, path, query):
        """The first queued fault matching this request, used up once."""
        for fault in self.faults:
            if fault.matches(platform, path, query):
                if fault.remaining > 0:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self.faults.remove(fault)
                return fault
        return None

    def reset_faults(self):
        cleared, self.faults = len(self.faults), []
        return cleared

    # Ground truth for tests.

    def truth(self):
        out = []
        for it in self.items:
            plugin = self.platforms[it.platform]
            out.append({"platform": it.platform, "account": it.account,
                "key": it.key, "id": it.id, "kind": it.kind,
                "parent_id": it.parent.id if it.parent else None,
                "post_id": it.post.id, "author": it.author,
                "author_id": it.author_id, "created": it.created,
                "versions": [{"text": v["text"], "step": v["step"],
                    "time": v["time"],
                    "media": [m.id for m in v["media"]]}
                    for v in it.versions],
                "hidden": it.hidden, "deleted": it.deleted,
                "deleted_time": it.deleted_time, "touches": it.touches,
                "media": [{"id": m.id, "type": m.type,
                    "url": plugin.media_url(m)} for m in it.media]})
        return {"step": self.step, "items": out}


def load_scenario(path):
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise ScenarioError("cannot read scenario '%s': %s" % (path, e))
    validate_scenario(data, PLATFORM_CLASSES)
    return data


def fake_media_bytes(platform, media_id, ext, small):
    """Small deterministic bytes that look like the file type: a valid
    1x1 PNG, a JFIF-framed JPEG, an ftyp-headed MP4 or an ID3-tagged MP3."""
    seed = stable_int(platform, media_id, ext, small)
    label = ("sunarchive-sim %s media %s%s " % (platform, media_id,
        " small" if small else "")).encode()
    label += hashlib.sha256(label).hexdigest().encode() * (1 + seed % 4)
    if ext == "png":
        def chunk(tag, data):
            return struct.pack(">I", len(data)) + tag + data + \
                struct.pack(">I", zlib.crc32(tag + data) & 0xffffffff)
        pixel = b"\x00" + seed.to_bytes(8, "big")[:3]
        return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) +
            chunk(b"tEXt", b"Comment\x00" + label) +
            chunk(b"IDAT", zlib.compress(pixel)) + chunk(b"IEND", b""))
    if ext == "jpg":
        return (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01"
            b"\x00\x01\x00\x00\xff\xfe" + struct.pack(">H", len(label) + 2) +
            label + b"\xff\xd9")
    if ext == "mp4":
        return (struct.pack(">I", 24) + b"ftypmp42\x00\x00\x00\x00mp42isom" +
            struct.pack(">I", len(label) + 8) + b"free" + label)
    return b"ID3\x04\x00\x00\x00\x00\x00\x00" + label


def break_json(body):
    """A 200 body that is no longer JSON: cut short, then an open string."""
    return body[:len(body) * 2 // 3] + b'{"'


class RequestLog:
    """Every request received: one JSON line each in the --log file, and
    the last LOG_TAIL kept for GET /_sim/log."""

    def __init__(self, path):
        self.lock = threading.Lock()
        self.tail = collections.deque(maxlen=LOG_TAIL)
        self.file = open(path, "a", encoding="utf-8") if path else None

    def add(self, entry):
        line = json.dumps(entry, separators=(",", ":"))
        with self.lock:
            self.tail.append(entry)
            if self.file:
                self.file.write(line + "\n")
                self.file.flush()

    def entries(self):
        with self.lock:
            return list(self.tail)

    def close(self):
        if self.file:
            self.file.close()


class RequestContext:
    """What a platform plug-in sees of one request.

    query is name -> last value; query_list keeps order and repeats.
    """

    def __init__(self, method, path, raw_query, headers, body, world,
            options):
        self.method = method
        self.path = path
        self.raw_query = raw_query
        self.query_list = parse_qsl(raw_query, keep_blank_values=True)
        self.query = dict(self.query_list)
        self.headers = headers
        self.body = body
        self.world = world
        self.options = options
        self.base_url = world.base_url
        self.now = time.time()
        self.fault = None

    def header(self, name, default=None):
        return self.headers.get(name, default)


def json_reply(status, obj):
    return status, {"Content-Type": "application/json; charset=utf-8"}, \
        json.dumps(obj, separators=(",", ":")).encode()


class SimApp:
    """Routes each request: control API, media files, or a platform, with
    the fault (if any) applied around it."""

    def __init__(self, world, options, log):
        self.world = world
        self.options = options
        self.log = log
        self.stop = threading.Event()

    def route(self, path):
        """(platform name or None, plug-in or "media" or None)."""
        m = MEDIA_RE.match(path)
        if m:
            if m.group(1) in self.world.platforms:
                return m.group(1), "media"
            return None, None
        for plugin in self.world.platforms.values():
            if plugin.match(path):
                return plugin.name, plugin
        return None, None

    def dispatch(self, h):
        t0 = time.time()
        url = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(min(length, MAX_BODY)) if length > 0 else b""
        if length > MAX_BODY:
            h.close_connection = True   # the rest is never read
        entry = {"t": t0, "method": h.command, "path": url.path,
            "query": {k: v[0] if len(v) == 1 else v for k, v in
                parse_qs(url.query, keep_blank_values=True).items()},
            "headers": dict(h.headers.items()), "status": None,
            "fault": None}
        if url.path.startswith("/_sim/"):
            status, headers, payload = self.control(h.command, url.path,
                body)
            entry["status"] = status
            self.log.add(entry)
            self.send(h, status, headers, payload)
            return

        ctx = RequestContext(h.command, url.path, url.query, h.headers,
            body, self.world, self.options)
        with self.world.lock:
            name, plugin = self.route(url.path)
            fault = self.world.take_fault(name, url.path, url.query) \
                if name else None
            kind = fault.kind if fault else None
            ctx.fault = fault
            entry["fault"] = kind
            try:
                if kind == "stall":
                    response = None
                elif kind in PLATFORM_FAULTS:
                    response = self.world.platforms[name].fault_response(
                        ctx, fault)
                elif plugin == "media":
                    response = self.serve_media(url.path)
                elif plugin:
                    response = plugin.handle(ctx)
                else:
                    response = json_reply(404, {"error": "Not Found"})
            except Exception:
                traceback.print_exc()
                response = json_reply(500, {"error": "simulator bug: %s" %
                    traceback.format_exc().splitlines()[-1]})

        if kind == "stall":
            entry["status"] = 0
            self.log.add(entry)
            self.stop.wait(float(fault.params.get("seconds", 30)))
            h.close_connection = True
            return
        status, headers, payload = response
        if kind == "malformed":
            status, payload = 200, break_json(payload)
        elif kind == "html200":
            status, payload = 200, HTML_ERROR_PAGE
            headers = {"Content-Type": "text/html; charset=utf-8"}
        elif kind == "empty200":
            status, payload = 200, b""
        if self.options.gzip and payload and "gzip" in \
                h.headers.get("Accept-Encoding", ""):
            payload = gzip.compress(payload, mtime=0)
            headers = dict(headers, **{"Content-Encoding": "gzip",
                "Vary": "Accept-Encoding"})
        entry["status"] = status
        self.log.add(entry)
        self.send(h, status, headers, payload, truncate=kind == "truncate")

    @staticmethod
    def send(h, status, headers, payload, truncate=False):
        """Write the reply; with truncate, announce the whole body but send
        half of it and close."""
        h.send_response(status)
        for name, value in headers.items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(payload[:len(payload) // 2] if truncate
                else payload)
        if truncate:
            h.wfile.flush()
            h.close_connection = True

    def serve_media(self, path):
        m = MEDIA_RE.match(path)
        platform, media_id, small, ext = m.groups()
        if (platform, media_id) not in self.world.media_index or \
                ext not in CONTENT_TYPES:
            return 404, {"Content-Type": "text/plain"}, b"Not Found\n"
        payload = fake_media_bytes(platform, media_id, ext, bool(small))
        return 200, {"Content-Type": CONTENT_TYPES[ext],
            "Cache-Control": "max-age=1209600, no-transform",
            "Access-Control-Allow-Origin": "*"}, payload

    def control(self, method, path, body):
        """The /_sim/ control API; see README.md."""
        w = self.world
        routes = {
            "/_sim/step": "POST", "/_sim/status": "GET",
            "/_sim/fault": "POST", "/_sim/reset-faults": "POST",
            "/_sim/truth": "GET", "/_sim/log": "GET",
            "/_sim/actions": "POST",
        }
        if path not in routes:
            return json_reply(404, {"error": "no such control endpoint"})
        if method != routes[path]:
            return json_reply(405, {"error": "use %s" % routes[path]})
        if method == "POST":
            try:
                payload = json.loads(body.decode("utf-8")) if body else None
            except ValueError as e:
                return json_reply(400, {"error": "body is not JSON: %s" % e})
        with w.lock:
            if path == "/_sim/step":
                w.advance()
                return json_reply(200, {"step": w.step, "done": w.done})
            if path == "/_sim/status":
                return json_reply(200, {"step": w.step,
                    "steps": len(w.steps), "done": w.done,
                    "pending_faults": [f.to_json() for f in w.faults]})
            if path == "/_sim/truth":
                return json_reply(200, w.truth())
            if path == "/_sim/log":
                return json_reply(200, {"requests": self.log.entries()})
            if path == "/_sim/reset-faults":
                return json_reply(200, {"cleared": w.reset_faults()})
            try:
                if path == "/_sim/fault":
                    fault = w.add_fault(payload)
                    return json_reply(200, {"fault": fault.to_json()})
                actions = payload.get("actions") if isinstance(payload,
                    dict) else payload
                w.check_actions(actions)
                w.apply(actions)
                return json_reply(200, {"step": w.step,
                    "applied": len(actions)})
            except (ScenarioError, TypeError, AttributeError) as e:
                return json_reply(400, {"error": str(e)})


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive; every method goes to SimApp.dispatch."""

    protocol_version = "HTTP/1.1"
    server_version = "sunarchive-sim/1.0"

    def do_GET(self):
        self.server.app.dispatch(self)

    do_POST = do_HEAD = do_PUT = do_DELETE = do_GET

    def log_message(self, fmt, *args):
        pass            # the request log replaces BaseHTTPRequestHandler's


class SimServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def write_port_file(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def auto_step(app, interval):
    """--step-interval: apply one step every `interval` seconds."""
    while not app.stop.wait(interval):
        with app.world.lock:
            if not app.world.advance():
                return


def parse_args(argv):
    p = argparse.ArgumentParser(description="sunarchive platform simulator")
    p.add_argument("--scenario", required=True, help="scenario JSON file")
    p.add_argument("--port", type=int, default=0,
        help="port on 127.0.0.1 (0 = pick a free one)")
    p.add_argument("--port-file", help="write the port number here")
    p.add_argument("--log", help="append one JSON line per request here")
    p.add_argument("--step-interval", type=float,
        help="apply one scenario step every SECONDS")
    p.add_argument("--fb-next-host", choices=("real", "self"),
        default="real", help="host of Facebook paging.next URLs")
    p.add_argument("--fb-next-proof", choices=("drop", "keep"),
        default="drop", help="whether paging.next keeps appsecret_proof")
    p.add_argument("--gzip", action="store_true",
        help="gzip bodies when the client accepts it")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as e:
        print("simulator: %s" % e, file=sys.stderr)
        return 2
    world = World(scenario)
    log = RequestLog(args.log)
    app = SimApp(world, args, log)
    try:
        server = SimServer(("127.0.0.1", args.port), Handler)
    except OSError as e:
        print("simulator: cannot listen on 127.0.0.1:%d: %s" % (args.port,
            e), file=sys.stderr)
        return 1
    server.app = app
    port = server.server_address[1]
    world.attach([cls(world, args) for cls in PLATFORM_CLASSES.values()],
        "http://127.0.0.1:%d" % port)
    with world.lock:
        world.advance()         # step 0, the initial state

    def on_signal(signum, frame):
        app.stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    if args.port_file:
        write_port_file(args.port_file, port)
    print("listening on 127.0.0.1:%d" % port, file=sys.stderr, flush=True)
    if args.step_interval:
        threading.Thread(target=auto_step, args=(app, args.step_interval),
            daemon=True).start()
    while not app.stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
