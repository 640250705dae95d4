"""Facebook Pages, Graph API v25-style (platform-apis.md section 1).

Routes, under any version prefix such as /v25.0:

  GET /{page-id}/posts, /feed, /published_posts   the Page's posts, newest
                                                  first
  GET /{object-id}/comments                       filter=stream: every comment
                                                  and reply, flat, with parent;
                                                  else top-level only
  GET /{object-id}                                a Page ("me" too), post
                                                  or comment
  GET /debug_token?input_token=...                token health

Auth: access_token (query, or an Authorization: Bearer/OAuth header) must be
the token of the Page that owns the object, plus appsecret_proof when the
scenario gives the Page an app_secret.  Another Page's token gets the
"does not exist ... missing permissions" error, as on the real API.

Scenario settings read here (defaults in brackets):
  fb_usage_window_seconds [3600]   rolling window of the usage headers
  fb_app_calls_per_window [4800]   calls that make X-App-Usage 100
  fb_page_calls_per_window [4800]  calls that make the BUC header 100
  fb_updated_time_on_comment [false]  new comments move a post's
                                   updated_time (unverified on the real API)
"""

import base64
import hashlib
import hmac
import os
import re
from urllib.parse import urlencode

from .base import Platform, RateWindow, fb_time, json_bytes, stable_int

REAL_HOST = "https://graph.facebook.com"
PATH_RE = re.compile(r"^/(v\d+\.\d+)(/.*)?$")
POST_EDGES = ("posts", "feed", "published_posts")
DEFAULT_LIMIT = 25
MAX_LIMIT = 100

RATE_LIMIT_MESSAGES = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    80001: "(#80001) There have been too many calls to this Page account. "
        "Wait a bit and try again. For more info, please refer to "
        "https://developers.facebook.com/docs/graph-api/overview/"
        "rate-limiting.",
}
MISSING_MESSAGE = ("Unsupported get request. Object with ID '%s' does not "
    "exist, cannot be loaded due to missing permissions, or does not support "
    "this operation. Please read the Graph API documentation at "
    "https://developers.facebook.com/docs/graph-api")
PPCA_MESSAGE = ("(#100) Pages Public Content Access requires either app "
    "secret proof or an app token")


def appsecret_proof(secret, token):
    """Lowercase hex HMAC-SHA256 of the token keyed with the app secret."""
    return hmac.new(secret.encode(), token.encode(),
        hashlib.sha256).hexdigest()


def _cursor(item):
    raw = ("%d:%d" % item.order).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _uncursor(text):
    """The sort key a cursor stands for, or None if it is not ours."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        ms, seq = raw.decode().split(":")
        return (int(ms), int(seq))
    except ValueError:
        return None


def _int_param(value, default, low, high):
    try:
        return max(low, min(high, int(value)))
    except (TypeError, ValueError):
        return default


class FacebookPlatform(Platform):
    """The Graph API of the scenario's Facebook Pages."""

    name = "facebook"
    media_types = {"image": "jpg", "video": "mp4"}
    supports_hide = True
    delete_cascades = True          # a deleted comment takes its replies

    def __init__(self, world, options):
        super().__init__(world, options)
        window = world.settings.get("fb_usage_window_seconds", 3600)
        self.app_window = RateWindow(window)
        self.page_windows = {}
        self.post_seq = 0
        self.comment_seq = 0
        self.media_seq = 0

    def match(self, path):
        return PATH_RE.match(path) is not None

    # Ids and media.

    def assign_ids(self, item):
        page = self.world.account(self.name, item.account)
        if item.kind == "post":
            self.post_seq += 1
            item.id = "%s_%d" % (page["id"], 200000000000000 + self.post_seq)
        else:
            self.comment_seq += 1
            item.id = "%s_%d" % (item.post.id.split("_", 1)[1],
                500000000000000 + self.comment_seq)
        if item.kind == "post" or item.author == page["name"]:
            item.author_id = page["id"]
        else:
            item.author_id = "6%014d" % (stable_int(self.name, item.author)
                % 10 ** 14)

    def assign_media_id(self, media):
        self.media_seq += 1
        media.id = str(300000000000000 + self.media_seq)

    def media_url(self, media, ext=None):
        """A CDN-style URL; oh/oe change every step, old ones still work."""
        oe = "%08X" % self.world.media_epoch
        oh = base64.urlsafe_b64encode(hashlib.sha256(("%s|%s" % (media.id,
            oe)).encode()).digest()[:12]).decode()
        return "%s/media/facebook/%s.%s?_nc_cat=1&_nc_sid=5f2048&oh=00_%s" \
            "&oe=%s" % (self.world.base_url, media.id, ext or media.ext,
            oh, oe)

    # Request handling.

    def handle(self, ctx):
        version, parts = self._split(ctx.path)
        if ctx.method not in ("GET", "HEAD"):
            return self._error(ctx, 400, {"message": "Unsupported %s "
                "request." % ctx.method.lower(), "type":
                "GraphMethodException", "code": 100})
        account, failure = self._authenticate(ctx)
        if failure:
            return failure
        if parts == ["debug_token"]:
            return self._debug_token(ctx, account)
        if len(parts) not in (1, 2):
            return self._error(ctx, 400, {"message": "Unknown path "
                "components: /%s" % "/".join(parts[1:]), "type":
                "OAuthException", "code": 2500}, account)
        node, kind = self._resolve(parts[0], account)
        if node is None:
            return self._missing(ctx, parts[0], account)
        if len(parts) == 1:
            body = {"name": node["name"], "id": node["id"]} \
                if kind == "page" else self._item_json(node)
            return self._reply(ctx, 200, body, account)
        edge = parts[1]
        if edge in POST_EDGES and kind == "page":
            return self._posts(ctx, account)
        if edge == "comments" and kind != "page":
            return self._comments(ctx, account, node)
        node_type = {"page": "Page", "post": "Post"}.get(kind, "Comment")
        return self._error(ctx, 400, {"message": "(#100) Tried accessing "
            "nonexisting field (%s) on node type (%s)" % (edge, node_type),
            "type": "OAuthException", "code": 100}, account)

    def fault_response(self, ctx, fault):
        account = self.world.account_by_token(self.name, self._token(ctx))
        params = fault.params
        if fault.kind == "rate_limit":
            code = int(params.get("code", 4))
            status = int(params.get("http_status", 403 if code == 4 else 400))
            message = RATE_LIMIT_MESSAGES.get(code,
                "(#%d) Request limit reached" % code)
            return self._error(ctx, status, {"message": message,
                "type": "OAuthException", "is_transient": True,
                "code": code}, account, app_pct=100,
                page_pct=100 if code in (32, 80001) else None,
                regain=int(params.get("regain_minutes", 0)))
        if fault.kind == "http_5xx":
            status = int(params.get("status", 503))
            if params.get("body", "json") == "html":
                page = "<html><body><h1>%d Service Unavailable</h1>" \
                    "</body></html>\n" % status
                return status, {"Content-Type": "text/html; charset=utf-8"}, \
                    page.encode()
            if status == 503:
                err = {"message": "An unexpected error has occurred. Please "
                    "retry your request later.", "type": "OAuthException",
                    "is_transient": True, "code": 2}
            else:
                err = {"message": "An unknown error has occurred.",
                    "type": "OAuthException", "is_transient": True,
                    "code": 1}
            return self._error(ctx, status, err, account)
        if fault.kind == "auth":
            message = "Error validating access token: Session has expired."
            return self._error(ctx, 400, {"message": message,
                "type": "OAuthException", "code": 190, "error_subcode": 463,
                "error_user_title": "Session expired",
                "error_user_msg": "Please log in again."}, None,
                extra={"WWW-Authenticate": 'OAuth "Facebook Platform" '
                    '"invalid_token" "%s"' % message})
        # not_found
        parts = self._split(ctx.path)[1]
        return self._missing(ctx, parts[0] if parts else ctx.path, account)

    # Auth.

    @staticmethod
    def _split(path):
        m = PATH_RE.match(path)
        return m.group(1), [p for p in (m.group(2) or "").split("/") if p]

    @staticmethod
    def _token(ctx):
        token = ctx.query.get("access_token")
        if token is None:
            scheme, _, value = (ctx.header("Authorization") or "").partition(
                " ")
            if scheme.lower() in ("bearer", "oauth"):
                token = value.strip()
        return token

    def _authenticate(self, ctx):
        """(account, None) or (None, error reply)."""
        account = self.world.account_by_token(self.name, self._token(ctx))
        if account is None:
            message = "Invalid OAuth access token - Cannot parse access token"
            return None, self._error(ctx, 400, {"message": message,
                "type": "OAuthException", "code": 190}, None,
                extra={"WWW-Authenticate": 'OAuth "Facebook Platform" '
                    '"invalid_token" "%s"' % message})
        secret = account.get("app_secret")
        if secret:
            proof = ctx.query.get("appsecret_proof")
            if not proof:
                return None, self._error(ctx, 400, {"message": PPCA_MESSAGE,
                    "type": "OAuthException", "code": 100})
            if not hmac.compare_digest(proof, appsecret_proof(secret,
                    account["token"])):
                return None, self._error(ctx, 400, {"message": "Invalid "
                    "appsecret_proof provided in the API argument",
                    "type": "GraphMethodException", "code": 100})
        return account, None

    def _resolve(self, object_id, account):
        """(node, kind) visible to `account`'s token, or (None, None).
        "me" is the token's own Page."""
        if object_id in (account["id"], "me"):
            return account, "page"
        item = self.world.find(self.name, object_id)
        if item is None or item.deleted or item.account != account["id"]:
            return None, None
        return item, item.kind

    # Edges.

    def _posts(self, ctx, account):
        posts = [it for it in self.world.items if it.platform == self.name
            and it.kind == "post" and it.account == account["id"]
            and not it.deleted]
        since = _int_param(ctx.query.get("since"), None, 0, 1 << 40)
        until = _int_param(ctx.query.get("until"), None, 0, 1 << 40)
        if since is not None:
            posts = [p for p in posts if p.created >= since]
        if until is not None:
            posts = [p for p in posts if p.created <= until]
        posts.sort(key=lambda it: it.order, reverse=True)
        return self._listing(ctx, account, posts, True, self._post_json)

    def _comments(self, ctx, account, node):
        pool = node.descendants() if ctx.query.get("filter") == "stream" \
            else node.children
        comments = [c for c in pool if not c.deleted]
        order = ctx.query.get("order", "chronological")
        descending = order == "reverse_chronological"
        comments.sort(key=lambda it: it.order, reverse=descending)
        summary = None
        if ctx.query.get("summary") in ("true", "1"):
            summary = {"order": order, "total_count": len(comments),
                "can_comment": True}
        return self._listing(ctx, account, comments, descending,
            self._comment_json, summary)

    def _listing(self, ctx, account, items, descending, render,
            summary=None):
        """A cursor-paged list: {"data", "paging"?, "summary"?}.

        Cursors encode the sort key of an item, so paging stays stable
        while items are added or deleted between pages.
        """
        after, before = ctx.query.get("after"), ctx.query.get("before")
        key = _uncursor(after or before) if after or before else None
        if (after or before) and key is None:
            return self._error(ctx, 400, {"message": "(#100) The 'after' or "
                "'before' cursor is not valid", "type": "OAuthException",
                "code": 100}, account)
        limit = _int_param(ctx.query.get("limit"), DEFAULT_LIMIT, 0,
            MAX_LIMIT)

        def earlier(a, b):
            """True if key a comes before key b in this listing's order."""
            return a > b if descending else a < b
        keys = [it.order for it in items]
        if after:
            start = next((i for i, k in enumerate(keys) if earlier(key, k)),
                len(items))
            end = min(start + limit, len(items))
        elif before:
            end = next((i for i, k in enumerate(keys) if not earlier(k, key)),
                len(items))
            start = max(0, end - limit)
        else:
            start, end = 0, min(limit, len(items))
        page = items[start:end]

        body = {"data": [render(it) for it in page]}
        paging = {}
        if page:
            paging["cursors"] = {"before": _cursor(page[0]),
                "after": _cursor(page[-1])}
            if start > 0:
                paging["previous"] = self._page_url(ctx, limit, "before",
                    _cursor(page[0]))
            if end < len(items):
                paging["next"] = self._page_url(ctx, limit, "after",
                    _cursor(page[-1]))
        if ctx.fault and ctx.fault.kind == "loop":
            paging["next"] = self._page_url(ctx, limit, None, None)
        if paging:
            body["paging"] = paging
        if summary is not None:
            body["summary"] = summary
        return self._reply(ctx, 200, body, account)

    def _page_url(self, ctx, limit, cursor_name, cursor):
        """paging.next/previous: the request's own parameters (token
        included, as the real API does) with a new cursor; with cursor_name
        None, the request itself (the "loop" fault)."""
        host = REAL_HOST if self.options.fb_next_host == "real" \
            else ctx.base_url
        params = list(ctx.query_list)
        if self.options.fb_next_proof == "drop":
            params = [p for p in params if p[0] != "appsecret_proof"]
        if cursor_name:
            params = [p for p in params if p[0] not in ("after", "before")]
            if not any(k == "limit" for k, _ in params):
                params.append(("limit", str(limit)))
            params.append((cursor_name, cursor))
        return "%s%s?%s" % (host, ctx.path, urlencode(params))

    def _debug_token(self, ctx, account):
        target = self.world.account_by_token(self.name,
            ctx.query.get("input_token"))
        if target is None:
            data = {"error": {"code": 190,
                "message": "Invalid OAuth access token."},
                "is_valid": False, "scopes": []}
        else:
            data = {"app_id": "100000000000900", "type": "PAGE",
                "application": "sunarchive simulator",
                "data_access_expires_at": 0, "expires_at": 0,
                "is_valid": True, "profile_id": target["id"],
                "scopes": ["pages_read_engagement",
                    "pages_read_user_content", "pages_show_list"],
                "user_id": "100000000000901"}
        return self._reply(ctx, 200, {"data": data}, account)

    # Shapes.

    def _item_json(self, item):
        return self._post_json(item) if item.kind == "post" \
            else self._comment_json(item)

    def _post_json(self, post):
        page_id, number = post.id.split("_", 1)
        updated = max(post.created, post.edited or 0)
        live = [c for c in post.descendants() if not c.deleted]
        if self.world.settings.get("fb_updated_time_on_comment") and live:
            updated = max([updated] + [c.created for c in live])
        body = {"id": post.id, "created_time": fb_time(post.created),
            "updated_time": fb_time(updated)}
        if post.text:
            body["message"] = post.text
        media = post.media
        if not media:
            body["status_type"] = "mobile_status_update"
        elif media[0].type == "video":
            body["status_type"] = "added_video"
        else:
            body["status_type"] = "added_photos"
        body["permalink_url"] = "https://www.facebook.com/%s/posts/%s" % (
            page_id, number)
        if media:
            body["full_picture"] = self.media_url(media[0], "jpg")
            body["attachments"] = {"data": [self._attachment(post, media)]}
        likes = self.world.volatile(post, "like", 120)
        body["shares"] = {"count": self.world.volatile(post, "shares", 8)}
        body["comments"] = {"data": [], "summary": {"order": "chronological",
            "total_count": len(live), "can_comment": True}}
        body["reactions"] = {"data": [], "summary": {"total_count": likes +
            self.world.volatile(post, "reactions", 10),
            "viewer_reaction": "NONE"}}
        body["like"] = {"data": [], "summary": {"total_count": likes}}
        return body

    def _attachment(self, post, media):
        """attachments.data[0]: a photo, a video, or an album of several."""
        if len(media) == 1:
            return self._media_attachment(post, media[0])
        number = post.id.split("_", 1)[1]
        url = "https://www.facebook.com/media/set/?set=pcb.%s" % number
        first = self._media_attachment(post, media[0])
        return {"media_type": "album", "type": "album", "url": url,
            "media": first["media"], "target": {"id": number, "url": url},
            "subattachments": {"data": [self._media_attachment(post, m)
                for m in media]}}

    def _media_attachment(self, item, m):
        image = {"height": m.height, "src": self.media_url(m, "jpg"),
            "width": m.width}
        if m.type == "video":
            url = "https://www.facebook.com/%s/videos/%s/" % (
                item.account, m.id)
            return {"media_type": "video", "type": "video_inline",
                "url": url, "media": {"image": image,
                "source": self.media_url(m)}, "target": {"id": m.id,
                "url": url}}
        url = "https://www.facebook.com/photo/?fbid=%s" % m.id
        return {"media_type": "photo", "type": "photo", "url": url,
            "media": {"image": image}, "target": {"id": m.id, "url": url}}

    def _comment_json(self, c):
        number = c.id.split("_", 1)[1]
        permalink = "https://www.facebook.com/%s/posts/%s?comment_id=%s" % (
            c.account, c.post.id.split("_", 1)[1], number)
        if c.kind == "reply":
            top = c
            while top.parent.kind != "post":
                top = top.parent
            permalink = "https://www.facebook.com/%s/posts/%s?comment_id=" \
                "%s&reply_comment_id=%s" % (c.account, c.post.id.split("_",
                1)[1], top.id.split("_", 1)[1], number)
        body = {"id": c.id, "created_time": fb_time(c.created),
            "message": c.text, "from": {"id": c.author_id, "name": c.author}}
        if c.kind == "reply":
            body["parent"] = {"id": c.parent.id}
        body["comment_count"] = len([r for r in c.children if not r.deleted])
        body["like_count"] = self.world.volatile(c, "like", 6)
        body["is_hidden"] = c.hidden
        body["permalink_url"] = permalink
        if c.media:
            att = self._media_attachment(c, c.media[0])
            body["attachment"] = {"media": att["media"],
                "target": att["target"], "type": att["type"],
                "url": att["url"]}
        return body

    # Replies.

    def _missing(self, ctx, object_id, account):
        return self._error(ctx, 400, {"message": MISSING_MESSAGE % object_id,
            "type": "GraphMethodException", "code": 100,
            "error_subcode": 33}, account)

    def _error(self, ctx, status, error, account=None, extra=None, **usage):
        error = dict(error, fbtrace_id=base64.urlsafe_b64encode(
            os.urandom(9)).decode())
        return self._reply(ctx, status, {"error": error}, account, extra,
            **usage)

    def _reply(self, ctx, status, body, account, extra=None, app_pct=None,
            page_pct=None, regain=0):
        """A JSON reply with the usage headers every Graph reply carries;
        BUC (X-Business-Use-Case-Usage) only for a known Page token."""
        settings = self.world.settings
        if ctx.fault and ctx.fault.kind == "usage":
            percent = int(ctx.fault.params.get("percent", 95))
            app_pct = percent if app_pct is None else app_pct
            page_pct = percent if page_pct is None else page_pct
        calls = self.app_window.hit(ctx.now)
        if app_pct is None:
            app_pct = calls * 100 // settings.get("fb_app_calls_per_window",
                4800)
        headers = {"Content-Type": "application/json; charset=UTF-8",
            "facebook-api-version": self._split(ctx.path)[0],
            "x-fb-rev": "1019000000",
            "x-fb-trace-id": base64.urlsafe_b64encode(os.urandom(8)).decode(),
            "Cache-Control": "private, no-cache, no-store, must-revalidate",
            "X-App-Usage": json_bytes({"call_count": app_pct,
                "total_time": app_pct * 4 // 5,
                "total_cputime": app_pct * 3 // 5}).decode()}
        if account is not None:
            window = self.page_windows.setdefault(account["id"], RateWindow(
                settings.get("fb_usage_window_seconds", 3600)))
            calls = window.hit(ctx.now)
            if page_pct is None:
                page_pct = calls * 100 // settings.get(
                    "fb_page_calls_per_window", 4800)
            headers["X-Business-Use-Case-Usage"] = json_bytes({account["id"]:
                [{"type": "pages", "call_count": page_pct,
                "total_cputime": page_pct * 3 // 5,
                "total_time": page_pct * 4 // 5,
                "estimated_time_to_regain_access": regain}]}).decode()
        if extra:
            headers.update(extra)
        return status, headers, json_bytes(body)
