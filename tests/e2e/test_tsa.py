#!/usr/bin/env python3
"""RFC 3161 time-stamps against a local test TSA (no network).

tests/tsa/mktsa.sh makes a throw-away TSA in a temporary directory: a test
root, a proper TSA certificate, a second "untrusted" root with its own
TSA, an expired TSA certificate and certificates without (or with a
non-critical) timeStamping EKU. Then $SUNARCHIVE_BUILD/tests/test_tsa runs
with SUNARCHIVE_TSA_DIR pointing there: the C test builds requests with
daemon/tsa.c, has "openssl ts -reply" answer them, builds the tokens
openssl ts refuses to issue with "openssl cms -sign", and every verdict
(good, wrong imprint, nonce, policy, refused policy, untrusted, expired,
no EKU, truncated, mutated) comes from tsa_verify() and
tsa_token_from_response(). This file checks that the C test ran all of
its TSA checks and that they passed, then cross-checks the files it left
behind with the openssl CLI as an independent verifier.

Run by tests/run.py (which imports this module) or alone:
    SUNARCHIVE_BUILD=/abs/build python3 tests/e2e/test_tsa.py
"""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.environ.get("SUNARCHIVE_BUILD", os.path.join(ROOT, "build"))
MKTSA = os.path.join(ROOT, "tests", "tsa", "mktsa.sh")
TEST_BIN = os.path.join(BUILD, "tests", "test_tsa")
OPENSSL = shutil.which("openssl")


def openssl(*args):
    """Run the openssl CLI; (exit status, stdout + stderr)."""
    p = subprocess.run([OPENSSL, *args], capture_output=True, text=True,
                       timeout=60)
    return p.returncode, p.stdout + p.stderr


@unittest.skipIf(OPENSSL is None, "openssl CLI not installed")
@unittest.skipUnless(os.access(TEST_BIN, os.X_OK),
                     f"{TEST_BIN} not built (make all)")
class TestTsa(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="sunarchive-tsa-")
        subprocess.run(["sh", MKTSA, cls.dir], check=True,
                       capture_output=True, timeout=120)
        env = dict(os.environ, SUNARCHIVE_TSA_DIR=cls.dir)
        cls.run_ = subprocess.run([TEST_BIN], capture_output=True,
                                  text=True, env=env, timeout=600)

    @classmethod
    def tearDownClass(cls):
        if os.environ.get("SUNARCHIVE_TEST_KEEP"):
            print(f"kept {cls.dir}")
        else:
            shutil.rmtree(cls.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    # --- the C verdicts --------------------------------------------------

    def test_c_checks_all_pass(self):
        out = self.run_.stdout
        detail = out[-3000:] + self.run_.stderr[-3000:]
        self.assertEqual(self.run_.returncode, 0, detail)
        self.assertNotRegex(out, r"(?m)^not ok", detail)
        self.assertNotIn("# skip", out, "TSA checks were skipped")
        plan = re.search(r"(?m)^1\.\.(\d+)$", out)
        self.assertIsNotNone(plan, "no TAP plan: crashed?\n" + detail)
        oks = len(re.findall(r"(?m)^ok \d+", out))
        self.assertEqual(oks, int(plan.group(1)))
        self.assertGreaterEqual(oks, 100, "fewer checks than expected")

    def test_c_checks_cover_the_cases(self):
        out = self.run_.stdout
        for what in ["good reply verifies (with nonce)",
                     "genTime within 5 minutes of now",
                     "wrong imprint: -EPERM",
                     "reply to a second query, first request: -EPERM",
                     "wrong policy when one is required: -EPERM",
                     "policy refused: tsa_token_from_response -EPERM",
                     "CA file without the issuing root: -EPERM",
                     "expired TSA certificate: -EPERM",
                     "signer without extendedKeyUsage: -EPERM",
                     "the recipe itself (TSA certificate, ESS): verifies",
                     "reply cut at each of",
                     "token cut at each of"]:
            self.assertRegex(out, r"(?m)^ok \d+ - .*" + re.escape(what),
                             what)

    # --- the openssl CLI agrees -----------------------------------------

    def test_request_is_what_openssl_expects(self):
        rc, out = openssl("ts", "-query", "-in", self.path("good.tsq"),
                          "-text")
        self.assertEqual(rc, 0, out)
        self.assertIn("Version: 1", out)
        self.assertIn("Hash Algorithm: sha256", out)
        self.assertIn("Policy OID: unspecified", out)
        self.assertRegex(out, r"Nonce: 0x[0-9A-F]{1,16}\n")
        self.assertIn("Certificate required: yes", out)
        with open(self.path("good.digest")) as f:
            digest = f.read().strip()
        hexdump = "".join(re.findall(r"- ((?:[0-9a-f]{2}[ -]){1,16})",
                                     out))
        self.assertEqual(hexdump.replace(" ", "").replace("-", ""),
                         digest)

    def test_openssl_verifies_the_good_reply_and_token(self):
        rc, out = openssl("ts", "-verify", "-in", self.path("good.tsr"),
                          "-queryfile", self.path("good.tsq"),
                          "-CAfile", self.path("ca1.pem"))
        self.assertIn("Verification: OK", out)
        with open(self.path("good.digest")) as f:
            digest = f.read().strip()
        rc, out = openssl("ts", "-verify", "-token_in",
                          "-in", self.path("good.tst"), "-digest", digest,
                          "-CAfile", self.path("ca1.pem"))
        self.assertIn("Verification: OK", out)

    def test_openssl_rejects_what_we_reject(self):
        with open(self.path("good.digest")) as f:
            digest = f.read().strip()
        cases = [("good.tst", "ca2.pem"),       # untrusted root
                 ("c_noeku.tst", "ca1.pem"),     # no timeStamping EKU
                 ("c_noncrit.tst", "ca1.pem"),   # EKU not critical
                 ("c_two.tst", "ca1.pem"),       # two signers
                 ("c_noess.tst", "ca1.pem"),     # no ESS attribute
                 ("expired.tsr", "ca1.pem")]     # expired TSA cert
        for name, ca in cases:
            token = [] if name.endswith(".tsr") else ["-token_in"]
            rc, out = openssl("ts", "-verify", *token,
                              "-in", self.path(name), "-digest", digest,
                              "-CAfile", self.path(ca))
            self.assertIn("Verification: FAILED", out, name)
        rc, out = openssl("ts", "-verify", "-token_in",
                          "-in", self.path("c_tsa1.tst"), "-digest",
                          digest, "-CAfile", self.path("ca1.pem"))
        self.assertIn("Verification: OK", out, "crafted control token")

    def test_openssl_reads_the_rejection(self):
        rc, out = openssl("ts", "-reply", "-in", self.path("reject.tsr"),
                          "-text")
        self.assertIn("Status: Rejected.", out)
        self.assertIn("Requested policy is not supported.", out)


if __name__ == "__main__":
    unittest.main()
