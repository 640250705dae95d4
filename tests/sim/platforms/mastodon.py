"""Mastodon 4.x REST API (platform-apis.md section 5).

Routes:

  GET /api/v1/accounts/lookup?acct=NAME       an Account
  GET /api/v1/accounts/{id}                   an Account
  GET /api/v1/accounts/{id}/statuses          newest first, Link paging
  GET /api/v1/statuses/{id}                   a Status
  GET /api/v1/statuses/{id}/context           {"ancestors", "descendants"}
  GET /api/v1/statuses/{id}/history           StatusEdits, oldest first
  GET /api/v1/statuses/{id}/source            {"id", "text", "spoiler_text"}

Every call needs "Authorization: Bearer <token>" of a scenario account.
Replies by other people come from accounts the simulator makes up from the
scenario's "author" names.  Deleting a status leaves its replies in place
(only unreachable through context), as Mastodon does.

Scenario settings read here (defaults in brackets):
  mastodon_rate_limit [300]        requests per period per token
  mastodon_rate_period [300]       seconds; windows are period-aligned
"""

import html
import os
import re
from urllib.parse import urlencode

from .base import (Platform, iso_date, iso_ms, iso_us, json_bytes,
    stable_int)

PATH_PREFIX = "/api/v1/"
DEFAULT_LIMIT = 20
MAX_LIMIT = 40
# The query parameters Mastodon carries over into Link URLs, in its order.
LINK_PARAMS = ("limit", "only_media", "exclude_replies", "exclude_reblogs")
BLURHASH_ALPHABET = ("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
    "tuvwxyz#$%*+,-.:;=?@[]^_{|}~")
ERROR_PAGES = {
    500: "We're sorry, but something went wrong on our end.",
    503: "The page could not be served due to a temporary server failure.",
}


def _truthy(value):
    return value in ("true", "1", "True")


def _slug(name):
    return re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_") or "user"


class MastodonPlatform(Platform):
    """The Mastodon instance holding the scenario's Mastodon accounts."""

    name = "mastodon"
    media_types = {"image": "png", "video": "mp4", "gifv": "mp4",
        "audio": "mp3"}
    supports_hide = False
    delete_cascades = False

    def __init__(self, world, options):
        super().__init__(world, options)
        self.used_ids = set()
        self.others = {}            # made-up author accounts: id -> info
        self.windows = {}           # token -> [period index, count]

    def match(self, path):
        return path.startswith(PATH_PREFIX)

    # Ids and media.

    def _snowflake(self, t):
        """Mastodon-style id: milliseconds << 16, so ids grow with time."""
        candidate = int(t * 1000) << 16
        while candidate in self.used_ids:
            candidate += 1
        self.used_ids.add(candidate)
        return str(candidate)

    def assign_ids(self, item):
        item.id = self._snowflake(item.created)
        owner = self.world.account(self.name, item.account)
        if item.kind == "post" or item.author in (owner["name"],
                owner.get("username"), "@%s" % owner.get("username")):
            item.author_id = owner["id"]
            return
        author_id = "111%015d" % (stable_int(self.name, item.author)
            % 10 ** 15)
        self.others.setdefault(author_id, {"id": author_id,
            "username": _slug(item.author), "name": item.author})
        item.author_id = author_id

    def assign_media_id(self, media):
        media.id = self._snowflake(media.created)

    def media_url(self, media):
        return "%s/media/mastodon/%s.%s" % (self.world.base_url, media.id,
            media.ext)

    # Request handling.

    def handle(self, ctx):
        token = self._token(ctx)
        limited, rate = self._rate(ctx, token)
        if limited:
            return self._reply(429, {"error": "Too many requests"}, rate)
        account = self.world.account_by_token(self.name, token)
        if account is None:
            return self._unauthorized(rate)
        parts = ctx.path[len(PATH_PREFIX):].strip("/").split("/")
        if ctx.method not in ("GET", "HEAD"):
            return self._reply(404, {"error": "Not Found"}, rate)
        if parts[0] == "accounts" and len(parts) in (2, 3):
            return self._accounts(ctx, parts[1:], rate)
        if parts[0] == "statuses" and len(parts) in (2, 3):
            return self._statuses(ctx, account, parts[1:], rate)
        return self._reply(404, {"error": "Not Found"}, rate)

    def fault_response(self, ctx, fault):
        params = fault.params
        if fault.kind == "http_5xx":
            status = int(params.get("status", 503))
            if params.get("body", "html") == "json":
                return status, {"Content-Type": "application/json; "
                    "charset=utf-8"}, json_bytes({"error": ERROR_PAGES.get(
                    status, ERROR_PAGES[500])})
            title = "%d Service Temporarily Unavailable" % status
            page = "<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n" \
                "<center><h1>%s</h1></center>\r\n<hr><center>nginx</center>" \
                "\r\n</body>\r\n</html>\r\n" % (title, title)
            return status, {"Content-Type": "text/html"}, page.encode()
        _, rate = self._rate(ctx, self._token(ctx))
        if fault.kind == "rate_limit":
            rate = dict(rate, **{"X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": iso_us(ctx.now + float(params.get(
                    "reset_seconds", 2)))})
            return self._reply(429, {"error": "Too many requests"}, rate)
        if fault.kind == "auth":
            return self._unauthorized(rate)
        return self._reply(404, {"error": "Record not found"}, rate)

    @staticmethod
    def _token(ctx):
        scheme, _, value = (ctx.header("Authorization") or "").partition(" ")
        return value.strip() if scheme.lower() == "bearer" else None

    def _rate(self, ctx, token):
        """Count this request; (over the limit?, X-RateLimit-* headers)."""
        settings = self.world.settings
        limit = int(settings.get("mastodon_rate_limit", 300))
        period = int(settings.get("mastodon_rate_period", 300))
        index = int(ctx.now) // period
        window = self.windows.setdefault(token or "anonymous", [index, 0])
        if window[0] != index:
            window[:] = [index, 0]
        window[1] += 1
        remaining = max(0, limit - window[1])
        if ctx.fault and ctx.fault.kind == "usage":
            remaining = int(ctx.fault.params.get("remaining", 1))
        # As Mastodon's rack-attack responder: now + the rest of the period.
        reset = ctx.now + (period - int(ctx.now) % period)
        return window[1] > limit, {"X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": iso_us(reset)}

    def _unauthorized(self, rate):
        headers = dict(rate, **{"WWW-Authenticate": 'Bearer realm='
            '"Doorkeeper", error="invalid_token", error_description="The '
            'access token is invalid"'})
        return self._reply(401, {"error": "The access token is invalid"},
            headers)

    @staticmethod
    def _reply(status, body, headers):
        headers = dict(headers, **{
            "Content-Type": "application/json; charset=utf-8",
            "Cache-Control": "private, no-store",
            "Vary": "Accept, Origin",
            "X-Request-Id": os.urandom(8).hex()})
        return status, headers, json_bytes(body, ascii_only=False)

    # Accounts.

    def _account_info(self, account_id):
        """{"id", "username", "name"} of a scenario or made-up account."""
        owner = self.world.account(self.name, account_id)
        if owner is not None:
            return {"id": owner["id"], "username": owner.get("username",
                _slug(owner["name"])), "name": owner["name"],
                "created_at": owner.get("created_at")}
        return self.others.get(account_id)

    def _accounts(self, ctx, parts, rate):
        if parts == ["lookup"]:
            acct = (ctx.query.get("acct") or "").lstrip("@").split("@")[0]
            ids = [a["id"] for a in self.world.accounts
                if a["platform"] == self.name and a.get("username") == acct]
            ids += [o["id"] for o in self.others.values()
                if o["username"] == acct]
            if not ids:
                return self._reply(404, {"error": "Record not found"}, rate)
            return self._reply(200, self._account_json(ids[0]), rate)
        info = self._account_info(parts[0])
        if info is None:
            return self._reply(404, {"error": "Record not found"}, rate)
        if len(parts) == 1:
            return self._reply(200, self._account_json(parts[0]), rate)
        if parts[1] != "statuses":
            return self._reply(404, {"error": "Not Found"}, rate)
        return self._account_statuses(ctx, parts[0], rate)

    def _account_json(self, account_id):
        info = self._account_info(account_id)
        mine = [s for s in self._all() if s.author_id == account_id
            and not s.deleted]
        base = self.world.base_url
        if info.get("created_at"):
            created = info["created_at"]
        else:
            days = 90 + stable_int(self.name, account_id) % 900
            midnight = (int(self.world.start_time) // 86400 - days) * 86400
            created = iso_ms(midnight)
        username = info["username"]
        return {"id": account_id, "username": username, "acct": username,
            "display_name": info["name"], "locked": False, "bot": False,
            "discoverable": True, "group": False, "created_at": created,
            "note": "", "url": "%s/@%s" % (base, username),
            "uri": "%s/users/%s" % (base, username),
            "avatar": "%s/avatars/original/missing.png" % base,
            "avatar_static": "%s/avatars/original/missing.png" % base,
            "header": "%s/headers/original/missing.png" % base,
            "header_static": "%s/headers/original/missing.png" % base,
            "followers_count": 100 + stable_int(account_id) % 5000,
            "following_count": stable_int(account_id, "following") % 300,
            "statuses_count": len(mine),
            "last_status_at": iso_date(max(s.created for s in mine))
                if mine else None,
            "emojis": [], "fields": []}

    def _account_statuses(self, ctx, account_id, rate):
        q = ctx.query
        limit = DEFAULT_LIMIT
        if q.get("limit", "").isdigit():
            limit = max(1, min(MAX_LIMIT, int(q["limit"])))
        statuses = [s for s in self._all() if s.author_id == account_id
            and not s.deleted]
        if _truthy(q.get("pinned")):
            statuses = []
        if _truthy(q.get("exclude_replies")):
            statuses = [s for s in statuses if s.parent is None
                or s.parent.author_id == account_id]
        if _truthy(q.get("only_media")):
            statuses = [s for s in statuses if s.media]
        statuses.sort(key=lambda s: int(s.id), reverse=True)
        for name, keep in (("max_id", lambda s, v: int(s.id) < v),
                ("since_id", lambda s, v: int(s.id) > v),
                ("min_id", lambda s, v: int(s.id) > v)):
            if q.get(name, "").isdigit():
                statuses = [s for s in statuses if keep(s, int(q[name]))]
        if q.get("min_id", "").isdigit():
            page = statuses[-limit:]        # the oldest just above min_id
        else:
            page = statuses[:limit]

        links = []
        if len(page) == limit:              # Mastodon's records_continue?
            links.append((self._link(ctx, account_id, "max_id", page[-1].id),
                "next"))
        if page:
            links.append((self._link(ctx, account_id, "min_id", page[0].id),
                "prev"))
        if ctx.fault and ctx.fault.kind == "loop":
            url = "%s%s?%s" % (ctx.base_url, ctx.path, ctx.raw_query)
            links = [(url, "next")] + [l for l in links if l[1] == "prev"]
        headers = dict(rate)
        if links:
            headers["Link"] = ", ".join('<%s>; rel="%s"' % link
                for link in links)
        return self._reply(200, [self._status_json(s) for s in page],
            headers)

    def _link(self, ctx, account_id, name, value):
        params = [(k, ctx.query[k]) for k in LINK_PARAMS if k in ctx.query]
        params.append((name, value))
        return "%s/api/v1/accounts/%s/statuses?%s" % (ctx.base_url,
            account_id, urlencode(params))

    # Statuses.

    def _all(self):
        return [it for it in self.world.items if it.platform == self.name]

    def _statuses(self, ctx, account, parts, rate):
        if not parts[0].isdigit():
            return self._reply(404, {"error": "Not Found"}, rate)
        status = self.world.find(self.name, parts[0])
        if status is None or status.deleted:
            return self._reply(404, {"error": "Record not found"}, rate)
        what = parts[1] if len(parts) == 2 else None
        if what is None:
            return self._reply(200, self._status_json(status), rate)
        if what == "context":
            return self._reply(200, self._context(status), rate)
        if what == "history":
            return self._reply(200, [self._edit_json(status, v)
                for v in status.versions], rate)
        if what == "source" and status.author_id == account["id"]:
            return self._reply(200, {"id": status.id, "text": status.text,
                "spoiler_text": ""}, rate)
        if what == "source":
            return self._reply(404, {"error": "Record not found"}, rate)
        return self._reply(404, {"error": "Not Found"}, rate)

    def _context(self, status):
        """Ancestors oldest first; descendants depth first, by id; deleted
        statuses (and what hangs only from them) left out."""
        ancestors = []
        parent = status.parent
        while parent is not None and not parent.deleted:
            ancestors.append(parent)
            parent = parent.parent
        descendants = []

        def walk(node):
            for child in sorted(node.children, key=lambda s: int(s.id)):
                if not child.deleted:
                    descendants.append(child)
                    walk(child)
        walk(status)
        return {"ancestors": [self._status_json(s)
            for s in reversed(ancestors)],
            "descendants": [self._status_json(s) for s in descendants]}

    @staticmethod
    def _content(text):
        paragraphs = [p for p in text.split("\n\n") if p] or [""]
        return "".join("<p>%s</p>" % html.escape(p, quote=False).replace(
            "\n", "<br />") for p in paragraphs)

    def _status_json(self, s):
        info = self._account_info(s.author_id)
        base = self.world.base_url
        return {"id": s.id, "created_at": iso_ms(s.created),
            "edited_at": iso_ms(s.edited) if s.edited else None,
            "in_reply_to_id": s.parent.id if s.parent else None,
            "in_reply_to_account_id": s.parent.author_id if s.parent
                else None,
            "sensitive": False, "spoiler_text": "", "visibility": "public",
            "language": "en",
            "uri": "%s/users/%s/statuses/%s" % (base, info["username"], s.id),
            "url": "%s/@%s/%s" % (base, info["username"], s.id),
            "replies_count": len([c for c in s.children if not c.deleted]),
            "reblogs_count": self.world.volatile(s, "reblogs", 6),
            "favourites_count": self.world.volatile(s, "favourites", 30),
            "quotes_count": 0, "content": self._content(s.text),
            "reblog": None, "application": {"name": "Web", "website": None},
            "account": self._account_json(s.author_id),
            "media_attachments": [self._media_json(m) for m in s.media],
            "mentions": [], "tags": [], "emojis": [], "card": None,
            "poll": None, "quote": None, "filtered": []}

    def _edit_json(self, s, version):
        return {"content": self._content(version["text"]),
            "spoiler_text": "", "sensitive": False,
            "created_at": iso_ms(version["time"]),
            "account": self._account_json(s.author_id),
            "media_attachments": [self._media_json(m)
                for m in version["media"]], "emojis": []}

    def _media_json(self, m):
        base = self.world.base_url
        small_h = max(1, round(640 * m.height / m.width))
        if m.type == "audio":
            meta = {"original": {"duration": 30.0, "bitrate": 128000}}
        elif m.type in ("video", "gifv"):
            meta = {"original": {"width": m.width, "height": m.height,
                "frame_rate": "30/1", "duration": 12.5, "bitrate": 1200000},
                "small": {"width": 640, "height": small_h}}
        else:
            meta = {"original": {"width": m.width, "height": m.height},
                "small": {"width": 640, "height": small_h},
                "focus": {"x": 0.0, "y": 0.0}}
        seed = stable_int(self.name, m.id, "blurhash")
        blurhash = None if m.type == "audio" else "".join(
            BLURHASH_ALPHABET[(seed >> (4 * i)) % len(BLURHASH_ALPHABET)]
            for i in range(16))
        return {"id": m.id, "type": m.type, "url": self.media_url(m),
            "preview_url": "%s/media/mastodon/%s_small.png" % (base, m.id),
            "remote_url": None, "description": m.description,
            "meta": meta, "blurhash": blurhash}
