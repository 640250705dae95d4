"""make install: binaries, example config, unit; never overwrites an
existing configuration."""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class Install(unittest.TestCase):
    def install(self, dest):
        return subprocess.run(
            ["make", "-s", "-C", harness.ROOT, "install", f"DESTDIR={dest}",
             "BUILD=" + os.path.relpath(harness.BUILD, harness.ROOT),
             "PREFIX=/usr/local"], capture_output=True, text=True,
            timeout=300)

    def test_install_layout_and_config_kept(self):
        wd = harness.Workdir("install")
        self.addCleanup(wd.cleanup)
        r = self.install(wd.path)
        self.assertEqual(r.returncode, 0, r.stderr)
        sbin = os.path.join(wd.path, "usr/local/sbin/sunarchived")
        cli = os.path.join(wd.path, "usr/local/bin/sunarchive")
        conf = os.path.join(wd.path, "etc/sunarchive/sunarchive.conf")
        unit = os.path.join(wd.path, "lib/systemd/system/"
                            "sunarchived.service")
        for p in (sbin, cli, conf, unit):
            self.assertTrue(os.path.exists(p), p)
        self.assertTrue(os.access(sbin, os.X_OK))
        self.assertEqual(os.stat(conf).st_mode & 0o077 & ~0o040, 0)
        with open(unit) as f:
            text = f.read()
        self.assertIn("ExecStart=/usr/local/sbin/sunarchived -f "
                      "/etc/sunarchive/sunarchive.conf", text)
        self.assertNotIn("@", text.split("[Service]")[1].split("#")[0])
        with open(conf, "w") as f:
            f.write("# the city's own settings\n")
        r = self.install(wd.path)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(conf) as f:
            self.assertEqual(f.read(), "# the city's own settings\n")


if __name__ == "__main__":
    unittest.main()
