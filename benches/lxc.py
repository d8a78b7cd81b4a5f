#!/usr/bin/env python3
"""Benchmark virtsh's LXC driver: start-to-running and destroy of a busybox container, against
libvirt 9.0's LXC driver and against the same steps done by hand (the floor).

usage: lxc.py [--virtsh PATH] [--virsh PATH] [--busybox PATH] [--runs N] [--quick]
              [--no-libvirt] [--no-v1-libvirt] [--json PATH]

The container, the same definition on every side: a root folder in the run's temp dir with
bin/busybox (a copy of --busybox) and its applets sh and sleep, empty proc, sys, dev, tmp, etc;
init `/bin/sh -c 'while :; do sleep 1; done'`, 64 MiB, a pty console. Its name is vlbPID (PID:
this script's), so that its cgroups cannot meet another run's.

Sides:
  virtsh   `virtsh -c lxc:///embed?root=TMP/embed start NAME` (it returns once the init has
           exec'd: its supervisor made the cgroup with the limits and the device allow-list,
           the ptys, the namespaces, pivot_root, /proc, /sys, /dev) and `destroy NAME` (SIGKILL
           to the init; returns once the supervisor recorded the end and removed the cgroup).
  libvirt  `virsh -c lxc+unix:///system?socket=SOCK start NAME` / `destroy NAME` on a private
           libvirtd (benches/libvirtd.py's PrivateLibvirtd; the monolithic daemon serves lxc://
           on its main socket). libvirt 9.0's LXC driver cannot start a container on a hybrid
           cgroup layout (cgroup v1 controllers plus a cgroup2 mount at /sys/fs/cgroup/unified,
           as on this project's machines): libvirt_lxc fails to recreate that layout inside the
           container. The row then says "unavailable: <libvirt's error>". In that case, unless
           --no-v1-libvirt, a second private libvirtd runs with the cgroup2 mount unmounted in
           its own mount namespace (the host keeps it), where libvirt sees a v1-only layout and
           its LXC driver works: that is the libvirt column then, and the report says so.
  floor    what a container start minimally needs, by hand, timed from Python: mkdir a cgroup
           (vlbPID-floor) in the v1 memory, cpu, cpuacct, pids, freezer and devices hierarchies
           (or cgroup2 if there are none), write memory.limit_in_bytes (memory.max), then
           `sh -c 'echo $$ > .../cgroup.procs ...; exec unshare --pid --mount --uts --ipc --fork
           --mount-proc=ROOT/proc chroot ROOT /bin/sh -c ...'`, until the init (a child of
           unshare) runs /bin/sh in ROOT. Its destroy: SIGKILL to the init, reap unshare, rmdir
           the cgroups. No ptys, no pivot_root, no /dev, no capabilities dropped.

Per run and side: start (timed), a check that it runs (untimed: `domstate` says running, or the
floor's init is there), 0.2 s, the supervisor's VmHWM (/proc/PID/status of `virtsh
__lxc-supervise`; libvirt_lxc for libvirt; the waiting unshare for the floor), destroy (timed),
then a check that nothing is left (the supervisor, the cgroups). The virtsh and virsh commands
are timed as in compare.py (its C helper forks, execs and wait4()s the command: wall time and
the command's peak RSS, output to /dev/null). One untimed warm-up run per side, then N runs (10;
3 with --quick), sides alternating run by run. Reported: medians, the ratios virtsh/floor and
libvirt/virtsh (above 1: virtsh is faster). It never fails on timing.

A part that cannot run (not root, no busybox, no unshare or chroot, no libvirtd or its LXC
driver) prints "unavailable: WHY" and the rest still runs; the exit status is 1 only when virtsh
cannot run at all. Everything it makes (containers, supervisors, libvirtd and libvirt_lxc,
cgroups, the temp dir) is removed at the end, on errors and Ctrl-C too.
"""
import argparse
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import compare  # noqa: E402  (the measuring helper)
from common import (alive, cmdline, find_pids, fmt, log, med, missing,  # noqa: E402
                    status_kib)
from libvirtd import ENV, PrivateLibvirtd, Unavailable, first_line, run  # noqa: E402

INIT_LOOP = "while :; do sleep 1; done"
MEM_MIB = 64
SETTLE = 0.2  # seconds between a start and the destroy (the VmHWM is read then)
FLOOR_CONTROLLERS = ["memory", "cpu", "cpuacct", "pids", "freezer", "devices"]
LIBVIRT_LXC = "/usr/lib/libvirt/libvirt_lxc"

DOMAIN_XML = """<domain type='lxc'>
  <name>%(name)s</name>
  <memory unit='MiB'>%(mem)d</memory>
  <os>
    <type>exe</type>
    <init>/bin/sh</init>
    <initarg>-c</initarg>
    <initarg>%(loop)s</initarg>
  </os>
  <devices>
    <filesystem type='mount'><source dir='%(root)s'/><target dir='/'/></filesystem>
    <console type='pty'/>
  </devices>
</domain>
"""

# PrivateLibvirtd starts `unshare -m --propagation private sh -c SCRIPT`; for the v1-only libvirt
# side this `unshare`, first on libvirtd's PATH while it starts, runs the same with the cgroup2
# mount unmounted first, inside the new mount namespace only.
UNSHARE_WRAPPER = """#!/bin/sh
if [ "$#" -eq 6 ] && [ "$1 $2 $3 $4 $5" = "-m --propagation private sh -c" ]; then
    exec '%(unshare)s' -m --propagation private sh -c "umount '%(unified)s' && $6"
fi
echo "lxc.py's unshare wrapper: unexpected arguments: $*" >&2
exit 97
"""


class RunFailed(Exception):
    """One run of one side failed; it is listed and left out of the medians."""


# ---------------------------------------------------------------------------------------------
# /proc and cgroups


def find_pid(pred):
    return next((pid for pid, _ in find_pids(pred)), None)


def ppid(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def proc_state(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            return " ".join(l.split(None, 1)[1].strip() for l in f
                            if l.startswith(("State:", "NSpid:", "PPid:")))
    except OSError:
        return "gone"


def cgroup_mounts():
    """[(mount point, 'v1' or 'v2', set of controllers/options)] from /proc/self/mountinfo."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields, rfields = left.split(), right.split()
            if len(rfields) < 3 or rfields[0] not in ("cgroup", "cgroup2"):
                continue
            opts = set(rfields[2].split(","))
            out.append((fields[4], "v2" if rfields[0] == "cgroup2" else "v1", opts))
    return out


def layout_text(mounts):
    v1 = [m for m in mounts if m[1] == "v1"]
    v2 = [m for m in mounts if m[1] == "v2"]
    if v1 and v2:
        return "hybrid (cgroup v1 controllers, cgroup2 at %s)" % ", ".join(m[0] for m in v2)
    if v1:
        return "cgroup v1"
    if v2:
        return "cgroup v2 (unified)"
    return "no cgroup file systems mounted"


def cgroup_pids(path):
    try:
        with open(os.path.join(path, "cgroup.procs")) as f:
            return [int(x) for x in f.read().split()]
    except (OSError, ValueError):
        return []


def remove_cgroup(path, timeout=5.0):
    """SIGKILL what is in the cgroup folder path (and below), then rmdir it bottom-up."""
    if not os.path.isdir(path):
        return True
    subs = sorted((os.path.join(d, s) for d, ss, _ in os.walk(path) for s in ss),
                  key=len, reverse=True) + [path]
    for d in subs:
        for pid in cgroup_pids(d):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    deadline = time.monotonic() + timeout
    for d in subs:
        while True:
            try:
                os.rmdir(d)
                break
            except FileNotFoundError:
                break
            except OSError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.01)
    return True


# ---------------------------------------------------------------------------------------------
# Sides


class Side:
    label = "?"

    def __init__(self, bench):
        self.bench = bench
        self.unavailable = None
        self.samples = {"start": [], "destroy": [], "hwm": [], "start_rss": [],
                        "destroy_rss": []}
        self.first = None
        self.failures = []
        self.notes = []

    def once(self):
        """start, check, settle, VmHWM, destroy, check. A dict of this run's numbers."""
        r = {}
        try:
            try:
                r["start"], r["start_rss"] = self.start()
                self.check_running()
                time.sleep(SETTLE)
                r["hwm"] = self.hwm()
                r["destroy"], r["destroy_rss"] = self.destroy()
            except OSError as e:
                raise RunFailed(str(e))
            left = self.leftovers()
            if left:
                raise RunFailed("after destroy: " + left)
        except RunFailed as e:
            self.failures.append(str(e))
            log("  !! %s: %s" % (self.label, e))
            self.cleanup_run()  # whatever this run left running
            return None
        return r


class CliSide(Side):
    """A virsh-like CLI: start and destroy timed with compare.py's helper."""

    def __init__(self, bench, binary, uri):
        super().__init__(bench)
        self.binary, self.uri = binary, uri
        self.lags = []  # per run: ms the supervisor process outlived `destroy` (0: it did not)

    def argv(self, *args):
        return [self.binary, "-c", self.uri] + list(args)

    def run(self, *args, timeout=120):
        return run(self.argv(*args), timeout=timeout)

    def timed(self, *args):
        wall, rss, status = compare.run_once(self.bench.helper, self.argv(*args), ENV)
        if status != 0:
            raise RunFailed("%s exited %s%s" % (" ".join(args), status, self.why()))
        return wall * 1000, rss

    def why(self):
        return ""

    def define(self, xml):
        _, rc, out, err = self.run("define", xml)
        if rc != 0:
            raise Unavailable("define: %s" % (last_error(err) or first_line(out)))

    def probe(self):
        """The untimed first start, with virsh's own message when it fails."""
        ms, rc, out, err = self.run("start", self.bench.name)
        if rc != 0:
            raise Unavailable("start: %s" % (last_error(err) or first_line(out)
                                             or "exited %s" % rc))
        return ms

    def check_running(self):
        _, rc, out, err = self.run("domstate", self.bench.name)
        if rc != 0 or out.strip() != "running":
            raise RunFailed("not running after start: %s" % (
                out.strip() or last_error(err)))

    def start(self):
        return self.timed("start", self.bench.name)

    def destroy(self):
        return self.timed("destroy", self.bench.name)

    def cleanup_run(self):
        self.run("destroy", self.bench.name, timeout=60)

    def wait_gone(self, what, timeout=3.0):
        """Poll until what() is empty: its last answer (empty, or what is left). A process that
        ends only after the command returned is not a failure, but its lag is recorded."""
        t0 = time.perf_counter()
        deadline = time.monotonic() + timeout
        left = what()
        if not left:
            self.lags.append(0.0)
            return left
        while left and time.monotonic() < deadline:
            time.sleep(0.001)
            left = what()
        self.lags.append((time.perf_counter() - t0) * 1000)
        return left

    def lag_note(self, what):
        late = [x for x in self.lags if x > 0]
        if late:
            self.notes.append("%s outlived `destroy` in %d of %d runs, by up to %.0f ms" % (
                what, len(late), len(self.lags), max(late)))


def last_error(text):
    """virsh's and virtsh's last "error: ..." line, without the prefix (the actual reason)."""
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    errs = [l[len("error: "):] for l in lines if l.startswith("error: ")]
    return errs[-1] if errs else (lines[-1] if lines else "")


class VirtshSide(CliSide):
    label = "virtsh"

    def __init__(self, bench, binary):
        self.embed = os.path.join(bench.tmp, "embed")
        super().__init__(bench, binary, "lxc:///embed?root=%s" % self.embed)

    def supervisor(self):
        name = self.bench.name.encode()
        root = self.embed.encode()
        return find_pid(lambda c: len(c) > 1 and c[1] == b"__lxc-supervise" and name in c
                        and any(root in a for a in c))

    def hwm(self):
        pid = self.supervisor()
        return status_kib(pid, "VmHWM") if pid else None

    def cgroups(self):
        return [p for mnt, _, _ in self.bench.mounts
                for p in glob.glob(os.path.join(mnt, "virtsh", "lxc", self.bench.name + "-*"))]

    def leftovers(self):
        # destroy returns once the supervisor removed the cgroup and recorded the end: the
        # cgroup must be gone; the supervisor process itself exits right after.
        left = ["cgroup %s still exists" % p for p in self.cgroups()]
        if left:
            return "; ".join(left)

        def what():
            pid = self.supervisor()
            return ["supervisor (pid %d) still runs" % pid] if pid and alive(pid) else []
        return "; ".join(self.wait_gone(what))

    def why(self):
        try:
            with open(os.path.join(self.embed, "log", self.bench.name + ".log"),
                      errors="replace") as f:
                tail = [l for l in f.read().splitlines() if l.strip()][-1:]
            return ": " + tail[0] if tail else ""
        except OSError:
            return ""


class LibvirtSide(CliSide):
    """virsh on a private libvirtd's LXC driver; v1only: with cgroup2 unmounted in its mount
    namespace (see UNSHARE_WRAPPER)."""

    def __init__(self, bench, virsh, label, v1only=None):
        super().__init__(bench, virsh, None)
        self.label = label
        self.v1only = v1only  # the cgroup2 mount point to unmount, or None
        self.workdir = os.path.join(bench.tmp, label.replace(" ", "-"))
        self.daemon = None
        self.log_at = 0

    def start_daemon(self):
        os.makedirs(self.workdir)
        self.daemon = PrivateLibvirtd(self.workdir, self.binary, driver="lxc")
        old_path = ENV.get("PATH", os.defpath)
        if self.v1only:
            wrapdir = os.path.join(self.workdir, "wrap")
            os.makedirs(wrapdir)
            wrapper = os.path.join(wrapdir, "unshare")
            with open(wrapper, "w") as f:
                f.write(UNSHARE_WRAPPER % {"unshare": shutil.which("unshare"),
                                           "unified": self.v1only})
            os.chmod(wrapper, 0o755)
            ENV["PATH"] = wrapdir + os.pathsep + old_path
        t0 = time.perf_counter()
        try:
            self.daemon.start()
        finally:
            ENV["PATH"] = old_path
        self.uri = "lxc+unix:///system?socket=%s" % self.daemon.sock
        self.notes.append("private libvirtd started in %.1f s (untimed), pid %s" % (
            time.perf_counter() - t0, self.daemon.pid()))

    def start(self):
        self.log_at = self.daemon.log_size()
        return self.timed("start", self.bench.name)

    def why(self):
        errs = self.daemon.log_errors(self.log_at, limit=1) if self.daemon else []
        return ": " + errs[-1].split(" error : ", 1)[-1] if errs else ""

    def controller(self):
        name = self.bench.name.encode()
        return find_pid(lambda c: c[0].endswith(b"libvirt_lxc") and b"--name" in c
                        and name in c)

    def hwm(self):
        pid = self.controller()
        return status_kib(pid, "VmHWM") if pid else None

    def cgroups(self):
        return [p for mnt, _, _ in self.bench.mounts
                for p in glob.glob(os.path.join(mnt, "machine*",
                                                "*%s.libvirt-lxc" % self.bench.name))]

    def leftovers(self):
        def what():
            out = []
            pid = self.controller()
            if pid and alive(pid):
                out.append("libvirt_lxc (pid %d) still runs" % pid)
            return out + ["cgroup %s still exists" % p for p in self.cgroups()]
        # libvirt's destroy may return before its controller has gone: wait a little, and
        # say so, rather than fail the run.
        return "; ".join(self.wait_gone(what))


class FloorSide(Side):
    """The minimal start and destroy by hand (see the module's doc)."""

    label = "floor"

    def __init__(self, bench):
        super().__init__(bench)
        self.cgname = bench.name + "-floor"
        self.dirs = []
        self.limit_file = None
        self.proc = None
        self.init = None

    def setup(self):
        gone = missing("unshare", "chroot")
        if gone:
            raise Unavailable("%s not found (Debian packages util-linux, coreutils)"
                              % ", ".join(gone))
        v1 = {}
        for mnt, kind, opts in self.bench.mounts:
            if kind == "v1":
                for c in FLOOR_CONTROLLERS:
                    if c in opts:
                        v1[c] = mnt  # co-mounted controllers (cpu,cpuacct) share a folder
        if v1:
            if "memory" not in v1:
                raise Unavailable("no cgroup v1 memory hierarchy")
            self.parents = sorted(set(v1.values()))
            self.limit_rel = (v1["memory"], "memory.limit_in_bytes")
            missing_c = [c for c in FLOOR_CONTROLLERS if c not in v1]
            if missing_c:
                self.notes.append("cgroup v1 controllers not mounted: %s" % ", ".join(missing_c))
            self.kind = "v1: " + ", ".join(c for c in FLOOR_CONTROLLERS if c in v1)
        else:
            v2 = [m for m in self.bench.mounts if m[1] == "v2"]
            if not v2:
                raise Unavailable("no cgroup file system mounted")
            self.parents = [v2[0][0]]
            self.limit_rel = (v2[0][0], "memory.max")
            try:
                with open(os.path.join(v2[0][0], "cgroup.subtree_control")) as f:
                    if "memory" not in f.read().split():
                        self.limit_rel = None
                        self.notes.append("no memory controller in %s: no limit written"
                                          % v2[0][0])
            except OSError:
                self.limit_rel = None
            self.kind = "v2"
        self.notes.append("cgroup %s, under %s" % (self.kind, ", ".join(self.parents)))

    def start(self):
        root = self.bench.rootfs
        t0 = time.perf_counter()
        self.dirs = []
        for parent in self.parents:
            d = os.path.join(parent, self.cgname)
            os.mkdir(d)
            self.dirs.append(d)
        if self.limit_rel:
            with open(os.path.join(self.limit_rel[0], self.cgname, self.limit_rel[1]),
                      "w") as f:
                f.write(str(MEM_MIB * 1024 * 1024))
        script = ('root=$1; shift; for f; do echo $$ > "$f"; done; '
                  'exec unshare --pid --mount --uts --ipc --fork --mount-proc="$root/proc" '
                  'chroot "$root" /bin/sh -c "%s"' % INIT_LOOP)
        self.proc = subprocess.Popen(
            ["/bin/sh", "-c", script, "sh", root] +
            [os.path.join(d, "cgroup.procs") for d in self.dirs],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=ENV, start_new_session=True)
        # Running: unshare's child (the Popen's pid is unshare's: sh execs it) runs /bin/sh
        # with its root in ROOT (chroot has exec'd the init). Its own children (the loop's
        # forks for sleep) look the same until they exec: the parent tells them apart.
        first = self.dirs[0]
        want = [b"/bin/sh", b"-c", INIT_LOOP.encode()]
        while True:
            for pid in cgroup_pids(first):
                if pid == self.proc.pid or ppid(pid) != self.proc.pid:
                    continue
                c = cmdline(pid)
                if c and c[:3] == want:
                    try:
                        if os.readlink("/proc/%d/root" % pid) == self.bench.rootfs_real:
                            self.init = pid
                            break
                    except OSError:
                        pass
            if self.init:
                break
            if self.proc.poll() is not None:
                raise RunFailed("unshare exited %s before the init ran" % self.proc.returncode)
            if time.perf_counter() - t0 > 30:
                raise RunFailed("the init did not run within 30 s")
            time.sleep(0.0002)
        return (time.perf_counter() - t0) * 1000, None

    def check_running(self):
        if not alive(self.init):
            raise RunFailed("the init (pid %d) is gone" % self.init)

    def hwm(self):
        return status_kib(self.proc.pid, "VmHWM")  # unshare, waiting for the init

    def destroy(self):
        t0 = time.perf_counter()
        os.kill(self.init, signal.SIGKILL)
        try:
            self.proc.wait(timeout=30)  # unshare exits once its child, the ns's init, is gone
        except subprocess.TimeoutExpired:
            raise RunFailed("unshare (pid %d) still runs 30 s after SIGKILL to the init (pid "
                            "%d, %s)" % (self.proc.pid, self.init, proc_state(self.init)))
        for d in self.dirs:
            while True:
                try:
                    os.rmdir(d)
                    break
                except OSError:
                    if time.perf_counter() - t0 > 10:
                        raise RunFailed("cannot remove %s" % d)
                    time.sleep(0.0002)
        ms = (time.perf_counter() - t0) * 1000
        self.proc = self.init = None
        self.dirs = []
        return ms, None

    def leftovers(self):
        return "; ".join("cgroup %s still exists" % os.path.join(p, self.cgname)
                         for p in self.parents if os.path.exists(os.path.join(p, self.cgname)))

    def cleanup_run(self):
        if self.init:
            try:
                os.kill(self.init, signal.SIGKILL)
            except OSError:
                pass
        if self.proc:
            try:
                self.proc.kill()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
        for p in getattr(self, "parents", []):
            remove_cgroup(os.path.join(p, self.cgname))
        self.proc = self.init = None
        self.dirs = []


# ---------------------------------------------------------------------------------------------
# The benchmark


class LxcBench:
    def __init__(self, args):
        self.a = args
        self.tmp = tempfile.mkdtemp(prefix="virtsh-lxc-bench-")
        os.chmod(self.tmp, 0o755)
        self.name = "vlb%d" % os.getpid()
        self.rootfs = os.path.join(self.tmp, "rootfs")
        self.rootfs_real = os.path.realpath(self.rootfs)
        self.helper = None
        self.mounts = cgroup_mounts()
        # The cgroup folders that exist before the run: the parents libvirt (machine) and virtsh
        # (virtsh, virtsh/lxc) make and may leave are removed at the end only if they are new.
        self.before = set(self.parent_dirs())
        self.virtsh = None
        self.libvirt = []  # LibvirtSide: the host's layout, then maybe the v1-only one
        self.floor = None
        self.notes = []
        self.spawn_ms = None

    def parent_dirs(self):
        out = []
        for mnt, _, _ in self.mounts:
            out += glob.glob(os.path.join(mnt, "machine*"))
            out += [p for p in (os.path.join(mnt, "virtsh", "lxc"), os.path.join(mnt, "virtsh"))
                    if os.path.isdir(p)]
        return out

    def sides(self):
        return [s for s in [self.virtsh] + self.libvirt + [self.floor] if s]

    def live(self):
        return [s for s in self.sides() if not s.unavailable]

    def make_rootfs(self):
        bb = self.a.busybox
        os.makedirs(os.path.join(self.rootfs, "bin"))
        for d in ("proc", "sys", "dev", "tmp", "etc"):
            os.makedirs(os.path.join(self.rootfs, d))
        shutil.copy2(bb, os.path.join(self.rootfs, "bin", "busybox"))
        for applet in ("sh", "sleep"):
            os.symlink("busybox", os.path.join(self.rootfs, "bin", applet))
        self.xml = os.path.join(self.tmp, self.name + ".xml")
        with open(self.xml, "w") as f:
            f.write(DOMAIN_XML % {"name": self.name, "mem": MEM_MIB, "loop": INIT_LOOP,
                                  "root": self.rootfs})

    def setup(self):
        a = self.a
        log("  virtsh  %s (%s)" % (a.virtsh, common.check_virtsh(a.virtsh)))
        virsh = shutil.which(a.virsh)
        if not a.no_libvirt and virsh:
            log("  virsh   %s (%s)" % (virsh, common.version(virsh, check=False)))
        log("  cgroups: %s" % layout_text(self.mounts))
        if os.geteuid() != 0:
            raise Unavailable("needs root (namespaces, cgroups)")
        if not os.path.isfile(a.busybox):
            raise Unavailable("%s not found (Debian package busybox-static)" % a.busybox)
        self.helper = compare.build_helper(self.tmp)
        if not self.helper:
            self.notes.append("no C compiler: commands are timed with Python's os.wait4")
        self.make_rootfs()
        true = shutil.which("true") or "/bin/true"
        self.spawn_ms = med([compare.run_once(self.helper, [true], ENV)[0] * 1000
                             for _ in range(11)])

        self.virtsh = VirtshSide(self, a.virtsh)
        self.try_side(self.virtsh, lambda: self.virtsh.define(self.xml))
        self.add_libvirt(virsh)
        self.floor = FloorSide(self)
        self.try_side(self.floor, self.floor.setup)

    def try_side(self, side, fn):
        try:
            fn()
        except (Unavailable, RuntimeError, OSError) as e:
            side.unavailable = str(e)

    def add_libvirt(self, virsh):
        a = self.a
        host = LibvirtSide(self, virsh, "libvirt")
        self.libvirt.append(host)
        if a.no_libvirt:
            host.unavailable = "skipped (--no-libvirt)"
            return
        gone = missing("libvirtd", "unshare")
        if not virsh:
            gone.append(a.virsh)
        if gone:
            host.unavailable = "%s not found (Debian packages libvirt-daemon, libvirt-clients)" \
                % ", ".join(gone)
            return
        drv = glob.glob("/usr/lib/*/libvirt/connection-driver/libvirt_driver_lxc.so")
        if not drv or not os.path.exists(LIBVIRT_LXC):
            host.unavailable = ("libvirt's LXC driver is not installed (Debian package "
                                "libvirt-daemon-driver-lxc, only a Recommends of "
                                "libvirt-daemon)")
            return
        self.try_side(host, lambda: self.libvirt_probe(host))
        unified = [m[0] for m in self.mounts if m[1] == "v2"]
        v1 = [m for m in self.mounts if m[1] == "v1"]
        if not host.unavailable or a.no_v1_libvirt or not (unified and v1):
            return
        # libvirt cannot run on the hybrid layout: a libvirtd that sees only the v1 one.
        alt = LibvirtSide(self, virsh, "libvirt v1-only", v1only=unified[0])
        self.libvirt.append(alt)
        self.try_side(alt, lambda: self.libvirt_probe(alt))

    def libvirt_probe(self, side):
        """Start the side's daemon, define, and start once (the warm-up, untimed): if libvirt
        cannot run the container, its message makes the side unavailable and its daemon is
        stopped."""
        try:
            side.start_daemon()
            side.define(self.xml)
            side.log_at = side.daemon.log_size()
            try:
                side.first = {"start": side.probe()}
                side.check_running()
                time.sleep(SETTLE)
                ms, rc, out, err = side.run("destroy", self.name, timeout=60)
                side.first["destroy"] = ms
                if rc != 0:
                    raise Unavailable("destroy: %s" % (last_error(err) or first_line(out)))
                left = side.leftovers()
                if left:
                    raise Unavailable("after the first destroy: %s" % left)
            except RunFailed as e:
                raise Unavailable(str(e))
        except (Unavailable, RuntimeError, OSError):
            if side.daemon is not None and side.uri and side.daemon.pid():
                side.run("destroy", self.name, timeout=60)
                side.run("undefine", self.name, timeout=60)
            if side.daemon is not None:
                common.stop_daemon(side.daemon)
            raise

    def run_all(self):
        live = self.live()
        for side in live:  # warm-up (libvirt's was its probe)
            if isinstance(side, LibvirtSide):
                continue
            side.first = side.once()
        for _ in range(self.a.runs):
            for side in live:
                if side.unavailable:
                    continue
                r = side.once()
                if r:
                    for k, v in r.items():
                        if v is not None:
                            side.samples[k].append(v)

    # -- report ------------------------------------------------------------------------------

    def libvirt_col(self):
        live = [s for s in self.libvirt if not s.unavailable]
        return live[0] if live else None

    def report(self):
        a = self.a
        v, fl, lv = self.virtsh, self.floor, self.libvirt_col()
        m = {}
        for s in self.sides():
            m[s.label] = {k: (None if s.unavailable else med(x)) for k, x in s.samples.items()}
        lv_label = "libvirt" if lv is None else ("libvirt*" if lv.v1only else "libvirt")

        def get(side, key, scale=1.0):
            if side is None or side.unavailable:
                return None
            x = m[side.label][key]
            return None if x is None else x * scale

        def ratio(x, y):
            return "-" if x is None or not y else "%.2fx" % (x / y)

        log("")
        cols = "%-26s %9s %9s %9s %13s %15s"
        hdr = cols % ("workload", "virtsh", lv_label, "floor", "virtsh/floor", "libvirt/virtsh")
        log(hdr)
        log("-" * len(hdr))
        self.ratios = {}
        for key, label, scale, with_ratio in (
                ("start", "start-to-running (ms)", 1.0, True),
                ("destroy", "destroy (ms)", 1.0, True),
                ("hwm", "supervisor VmHWM (MiB)", 1 / 1024, False),
                ("start_rss", "CLI peak RSS, start (MiB)", 1 / 1024, False)):
            x, y, z = get(v, key, scale), get(lv, key, scale), get(fl, key, scale)
            r1 = ratio(x, z) if with_ratio else ""
            r2 = ratio(y, x) if with_ratio else ""
            if with_ratio:
                self.ratios[key] = {"virtsh_over_floor": x / z if x is not None and z else None,
                                    "libvirt_over_virtsh": y / x if y is not None and x else None}
            log(cols % (label, fmt(x), fmt(y), fmt(z), r1, r2))
        log("")
        for s in self.sides():
            if s.unavailable:
                log("%-16s unavailable: %s" % (s.label, s.unavailable))
            if s.failures:
                log("%-16s %d failed run(s), left out of the medians" % (s.label,
                                                                         len(s.failures)))
        if lv is not None and lv.v1only:
            log("* libvirt: a private libvirtd with %s unmounted in its own mount namespace "
                "(libvirt sees a v1-only layout; the host keeps the mount), since libvirt 9.0's "
                "LXC driver cannot start a container on this host's hybrid layout." % lv.v1only)
        if lv is not None:
            log("libvirt's destroy is virCgroupKillPainfully: SIGTERM to the cgroup, a check every "
                "200 ms, SIGKILL at the 8th; an init")
            log("that ignores SIGTERM (sh as a pid namespace's init does) so ends about 1.6 s in. "
                "virtsh sends SIGKILL at once.")
        log("")
        log("Medians of %d runs per side, sides alternating, after 1 warm-up each. virtsh and "
            "virsh: wall time of the" % a.runs)
        log("command (fork, exec, wait4 of the CLI; `true` alone takes %s ms that way); start "
            "returns once the init runs." % fmt(self.spawn_ms))
        log("floor: mkdir of the cgroups, memory limit, sh + unshare + chroot until the init "
            "runs; kill -9, reap, rmdir.")
        log("supervisor VmHWM: virtsh __lxc-supervise, libvirt_lxc, and for the floor the "
            "unshare that waits for its init.")
        log("Ratios: virtsh/floor (what virtsh adds) and libvirt/virtsh (above 1: virtsh is "
            "faster). Information only, never a verdict.")

    def to_json(self):
        return {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "runs": self.a.runs,
                "cgroups": layout_text(self.mounts), "spawn_true_ms": self.spawn_ms,
                "notes": self.notes, "ratios": getattr(self, "ratios", {}),
                "sides": [dict(common.side_json(s), notes=s.notes) for s in self.sides()]}

    # -- clean-up ----------------------------------------------------------------------------

    def cleanup(self):
        v = self.virtsh
        if v is not None and os.path.isdir(v.embed):
            v.run("destroy", self.name, timeout=60)
            v.run("undefine", self.name, timeout=60)
        for side in self.libvirt:
            if side.daemon is None:
                continue
            if side.uri and side.daemon.pid():
                side.run("destroy", self.name, timeout=60)
                side.run("undefine", self.name, timeout=60)
            common.stop_daemon(side.daemon)  # go on: leftovers are killed below
        if self.floor is not None:
            self.floor.cleanup_run()
        # What outlived all that, by pid: this run's supervisors and libvirt_lxc (by the temp
        # dir or the container's name in their command line), then this run's cgroups.
        tmp, name = self.tmp.encode(), self.name.encode()
        for pid, c in find_pids(lambda c: any(tmp in x for x in c)
                                or (c[0].endswith(b"libvirt_lxc") and name in c)):
            common.kill_leftover(pid, b" ".join(c[:2]).decode(errors="replace"))
        ours = []
        for mnt, _, _ in self.mounts:
            ours += glob.glob(os.path.join(mnt, "virtsh", "lxc", self.name + "-*"))
            ours += glob.glob(os.path.join(mnt, "machine*", "*%s.libvirt-lxc" % self.name))
            ours += glob.glob(os.path.join(mnt, self.name + "-floor"))
        for p in ours:
            log("cleanup: removing leftover cgroup %s" % p)
            if not remove_cgroup(p):
                log("cleanup: cannot remove %s" % p)
        # Parents this run made (libvirt's machine partition, virtsh/lxc): only if empty.
        for p in sorted(set(self.parent_dirs()) - self.before, key=len, reverse=True):
            try:
                os.rmdir(p)
            except OSError:
                pass
        for side in self.libvirt:
            if side.daemon is not None:
                side.daemon.remove_mount_points()
        shutil.rmtree(self.tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common.add_common_args(ap, busybox=True)
    ap.add_argument("--no-libvirt", action="store_true", help="skip the libvirt side")
    ap.add_argument("--no-v1-libvirt", action="store_true",
                    help="when libvirt cannot run on the hybrid cgroup layout, do not retry it "
                    "with cgroup2 unmounted in its mount namespace")
    a = common.parse_args(ap)
    a.virtsh = os.path.abspath(a.virtsh)
    common.on_signals()

    log("lxc benchmark: busybox container (init sh -c '%s', %d MiB); %d runs per side after "
        "1 warm-up, sides alternating" % (INIT_LOOP, MEM_MIB, a.runs))
    bench = LxcBench(a)

    def body():
        bench.setup()
        for s in bench.sides():
            for n in s.notes:
                log("  %s: %s" % (s.label, n))
            s.notes = []
        for n in bench.notes:
            log("  " + n)
        if bench.live():
            bench.run_all()
        if bench.virtsh:
            bench.virtsh.lag_note("the supervisor process")
        for s in bench.libvirt:
            s.lag_note("libvirt_lxc or its cgroup")
        bench.report()
        for s in bench.sides():
            for n in sorted(set(s.notes)):
                log("note: %s: %s" % (s.label, n))
    return common.run_bench("lxc benchmark", bench, body, a.json)


if __name__ == "__main__":
    sys.exit(main())
