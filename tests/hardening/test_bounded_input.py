# -*- coding: utf-8 -*-
# Copyright: virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input that could exhaust the process (docs/hardening.md, "Bounded input").

Each case runs ``run()`` in a child process under the limits the case is
about (open files), and reports the child's peak resident memory
(VmHWM, ``hardening_util.peak_rss_kib``) and CPU time; the bounds are generous - they tell a bounded
run from one that grows with the input, they are no speed goal.
"""
from __future__ import absolute_import, division, print_function

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

_CHILD = r"""
import json, resource, sys, time
sys.path[:0] = [%(here)r]
limit = %(nofile)r
if limit:
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
import conftest
from hardening_util import peak_rss_kib
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import run
started = time.process_time()
result = run(default_host="hv", now=1800000000, **%(options)r)
print(json.dumps({"peak_rss_kib": peak_rss_kib(), "cpu_s": round(time.process_time() - started, 2),
                  "sources": [[s["path"], s["records"]] for s in result["sources"]],
                  "sessions": result["summary"]["sessions"], "parse_errors": result["parse_errors"],
                  "warnings": result.get("warnings", [])}))
"""


def run_child(options, nofile=None, timeout=600):
    """``run(**options)`` in a child process (``nofile``: its limit of open files); its report (dict)."""
    code = _CHILD % {"here": HERE, "nofile": nofile, "options": options}
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=HERE)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("run() did not end within %d s" % timeout)
    assert proc.returncode == 0, err.decode("utf-8", "replace")[-3000:]
    report = json.loads(out.decode("utf-8").strip().splitlines()[-1])
    print("bounded-input: %s" % json.dumps(dict((k, v) for k, v in report.items() if k != "sources")))
    return report


def _line(serial, text="op=x"):
    return "type=USER_START msg=audit(1710144%03d.000:%d): pid=1 uid=0 %s\n" % (serial % 1000, serial, text)


def test_a_thousand_rotated_files_under_ulimit_n(tmp_path):
    """auditd keeps up to 999 rotated files (num_logs): all of them are read with fewer open files allowed than
    there are files, with a checkpoint as without one."""
    directory = str(tmp_path)
    log = os.path.join(directory, "audit.log")
    serial = 1
    for number in range(999, -1, -1):
        with open("%s.%d" % (log, number) if number else log, "w") as handle:
            for dummy in range(3):
                handle.write(_line(serial))
                serial += 1
    conf = os.path.join(directory, "auditd.conf")
    with open(conf, "w") as handle:
        handle.write("log_file = %s\n" % log)
    for options in ({"auditd_conf": conf}, {"auditd_conf": conf, "checkpoint": os.path.join(directory, "state")}):
        report = run_child(options, nofile=256)
        assert len(report["sources"]) == 1000
        assert [records for dummy, records in report["sources"]] == [3] * 1000
        assert report["parse_errors"]["count"] == 0 and not report["warnings"]


# what the child process may take at its peak: the interpreter with the collection loaded is about 40 MiB,
# the reader's blocks a few MiB; before the bounds these cases took 1 to more than 2 GiB
PEAK_RSS_MIB = 160


def _deflate_to(path, block, count):
    """A gzip file of ``count`` times ``block``."""
    import zlib
    deflate = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    with open(path, "wb") as handle:
        for dummy in range(count):
            handle.write(deflate.compress(block))
        handle.write(deflate.flush())


def test_a_line_of_200_mb(tmp_path):
    """One line of 200 MB: a parse error over the line-length cap, read past without being held."""
    log = str(tmp_path / "audit.log")
    with open(log, "wb") as handle:
        handle.write(_line(1).encode("ascii"))
        chunk = b"x" * (1 << 20)
        for dummy in range(200):
            handle.write(chunk)
        handle.write(b"\n" + _line(2).encode("ascii"))
    report = run_child({"paths": [log]})
    assert report["sources"][0][1] == 2
    assert report["parse_errors"]["count"] == 1 and "longer than" in report["parse_errors"]["samples"][0]["reason"]
    assert report["peak_rss_kib"] < PEAK_RSS_MIB * 1024


def bomb(tmp_path, block, count, smaller_than):
    """A gzip file of ``count`` times ``block`` (smaller than ``smaller_than`` bytes), read by ``run()`` in a child
    process; its report, checked to have stayed under PEAK_RSS_MIB."""
    path = str(tmp_path / "audit.log.2.gz")
    _deflate_to(path, block, count)
    assert os.path.getsize(path) < smaller_than
    report = run_child({"paths": [path]})
    assert report["peak_rss_kib"] < PEAK_RSS_MIB * 1024
    return report


def test_a_gzip_bomb_of_zeros(tmp_path):
    """A 1 MB .gz of 1 GB of zero bytes: decompressed a block at a time, one line over the cap."""
    report = bomb(tmp_path, b"\x00" * (1 << 20), 1024, 1100 * 1024)
    assert report["parse_errors"]["count"] == 1 and "longer than" in report["parse_errors"]["samples"][0]["reason"]


def test_a_gzip_bomb_of_newlines(tmp_path):
    """A 64 KB .gz of newlines (about 64 million blank lines): passed in runs, no step per line."""
    report = bomb(tmp_path, b"\n" * (1 << 20), 64, 70 * 1024)
    assert report["parse_errors"]["count"] == 0 and report["sources"][0][1] == 0


def test_a_gzip_bomb_of_junk_lines(tmp_path):
    """A 64 KB .gz of 32 million short lines that are not records: counted as parse errors in runs."""
    report = bomb(tmp_path, b"x\n" * (1 << 19), 64, 100 * 1024)
    assert report["parse_errors"]["count"] == 32 << 20 and len(report["parse_errors"]["samples"]) == 20
