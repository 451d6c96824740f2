# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark behind ``make bench-fleet``: the fleet report at 10 / 200 / 1,000 hosts and on one busy host.

For every fleet size N it generates (once, cached) a synthetic fleet with
``tools/auditgen.py fleet``: N hypervisors, a week of logs each, about 170
guest sessions per host, live migrations between the hosts.  Every host is
an inventory host on the local connection reading its own log.  Then:

* **bare** - a playbook that only runs ``guest_session_info`` on every host
  (same window, same forks): what Ansible and the engine cost anyway;
* **role** - ``ansible-playbook virtaudit.auvirt.fleet_report`` (collect on
  every host, one report step), the whole role;
* **report only** - ``ansible-playbook virtaudit.auvirt.fleet_merge`` on the
  result files the role run left: the controller's own work (reading the
  results, model, JSON/CSV/Markdown/HTML, installing the files), with the
  report action's own timings.

It prints wall time, peak RSS (the largest process and the whole process
tree, sampled from /proc every 0.2 s) and the report sizes, and checks the
targets (met / NOT met):

* role total <= 1.5x bare at 200 and 1,000 hosts;
* controller-only (report only) <= 60 s and peak RSS <= 1 GiB at 1,000 hosts;
* main HTML page <= 10 MB at 1,000 hosts.

``--busy`` runs one host with a busy log (``auditgen.py bench --size 50M
--guests 50 --noise 0.8``): the role <= 3x the module's own run (the bare
playbook on that host) and controller RSS <= 300 MB.

The machine's load average is printed with every figure: timings on a
shared machine are noisy.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GEN = os.path.join(ROOT, "tools", "auditgen.py")
FLEET_START = "2026-01-01T00:00:00Z"
FLEET_END = "2026-01-07T23:59:59Z"
NOW = "2026-01-08T00:00:00Z"
MIB = 1024 * 1024


def load():
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


def fleet_dir(cache, hosts):
    """The generated logs of a fleet of ``hosts`` (cached: a stamp names the generator's arguments)."""
    directory = os.path.join(cache, "fleet-%d" % hosts)
    stamp = os.path.join(directory, ".generated")
    args = ["fleet", "--hosts", str(hosts), "--days", "7", "--sessions", "170", "--seed", "11"]
    if os.path.exists(stamp):
        with open(stamp) as handle:
            if handle.read() == " ".join(args):
                return directory
    shutil.rmtree(directory, ignore_errors=True)
    began = time.time()
    subprocess.check_call([sys.executable, GEN] + args + ["--out", directory], stdout=subprocess.DEVNULL)
    with open(stamp, "w") as handle:
        handle.write(" ".join(args))
    print("  generated %d hosts' logs in %.0f s" % (hosts, time.time() - began), flush=True)
    return directory


def busy_log(cache, size):
    path = os.path.join(cache, "busy-%s.log" % size)
    if not os.path.exists(path):
        subprocess.check_call([sys.executable, GEN, "bench", "--out", path + ".tmp", "--size", size, "--guests", "50", "--noise", "0.8"],
                              stdout=subprocess.DEVNULL)
        os.rename(path + ".tmp", path)
    return path


def write_inventory(path, logs):
    """``logs``: {host: log path}; local connection, the controller's Python."""
    lines = ["all:", "  vars:", "    ansible_connection: local", "    ansible_python_interpreter: %s" % sys.executable,
             "    fleet_report_become: false", "    fleet_report_use_auditctl: false", "    fleet_report_start: '%s'" % FLEET_START,
             "    fleet_report_end: '%s'" % FLEET_END, "    fleet_report_now: '%s'" % NOW, "    fleet_report_report_host: localhost",
             "  children:", "    hypervisors:", "      hosts:"]
    for host in sorted(logs):
        lines.append("        %s: {fleet_report_paths: ['%s']}" % (host, logs[host]))
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


BARE = """---
- name: Bare - only the module on every host
  hosts: hypervisors
  gather_facts: false
  tasks:
    - name: Reconstruct the guest sessions
      virtaudit.auvirt.guest_session_info:
        paths: "{{ fleet_report_paths }}"
        start: "%s"
        end: "%s"
        host: "{{ inventory_hostname }}"
"""


class Sampler(threading.Thread):
    """Peak RSS of the largest process and of the whole tree under ``pid`` (from /proc, every 0.2 s)."""

    def __init__(self, pid):
        threading.Thread.__init__(self)
        self.daemon = True
        self.pid = pid
        self.largest = 0
        self.tree = 0
        self.done = threading.Event()

    def sample(self):
        parents = {}
        rss = {}
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % name) as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                parents[int(name)] = int(fields[1])
                rss[int(name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
            except (IOError, OSError, IndexError, ValueError):
                continue
        tree = set([self.pid])
        grew = True
        while grew:
            grew = False
            for child, parent in parents.items():
                if parent in tree and child not in tree:
                    tree.add(child)
                    grew = True
        sizes = [rss.get(p, 0) for p in tree]
        self.largest = max(self.largest, max(sizes) if sizes else 0)
        self.tree = max(self.tree, sum(sizes))

    def run(self):
        while not self.done.is_set():
            self.sample()
            self.done.wait(0.2)


def run(cmd, env, log):
    began = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        sampler = Sampler(proc.pid)
        sampler.start()
        rc = proc.wait()
        sampler.done.set()
        sampler.join()
    wall = time.perf_counter() - began
    if rc != 0:
        with open(log) as handle:
            tail = handle.read()[-3000:]
        raise RuntimeError("%s failed (rc %d):\n%s" % (" ".join(cmd[:3]), rc, tail))
    return {"wall": wall, "largest": sampler.largest, "tree": sampler.tree, "load": load()}


def report_timings(log):
    """The report action's own timings, from the Summarise task's message."""
    with open(log) as handle:
        text = handle.read()
    marker = "({'load': "
    if marker not in text:
        return None
    part = text[text.rindex(marker) + 1:]
    part = part[:part.index("}") + 1]
    try:
        return json.loads(part.replace("'", '"'))
    except ValueError:
        return None


def chromium_load(page):
    """Seconds headless Chromium takes to load and lay out the main page (None without chromium)."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if not binary or not os.path.exists(page):
        return None
    began = time.perf_counter()
    subprocess.run([binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                    "--user-data-dir=" + os.path.join(os.path.dirname(page), ".chromium"), "--dump-dom", "file://" + page],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600, check=False)
    shutil.rmtree(os.path.join(os.path.dirname(page), ".chromium"), ignore_errors=True)
    return time.perf_counter() - began


def sizes(dest):
    out = {}
    for name in ("fleet_report.html", "fleet_report.json", "fleet_report.csv", "fleet_report.md"):
        path = os.path.join(dest, name)
        out[name] = os.path.getsize(path) if os.path.exists(path) else 0
    pages = os.path.join(dest, "fleet_report_hosts")
    out["host pages"] = sum(os.path.getsize(os.path.join(pages, n)) for n in os.listdir(pages)) if os.path.isdir(pages) else 0
    out["host page count"] = len(os.listdir(pages)) if os.path.isdir(pages) else 0
    return out


def measure_fleet(name, logs, work, forks, env, skip_bare=False):
    os.makedirs(work, exist_ok=True)
    inventory = os.path.join(work, "inventory.yml")
    write_inventory(inventory, logs)
    bare_play = os.path.join(work, "bare.yml")
    with open(bare_play, "w") as handle:
        handle.write(BARE % (FLEET_START, FLEET_END))
    dest = os.path.join(work, "report")
    results = os.path.join(work, "results")
    shutil.rmtree(dest, ignore_errors=True)
    shutil.rmtree(results, ignore_errors=True)
    common = ["-i", inventory, "-f", str(forks)]
    extra = ["-e", "fleet_report_dest=%s" % dest, "-e", "fleet_report_results_dir=%s" % results]
    out = {"hosts": len(logs)}
    if not skip_bare:
        print("  %s: bare playbook ... (load %s)" % (name, load()), flush=True)
        out["bare"] = run(["ansible-playbook"] + common + [bare_play], env, os.path.join(work, "bare.log"))
        print("    %.1f s" % out["bare"]["wall"], flush=True)
    print("  %s: role (virtaudit.auvirt.fleet_report) ... (load %s)" % (name, load()), flush=True)
    out["role"] = run(["ansible-playbook", "virtaudit.auvirt.fleet_report"] + common + extra, env, os.path.join(work, "role.log"))
    out["role"]["timings"] = report_timings(os.path.join(work, "role.log"))
    print("    %.1f s" % out["role"]["wall"], flush=True)
    print("  %s: report only (virtaudit.auvirt.fleet_merge) ... (load %s)" % (name, load()), flush=True)
    out["report"] = run(["ansible-playbook", "virtaudit.auvirt.fleet_merge"] + common + extra + ["-e", "fleet_report_results_max_age=0"],
                        env, os.path.join(work, "report.log"))
    out["report"]["timings"] = report_timings(os.path.join(work, "report.log"))
    print("    %.1f s" % out["report"]["wall"], flush=True)
    out["sizes"] = sizes(dest)
    out["chromium"] = chromium_load(os.path.join(dest, "fleet_report.html"))
    with open(os.path.join(dest, "fleet_report.json")) as handle:
        summary = json.load(handle)["summary"]
    out["summary"] = dict((k, summary[k]) for k in ("hosts_reporting", "sessions", "migrations", "findings", "finding_occurrences"))
    return out


def mb(value):
    return "%.1f MB" % (value / 1e6)


def verdict(ok):
    return "met" if ok else "NOT met"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=os.path.join(ROOT, ".cache", "bench-fleet"))
    parser.add_argument("--sizes", default="10,200,1000", help="fleet sizes (hosts), comma-separated")
    parser.add_argument("--busy", default="50M", help="size of the busy host's log ('' to skip)")
    parser.add_argument("--forks", type=int, default=4)
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args(argv)
    args.dir = os.path.abspath(args.dir)
    os.makedirs(args.dir, exist_ok=True)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.environ.get("ANSIBLE_COLLECTIONS_PATH", os.path.join(ROOT, ".cache")),
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_HOST_KEY_CHECKING="false", ANSIBLE_RETRY_FILES_ENABLED="false",
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    print("bench-fleet: %d cores, load %s, forks %d, Python %s" % (os.cpu_count(), load(), args.forks, sys.version.split()[0]), flush=True)
    figures = {"fleets": {}, "load_start": load()}
    for count in [int(x) for x in args.sizes.split(",") if x.strip()]:
        print("fleet of %d hosts" % count, flush=True)
        directory = fleet_dir(args.dir, count)
        logs = dict((n[:-4], os.path.join(directory, n)) for n in os.listdir(directory) if n.endswith(".log"))
        figures["fleets"][count] = measure_fleet("%d hosts" % count, logs, os.path.join(args.dir, "run-%d" % count), args.forks, env)
    if args.busy:
        print("busy host (%s log)" % args.busy, flush=True)
        path = busy_log(args.dir, args.busy)
        figures["busy"] = measure_fleet("busy host", {"busy": path}, os.path.join(args.dir, "run-busy"), args.forks, env)
    figures["load_end"] = load()
    print_table(figures)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(figures, handle, indent=2, sort_keys=True)
    return 0


def print_table(figures):
    print()
    print("%-10s %9s %9s %6s %9s %10s %10s %10s %10s %9s %9s %9s  %s" % (
        "fleet", "bare s", "role s", "ratio", "report s", "role RSS", "role tree", "report RSS", "HTML", "host pgs", "JSON", "CSV", "load"))
    rows = sorted(figures["fleets"].items())
    if "busy" in figures:
        rows.append(("busy", figures["busy"]))
    for name, item in rows:
        bare = item.get("bare", {}).get("wall")
        role = item["role"]
        print("%-10s %9s %9.1f %6s %9.1f %10s %10s %10s %10s %9s %9s %9s  %s" % (
            name if name == "busy" else "%d hosts" % name, "%.1f" % bare if bare else "-", role["wall"],
            "%.2f" % (role["wall"] / bare) if bare else "-", item["report"]["wall"], mb(role["largest"]), mb(role["tree"]),
            mb(item["report"]["largest"]), mb(item["sizes"]["fleet_report.html"]), mb(item["sizes"]["host pages"]),
            mb(item["sizes"]["fleet_report.json"]), mb(item["sizes"]["fleet_report.csv"]), role["load"]))
        timings = item["report"].get("timings")
        if timings:
            print("%-10s report step itself: %s s; %s" % ("", timings, item["summary"]))
        if item.get("chromium") is not None:
            print("%-10s headless Chromium loads the main page in %.1f s; %d host pages" % (
                "", item["chromium"], item["sizes"]["host page count"]))
    print()
    print("targets:")
    for count in (200, 1000):
        item = figures["fleets"].get(count)
        if item and item.get("bare"):
            ratio = item["role"]["wall"] / item["bare"]["wall"]
            print("  %4d hosts: role %.1f s <= 1.5 x bare %.1f s (%.2f x): %s" % (
                count, item["role"]["wall"], item["bare"]["wall"], ratio, verdict(ratio <= 1.5)))
    item = figures["fleets"].get(1000)
    if item:
        report = item["report"]
        print("  1000 hosts: controller-only (report only) %.1f s <= 60 s: %s" % (report["wall"], verdict(report["wall"] <= 60)))
        peak = max(report["largest"], item["role"]["largest"])
        print("  1000 hosts: peak RSS (largest process, role and report) %s <= 1 GB: %s" % (mb(peak), verdict(peak <= 1e9)))
        html = item["sizes"]["fleet_report.html"]
        print("  1000 hosts: main HTML page %s <= 10 MB: %s" % (mb(html), verdict(html <= 10e6)))
    else:
        print("  (no 1000-host run: the controller-only, RSS and HTML targets are not checked)")
    busy = figures.get("busy")
    if busy:
        ratio = busy["role"]["wall"] / busy["bare"]["wall"]
        print("  busy host: role %.1f s <= 3 x the module's own run %.1f s (%.2f x): %s" % (
            busy["role"]["wall"], busy["bare"]["wall"], ratio, verdict(ratio <= 3)))
        peak = busy["role"]["largest"]
        print("  busy host: controller RSS (largest process of the role run) %s <= 300 MB: %s" % (mb(peak), verdict(peak <= 300e6)))
    print("load average at start %s, at end %s" % (figures["load_start"], figures["load_end"]))


if __name__ == "__main__":
    sys.exit(main())
