#!/usr/bin/env python3
"""Convert transparency-dev/merkle testdata/{inclusion,consistency}/**/*.json
into the line files read by tests/unit/test_merkle.c (format: README.md).

usage: convert.py TESTDATA_DIR OUT_DIR
TESTDATA_DIR is a copy of the repository's testdata/ directory.
"""
import base64
import glob
import json
import os
import sys


def hx(b64):
    return base64.b64decode(b64).hex()


def proof(p):
    p = p or []                   # Go encodes a nil slice as null
    return "%d|%s" % (len(p), ",".join(hx(x) for x in p))


def main():
    src, out = sys.argv[1], sys.argv[2]
    for kind in ("inclusion", "consistency"):
        lines = []
        for path in sorted(glob.glob(os.path.join(src, kind, "**", "*.json"),
                                     recursive=True)):
            with open(path) as fp:
                o = json.load(fp)
            name = os.path.relpath(path, src)[:-len(".json")]
            want = "err" if o["wantErr"] else "ok"
            if kind == "inclusion":
                idx = o.get("leafIdx", o.get("leafIndex"))
                f = [want, str(idx), str(o["treeSize"]), hx(o["leafHash"]),
                     hx(o["root"]), proof(o["proof"]), name]
            else:
                f = [want, str(o["size1"]), str(o["size2"]), hx(o["root1"]),
                     hx(o["root2"]), proof(o["proof"]), name]
            lines.append("|".join(f))
        with open(os.path.join(out, kind + ".txt"), "w") as fp:
            fp.write("# %s vectors from transparency-dev/merkle testdata/%s"
                     " (Apache-2.0); format in README.md\n" % (kind, kind))
            fp.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
