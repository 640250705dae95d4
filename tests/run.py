#!/usr/bin/env python3
"""Run sunarchive's whole test suite and print one closing line.

Suites, in order:
  unit  - every build/tests/test_* binary (TAP: "ok N" / "not ok N")
  fuzz  - tests/fuzz/regress.sh: every fuzz target's seed corpus and kept
          crashers through build/fuzz/fuzz_* (TAP; one test per target)
  sim   - the platform simulator's self-test (tests/sim/test_simulator.py)
  e2e   - every tests/e2e/test_*.py (unittest modules driving the real
          binaries against the simulator over loopback)

The last line is "N passed, N failed" (plus ", N skipped"); the exit
status is 0 only when nothing failed and at least one test ran.
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_tap(path, env, counts, timeout, args=(), name=None):
    name = name or os.path.basename(path)
    t0 = time.time()
    try:
        out = subprocess.run([path, *args], capture_output=True, text=True,
                             env=env, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        print(f"FAIL {name}: timed out after {timeout}s")
        counts["failed"] += 1
        return
    passed = len(re.findall(r"^ok \d+", out.stdout, re.M))
    failed = len(re.findall(r"^not ok \d+", out.stdout, re.M))
    if out.returncode != 0 and failed == 0:
        failed = 1          # crashed (sanitizer, signal) without a TAP failure
    counts["passed"] += passed
    counts["failed"] += failed
    status = "ok  " if failed == 0 else "FAIL"
    print(f"{status} {name}: {passed} passed, {failed} failed "
          f"({time.time() - t0:.1f}s)")
    if failed:
        sys.stdout.write(out.stdout[-4000:])
        sys.stdout.write(out.stderr[-4000:])


def run_unittest_files(files, counts, verbosity):
    loader = unittest.TestLoader()
    for path in files:
        name = os.path.splitext(os.path.basename(path))[0]
        sys.path.insert(0, os.path.dirname(path))
        try:
            mod = __import__(name)
        finally:
            sys.path.pop(0)
        suite = loader.loadTestsFromModule(mod)
        t0 = time.time()
        res = unittest.TextTestRunner(verbosity=verbosity,
                                      stream=sys.stdout).run(suite)
        failed = len(res.failures) + len(res.errors)
        skipped = len(res.skipped)
        counts["passed"] += res.testsRun - failed - skipped
        counts["failed"] += failed
        counts["skipped"] += skipped
        print(f"{'ok  ' if failed == 0 else 'FAIL'} {name}: "
              f"{res.testsRun - failed - skipped} passed, {failed} failed, "
              f"{skipped} skipped ({time.time() - t0:.1f}s)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--only", choices=["unit", "fuzz", "sim", "e2e"])
    ap.add_argument("--asan", action="store_true",
                    help="sanitizer build: skip the long kill loop")
    ap.add_argument("-k", dest="pattern", help="only e2e files matching")
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args()

    build = os.path.abspath(os.path.join(ROOT, args.build))
    env = dict(os.environ)
    env["SUNARCHIVE_BUILD"] = build
    if args.asan:
        env["SUNARCHIVE_ASAN"] = "1"
    os.environ.update(env)
    counts = {"passed": 0, "failed": 0, "skipped": 0}

    if args.only in (None, "unit"):
        for path in sorted(glob.glob(os.path.join(build, "tests", "test_*"))):
            if os.access(path, os.X_OK):
                run_tap(path, env, counts, timeout=300)
    if args.only in (None, "fuzz"):
        run_tap(os.path.join(ROOT, "tests", "fuzz", "regress.sh"), env,
                counts, timeout=600, args=[build], name="fuzz")
    if args.only in (None, "sim"):
        sim = os.path.join(ROOT, "tests", "sim", "test_simulator.py")
        if os.path.exists(sim):
            out = subprocess.run([sys.executable, sim], capture_output=True,
                                 text=True, env=env, timeout=300)
            m = re.search(r"^(\d+) passed, (\d+) failed", out.stdout, re.M)
            p, f = (int(m.group(1)), int(m.group(2))) if m else (0, 1)
            if out.returncode != 0 and f == 0:
                f = 1
            counts["passed"] += p
            counts["failed"] += f
            print(f"{'ok  ' if f == 0 else 'FAIL'} simulator: {p} passed, "
                  f"{f} failed")
            if f:
                sys.stdout.write(out.stdout[-4000:] + out.stderr[-4000:])
    if args.only in (None, "e2e"):
        files = sorted(glob.glob(os.path.join(ROOT, "tests", "e2e",
                                              "test_*.py")))
        if args.pattern:
            files = [f for f in files if args.pattern in f]
        run_unittest_files(files, counts, 2 if args.v else 1)

    total = counts["passed"] + counts["failed"]
    line = f"{counts['passed']} passed, {counts['failed']} failed"
    if counts["skipped"]:
        line += f", {counts['skipped']} skipped"
    print(line)
    return 0 if counts["failed"] == 0 and total > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
