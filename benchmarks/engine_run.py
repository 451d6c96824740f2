# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the session engine once over audit logs, as the module would.

    engine_run.py [--all] [--checkpoint FILE] [--start WHEN] LOG [LOG ...]

``--all`` = everything on (all_events, proof); without it sessions only.
Prints one JSON line with the counts, so the benchmark can check that every
contender read the same thing.
"""
import argparse
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def import_run():
    top = tempfile.mkdtemp(prefix="virtaudit-bench-")
    ns = os.path.join(top, "ansible_collections", "virtaudit")
    os.makedirs(ns)
    os.symlink(ROOT, os.path.join(ns, "auvirt"))
    sys.path.insert(0, top)
    from ansible_collections.virtaudit.auvirt.plugins.module_utils import session_report
    return session_report


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--checkpoint")
    parser.add_argument("--start")
    parser.add_argument("logs", nargs="+")
    args = parser.parse_args()
    report = import_run()
    kwargs = dict(paths=args.logs, all_events=args.all, proof=args.all, default_host="bench",
                  uid_resolver={0: "root"}.get, start=args.start)
    if args.checkpoint:
        kwargs["checkpoint"] = args.checkpoint
    began = time.perf_counter()
    result = report.run(**kwargs)
    elapsed = time.perf_counter() - began
    summary = result["summary"]
    print(json.dumps({"sessions": summary["sessions"], "states": summary["states"],
                      "records": sum(s["records"] for s in result["sources"]),
                      "missing_events": result["coverage"]["serial_gaps"]["missing_events"],
                      "warnings": result.get("warnings", []), "run_s": round(elapsed, 4)}, sort_keys=True))


if __name__ == "__main__":
    main()
