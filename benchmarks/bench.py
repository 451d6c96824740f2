# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark behind ``make bench``.

Generates deterministic hypervisor audit logs with tools/auditgen.py
(mostly background noise, as on a host with STIG syscall rules, plus guest
lifecycles, hot-plug, cgroup records, AVCs, crashes and reboots), then runs
side by side on the main file:

* the engine with everything on (all_events + proof), and sessions only;
* the real ``auvirt`` (Debian's auditd 3.0.9), sessions only and --all-events;
* ``grep -c`` over the same bytes;

and prints wall time (best of N runs) and peak RSS (``/usr/bin/time``) with
the ratios, the engine's memory and time over a range of sizes, an
incremental re-run with a checkpoint after the log grew by 1 %, and a
windowed run.  Targets are printed with "met"/"NOT met".
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
UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def size_bytes(text):
    text = text.strip().upper()
    if text[-1] in UNITS:
        return int(float(text[:-1]) * UNITS[text[-1]])
    return int(text)


def ensure_log(directory, size, seed=7):
    """A generated log of ``size`` (e.g. 200M); cached between runs."""
    path = os.path.join(directory, "bench-%s.log" % size)
    if not os.path.exists(path):
        tmp = path + ".tmp"
        subprocess.check_call([sys.executable, GEN, "bench", "--out", tmp, "--size", size, "--noise", "0.995",
                               "--guests", "40", "--seed", str(seed)], stdout=subprocess.DEVNULL)
        os.rename(tmp, path)
    return path


def measure(cmd, runs, env=None):
    """Best wall time (perf_counter around the process) and peak RSS (KiB, /usr/bin/time) over ``runs`` runs."""
    best = None
    peak = 0
    out = ""
    for dummy in range(runs):
        began = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "__time %e %M"] + cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, env=env, check=False)
        wall = time.perf_counter() - began
        if proc.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), proc.returncode, proc.stderr[-2000:]))
        line = [x for x in proc.stderr.splitlines() if x.startswith("__time ")][-1]
        rss = line.split()[2]
        if best is None or wall < best:
            best, out = wall, proc.stdout  # the output of the fastest run (its run() time)
        peak = max(peak, int(rss))
    return best, peak, out


def run_seconds(out):
    """The engine's own time for run() (without interpreter start-up), from engine_run.py's output."""
    return json.loads(out.strip().splitlines()[-1])["run_s"]


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


def verdict(ok):
    return "met" if ok else "NOT met"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", default=os.path.join(ROOT, ".cache", "bench"))
    parser.add_argument("--main", default="200M", help="size of the side-by-side file")
    parser.add_argument("--curve", default="2M,20M,200M", help="sizes for the memory/time curve")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    env = dict(os.environ, TZ="UTC", LC_ALL="C")
    figures = {"machine": {"nproc": os.cpu_count(), "python": sys.version.split()[0]}}

    print("== generating logs (cached in %s)" % args.dir)
    sizes = [s.strip() for s in args.curve.split(",") if s.strip()]
    if args.main not in sizes:
        sizes.append(args.main)
    logs = dict((size, ensure_log(args.dir, size)) for size in sizes)
    main_log = logs[args.main]
    mb = os.path.getsize(main_log) / float(1 << 20)

    print("== side by side on %s (%.0f MiB, best of %d runs)" % (os.path.basename(main_log), mb, args.runs))
    rows = []
    contenders = [
        ("engine, everything on", [sys.executable, ENGINE, "--all", main_log]),
        ("engine, sessions only", [sys.executable, ENGINE, main_log]),
    ]
    auvirt = auvirt_path()
    if auvirt:
        contenders += [
            ("auvirt, sessions only", shell("%s --file %s > /dev/null" % (auvirt, main_log))),
            ("auvirt --all-events", shell("%s --all-events --file %s > /dev/null" % (auvirt, main_log))),
        ]
    else:
        print("*** auvirt not available (install Debian's auditd): its rows are missing ***")
    # not > /dev/null: GNU grep stops at the first match when its output is discarded
    contenders.append(("grep -c", shell("grep -c type=VIRT_CONTROL %s | cat > /dev/null" % main_log)))
    results = {}
    for name, cmd in contenders:
        wall, rss, out = measure(cmd, args.runs, env)
        results[name] = (wall, rss)
        rows.append((name, wall, rss))
        if name.startswith("engine") and out.strip():
            figures.setdefault("engine_output", {})[name] = json.loads(out.strip().splitlines()[-1])
    grep = results["grep -c"][0]
    print("%-24s %9s %10s %9s %9s" % ("contender", "wall s", "peak MiB", "x grep", "MB/s"))
    for name, wall, rss in rows:
        row = (name, wall, rss / 1024.0, wall / grep if grep else 0, mb / wall if wall else 0)
        print("%-24s %9.2f %10.1f %9.1f %9.0f" % row)
    figures["side_by_side"] = dict((n, {"wall_s": w, "peak_kib": r}) for n, w, r in rows)

    print("\n== engine (everything on) over sizes (s/100MiB from run(), without interpreter start-up)")
    curve = []
    for size in sizes:
        path = logs[size]
        wall, rss, out = measure([sys.executable, ENGINE, "--all", path], args.runs, env)
        size_mb = os.path.getsize(path) / float(1 << 20)
        inner = run_seconds(out)
        curve.append((size, size_mb, inner, rss))
        row = (size, size_mb, wall, inner, rss / 1024.0, 100 * inner / size_mb)
        print("%-8s %9.1f MiB %8.2f s (run() %6.2f s) %8.1f MiB peak %8.2f s/100MiB" % row)
    figures["curve"] = [{"size": s, "mib": m, "wall_s": w, "peak_kib": r} for s, m, w, r in curve]

    print("\n== incremental run with a checkpoint (log grows by 1 %%, best of %d re-runs)" % args.runs)
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
            measure([sys.executable, ENGINE] + flags + ["--checkpoint", checkpoint, base], 1, env)
            with open(checkpoint, "rb") as handle:
                saved = handle.read()
            with open(base, "ab") as out:
                out.write(data[cut:])
            best = None
            for dummy in range(args.runs):
                with open(checkpoint, "wb") as handle:
                    handle.write(saved)
                inc_wall, inc_rss, inc_out = measure([sys.executable, ENGINE] + flags + ["--checkpoint", checkpoint, base],
                                                     1, env)
                if best is None or run_seconds(inc_out) < run_seconds(best[2]):
                    best = (inc_wall, inc_rss, inc_out)
            inc_wall, inc_rss, inc_out = best
            ref_wall, dummy, ref_out = measure([sys.executable, ENGINE] + flags + [main_log], args.runs, env)
            same = json.loads(inc_out.splitlines()[-1])["sessions"] == json.loads(ref_out.splitlines()[-1])["sessions"]
            ratio = run_seconds(inc_out) / run_seconds(ref_out)
            incremental[mode] = ratio
            figures_line = (mode, run_seconds(ref_out), ref_wall, run_seconds(inc_out), inc_wall, len(saved) / float(1 << 20))
            print("%-14s full read: run() %.3f s (process %.2f s); re-run after +1 %%: run() %.3f s (process %.2f s); "
                  "checkpoint %.1f MiB" % figures_line)
            print("%-14s re-run = %.1f %% of a full run (run() only; %.1f %% with interpreter start-up); same sessions: %s"
                  % (mode, 100 * ratio, 100 * inc_wall / ref_wall, same))
            figures.setdefault("incremental", {})[mode] = {
                "rerun_s": inc_wall, "full_s": ref_wall, "same": same, "rerun_run_s": run_seconds(inc_out),
                "full_run_s": run_seconds(ref_out), "checkpoint_bytes": len(saved)}
    except RuntimeError as exc:
        print("incremental run failed: %s" % exc)
    finally:
        del data

    print("\n== windowed run (start = last 10 % of the time span)")
    with open(main_log, "rb") as src:
        first_line = src.readline()
        src.seek(max(0, os.path.getsize(main_log) - 4096))
        last_line = src.read().splitlines()[-1]
    t0 = float(first_line.split(b"audit(")[1].split(b":")[0])
    t1 = float(last_line.split(b"audit(")[1].split(b":")[0])
    start = "%.0f" % (t0 + 0.9 * (t1 - t0))
    win_wall, win_rss, dummy = measure([sys.executable, ENGINE, "--all", "--start", start, main_log], args.runs, env)
    full = results["engine, everything on"][0]
    print("window from %s: %.2f s (%.0f %% of the full run)" % (start, win_wall, 100 * win_wall / full))
    figures["window"] = {"wall_s": win_wall, "peak_kib": win_rss, "full_s": full}

    print("\n== targets")
    engine_all = results["engine, everything on"]
    print("engine everything on <= 3x grep:              %.1fx  %s" % (engine_all[0] / grep, verdict(engine_all[0] <= 3 * grep)))
    if "auvirt, sessions only" in results:
        ratio = engine_all[0] / results["auvirt, sessions only"][0]
        print("engine everything on <= 0.5x auvirt sessions: %.2fx %s" % (ratio, verdict(ratio <= 0.5)))
    peak = max(r for dummy, dummy2, dummy3, r in curve) / 1024.0
    print("peak memory <= 64 MiB over all sizes:        %.1f MiB %s" % (peak, verdict(peak <= 64)))
    if len(curve) >= 2:
        rates = [w / m for dummy, m, w, dummy2 in curve if m >= 10]
        if len(rates) >= 2:
            spread = max(rates) / min(rates)
            print("time linear in size (s/MiB spread, >=10 MiB): %.2f  %s" % (spread, verdict(spread <= 1.5)))
    for mode, ratio in sorted(incremental.items(), reverse=True):
        print("re-run after +1 %% <= 5 %% of a full run (%s): %.1f %% %s"
              % (mode, 100 * ratio, verdict(ratio <= 0.05)))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(figures, out, indent=2, sort_keys=True)
    print("\n(when: %s)" % time.strftime("%Y-%m-%d %H:%M:%S"))


if __name__ == "__main__":
    main()
