"""sunarchived as a service: configuration checks, reload on SIGHUP,
stop on SIGTERM, sd_notify readiness and watchdog, help and version."""
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DAEMON = os.path.join(harness.BUILD, "sunarchived")


def run(*args, env=None):
    return subprocess.run([DAEMON] + list(args), capture_output=True,
                          text=True, timeout=30, env=env)


class Options(unittest.TestCase):
    def test_help_and_version(self):
        r = run("-h")
        self.assertEqual(r.returncode, 0)
        self.assertIn("usage: sunarchived", r.stdout)
        self.assertIn("-n", r.stdout)
        r = run("-V")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^sunarchived \d+\.\d+")
        r = run("-x")
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage:", r.stderr)

    def test_check_config(self):
        wd = harness.Workdir("conf")
        self.addCleanup(wd.cleanup)
        tok = os.path.join(wd.path, "t.token")
        fd = os.open(tok, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, b"CANARY-token-1234567\n")
        os.close(fd)
        conf = os.path.join(wd.path, "c.conf")

        def check(text):
            with open(conf, "w") as f:
                f.write(text)
            return run("-n", "-f", conf)

        good = ("state_dir = /tmp/x\n\n[account city]\nplatform = facebook\n"
                f"id = 1\ntoken_file = {tok}\n")
        r = check(good)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("configuration OK", r.stdout)
        r = check(good + "colour = blue\n")
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{conf}:7: unknown key 'colour'", r.stderr)
        r = check(good.replace("id = 1", "id = 1\npoll_interval = soon"))
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{conf}:6:", r.stderr)
        os.chmod(tok, 0o644)
        r = check(good)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{conf}:6:", r.stderr)
        self.assertIn("readable by group or others", r.stderr)
        self.assertNotIn("CANARY", r.stderr + r.stdout)
        r = run("-n", "-f", os.path.join(wd.path, "missing.conf"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("missing.conf", r.stderr)


class Service(unittest.TestCase):
    def setUp(self):
        self.wd = harness.Workdir("svc")
        self.addCleanup(self.wd.cleanup)
        self.sim = harness.Simulator(self.wd.path, "small.json")
        self.addCleanup(self.sim.stop)

    def test_reload_keeps_old_config_when_new_is_invalid(self):
        fb = [a for a in self.sim.scenario["accounts"]
              if a["platform"] == "facebook"]
        d = harness.Daemon(self.wd.path, self.sim, accounts=fb[:1])
        d.start(notify=True)
        d.wait_cycles(1)
        with open(d.conf) as f:
            good = f.read()
        with open(d.conf, "a") as f:
            f.write("bogus_key = 1\n")
        d.signal(signal.SIGHUP)
        harness.wait_until(lambda: "reload failed" in d.log(), 10,
                           what="reload failure")
        self.assertRegex(d.log(), r"sunarchive\.conf:\d+: unknown key")
        d.wait_cycles(1)        # still capturing with the old config
        # A valid new config: add the Mastodon account.
        ma = [a for a in self.sim.scenario["accounts"]
              if a["platform"] == "mastodon"]
        d2 = harness.Daemon(self.wd.path, self.sim, accounts=fb[:1] + ma)
        self.assertTrue(os.path.exists(d2.conf))
        d.signal(signal.SIGHUP)
        harness.wait_until(lambda: "configuration reloaded" in d.log(), 10,
                           what="reload")
        d.accounts = d2.accounts
        d.wait_cycles(1)
        self.assertEqual(len(d.polls()), 2)
        self.assertEqual(d.stop(), 0)
        notes = d.notifications(0.3)
        self.assertIn("READY=1", notes)
        self.assertTrue(any(n.startswith("RELOADING=1\nMONOTONIC_USEC=")
                            for n in notes), notes)
        del good

    def test_sigterm_during_a_stalled_request_stops_promptly(self):
        d = harness.Daemon(self.wd.path, self.sim,
                           extra_global={"request_timeout": "60s"})
        d.start()
        d.wait_cycles(1)
        self.sim.fault(platform="*", path=".*", kind="stall", seconds=50,
                       count=-1)
        time.sleep(2)
        t0 = time.time()
        self.assertEqual(d.stop(timeout=20), 0)
        self.assertLess(time.time() - t0, 10)
        self.assertIn("stopped", d.log())

    def test_failed_edit_history_is_a_gap_not_a_crash(self):
        d = harness.Daemon(self.wd.path, self.sim)
        d.start()
        d.wait_cycles(1)
        self.sim.fault(platform="mastodon", path="/history", kind="http_5xx",
                       count=-1)
        self.sim.step()
        d.wait_cycles(2)
        self.assertIsNone(d.proc.poll(), "daemon died: " + d.log()[-800:])
        self.assertEqual(d.stop(), 0)

    def test_watchdog_pings_from_the_loop(self):
        d = harness.Daemon(self.wd.path, self.sim)
        d.start(notify=True, env={"WATCHDOG_USEC": "3000000"})
        d.wait_cycles(2)
        self.assertEqual(d.stop(), 0)
        notes = d.notifications(0.3)
        self.assertGreaterEqual(notes.count("WATCHDOG=1"), 2)
        self.assertIn("STOPPING=1", notes)

    def test_state_directory_permissions(self):
        d = harness.Daemon(self.wd.path, self.sim)
        d.start()
        d.wait_cycles(1)
        self.assertEqual(d.stop(), 0)
        for sub in ("archive", "quarantine"):
            mode = os.stat(os.path.join(d.state, sub)).st_mode & 0o777
            self.assertEqual(mode & 0o027, 0, sub)
        for f in harness.segment_files(d.state):
            self.assertEqual(os.stat(f).st_mode & 0o027, 0, f)


if __name__ == "__main__":
    unittest.main()
