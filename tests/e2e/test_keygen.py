#!/usr/bin/env python3
"""sunarchive keygen, and checkpoints checked by other implementations.

Runs the real binary, $SUNARCHIVE_BUILD/sunarchive keygen --out DIR/k, and
checks what IT relies on: the private key (PKCS#8 PEM, mode 0600) and the
verifier key (DIR/k.pub, mode 0644, Go signed-note form NAME+HASH+KEY with
the key hash recomputed here), the printed instructions, and the exit
codes (0 ok, 1 the key exists, 2 usage, 3 I/O error). Keygen needs no
configuration or index.

Then the cross-checks: the openssl CLI reads the key; a checkpoint note
signed by sunarchive (through the unit test binary's "sign" helper,
build/tests/test_checkpoint) verifies with `openssl pkeyutl -verify`
against a public key rebuilt here from the .pub text, and with Python's
cryptography package when it is installed; and a note signed here with
`openssl pkeyutl -sign` parses and verifies in sunarchive ("verify"
helper). Ed25519 is deterministic, so both signers must agree byte for
byte.

Run by tests/run.py (which imports this module) or alone:
    SUNARCHIVE_BUILD=/abs/build python3 tests/e2e/test_keygen.py
"""
import base64
import hashlib
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.environ.get("SUNARCHIVE_BUILD", os.path.join(ROOT, "build"))
CLI = os.path.join(BUILD, "sunarchive")
HELPER = os.path.join(BUILD, "tests", "test_checkpoint")
OPENSSL = shutil.which("openssl")

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PublicKey)
    HAVE_CRYPTOGRAPHY = True
except ImportError:
    HAVE_CRYPTOGRAPHY = False

# RFC 8410 SubjectPublicKeyInfo for Ed25519, before the 32 key bytes.
SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")
EM_DASH = "\u2014 "
VKEY_RE = re.compile(r"^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]{44})$")


def run(*args, env=None, stdin=None):
    """Run a binary; returns (exit code, stdout, stderr) as text."""
    e = dict(os.environ)
    e["LC_ALL"] = "C.UTF-8"
    e.pop("CREDENTIALS_DIRECTORY", None)
    if env:
        e.update(env)
    p = subprocess.run(list(args), capture_output=True, env=e, timeout=60,
                       input=stdin)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def keygen(*args, env=None):
    return run(CLI, "keygen", *args, env=env)


def note_key_hash(name, pub):
    """Go note key hash: SHA-256(name || "\\n" || 0x01 || key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n\x01" + pub).digest()[:4]


def parse_vkey(text):
    """(name, 4-byte hash, 32-byte public key) of a verifier key."""
    m = VKEY_RE.match(text)
    if not m:
        raise ValueError(f"not a verifier key: {text!r}")
    raw = base64.b64decode(m.group(3), validate=True)
    if len(raw) != 33 or raw[0] != 1:
        raise ValueError("not an Ed25519 verifier key")
    return m.group(1), bytes.fromhex(m.group(2)), raw[1:]


def split_note(note):
    """(signed body bytes, [(name, raw signature bytes)]) of a note."""
    i = note.rindex(b"\n\n")
    body, sigs = note[:i + 1], note[i + 2:]
    lines = []
    assert sigs.endswith(b"\n"), sigs
    for line in sigs[:-1].split(b"\n"):
        text = line.decode("utf-8")
        assert text.startswith(EM_DASH), text
        name, b64 = text[len(EM_DASH):].split(" ", 1)
        lines.append((name, base64.b64decode(b64, validate=True)))
    return body, lines


def make_tmpdir(test):
    """A new directory removed after the test, even if setUp fails."""
    d = tempfile.mkdtemp(prefix="sunarchive-keygen-")

    def remove():
        for root, dirs, _ in os.walk(d):
            for name in dirs:
                os.chmod(os.path.join(root, name), 0o700)
        shutil.rmtree(d, ignore_errors=True)
    test.addCleanup(remove)
    return d


def pub_pem(pub):
    der = SPKI_PREFIX + pub
    b64 = base64.b64encode(der).decode()
    return ("-----BEGIN PUBLIC KEY-----\n" + b64 +
            "\n-----END PUBLIC KEY-----\n").encode()


class KeygenTest(unittest.TestCase):
    def setUp(self):
        self.dir = make_tmpdir(self)
        self.key = os.path.join(self.dir, "k")
        self.pub = self.key + ".pub"

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    def vkey(self):
        return self.read(self.pub).decode().rstrip("\n")

    def test_creates_key_and_verifier(self):
        rc, out, err = keygen("--out", self.key)
        self.assertEqual(rc, 0, err)
        self.assertEqual(err, "")
        self.assertEqual(stat.S_IMODE(os.lstat(self.key).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.lstat(self.pub).st_mode), 0o644)
        self.assertEqual(sorted(os.listdir(self.dir)), ["k", "k.pub"])
        pem = self.read(self.key).decode()
        self.assertTrue(pem.startswith("-----BEGIN PRIVATE KEY-----\n"))
        self.assertTrue(pem.endswith("-----END PRIVATE KEY-----\n"))
        raw = self.read(self.pub).decode()
        self.assertTrue(raw.endswith("\n") and raw.count("\n") == 1, raw)
        name, khash, pub = parse_vkey(raw[:-1])
        self.assertEqual(name, "sunarchive-" + socket.gethostname())
        self.assertEqual(khash, note_key_hash(name, pub),
                         "key hash is Go's note key hash")
        # Where the files went, how to configure, who keeps the .pub.
        key_abs = os.path.realpath(self.key)
        self.assertIn(key_abs, out)
        self.assertIn(os.path.realpath(self.pub), out)
        self.assertIn(f"signing_key_file = {key_abs}", out)
        self.assertIn(raw[:-1], out)
        self.assertIn("IT and the clerk", out)

    def test_name_option(self):
        rc, out, err = keygen("--name", "city.example.gov/sunarchive",
                              "--out", self.key)
        self.assertEqual(rc, 0, err)
        name, khash, pub = parse_vkey(self.vkey())
        self.assertEqual(name, "city.example.gov/sunarchive")
        self.assertEqual(khash, note_key_hash(name, pub))

    def test_json(self):
        rc, out, err = run(CLI, "--json", "keygen", "--name", "n1",
                           "--out", self.key)
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual(doc, {
            "name": "n1",
            "private_key_file": os.path.realpath(self.key),
            "verifier_key_file": os.path.realpath(self.pub),
            "verifier_key": self.vkey(),
        })

    def test_refuses_overwrite(self):
        self.assertEqual(keygen("--out", self.key)[0], 0)
        before = (self.read(self.key), self.read(self.pub))
        rc, out, err = keygen("--out", self.key)
        self.assertEqual(rc, 1)
        self.assertIn("already exists", err)
        self.assertIn(self.key, err)
        self.assertEqual(out, "")
        self.assertEqual((self.read(self.key), self.read(self.pub)), before)
        # Only the .pub in the way: still refused, no key left behind.
        os.unlink(self.key)
        rc, out, err = keygen("--out", self.key)
        self.assertEqual(rc, 1)
        self.assertIn(self.pub, err)
        self.assertFalse(os.path.exists(self.key))
        self.assertEqual(self.read(self.pub), before[1])

    def test_usage_errors(self):
        for args in ([], ["--name", "x"], ["--out"], ["--out", self.key,
                     "extra"], ["--bogus", "--out", self.key],
                     ["--name", "a b", "--out", self.key],
                     ["--name", "a+b", "--out", self.key],
                     ["--name", "", "--out", self.key],
                     ["--out", ""]):
            rc, out, err = keygen(*args)
            self.assertEqual(rc, 2, (args, err))
            self.assertIn("usage: sunarchive keygen", err)
        self.assertEqual(os.listdir(self.dir), [])

    def test_io_errors(self):
        rc, out, err = keygen("--out", os.path.join(self.dir, "no", "k"))
        self.assertEqual(rc, 3, err)
        self.assertIn("cannot create signing key", err)
        self.assertIn("No such file or directory", err)
        with open(os.path.join(self.dir, "file"), "w") as f:
            f.write("x")
        rc, out, err = keygen("--out", os.path.join(self.dir, "file", "k"))
        self.assertEqual(rc, 3, err)
        self.assertEqual(sorted(os.listdir(self.dir)), ["file"])

    def test_unwritable_dir(self):
        os.chmod(self.dir, 0o755)
        ro = os.path.join(self.dir, "ro")
        os.mkdir(ro, 0o555)
        os.chmod(ro, 0o555)
        prefix = []
        if os.geteuid() == 0:
            # Root writes anywhere: run as nobody, if that is possible.
            setpriv = shutil.which("setpriv")
            prefix = [setpriv or "setpriv", "--reuid=65534",
                      "--regid=65534", "--clear-groups"]
            if not setpriv or run(*prefix, CLI, "--version")[0] != 0:
                self.skipTest("root, and cannot run as nobody")
        rc, out, err = run(*prefix, CLI, "keygen", "--out",
                           os.path.join(ro, "k"))
        self.assertEqual(rc, 3, err)
        self.assertIn("Permission denied", err)
        self.assertEqual(os.listdir(ro), [])

    def test_needs_no_config_or_index(self):
        rc, out, err = run(CLI, "-f", os.path.join(self.dir, "none.conf"),
                           "-s", os.path.join(self.dir, "nostate"),
                           "keygen", "--out", self.key)
        self.assertEqual(rc, 0, err)
        self.assertEqual(sorted(os.listdir(self.dir)), ["k", "k.pub"])

    def test_help(self):
        rc, out, err = run(CLI, "help", "keygen")
        self.assertEqual(rc, 0)
        self.assertIn("--out FILE", out)
        rc, out, err = keygen("--help")
        self.assertEqual(rc, 0)
        self.assertIn("usage: sunarchive keygen", out)
        rc, out, err = run(CLI, "--help")
        self.assertRegex(out, r"\n  keygen +make the key")

    @unittest.skipUnless(OPENSSL, "no openssl CLI")
    def test_openssl_reads_key(self):
        self.assertEqual(keygen("--out", self.key)[0], 0)
        rc, out, err = run(OPENSSL, "pkey", "-in", self.key, "-noout",
                           "-text")
        self.assertEqual(rc, 0, err)
        self.assertIn("ED25519", out)
        p = subprocess.run([OPENSSL, "pkey", "-in", self.key, "-pubout",
                            "-outform", "DER"], capture_output=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        _, _, pub = parse_vkey(self.vkey())
        self.assertEqual(p.stdout, SPKI_PREFIX + pub,
                         ".pub holds the key's public half")


ROOT_HEX = "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
NAME = "sunarchive-e2e"


@unittest.skipUnless(os.access(HELPER, os.X_OK), "no unit test binary")
class CrossCheckTest(unittest.TestCase):
    """Notes signed by sunarchive against other Ed25519 implementations."""

    def setUp(self):
        self.dir = make_tmpdir(self)
        self.key = os.path.join(self.dir, "k")
        self.pub = self.key + ".pub"
        rc, out, err = keygen("--name", NAME, "--out", self.key)
        self.assertEqual(rc, 0, err)
        with open(self.pub) as f:
            self.vkey = f.read().rstrip("\n")
        self.name, self.khash, self.pubkey = parse_vkey(self.vkey)

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def sign(self, origin="city.example.gov/sunarchive", size=1234567,
             t=1795313520):
        p = subprocess.run([HELPER, "sign", self.key, NAME, origin,
                            str(size), ROOT_HEX, str(t)],
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def verify(self, note, verifier=None):
        return run(HELPER, "verify", verifier or self.pub, stdin=note)

    def test_note_form(self):
        note = self.sign()
        body, sigs = split_note(note)
        root_b64 = base64.b64encode(bytes.fromhex(ROOT_HEX)).decode()
        self.assertEqual(body.decode(), "city.example.gov/sunarchive\n"
                         "1234567\n" + root_b64 + "\n"
                         "time 2026-11-22T02:12:00Z\n")
        self.assertEqual(len(sigs), 1)
        name, sig = sigs[0]
        self.assertEqual(name, NAME)
        self.assertEqual(len(sig), 4 + 64)
        self.assertEqual(sig[:4], self.khash)

    @unittest.skipUnless(OPENSSL, "no openssl CLI")
    def test_note_verifies_with_openssl(self):
        body, sigs = split_note(self.sign())
        pem = self.write("pub.pem", pub_pem(self.pubkey))
        sig = self.write("sig", sigs[0][1][4:])
        good = self.write("body", body)
        rc, out, err = run(OPENSSL, "pkeyutl", "-verify", "-pubin",
                           "-inkey", pem, "-rawin", "-in", good,
                           "-sigfile", sig)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("Signature Verified Successfully", out)
        bad = self.write("bad", body.replace(b"1234567", b"1234568"))
        rc, out, err = run(OPENSSL, "pkeyutl", "-verify", "-pubin",
                           "-inkey", pem, "-rawin", "-in", bad,
                           "-sigfile", sig)
        self.assertNotEqual(rc, 0, "openssl must reject a changed body")

    @unittest.skipUnless(HAVE_CRYPTOGRAPHY, "no Python cryptography")
    def test_note_verifies_with_cryptography(self):
        body, sigs = split_note(self.sign())
        key = Ed25519PublicKey.from_public_bytes(self.pubkey)
        key.verify(sigs[0][1][4:], body)
        with self.assertRaises(InvalidSignature):
            key.verify(sigs[0][1][4:], body + b"x")

    @unittest.skipUnless(OPENSSL, "no openssl CLI")
    def test_openssl_signed_note_parses(self):
        body = ("city.example.gov/sunarchive\n42\n" +
                base64.b64encode(bytes(range(32))).decode() +
                "\ntime 2030-01-02T03:04:05Z\n").encode()
        path = self.write("body", body)
        sigpath = os.path.join(self.dir, "sig")
        rc, out, err = run(OPENSSL, "pkeyutl", "-sign", "-inkey", self.key,
                           "-rawin", "-in", path, "-out", sigpath)
        self.assertEqual(rc, 0, err)
        with open(sigpath, "rb") as f:
            sig = f.read()
        self.assertEqual(len(sig), 64)
        line = (EM_DASH + NAME + " " +
                base64.b64encode(self.khash + sig).decode() + "\n")
        note = body + b"\n" + line.encode()
        rc, out, err = self.verify(note)
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(out, "origin city.example.gov/sunarchive\n"
                         "size 42\nroot " + bytes(range(32)).hex() + "\n"
                         "time 2030-01-02T03:04:05Z\n")
        # The verifier key given as text works the same.
        self.assertEqual(self.verify(note, self.vkey)[0], 0)
        # A witness's co-signature line is ignored; a changed body is not.
        witness = (EM_DASH + "witness.example " +
                   base64.b64encode(os.urandom(72)).decode() + "\n")
        self.assertEqual(self.verify(note + witness.encode())[0], 0)
        rc, out, err = self.verify(note.replace(b"\n42\n", b"\n43\n"))
        self.assertEqual((rc, out), (1, "error EPERM\n"))
        rc, out, err = self.verify(note.replace(b"\n42\n", b"\n042\n"))
        self.assertEqual((rc, out), (1, "error EBADMSG\n"))

    @unittest.skipUnless(OPENSSL, "no openssl CLI")
    def test_same_signature_as_openssl(self):
        """Ed25519 is deterministic: both signers give the same bytes."""
        note = self.sign(size=7, t=1800000000)
        body, sigs = split_note(note)
        path = self.write("body", body)
        sigpath = os.path.join(self.dir, "sig")
        rc, out, err = run(OPENSSL, "pkeyutl", "-sign", "-inkey", self.key,
                           "-rawin", "-in", path, "-out", sigpath)
        self.assertEqual(rc, 0, err)
        with open(sigpath, "rb") as f:
            self.assertEqual(f.read(), sigs[0][1][4:])

    def test_other_key_rejected(self):
        other = os.path.join(self.dir, "other")
        self.assertEqual(keygen("--name", NAME, "--out", other)[0], 0)
        rc, out, err = self.verify(self.sign(), other + ".pub")
        self.assertEqual((rc, out), (1, "error EPERM\n"))


if __name__ == "__main__":
    unittest.main()
