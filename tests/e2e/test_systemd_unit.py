#!/usr/bin/env python3
"""systemd/sunarchived.service: sandbox score and lifecycle directives.

Copies the unit to a temp dir with @SBINDIR@/@SYSCONFDIR@ substituted as
"make install" does, then:
  - `systemd-analyze security --offline=true` must rate it <= 2.0
    (DESIGN.md "Security"; integrity.md section 9 measures about 1.2);
  - `systemd-analyze verify` must accept it;
  - the lifecycle and hardening directives the daemon relies on are there.

What offline analysis needs (systemd 252): `security --offline=true` reads
only the unit file and does not look at the ExecStart binary, so the
installed path is kept. `verify` does check that ExecStart is executable,
so its copy points ExecStart at /bin/true.

Run by tests/run.py (which imports this module) or alone:
    python3 tests/e2e/test_systemd_unit.py
"""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
UNIT = os.path.join(ROOT, "systemd", "sunarchived.service")
ANALYZE = shutil.which("systemd-analyze")
MAX_EXPOSURE = 2.0


def substituted(text, sbindir="/usr/local/sbin", sysconfdir="/etc"):
    return (text.replace("@SBINDIR@", sbindir)
                .replace("@SYSCONFDIR@", sysconfdir))


def directives(text):
    """[(section, key, value)] of the unit, comments and blanks skipped."""
    out, section = [], None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, sep, value = line.partition("=")
        if sep:
            out.append((section, key.strip(), value.strip()))
    return out


class UnitFileTest(unittest.TestCase):
    """Checks that need only the file."""

    @classmethod
    def setUpClass(cls):
        with open(UNIT, encoding="utf-8") as f:
            cls.text = f.read()
        cls.service = {}
        for section, key, value in directives(cls.text):
            if section == "Service":
                cls.service.setdefault(key, []).append(value)

    def assertDirective(self, key, value):
        self.assertIn(key, self.service, f"{key}= missing from [Service]")
        self.assertIn(value, self.service[key],
                      f"{key}={value} expected, got {self.service[key]}")

    def test_placeholders_only_in_known_places(self):
        self.assertEqual(
            sorted(set(re.findall(r"@[A-Z]+@", self.text))),
            ["@SBINDIR@", "@SYSCONFDIR@"])
        self.assertDirective(
            "ExecStart",
            "@SBINDIR@/sunarchived -f @SYSCONFDIR@/sunarchive/sunarchive.conf")

    def test_lifecycle(self):
        for key, value in [("Type", "notify"), ("NotifyAccess", "main"),
                           ("WatchdogSec", "60"),
                           ("Restart", "on-failure"), ("RestartSec", "10"),
                           ("TimeoutStopSec", "90"),
                           ("ExecReload", "/bin/kill -HUP $MAINPID")]:
            with self.subTest(key=key):
                self.assertDirective(key, value)

    def test_identity_and_files(self):
        for key, value in [("User", "sunarchive"), ("Group", "sunarchive"),
                           ("StateDirectory", "sunarchive"),
                           ("StateDirectoryMode", "0750"),
                           ("UMask", "0027"), ("LimitCORE", "0")]:
            with self.subTest(key=key):
                self.assertDirective(key, value)

    def test_hardening(self):
        for key, value in [
                ("NoNewPrivileges", "yes"), ("CapabilityBoundingSet", ""),
                ("AmbientCapabilities", ""), ("RestrictSUIDSGID", "yes"),
                ("LockPersonality", "yes"),
                ("MemoryDenyWriteExecute", "yes"),
                ("RestrictRealtime", "yes"), ("RestrictNamespaces", "yes"),
                ("KeyringMode", "private"), ("RemoveIPC", "yes"),
                ("ProtectSystem", "strict"), ("ProtectHome", "yes"),
                ("PrivateTmp", "yes"), ("PrivateDevices", "yes"),
                ("DevicePolicy", "closed"), ("ProtectProc", "invisible"),
                ("ProcSubset", "pid"), ("PrivateUsers", "yes"),
                ("PrivateIPC", "yes"), ("ProtectHostname", "yes"),
                ("ProtectClock", "yes"), ("ProtectKernelTunables", "yes"),
                ("ProtectKernelModules", "yes"),
                ("ProtectKernelLogs", "yes"),
                ("ProtectControlGroups", "yes"),
                ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
                ("SystemCallArchitectures", "native"),
                ("SystemCallFilter", "@system-service"),
                ("SystemCallFilter", "~@privileged @resources"),
                ("SystemCallErrorNumber", "EPERM")]:
            with self.subTest(key=key, value=value):
                self.assertDirective(key, value)

    def test_credentials_documented(self):
        self.assertIn("LoadCredential=", self.text)
        self.assertIn("CREDENTIALS_DIRECTORY", self.text)


@unittest.skipUnless(ANALYZE, "systemd-analyze not installed")
class SystemdAnalyzeTest(unittest.TestCase):
    """Checks that run systemd-analyze on a substituted copy."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="sunarchive-unit-")
        with open(UNIT, encoding="utf-8") as f:
            self.text = f.read()

    def tearDown(self):
        self.tmp.cleanup()

    def write_unit(self, text):
        path = os.path.join(self.tmp.name, "sunarchived.service")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_security_exposure(self):
        path = self.write_unit(substituted(self.text))
        out = subprocess.run(
            [ANALYZE, "security", "--offline=true", "--no-pager", path],
            capture_output=True, text=True, timeout=120)
        m = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)",
                      out.stdout)
        self.assertIsNotNone(
            m, f"no exposure line in output:\n{out.stdout}{out.stderr}")
        exposure = float(m.group(1))
        self.assertLessEqual(
            exposure, MAX_EXPOSURE,
            f"exposure {exposure} > {MAX_EXPOSURE}:\n{out.stdout}")

    def test_verify(self):
        # verify insists that ExecStart is executable: use /bin/true.
        text = substituted(self.text).replace(
            "/usr/local/sbin/sunarchived", "/bin/true")
        path = self.write_unit(text)
        out = subprocess.run([ANALYZE, "verify", "--man=no", path],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(out.stderr.strip(), "",
                         f"verify warned:\n{out.stderr}")


if __name__ == "__main__":
    unittest.main()
