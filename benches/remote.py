#!/usr/bin/env python3
"""Benchmark virtsh's remote driver against libvirt's virsh, both talking to one libvirtd.

usage: remote.py [--virtsh PATH] [--virsh PATH] [--runs N] [--quick] [--defined N]
                 [--running N] [--json PATH]

One private libvirtd (benches/libvirtd.py's PrivateLibvirtd: a mount namespace of its own,
sockets in a temp dir), reached by both tools through its unix socket:
  qemu+unix:///system?socket=SOCK   with --defined bare guests (`<domain type='qemu'>`, TCG,
                                    1 vCPU, 64 MiB, no kernel and no disk: they idle in the BIOS),
                                    --running of them started: one-shot `list --all`,
                                    `dominfo GUEST` (a running guest) and `domstats`;
  test+unix:///default?socket=SOCK  the daemon's test driver: `list --all`, `dominfo test`.
Each is a new process that connects, runs one command and disconnects, as a user runs them.

Method: as compare.py (its C helper forks, execs and wait4()s the tool: wall time and peak RSS,
output to /dev/null), one untimed warm-up run per tool and workload, then N runs (10; 3 with
--quick), virsh and virtsh alternating run by run. Reported: medians, and the ratio virsh/virtsh
(above 1: virtsh is faster), against the target "virtsh takes at most half of virsh's wall time"
(ratio >= 2), as information: it never fails on timing. A part that cannot run (not root, no
libvirtd, no QEMU) prints "unavailable: WHY"; the exit status is 1 only when virsh or virtsh
cannot run at all. The daemon, its guests and the temp dir are removed at the end, on errors and
Ctrl-C too.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import compare  # noqa: E402  (the measuring helper)
from common import log, med  # noqa: E402
from libvirtd import ENV, PrivateLibvirtd, Unavailable, first_line, run  # noqa: E402

TARGET = 2.0  # virsh/virtsh: virtsh at most half of virsh's wall time

BARE = """<domain type='qemu'>
  <name>%(name)s</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><memballoon model='none'/></devices>
</domain>
"""


def fmt(v, unit=""):
    return "-" if v is None else "%.1f%s" % (v, unit)


class Bench:
    def __init__(self, a):
        self.a = a
        self.tmp = tempfile.mkdtemp(prefix="virtsh-remote-bench-")
        self.prefix = "vrb%d-" % os.getpid()
        self.names = ["%s%d" % (self.prefix, i) for i in range(a.defined)]
        self.daemon = None
        self.helper = None
        self.rows = []  # (label, {tool: [(ms, rss KiB)]}, problems, unavailable)
        self.qemu_uri = self.test_uri = None

    def virsh(self, uri, *args, timeout=120):
        return run([self.a.virsh, "-c", uri] + list(args), timeout=timeout)

    def setup(self):
        if os.geteuid() != 0:
            raise Unavailable("not root (the private libvirtd runs in a mount namespace)")
        if not shutil.which("libvirtd"):
            raise Unavailable("libvirtd not found (Debian package libvirt-daemon)")
        self.helper = compare.build_helper(self.tmp)
        if not self.helper:
            log("  note: no C compiler; timing with Python's os.wait4, RSS with Python's floor")
        self.daemon = PrivateLibvirtd(self.tmp, self.a.virsh)
        self.daemon.start()
        self.qemu_uri = "qemu+unix:///system?socket=%s" % self.daemon.sock
        self.test_uri = "test+unix:///default?socket=%s" % self.daemon.sock

    def guests(self):
        """Define the bare guests and start the first --running of them; the reason if not."""
        if not shutil.which("qemu-system-x86_64"):
            return "qemu-system-x86_64 not found (Debian package qemu-system-x86)"
        t0 = time.perf_counter()
        for name in self.names:
            xml = os.path.join(self.tmp, name + ".xml")
            with open(xml, "w") as f:
                f.write(BARE % {"name": name})
            _, rc, out, err = self.virsh(self.qemu_uri, "define", xml)
            if rc != 0:
                return "define: %s" % (first_line(err) or first_line(out))
        for name in self.names[:self.a.running]:
            _, rc, out, err = self.virsh(self.qemu_uri, "start", name)
            if rc != 0:
                return "start: %s" % (first_line(err) or first_line(out))
        log("  %d bare guests defined, %d running (TCG), set up in %.1f s"
            % (len(self.names), min(self.a.running, len(self.names)),
               time.perf_counter() - t0))
        return None

    def workload(self, label, uri, args):
        tools = [("virsh", self.a.virsh), ("virtsh", self.a.virtsh)]
        argv = {n: [exe, "-c", uri] + args for n, exe in tools}
        samples = {n: [] for n, _ in tools}
        problems = set()
        for n, _ in tools:  # warm-up: page cache, the daemon's first answer
            compare.run_once(self.helper, argv[n], ENV)
        for _ in range(self.a.runs):
            for n, _ in tools:
                wall, rss, status = compare.run_once(self.helper, argv[n], ENV)
                if status != 0:
                    problems.add("%s: exit status %s" % (n, status))
                if wall is not None:
                    samples[n].append((wall * 1000, rss))
        self.rows.append((label, samples, sorted(problems), None))

    def unavailable(self, label, why):
        self.rows.append((label, None, [], why))

    def run_all(self):
        why = self.guests()
        running = self.names[0] if self.a.running > 0 and self.names else None
        q = [("qemu: list --all", ["list", "--all"]),
             ("qemu: dominfo GUEST", ["dominfo", running or (self.names or ["-"])[0]]),
             ("qemu: domstats", ["domstats"])]
        for label, args in q:
            if why:
                self.unavailable(label, why)
            else:
                self.workload(label, self.qemu_uri, args)
        for label, args in [("test: list --all", ["list", "--all"]),
                            ("test: dominfo test", ["dominfo", "test"])]:
            self.workload(label, self.test_uri, args)

    def report(self):
        a = self.a
        log("")
        cols = "%-20s %9s %10s %14s %10s %11s"
        hdr = cols % ("workload", "virsh ms", "virtsh ms", "virsh/virtsh", "virsh RSS",
                      "virtsh RSS")
        log(hdr)
        log("-" * len(hdr))
        self.summary = {}
        for label, samples, problems, why in self.rows:
            if why:
                log("%-20s unavailable: %s" % (label, why))
                continue
            t = {n: med([s[0] for s in v]) for n, v in samples.items()}
            m = {n: med([s[1] / 1024 for s in v]) for n, v in samples.items()}
            ratio = t["virsh"] / t["virtsh"] if t["virsh"] and t["virtsh"] else None
            shown = "-" if ratio is None else "%.2fx %s" % (
                ratio, "ok" if ratio >= TARGET else "over")
            log(cols % (label, fmt(t["virsh"]), fmt(t["virtsh"]), shown,
                        fmt(m["virsh"], " MiB"), fmt(m["virtsh"], " MiB")))
            for p in problems:
                log("%-20s note: %s (timed all the same)" % ("", p))
            self.summary[label] = {"virsh_ms": t["virsh"], "virtsh_ms": t["virtsh"],
                                   "virsh_over_virtsh": ratio, "virsh_rss_mib": m["virsh"],
                                   "virtsh_rss_mib": m["virtsh"], "problems": problems}
        log("")
        log("Medians of %d runs per tool, tools alternating, after 1 warm-up each; every run is "
            "one process" % a.runs)
        log("(connect, one command, disconnect) on the private libvirtd's socket. Target: "
            "virsh/virtsh >= %g" % TARGET)
        log("(virtsh at most half of virsh's wall time); ok/over is information, never a "
            "verdict.")

    def to_json(self):
        if not self.rows:
            return None
        return {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "runs": self.a.runs,
                "defined": self.a.defined, "running": self.a.running,
                "workloads": getattr(self, "summary", {}),
                "samples": {label: s for label, s, _, why in self.rows if not why}}

    def cleanup(self):
        if self.daemon is not None:
            if self.qemu_uri and self.daemon.pid():
                for name in self.names:
                    self.virsh(self.qemu_uri, "destroy", name, timeout=60)
                    self.virsh(self.qemu_uri, "undefine", name, timeout=60)
            common.stop_daemon(self.daemon)  # go on: leftovers are killed below
        # QEMU processes of this run that outlived the daemon: by pid, found by our guest names.
        marks = [("guest=" + self.prefix).encode(), self.tmp.encode()]
        for pid, _ in common.find_pids(common.with_marker(marks)):
            common.kill_leftover(pid)
        if self.daemon is not None:
            self.daemon.remove_mount_points()
        shutil.rmtree(self.tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_common_args(ap, per="tool and workload")
    ap.add_argument("--defined", type=int, default=4, help="bare guests defined (default 4)")
    ap.add_argument("--running", type=int, default=2, help="of which running (default 2)")
    a = common.parse_args(ap)
    a.defined = max(1, a.defined)
    a.running = max(0, min(a.running, a.defined))
    for name in ("virsh", "virtsh"):
        exe = compare.resolve(getattr(a, name))
        if not exe:
            log("remote benchmark: cannot run %s: %s not found or not executable"
                % (name, getattr(a, name)))
            return 1
        setattr(a, name, exe)
    common.on_signals()

    log("remote benchmark: virsh and virtsh on one private libvirtd (qemu+unix, test+unix); "
        "%d runs per tool after 1 warm-up, tools alternating" % a.runs)
    log("  virsh   %s\n  virtsh  %s" % (a.virsh, a.virtsh))
    bench = Bench(a)

    def body():
        bench.setup()
        bench.run_all()
        bench.report()
    return common.run_bench("remote benchmark", bench, body, a.json)


if __name__ == "__main__":
    sys.exit(main())
