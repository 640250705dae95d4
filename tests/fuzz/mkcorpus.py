#!/usr/bin/env python3
"""Make the fuzz targets' seed corpora (tests/fuzz/corpus/NAME/) from
real sunarchive output, and tests/fuzz/tsa_ca.h.

    python3 tests/fuzz/mkcorpus.py [--build build]

Needs the built binaries (make all), openssl and the simulator. It runs
sunarchived with a signing key against the simulator (small scenario) for
two poll cycles, then takes:

  warc, gunzip  records of every kind from the segment our writer made
                (plain for warc; stored gzip members, a three-member
                segment and a torn one for gunzip)
  checkpoint    the signed checkpoint notes from the archive, a note
                co-signed by a second key, the bare body, verifier keys
  connectors    the simulator's replies as fetch.c keeps them (head and
                body), normal and every fault kind, for both platforms;
                replies and tokens of a local openssl TSA (tests/tsa)
  config        conf/sunarchive.conf.example and the daemon's config
  merkle        valid inclusion and consistency proofs (RFC 9162 2.1)
  redact        request heads, URLs and bodies holding the secrets that
                fuzz_redact.c redacts

It also writes tests/fuzz/tsa_ca.h: the TSA's root certificate, which
fuzz_connectors.c trusts, and the digest the TSA seeds stamp. Existing
seed files are replaced; rerun it when a format changes and commit the
result (the corpora are small and deterministic enough to review).
"""
import argparse
import base64
import glob
import hashlib
import http.client
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")
# The digest the TSA seeds stamp (fuzz_connectors.c verifies against it).
TSA_DIGEST = bytes(range(32))


def write(name, fname, data):
    d = os.path.join(CORPUS, name)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, fname), "wb") as f:
        f.write(data)


def reset(name):
    shutil.rmtree(os.path.join(CORPUS, name), ignore_errors=True)
    os.makedirs(os.path.join(CORPUS, name))


def run(*args, **kw):
    return subprocess.run(list(args), check=True, capture_output=True,
                          timeout=120, **kw)


# -- a real archive -----------------------------------------------------------

def capture(build, work):
    """Run the daemon with a signing key; return (harness, sim, daemon)."""
    os.environ["SUNARCHIVE_BUILD"] = build
    sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
    import harness
    sim = harness.Simulator(work, "small.json")
    key = os.path.join(work, "ledger.key")
    run(os.path.join(build, "sunarchive"), "keygen", "-n", "fuzz-seed",
        "-o", key)
    d = harness.Daemon(work, sim, extra_global={
        "signing_key_file": key, "signing_key_name": "fuzz-seed",
        "checkpoint_origin": "city.example.gov/sunarchive"})
    d.start()
    try:
        d.wait_cycles(1)
        sim.step()
        d.wait_cycles(1)
    finally:
        d.stop()
    return harness, sim, d


def members(harness, state):
    out = []
    for path in harness.segment_files(state):
        for off, stored, plain in harness.read_members(path):
            out.append((stored, plain))
    return out


def warc_field(plain, name):
    head = plain.split(b"\r\n\r\n", 1)[0].decode(errors="replace")
    for line in head.split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.lower() == name.lower():
            return v.strip()
    return None


def warc_block(plain):
    return plain.split(b"\r\n\r\n", 1)[1][:-4]


def label(plain):
    """A name for a record: type, platform or event, a detail."""
    t = warc_field(plain, "WARC-Type")
    uri = warc_field(plain, "WARC-Target-URI") or ""
    plat = warc_field(plain, "X-Sunarchive-Platform") or ""
    if t in ("request", "response"):
        plat = "mastodon" if "/api/v1/" in uri else "facebook"
        if "/media/" in uri:
            plat = "media"
        return f"{t}-{plat}"
    if t == "conversion":
        return f"version-{plat}-" + (warc_field(
            plain, "X-Sunarchive-Item-Kind") or "item")
    if t == "metadata":
        return "event-" + (warc_field(plain, "X-Sunarchive-Event") or "x")
    return t


def seeds_warc_gunzip(ms):
    reset("warc")
    reset("gunzip")
    picked = {}
    for stored, plain in sorted(ms, key=lambda m: len(m[1])):
        lab = label(plain)
        # The two smallest of each kind; responses of the platforms are
        # what the connectors seeds take too.
        n = picked.setdefault(lab, 0)
        if n >= 2 or len(plain) > 24000:
            continue
        picked[lab] = n + 1
        write("warc", f"{lab}-{n + 1}", plain)
        if n == 0:
            write("gunzip", f"{lab}.gz", stored)
    write("gunzip", "segment-3-members.gz", b"".join(s for s, _ in ms[:3]))
    torn = ms[0][0] + ms[1][0][:len(ms[1][0]) // 2]
    write("gunzip", "segment-torn.gz", torn)
    write("gunzip", "segment-garbage-tail.gz", ms[0][0] + b"\0" * 64)


# -- checkpoints -------------------------------------------------------------

def verifier_parts(pubfile):
    text = open(pubfile).read().strip()
    name, khash, b64 = text.split("+", 2)
    return text, name, bytes.fromhex(khash), base64.b64decode(b64)[1:]


def sign_note(keyfile, pubfile, text):
    """A signature line over text (bytes) by the key in keyfile."""
    _, name, khash, _ = verifier_parts(pubfile)
    with tempfile.NamedTemporaryFile() as f:
        f.write(text)
        f.flush()
        sig = run("openssl", "pkeyutl", "-sign", "-rawin", "-inkey",
                  keyfile, "-in", f.name).stdout
    assert len(sig) == 64
    return ("\u2014 " + name + " " +
            base64.b64encode(khash + sig).decode() + "\n").encode()


def seeds_checkpoint(build, work, ms):
    reset("checkpoint")
    notes = []
    for _, plain in ms:
        if warc_field(plain, "X-Sunarchive-Event") == "checkpoint":
            note = json.loads(warc_block(plain)).get("note")
            if note:
                notes.append(note.encode())
    assert notes, "no signed checkpoint in the archive"
    for i, note in enumerate(notes[:2]):
        write("checkpoint", f"note-{i + 1}", note)
    note = notes[-1]
    body = note[:note.rindex(b"\n\n") + 1]
    write("checkpoint", "body", body)
    # A witness co-signs: a second key's line after ours.
    key2 = os.path.join(work, "witness.key")
    run(os.path.join(build, "sunarchive"), "keygen", "-n",
        "witness.example.org", "-o", key2)
    write("checkpoint", "note-cosigned",
          note + sign_note(key2, key2 + ".pub", body))
    # A note whose text is not a checkpoint (checkpoint_note_open()).
    text = b"city.example.gov/sunarchive\nexport 2026-03-01\n"
    write("checkpoint", "note-other-text",
          text + b"\n" + sign_note(key2, key2 + ".pub", text))
    write("checkpoint", "verifier",
          open(os.path.join(work, "ledger.key.pub")).read())
    write("checkpoint", "verifier-witness", open(key2 + ".pub").read())


# -- platform replies --------------------------------------------------------

def raw_reply(sim, path, headers=None):
    """GET path; the reply as fetch.c keeps it: head + body."""
    c = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    c.request("GET", path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    head = f"HTTP/1.1 {r.status} {r.reason}\r\n"
    for k, v in r.msg.items():
        head += f"{k}: {v}\r\n"
    c.close()
    return head.encode() + b"\r\n" + body


def seeds_connectors(sim, ms):
    reset("connectors")
    fb, ma = sim.scenario["accounts"][0], sim.scenario["accounts"][1]
    assert fb["platform"] == "facebook" and ma["platform"] == "mastodon"
    fbq = urllib.parse.urlencode({"access_token": fb["token"], "limit": 2})
    fbpath = f"/v25.0/{fb['id']}/posts?{fbq}"
    mapath = f"/api/v1/accounts/{ma['id']}/statuses?limit=2"
    mah = {"Authorization": "Bearer " + ma["token"]}

    write("connectors", "facebook-posts", raw_reply(sim, fbpath))
    write("connectors", "mastodon-statuses", raw_reply(sim, mapath, mah))
    faults = [
        ("rate-limit-4", {"kind": "rate_limit", "regain_minutes": 5}),
        ("rate-limit-80001", {"kind": "rate_limit", "code": 80001,
                              "regain_minutes": 30}),
        ("5xx-json", {"kind": "http_5xx"}),
        ("5xx-html", {"kind": "http_5xx", "status": 502,
                      "body": "html"}),
        ("auth", {"kind": "auth"}),
        ("not-found", {"kind": "not_found"}),
        ("usage", {"kind": "usage", "percent": 95}),
        ("malformed", {"kind": "malformed"}),
        ("html200", {"kind": "html200"}),
        ("empty200", {"kind": "empty200"}),
    ]
    for plat, path, hdrs in (("facebook", fbpath, None),
                             ("mastodon", mapath, mah)):
        for name, f in faults:
            f = dict(f)
            if plat == "mastodon":
                f.pop("regain_minutes", None)
                if f.pop("code", None):
                    continue
                if f["kind"] == "http_5xx" and "body" not in f:
                    f["body"] = "json"
                if f["kind"] == "usage":
                    f = {"kind": "usage", "remaining": 1}
            sim.fault(platform=plat, **f)
            if plat == "mastodon" and f["kind"] == "rate_limit":
                name = "rate-limit"
            write("connectors", f"{plat}-{name}",
                  raw_reply(sim, path, hdrs))
    # What the archive holds: response records are the same bytes.
    n = 0
    for _, plain in ms:
        if warc_field(plain, "WARC-Type") == "response" and \
                "/media/" not in (warc_field(plain, "WARC-Target-URI")
                                  or "") and len(plain) < 12000 and n < 4:
            n += 1
            write("connectors", f"archived-response-{n}",
                  warc_block(plain))


def seeds_tsa(work):
    tsa = os.path.join(work, "tsa")
    run("sh", os.path.join(ROOT, "tests", "tsa", "mktsa.sh"), tsa)
    cnf = os.path.join(tsa, "tsa.cnf")
    digest = TSA_DIGEST.hex()

    def query(out, *extra):
        run("openssl", "ts", "-query", "-digest", digest, "-sha256",
            "-cert", *extra, "-out", out)

    def reply(q, out, signer="tsa1", token=False):
        args = ["openssl", "ts", "-reply", "-config", cnf, "-queryfile", q,
                "-inkey", os.path.join(tsa, signer + ".key"),
                "-signer", os.path.join(tsa, signer + ".pem"),
                "-out", out]
        if token:
            args.append("-token_out")
        run(*args)
        with open(out, "rb") as f:
            return f.read()

    q = os.path.join(tsa, "q.tsq")
    query(q)
    write("connectors", "tsa-reply-good",
          reply(q, os.path.join(tsa, "good.tsr")))
    write("connectors", "tsa-token-good",
          reply(q, os.path.join(tsa, "good.tok"), token=True))
    q2 = os.path.join(tsa, "q2.tsq")
    query(q2, "-no_nonce")
    write("connectors", "tsa-reply-no-nonce",
          reply(q2, os.path.join(tsa, "nononce.tsr")))
    write("connectors", "tsa-reply-untrusted",
          reply(q, os.path.join(tsa, "untrusted.tsr"), signer="tsa2"))
    write("connectors", "tsa-reply-expired",
          reply(q, os.path.join(tsa, "expired.tsr"), signer="expired"))
    q3 = os.path.join(tsa, "q3.tsq")
    query(q3, "-tspolicy", "1.2.3.4.99")
    write("connectors", "tsa-reply-rejected",
          reply(q3, os.path.join(tsa, "reject.tsr")))

    with open(os.path.join(tsa, "ca1.pem")) as f:
        pem = f.read()
    lines = "".join(f'\t"{line}\\n"\n' for line in pem.splitlines())
    digest_c = ",\n\t".join(", ".join(f"0x{b:02x}" for b in
                                      TSA_DIGEST[i:i + 8])
                             for i in range(0, len(TSA_DIGEST), 8))
    with open(os.path.join(HERE, "tsa_ca.h"), "w") as f:
        f.write(f"""/*
 * tsa_ca.h - written by tests/fuzz/mkcorpus.py: the root certificate of
 * the local test TSA (tests/tsa/mktsa.sh) that signed the TSA seeds in
 * corpus/connectors/, and the digest they stamp. Test material only.
 */
#ifndef SUNARCHIVE_FUZZ_TSA_CA_H
#define SUNARCHIVE_FUZZ_TSA_CA_H

static const char fuzz_tsa_ca_pem[] =
{lines};

static const unsigned char fuzz_tsa_digest[32] = {{
\t{digest_c}
}};

#endif
""")


# -- config, merkle, redact --------------------------------------------------

def seeds_config(d):
    reset("config")
    write("config", "example", open(os.path.join(
        ROOT, "conf", "sunarchive.conf.example"), "rb").read())
    conf = open(d.conf).read().replace(d.workdir, "/var/lib/sunarchive")
    write("config", "daemon", conf)
    write("config", "minimal",
          "state_dir = /var/lib/sunarchive\n\n[account city]\n"
          "platform = mastodon\nid = 1\ntoken_file = city.token\n"
          "api_base = https://mastodon.example\n")
    keys = sorted(set(re.findall(r"(?m)^#?([a-z_]+) = ", conf + open(
        os.path.join(ROOT, "conf", "sunarchive.conf.example")).read())))
    with open(os.path.join(HERE, "config.dict"), "w") as f:
        f.write("# config keys and syntax (written by mkcorpus.py)\n")
        for tok in [k + " = " for k in keys] + [
                "[account ", "]", "#", "\"", "\\\"", "facebook",
                "mastodon", "yes", "no", "on", "off", "1s", "15m", "2h",
                "7d", "1w", "64k", "16M", "1G", "\n"]:
            f.write(dict_entry(tok) + "\n")


def dict_entry(tok):
    """A libFuzzer dictionary entry: "..." with \\, \\" and \\xNN."""
    out = ""
    for b in tok.encode():
        c = chr(b)
        out += c if 0x20 <= b < 0x7f and c not in '"\\' else f"\\x{b:02x}"
    return '"' + out + '"'


def leaf(data):
    return hashlib.sha256(b"\0" + data).digest()


def node(a, b):
    return hashlib.sha256(b"\1" + a + b).digest()


def mth(hs):
    if len(hs) == 0:
        return hashlib.sha256(b"").digest()
    if len(hs) == 1:
        return hs[0]
    k = 1
    while k * 2 < len(hs):
        k *= 2
    return node(mth(hs[:k]), mth(hs[k:]))


def path(m, hs):
    if len(hs) <= 1:
        return []
    k = 1
    while k * 2 < len(hs):
        k *= 2
    if m < k:
        return path(m, hs[:k]) + [mth(hs[k:])]
    return path(m - k, hs[k:]) + [mth(hs[:k])]


def subproof(m, hs, b):
    n = len(hs)
    if m == n:
        return [] if b else [mth(hs)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return subproof(m, hs[:k], b) + [mth(hs[k:])]
    return subproof(m - k, hs[k:], False) + [mth(hs[:k])]


def seeds_merkle():
    reset("merkle")
    hs = [leaf(b"record %d" % i) for i in range(16)]
    for idx, n in ((0, 1), (3, 7), (5, 8), (6, 7), (12, 13)):
        write("merkle", f"inclusion-{idx}-of-{n}",
              struct.pack("<QQ", idx, n) + hs[idx] + mth(hs[:n]) +
              b"".join(path(idx, hs[:n])))
    for m, n in ((1, 1), (3, 7), (4, 8), (6, 13), (7, 16)):
        proof = subproof(m, hs[:n], True) if m < n else []
        write("merkle", f"consistency-{m}-to-{n}",
              struct.pack("<QQ", m, n) + mth(hs[:m]) + mth(hs[:n]) +
              b"".join(proof))
    write("merkle", "huge-sizes",
          struct.pack("<QQ", 2**64 - 2, 2**64 - 1) + hs[0] + hs[1] +
          b"".join(hs[:3]))


def seeds_redact():
    reset("redact")
    src = open(os.path.join(HERE, "fuzz_redact.c")).read()
    s = re.findall(r'^\t"([^"]+)",$', src, re.M)
    assert len(s) == 3, s
    token, app, mtoken = s
    write("redact", "request-facebook",
          f"GET /v25.0/100000000000001/posts?fields=id%2Cmessage&limit=25"
          f"&access_token={token}&appsecret_proof={'a1' * 32} HTTP/1.1\r\n"
          "Host: graph.facebook.com\r\nUser-Agent: sunarchive/0.1.0\r\n"
          "Accept: */*\r\n\r\n")
    write("redact", "request-mastodon",
          "GET /api/v1/accounts/110000000000000001/statuses?limit=40 "
          "HTTP/1.1\r\nHost: mastodon.example\r\n"
          f"Authorization: Bearer {mtoken}\r\nAccept: */*\r\n\r\n")
    write("redact", "response-paging-next",
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n"
          + json.dumps({"data": [{"id": "1_2", "message": "hello"}],
                        "paging": {"next": "https://graph.facebook.com/"
                                   f"v25.0/1/posts?access_token={token}"
                                   "&limit=25&after=QVFIUk"}}))
    write("redact", "url-params",
          f"https://graph.facebook.com/debug_token?input_token={token}"
          f"&client_secret={app}&access_token=REDACTED#frag")
    write("redact", "text-mixed",
          f"token={token}\napp secret {app}\n{mtoken}{mtoken}\n"
          "authorization: Basic dXNlcjpwYXNz\r\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    args = ap.parse_args()
    build = os.path.abspath(os.path.join(ROOT, args.build))
    work = tempfile.mkdtemp(prefix="sunarchive-mkcorpus-")
    try:
        harness, sim, d = capture(build, work)
        try:
            ms = members(harness, d.state)
            seeds_warc_gunzip(ms)
            seeds_checkpoint(build, work, ms)
            seeds_connectors(sim, ms)
            seeds_tsa(work)
            seeds_config(d)
        finally:
            sim.stop()
        seeds_merkle()
        seeds_redact()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for name in sorted(os.listdir(CORPUS)):
        files = glob.glob(os.path.join(CORPUS, name, "*"))
        print(f"{name}: {len(files)} seeds, "
              f"{sum(os.path.getsize(f) for f in files)} bytes")


if __name__ == "__main__":
    main()
