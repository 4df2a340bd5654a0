#!/usr/bin/env bash
# Re-resolve requirements/base.in and dev.in into the fully pinned base.txt and dev.txt.
# Run after changing a .in file; commit the .txt files.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --upgrade pip
"$work/venv/bin/pip" install -q --dry-run --ignore-installed --report "$work/base.json" -r requirements/base.in
"$work/venv/bin/pip" install -q --dry-run --ignore-installed --report "$work/dev.json" -r requirements/dev.in
"$work/venv/bin/python" - "$work" <<'PY'
import json, sys
work = sys.argv[1]
def pins(name):
    report = json.load(open(f"{work}/{name}.json"))
    return {i["metadata"]["name"]: i["metadata"]["version"] for i in report["install"]}
base, dev = pins("base"), pins("dev")
with open("requirements/base.txt", "w") as out:
    out.write("# Generated from base.in by scripts/lock.sh: the whole runtime tree, fully pinned.\n")
    out.writelines(f"{n}=={v}\n" for n, v in sorted(base.items(), key=lambda p: p[0].lower()))
with open("requirements/dev.txt", "w") as out:
    out.write("# Generated from dev.in by scripts/lock.sh: test and lint tools on top of base.txt.\n-r base.txt\n")
    out.writelines(f"{n}=={v}\n" for n, v in sorted(dev.items(), key=lambda p: p[0].lower()) if n not in base)
PY
echo "requirements/base.txt and dev.txt updated"
