# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark behind ``make bench``.

Generates deterministic hypervisor audit logs with tools/auditgen.py in
every shape real hosts write (the project's bench file; the same with
``node=`` prefixes; with ``UNKNOWN[n]`` records; three nodes interleaved;
ENRICHED; AVC-heavy; a rotated set with compressed files), then runs side
by side on each, in rounds (so a busy machine slows every contender alike):

* the engine with everything on (all_events + proof), and sessions only;
* the real ``auvirt`` (Debian's auditd 3.0.9), sessions only (``--stdin``
  fed by zcat/cat for the rotated set);

and prints a table per shape - wall time (best of N runs, interpreter
start-up included), the engine's own ``run()`` time, peak RSS
(``/usr/bin/time``) and the ratio to auvirt - then the engine's memory and
time over a range of sizes, an incremental re-run with a checkpoint after
the log grew by 1 %, and every target of issue 10 with "met" / "NOT met".
No test asserts a time: the targets live here.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GEN = os.path.join(ROOT, "tools", "auditgen.py")
ENGINE = os.path.join(HERE, "engine_run.py")
COMMON = ["--noise", "0.995", "--guests", "40", "--seed", "7"]
NODES = "hv01.example.com,hv02.example.com,hv03.example.com"
# name, file name, auditgen options (besides COMMON and --size)
SHAPES = [
    ("current", "bench-%s.log", []),
    ("node= prefixes", "node-%s.log", ["--node", "hv01.example.com"]),
    ("UNKNOWN[n] lines", "unknown-%s.log", ["--unknown-every", "5000"]),
    ("3 nodes interleaved", "nodes-%s.log", ["--nodes", NODES]),
    ("ENRICHED", "enriched-%s.log", ["--enriched"]),
    ("AVC-heavy", "avc-%s.log", ["--denials", "0.27"]),
    ("rotated set, .gz", "rotated-%s/audit.log", ["--rotate", "5", "--gzip-from", "2"]),
]
AVC_TYPES = (b"AVC ", b"USER_AVC ", b"AVC_PATH ")
TARGET_RATIO = 1.0
STRETCH_RATIO = 0.5
TARGET_SPREAD = 1.5
TARGET_PEAK_MIB = 64
TARGET_RERUN = 0.05


def generate(directory, name, options, size):
    """The files of a shape (oldest first) with their size and line counts; generated once and cached."""
    path = os.path.join(directory, name % size)
    info_path = path + ".info.json"
    if os.path.exists(info_path):
        with open(info_path) as handle:
            return json.load(handle)
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        os.makedirs(folder)
    rotated = "--rotate" in options
    files = [path]
    if rotated or not os.path.exists(path):
        out = path if rotated else path + ".tmp"
        stats = subprocess.check_output([sys.executable, GEN, "bench", "--out", out, "--size", size] + COMMON + options,
                                        universal_newlines=True)
        stats = dict(item.split("=", 1) for item in stats.split())
        if rotated:
            files = stats["files"].split(",")
        else:
            os.rename(out, path)
    info = {"files": files, "lines": 0, "avc_lines": 0, "bytes": 0}
    for item in files:
        reader = subprocess.Popen(["zcat" if item.endswith(".gz") else "cat", item], stdout=subprocess.PIPE)
        for line in reader.stdout:
            info["lines"] += 1
            info["bytes"] += len(line)
            at = line.find(b"type=") + 5
            info["avc_lines"] += line.startswith(AVC_TYPES, at)
        reader.wait()
    with open(info_path, "w") as handle:
        json.dump(info, handle)
    return info


def measure(cmd, env=None):
    """Wall time (perf_counter around the process), peak RSS (KiB, /usr/bin/time) and stdout of one run."""
    began = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "__time %e %M"] + cmd, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, env=env, check=False)
    wall = time.perf_counter() - began
    if proc.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), proc.returncode, proc.stderr[-2000:]))
    line = [x for x in proc.stderr.splitlines() if x.startswith("__time ")][-1]
    return wall, int(line.split()[2]), proc.stdout


class Best(object):
    """Best wall time over runs, the highest peak RSS, the output of the fastest run."""

    def __init__(self):
        self.wall = None
        self.peak = 0
        self.out = ""

    def add(self, wall, peak, out):
        if self.wall is None or wall < self.wall:
            self.wall, self.out = wall, out
        self.peak = max(self.peak, peak)

    @property
    def run_s(self):
        """The engine's own time for run() (without interpreter start-up), from engine_run.py's output."""
        return json.loads(self.out.strip().splitlines()[-1])["run_s"]

    @property
    def result(self):
        return json.loads(self.out.strip().splitlines()[-1])


def shell(cmd):
    return ["sh", "-c", cmd]


def auvirt_path():
    found = shutil.which("auvirt")
    if found:
        return found
    installer = os.path.join(ROOT, "tests", "differential", "install_auvirt.sh")
    if os.path.exists(installer) and os.geteuid() == 0:
        subprocess.call(["bash", installer], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return shutil.which("auvirt")


def auvirt_cmd(auvirt, files):
    if len(files) == 1 and not files[0].endswith(".gz"):
        return shell("%s --file %s > /dev/null" % (auvirt, files[0]))
    parts = ["%s %s" % ("zcat" if item.endswith(".gz") else "cat", item) for item in files]
    return shell("(%s) | %s --stdin > /dev/null" % ("; ".join(parts), auvirt))


def verdict(ok):
    return "met" if ok else "NOT met"


def load():
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", default=os.path.join(ROOT, ".cache", "bench"))
    parser.add_argument("--main", default="200M", help="size of every shape")
    parser.add_argument("--curve", default="2M,20M,200M", help="sizes for the memory/time curve (current shape)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--shapes", help="comma-separated shape numbers (1-%d) to run; default all" % len(SHAPES))
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    env = dict(os.environ, TZ="UTC", LC_ALL="C")
    figures = {"machine": {"nproc": os.cpu_count(), "python": sys.version.split()[0], "load_before": load()}}
    print("== machine: %d cores, Python %s, load average %s" % (os.cpu_count(), sys.version.split()[0], load()))

    print("== generating logs (cached in %s)" % args.dir)
    chosen = SHAPES
    if args.shapes:
        chosen = [SHAPES[int(n) - 1] for n in args.shapes.split(",")]
    infos = dict((name, generate(args.dir, pattern, options, args.main)) for name, pattern, options in chosen)
    auvirt = auvirt_path()
    if not auvirt:
        print("*** auvirt not available (install Debian's auditd): the ratios to auvirt are missing ***")

    print("== every shape, %s, best of %d rounds (each round runs every contender on every shape)"
          % (args.main, args.runs))
    best = dict((name, {"all": Best(), "sessions": Best(), "auvirt": Best()}) for name, dummy, dummy2 in chosen)
    for dummy in range(args.runs):
        for name, dummy2, dummy3 in chosen:
            files = infos[name]["files"]
            best[name]["all"].add(*measure([sys.executable, ENGINE, "--all"] + files, env))
            best[name]["sessions"].add(*measure([sys.executable, ENGINE] + files, env))
            if auvirt:
                best[name]["auvirt"].add(*measure(auvirt_cmd(auvirt, files), env))
    head = ("shape", "MiB", "lines", "AVC %", "all s", "run() s", "peak MiB", "sess. s", "auvirt s", "auv. MiB",
            "all/auv")
    print("%-20s %5s %9s %6s %7s %7s %8s %7s %8s %8s %7s" % head)
    rows = {}
    for name, dummy, dummy2 in chosen:
        info, item = infos[name], best[name]
        ratio = item["all"].wall / item["auvirt"].wall if auvirt else None
        rows[name] = {
            "mib": info["bytes"] / float(1 << 20), "lines": info["lines"], "avc_share": info["avc_lines"] / float(info["lines"]),
            "all_s": item["all"].wall, "all_run_s": item["all"].run_s, "all_peak_kib": item["all"].peak,
            "sessions_s": item["sessions"].wall, "sessions_peak_kib": item["sessions"].peak,
            "auvirt_s": item["auvirt"].wall if auvirt else None, "auvirt_peak_kib": item["auvirt"].peak if auvirt else None,
            "ratio": ratio, "sessions": item["all"].result["sessions"], "records": item["all"].result["records"],
        }
        row = rows[name]
        print("%-20s %5.0f %9d %6.1f %7.2f %7.2f %8.1f %7.2f %8s %8s %7s" % (
            name, row["mib"], row["lines"], 100 * row["avc_share"], row["all_s"], row["all_run_s"],
            row["all_peak_kib"] / 1024.0, row["sessions_s"], "%.2f" % row["auvirt_s"] if auvirt else "-",
            "%.0f" % (row["auvirt_peak_kib"] / 1024.0) if auvirt else "-", "%.2fx" % ratio if auvirt else "-"))
    figures["shapes"] = rows

    curve = []
    sizes = [s.strip() for s in args.curve.split(",") if s.strip()]
    if sizes and SHAPES[0] in chosen:
        print("\n== engine (everything on) over sizes, current shape (s/100MiB from run(), without start-up)")
        for size in sizes:
            info = generate(args.dir, SHAPES[0][1], SHAPES[0][2], size)
            item = Best()
            for dummy in range(args.runs if size != "2G" else 1):
                item.add(*measure([sys.executable, ENGINE, "--all"] + info["files"], env))
            size_mb = info["bytes"] / float(1 << 20)
            curve.append((size, size_mb, item.run_s, item.peak))
            print("%-8s %9.1f MiB %8.2f s (run() %6.2f s) %8.1f MiB peak %8.2f s/100MiB"
                  % (size, size_mb, item.wall, item.run_s, item.peak / 1024.0, 100 * item.run_s / size_mb))
        figures["curve"] = [{"size": s, "mib": m, "run_s": w, "peak_kib": r} for s, m, w, r in curve]

    incremental = {}
    if SHAPES[0] in chosen:
        print("\n== incremental run with a checkpoint (current shape grows by 1 %%, best of %d re-runs)" % args.runs)
        incremental = rerun(args, env, infos[SHAPES[0][0]]["files"][0], figures)

    print("\n== targets (issue 10; everything on = all_events + proof; load average now %s)" % load())
    figures["machine"]["load_after"] = load()
    alls = dict((name, rows[name]["all_s"]) for name in rows)
    if auvirt:
        worst = max(rows, key=lambda n: rows[n]["ratio"])
        print("every shape <= %.1fx auvirt sessions-only:      worst %.2fx (%s)  %s" % (
            TARGET_RATIO, rows[worst]["ratio"], worst, verdict(rows[worst]["ratio"] <= TARGET_RATIO)))
        for name in rows:
            print("    %-20s %.2fx  %s" % (name, rows[name]["ratio"], verdict(rows[name]["ratio"] <= TARGET_RATIO)))
        print("stretch: every shape <= %.1fx auvirt:         worst %.2fx  %s" % (
            STRETCH_RATIO, rows[worst]["ratio"], verdict(rows[worst]["ratio"] <= STRETCH_RATIO)))
    slow, fast = max(alls, key=alls.get), min(alls, key=alls.get)
    spread = alls[slow] / alls[fast]
    print("slowest shape <= %.1fx the fastest:             %.2fx (%s / %s)  %s" % (
        TARGET_SPREAD, spread, slow, fast, verdict(spread <= TARGET_SPREAD)))
    peaks = dict((name, rows[name]["all_peak_kib"] / 1024.0) for name in rows)
    top = max(peaks, key=peaks.get)
    print("peak RSS <= %d MiB on every shape:              %.1f MiB (%s)  %s" % (
        TARGET_PEAK_MIB, peaks[top], top, verdict(peaks[top] <= TARGET_PEAK_MIB)))
    if curve:
        highest = max(r for dummy, dummy2, dummy3, r in curve) / 1024.0
        print("peak RSS <= %d MiB over sizes %s-%s:          %.1f MiB  %s" % (
            TARGET_PEAK_MIB, curve[0][0], curve[-1][0], highest, verdict(highest <= TARGET_PEAK_MIB)))
        rates = [w / m for dummy, m, w, dummy2 in curve if m >= 10]
        if len(rates) >= 2:
            linear = max(rates) / min(rates)
            print("time linear in size (s/MiB spread, >=10 MiB):   %.2f  %s" % (linear, verdict(linear <= 1.5)))
    for mode, ratio in sorted(incremental.items(), reverse=True):
        print("re-run after +1 %% <= %d %% of a full run (%s): %.1f %%  %s"
              % (100 * TARGET_RERUN, mode, 100 * ratio, verdict(ratio <= TARGET_RERUN)))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(figures, out, indent=2, sort_keys=True)
    print("\n(when: %s)" % time.strftime("%Y-%m-%d %H:%M:%S"))


def rerun(args, env, main_log, figures):
    """Full read of the log but its last 1 % with a checkpoint, then the re-run after it grew (best of N)."""
    incremental = {}
    base = os.path.join(args.dir, "grow.log")
    checkpoint = os.path.join(args.dir, "grow.checkpoint")
    with open(main_log, "rb") as src:
        data = src.read()
    cut = data.rfind(b"\n", 0, int(len(data) * 0.99)) + 1
    try:
        for mode, flags in (("sessions only", []), ("everything on", ["--all"])):
            with open(base, "wb") as out:
                out.write(data[:cut])
            if os.path.exists(checkpoint):
                os.remove(checkpoint)
            measure([sys.executable, ENGINE] + flags + ["--checkpoint", checkpoint, base], env)
            with open(checkpoint, "rb") as handle:
                saved = handle.read()
            with open(base, "ab") as out:
                out.write(data[cut:])
            again = Best()
            for dummy in range(args.runs):
                with open(checkpoint, "wb") as handle:
                    handle.write(saved)
                wall, peak, out = measure([sys.executable, ENGINE] + flags + ["--checkpoint", checkpoint, base], env)
                # best by run(): the share compares the engine's own times
                if again.wall is None or json.loads(out.strip().splitlines()[-1])["run_s"] < again.run_s:
                    again.wall, again.out = wall, out
                again.peak = max(again.peak, peak)
            full = Best()
            for dummy in range(args.runs):
                full.add(*measure([sys.executable, ENGINE] + flags + [main_log], env))
            same = again.result["sessions"] == full.result["sessions"]
            ratio = again.run_s / full.run_s
            incremental[mode] = ratio
            print("%-14s full read: run() %.3f s (process %.2f s); re-run after +1 %%: run() %.3f s (process %.2f s); "
                  "checkpoint %.1f MiB" % (mode, full.run_s, full.wall, again.run_s, again.wall, len(saved) / float(1 << 20)))
            print("%-14s re-run = %.1f %% of a full run (run() only; %.1f %% with interpreter start-up); same sessions: %s"
                  % (mode, 100 * ratio, 100 * again.wall / full.wall, same))
            figures.setdefault("incremental", {})[mode] = {
                "rerun_s": again.wall, "full_s": full.wall, "same": same, "rerun_run_s": again.run_s,
                "full_run_s": full.run_s, "checkpoint_bytes": len(saved)}
    except RuntimeError as exc:
        print("incremental run failed: %s" % exc)
    finally:
        del data
    return incremental


if __name__ == "__main__":
    main()
