"""Shared pieces for platform plug-ins.

A plug-in is one class derived from Platform.  The simulator core makes one
instance per platform and hands it to the World, which owns it; the core calls
every method with the world lock held, so an instance may keep per-platform
counters (rate-limit windows, id sequences) as plain attributes.

This module also holds the helpers every platform needs: wire time formats,
compact JSON bodies and stable pseudo-random numbers (so a scenario replays to
the same counts and ids every time).
"""

import collections
import hashlib
import json
import time


def fb_time(t):
    """Graph API time: 2026-03-02T14:05:09+0000 (no colon, no fraction)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(t))


def _iso_frac(t, digits):
    whole = int(t)
    frac = int(round((t - whole) * 10 ** digits))
    if frac >= 10 ** digits:
        whole, frac = whole + 1, 0
    return "%s.%0*dZ" % (time.strftime("%Y-%m-%dT%H:%M:%S",
        time.gmtime(whole)), digits, frac)


def iso_ms(t):
    """Mastodon time: 2026-03-02T13:54:00.505Z."""
    return _iso_frac(t, 3)


def iso_us(t):
    """Mastodon rate-limit reset: 2026-03-02T13:55:00.348080Z."""
    return _iso_frac(t, 6)


def iso_date(t):
    """A bare date: 2026-03-02."""
    return time.strftime("%Y-%m-%d", time.gmtime(t))


def stable_int(*parts):
    """A large non-negative integer derived only from parts."""
    text = "|".join(str(p) for p in parts).encode("utf-8")
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big")


def json_bytes(obj, ascii_only=True):
    """Compact JSON as the platforms send it."""
    return json.dumps(obj, separators=(",", ":"),
        ensure_ascii=ascii_only).encode("utf-8")


class RateWindow:
    """Request times inside a rolling window of `seconds`."""

    def __init__(self, seconds):
        self.seconds = float(seconds)
        self.times = collections.deque()

    def hit(self, now):
        """Record one request at `now`; return the count in the window."""
        self.times.append(now)
        return self.count(now)

    def count(self, now):
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()
        return len(self.times)


class Platform:
    """Interface of a platform plug-in; see FacebookPlatform for a full one.

    Class attributes describe what scenarios may ask of the platform:
    media_types maps a scenario media type to the file extension served,
    supports_hide says whether "hide"/"unhide" make sense, and
    delete_cascades whether deleting an item also removes its replies.
    """

    name = ""
    media_types = {"image": "jpg"}
    supports_hide = False
    delete_cascades = False

    def __init__(self, world, options):
        self.world = world
        self.options = options

    def match(self, path):
        """True if this platform serves `path`."""
        raise NotImplementedError

    def handle(self, ctx):
        """Serve one request; return (status, headers dict, body bytes).

        ctx.fault is the fault being applied, or None.  Only "loop" and
        "usage" reach handle(); the other kinds are produced by the core or
        by fault_response().
        """
        raise NotImplementedError

    def fault_response(self, ctx, fault):
        """The platform's own reply for rate_limit, http_5xx, auth and
        not_found faults: (status, headers, body)."""
        raise NotImplementedError

    def assign_ids(self, item):
        """Give a new item its platform id and its author's id."""
        raise NotImplementedError

    def assign_media_id(self, media):
        """Give a new media object its platform id."""
        raise NotImplementedError

    def media_url(self, media):
        """The URL a client downloads `media` from (served by the core)."""
        raise NotImplementedError
