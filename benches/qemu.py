#!/usr/bin/env python3
"""Benchmark virtsh's QEMU driver against raw QEMU and libvirt, on the same machine, in one run.

usage: qemu.py [--virtsh PATH] [--virsh PATH] [--qemu PATH] [--runs N] [--quick]
               [--only NAME,...] [--no-libvirt] [--domstats-n N] [--list-n N] [--json PATH]

Workloads (names for --only):
  create    create-to-running of a bare domain (no kernel, no disk; KVM if usable, else TCG):
            raw qemu-system-x86_64 (spawn until QMP query-status says running), `virtsh create`,
            `virsh create` on a private libvirtd. Target: virtsh within 1.3x of raw.
  destroy   `destroy` of a running bare domain (wall time of the command). Target < 50 ms.
  oneshot   `domstate NAME` and `dominfo NAME` of a running domain, one process each.
            Target < 5 ms.
  list      `list --all` with 1000 defined, inactive domains (setup timed separately).
            Target < 20 ms.
  domstats  `domstats` (all domains) with N running, paused, 32 MiB bare domains.
  boot      boot of the tiny guest (fixtures/guest) under TCG, until `TINYGUEST READY` is in the
            serial console file: raw QEMU, virtsh, virsh. Target: virtsh within +100 ms of raw.
  memory    VmRSS of the `virtsh __supervise` process of a running guest (target < 4 MiB), and
            libvirtd's VmRSS for context.

libvirt runs as a private libvirtd: in its own mount namespace (unshare -m), with private
/etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/cache/libvirt and /var/log/libvirt (bind mounts
of folders in this run's temp dir) and its sockets in the temp dir. The host's libvirt is never
used. Every run cleans up (guests, libvirtd, temp dirs) on success, error or Ctrl-C.

It reports; it never fails on timing. The exit status is 1 only when a tool cannot run at all.
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

# The private libvirtd (and the helpers it shares with this script) lives in benches/libvirtd.py,
# shared with benches/network.py; tests/qemu-vs-libvirt reaches it as qemu.PrivateLibvirtd. What
# the benchmarks share besides is in benches/common.py.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import (ROOT, ToolError, cmdline, kill_pids, log, med, pids,  # noqa: E402
                    status_kib)
from common import fmt as fmt_ms  # noqa: E402
from libvirtd import ENV, PrivateLibvirtd, Unavailable, first_line, run  # noqa: E402

WORKLOADS = ["create", "destroy", "oneshot", "list", "domstats", "boot", "memory"]
GUEST_CMDLINE = "console=ttyS0 panic=-1 quiet"
READY = b"TINYGUEST READY"


# ---------------------------------------------------------------------------------------------
# Running commands


class Tool:
    """A virsh-like CLI on one connection URI."""

    def __init__(self, label, binary, uri):
        self.label, self.binary, self.uri = label, binary, uri

    def argv(self, *args):
        return [self.binary, "-c", self.uri] + list(args)

    def run(self, *args, timeout=120, check=False):
        return run(self.argv(*args), timeout=timeout, check=check)

    def chain(self, commands, timeout=600, check=True):
        """Run many commands in one process, in ';'-chains of at most 200 commands."""
        total = 0.0
        for i in range(0, len(commands), 200):
            ms, rc, out, err = run(self.argv("; ".join(commands[i:i + 200])), timeout=timeout,
                                   check=check)
            total += ms
        return total

    def names(self, all_=True):
        args = ["list", "--name"] + (["--all"] if all_ else [])
        _, rc, out, _ = self.run(*args, timeout=60)
        if rc != 0:
            return []
        return [n.strip() for n in out.splitlines() if n.strip()]


# ---------------------------------------------------------------------------------------------
# Processes and /proc


def pss_kib(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def supervisor_pid(root, name):
    """The `virtsh __supervise` process of domain name in the embed root."""
    for pid in pids():
        cmd = cmdline(pid)
        if not cmd or b"__supervise" not in cmd:
            continue
        try:
            i = cmd.index(b"--name")
        except ValueError:
            continue
        if i + 1 < len(cmd) and cmd[i + 1] == name.encode() and root.encode() in b" ".join(cmd):
            return pid
    return None


# ---------------------------------------------------------------------------------------------
# Domain XML


def domain_xml(name, dtype, mem_mib=64, kernel=None, serial=None):
    os_extra = ""
    if kernel:
        os_extra = ("\n    <kernel>%s</kernel>\n    <initrd>%s</initrd>\n    <cmdline>%s</cmdline>"
                    % (kernel[0], kernel[1], GUEST_CMDLINE))
    serial_xml = ""
    if serial:
        serial_xml = ("\n    <serial type='file'><source path='%s'/><target port='0'/></serial>"
                      % serial)
    return """<domain type='%s'>
  <name>%s</name>
  <memory unit='MiB'>%d</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>%s
  </os>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>%s</emulator>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>%s
  </devices>
</domain>
""" % (dtype, name, mem_mib, os_extra, QEMU, serial_xml)


# ---------------------------------------------------------------------------------------------
# Raw QEMU


class Qmp:
    def __init__(self, sock):
        self.sock = sock
        self.f = sock.makefile("rb")

    def read(self):
        line = self.f.readline()
        if not line:
            raise RuntimeError("QMP connection closed")
        return json.loads(line)

    def cmd(self, name):
        self.sock.sendall(json.dumps({"execute": name}).encode() + b"\n")
        while True:
            msg = self.read()
            if "return" in msg:
                return msg["return"]
            if "error" in msg:
                raise RuntimeError("QMP %s: %s" % (name, msg["error"]))

    def close(self):
        try:
            self.f.close()
            self.sock.close()
        except OSError:
            pass


class RawQemu:
    """Raw qemu-system-x86_64 processes started by this script (killed at cleanup)."""

    def __init__(self, tmp, prefix):
        self.tmp, self.prefix, self.procs, self.n = tmp, prefix, [], 0

    def base_argv(self, name, accel, mem_mib):
        # The options virtsh generates for the same XML (drivers/qemu/src/cmdline), less `-S`
        # and its monitor: so the comparison shows what virtsh adds, not what its options cost.
        # (They matter: on this machine the tiny guest boots a few hundred ms faster with them
        # than with a plain `-machine pc -m 256`.)
        mib = mem_mib * 1024 * 1024
        return [QEMU, "-name", "guest=%s,debug-threads=on" % name,
                "-machine", "pc,usb=off,dump-guest-core=off,memory-backend=pc.ram",
                "-accel", accel, "-cpu", "qemu64", "-m", "size=%dk" % (mem_mib * 1024),
                "-object", '{"id":"pc.ram","qom-type":"memory-backend-ram","size":%d}' % mib,
                "-overcommit", "mem-lock=off", "-smp", "1,sockets=1,cores=1,threads=1",
                "-display", "none", "-no-user-config", "-nodefaults", "-rtc", "base=utc",
                "-no-shutdown", "-boot", "strict=on",
                "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
                "resourcecontrol=deny", "-msg", "timestamp=on"]

    def spawn(self, argv, pass_fds=()):
        logf = open(os.path.join(self.tmp, "raw-%d.log" % self.n), "wb")
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                                 pass_fds=pass_fds, env=ENV, start_new_session=True)
        finally:
            logf.close()
        self.procs.append(p)
        return p

    def stop(self, p):
        if p.poll() is None:
            p.kill()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        if p in self.procs:
            self.procs.remove(p)

    def create_to_running(self, accel, mem_mib=64, timeout=60):
        """ms from spawn until QMP query-status says running; the monitor socket is handed to
        QEMU already listening (as virtsh does), so nothing polls for it."""
        self.n += 1
        name = "%s-raw%d" % (self.prefix, self.n)
        path = os.path.join(self.tmp, "raw%d.qmp" % self.n)
        lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lsock.bind(path)
        lsock.listen(1)
        fd = lsock.fileno()
        argv = self.base_argv(name, accel, mem_mib) + [
            "-chardev", "socket,id=charmonitor,fd=%d,server=on,wait=off" % fd,
            "-mon", "chardev=charmonitor,id=monitor,mode=control"]
        qmp = None
        t0 = time.perf_counter()
        p = self.spawn(argv, pass_fds=(fd,))
        try:
            lsock.close()
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.settimeout(timeout)
            c.connect(path)
            qmp = Qmp(c)
            greeting = qmp.read()
            if "QMP" not in greeting:
                raise RuntimeError("no QMP greeting: %r" % greeting)
            qmp.cmd("qmp_capabilities")
            while True:
                st = qmp.cmd("query-status")
                if st.get("running"):
                    break
                if time.perf_counter() - t0 > timeout:
                    raise RuntimeError("not running after %ss: %r" % (timeout, st))
                time.sleep(0.0005)
            ms = (time.perf_counter() - t0) * 1000
        except Exception as e:
            p.kill()
            p.wait()
            raise RuntimeError("raw QEMU (%s) failed: %s; log: %s" % (
                accel, e, self.log_tail()))
        finally:
            if qmp:
                qmp.close()
        self.stop(p)
        try:
            os.unlink(path)
        except OSError:
            pass
        return ms

    def boot_to_ready(self, kernel, serial, timeout=120):
        self.n += 1
        name = "%s-rawboot%d" % (self.prefix, self.n)
        argv = self.base_argv(name, "tcg", 256) + [
            "-kernel", kernel[0], "-initrd", kernel[1], "-append", GUEST_CMDLINE,
            "-chardev", "file,id=charserial0,path=%s" % serial, "-serial", "chardev:charserial0"]
        t0 = time.perf_counter()
        p = self.spawn(argv)
        try:
            wait_ready(serial, t0, timeout, lambda: p.poll() is None)
            return (time.perf_counter() - t0) * 1000
        finally:
            self.stop(p)

    def log_tail(self):
        try:
            with open(os.path.join(self.tmp, "raw-%d.log" % self.n), "rb") as f:
                return first_line(f.read().decode(errors="replace")[-2000:]) or "(empty)"
        except OSError:
            return "(no log)"

    def cleanup(self):
        for p in list(self.procs):
            self.stop(p)


def wait_ready(path, t0, timeout, still_alive):
    """Poll path (every 2 ms) until it contains TINYGUEST READY."""
    f = None
    buf = b""
    try:
        while True:
            if f is None:
                try:
                    f = open(path, "rb")
                except FileNotFoundError:
                    pass
            if f is not None:
                chunk = f.read()
                if chunk:
                    buf = buf[-64:] + chunk
                    if READY in buf:
                        return
            if time.perf_counter() - t0 > timeout:
                raise RuntimeError("no '%s' in %s after %ss" % (READY.decode(), path, timeout))
            if not still_alive():
                raise RuntimeError("guest ended before '%s'" % READY.decode())
            time.sleep(0.002)
    finally:
        if f is not None:
            f.close()


# ---------------------------------------------------------------------------------------------
# Results


class Results:
    def __init__(self):
        self.workloads = []  # dicts, in order
        self.problems = []   # virtsh bugs / failures, for the summary

    def add(self, wl):
        self.workloads.append(wl)
        print_workload(wl)

    def problem(self, text):
        self.problems.append(text)
        log("  !! " + text)


def row(tool, samples=None, note="", ratio=None, target="", ok=None, extra=None):
    r = {"tool": tool, "samples_ms": [round(s, 3) for s in (samples or [])],
         "median_ms": round(med(samples), 3) if samples else None,
         "min_ms": round(min(samples), 3) if samples else None,
         "max_ms": round(max(samples), 3) if samples else None,
         "ratio": ratio, "target": target, "ok": ok, "note": note}
    if extra:
        r.update(extra)
    return r


def print_workload(wl):
    log("")
    log("== %s" % wl["title"])
    for n in wl.get("notes", []):
        log("   " + n)
    rows = wl["rows"]
    if not rows:
        return
    w = max(len(r["tool"]) for r in rows)
    w = max(w, 4)
    log("   %-*s  %10s  %10s  %10s  %-12s  %-22s  %s" % (
        w, "tool", "median ms", "min ms", "max ms", "ratio", "target", ""))
    for r in rows:
        mark = {True: "✓", False: "✗", None: ""}[r["ok"]]
        ratio = r["ratio"] if isinstance(r["ratio"], str) else (
            "%.2fx" % r["ratio"] if r["ratio"] is not None else "")
        if r["median_ms"] is None:
            log("   %-*s  %s" % (w, r["tool"], r["note"]))
            continue
        log("   %-*s  %10s  %10s  %10s  %-12s  %-22s  %s%s" % (
            w, r["tool"], fmt_ms(r["median_ms"]), fmt_ms(r["min_ms"]), fmt_ms(r["max_ms"]),
            ratio, r["target"], mark, ("  " + r["note"]) if r["note"] else ""))


# ---------------------------------------------------------------------------------------------
# The benchmark


class Bench:
    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="virtsh-qemu-bench-")
        self.prefix = "vqb%d" % os.getpid()
        self.root = os.path.join(self.tmp, "embed")
        self.vt = Tool("virtsh", args.virtsh, "qemu:///embed?root=%s" % self.root)
        self.vs = None  # virsh on the private libvirtd, when available
        self.libvirtd = None
        self.libvirt_reason = "skipped (--no-libvirt)" if args.no_libvirt else None
        self.raw = RawQemu(self.tmp, self.prefix)
        self.results = Results()
        self.accel = "kvm"
        self.dtype = "kvm"
        self.n = 0
        self.xmldir = os.path.join(self.tmp, "xml")
        os.makedirs(self.xmldir)
        self.guest = None
        self.runs = args.runs

    # -- helpers ---------------------------------------------------------------------------

    def name(self, tag):
        self.n += 1
        return "%s-%s%d" % (self.prefix, tag, self.n)

    def write_xml(self, name, **kw):
        path = os.path.join(self.xmldir, name + ".xml")
        kw.setdefault("mem_mib", 64)
        with open(path, "w") as f:
            f.write(domain_xml(name, kw.pop("dtype", self.dtype), **kw))
        return path

    def sides(self):
        """The tools to compare: virtsh, and virsh when libvirt is available."""
        return [self.vt] + ([self.vs] if self.vs else [])

    def create(self, tool, xml, *extra, timeout=120):
        """create; returns ms, or raises RuntimeError with the tool's error."""
        ms, rc, out, err = tool.run("create", xml, *extra, timeout=timeout)
        if rc != 0:
            raise RuntimeError("`%s create %s` exited %s: %s" % (
                tool.label, os.path.basename(xml), rc, first_line(err) or first_line(out)))
        return ms

    def destroy_quiet(self, tool, name):
        tool.run("destroy", name, timeout=60)

    def fail(self, tool, what, err):
        """A failure of one side: virtsh failures are listed as problems (bugs) at the end."""
        text = "%s: %s" % (what, err)
        if tool is self.vt:
            self.results.problem(text)
        else:
            log("  !! " + text)
        return "failed: %s" % err

    # -- setup -----------------------------------------------------------------------------

    def check_tools(self):
        a = self.args
        vout = common.check_virtsh(a.virtsh)
        qout = common.version(QEMU)
        log("virtsh: %s (%s)" % (a.virtsh, vout))
        log("qemu:   %s (%s)" % (QEMU, qout))
        if not a.no_libvirt:
            if not shutil.which(a.virsh):
                raise ToolError("virsh not found (%s); use --no-libvirt to skip libvirt" % a.virsh)
            log("virsh:  %s (%s)" % (shutil.which(a.virsh), common.version(a.virsh, check=False)))

    def pick_accel(self):
        if self.args.tcg:
            self.accel, self.dtype = "tcg", "qemu"
            return "TCG (--tcg)"
        if os.access("/dev/kvm", os.R_OK | os.W_OK):
            try:
                self.raw.create_to_running("kvm", timeout=30)
                return "KVM"
            except RuntimeError as e:
                reason = str(e)
        else:
            reason = "/dev/kvm not usable"
        self.accel, self.dtype = "tcg", "qemu"
        return "TCG (KVM: %s)" % reason

    def start_libvirtd(self):
        if self.args.no_libvirt:
            return
        self.libvirtd = PrivateLibvirtd(self.tmp, self.args.virsh)
        t0 = time.perf_counter()
        try:
            self.libvirtd.start()
        except Unavailable as e:
            self.libvirt_reason = "libvirt unavailable: %s" % e
            log("private libvirtd: %s" % self.libvirt_reason)
            return
        self.vs = Tool("virsh", self.args.virsh, self.libvirtd.uri)
        log("private libvirtd: pid %s, %s (ready in %.0f ms)" % (
            self.libvirtd.pid(), self.libvirtd.uri, (time.perf_counter() - t0) * 1000))

    def guest_files(self):
        if self.guest is None:
            _, rc, out, err = run(["bash", os.path.join(ROOT, "fixtures", "guest", "build")],
                                  timeout=600)
            lines = out.strip().splitlines()
            if rc != 0 or not lines:
                raise RuntimeError("fixtures/guest/build failed: %s" % (
                    first_line(err[-2000:]) or first_line(out)))
            d = lines[-1].strip()
            self.guest = (os.path.join(d, "vmlinuz"), os.path.join(d, "initrd.img"))
        return self.guest

    # -- workloads -------------------------------------------------------------------------

    def wl_create(self):
        runs = self.runs
        title = "create-to-running, bare %s domain (64 MiB, no kernel, no disk), %d runs" % (
            self.accel.upper(), runs)
        wl = {"name": "create", "title": title, "rows": [], "notes": [
            "raw: spawn qemu-system-x86_64 until QMP query-status says running (monitor fd "
            "passed listening); virtsh/virsh: wall time of `create FILE`; ratio: tool/raw"]}
        samples = {"raw": [], "virtsh": [], "virsh": []}
        errors = {}
        sides = self.sides()
        # one untimed warm-up each (fills caps caches)
        try:
            self.raw.create_to_running(self.accel)
        except RuntimeError as e:
            errors["raw"] = str(e)
        for t in sides:
            nm = self.name("cw")
            try:
                self.create(t, self.write_xml(nm))
            except RuntimeError as e:
                errors[t.label] = self.fail(t, "create (warm-up)", e)
            self.destroy_quiet(t, nm)
        for _ in range(runs):
            if "raw" not in errors:
                try:
                    samples["raw"].append(self.raw.create_to_running(self.accel))
                except RuntimeError as e:
                    errors["raw"] = str(e)
            for t in sides:
                if t.label in errors:
                    continue
                nm = self.name("c")
                try:
                    ms = self.create(t, self.write_xml(nm))
                    _, rc, out, err = t.run("domstate", nm, timeout=60)
                    if out.strip() != "running":
                        raise RuntimeError("after create, domstate says %r %s" % (
                            out.strip(), first_line(err)))
                    samples[t.label].append(ms)
                except RuntimeError as e:
                    errors[t.label] = self.fail(t, "create", e)
                self.destroy_quiet(t, nm)
        raw_med = med(samples["raw"])
        wl["rows"].append(row("raw qemu", samples["raw"], note=errors.get("raw", "")))
        for label, target, tval in (("virtsh", "<= 1.3x raw", 1.3), ("virsh", "(libvirt)", None)):
            if label == "virsh" and not self.vs:
                wl["rows"].append(row("virsh", note=self.libvirt_reason))
                continue
            s = samples[label]
            ratio = med(s) / raw_med if s and raw_med else None
            ok = (ratio <= tval) if (ratio is not None and tval) else None
            wl["rows"].append(row(label, s, ratio=ratio, target=target, ok=ok,
                                  note=errors.get(label, "")))
        self.results.add(wl)

    def running_domain(self, t, tag):
        nm = self.name(tag)
        self.create(t, self.write_xml(nm))
        return nm

    def wl_destroy(self):
        runs = self.runs
        wl = {"name": "destroy", "title": "destroy of a running bare %s domain, %d runs" % (
            self.accel.upper(), runs), "rows": [],
            "notes": ["wall time of `destroy NAME` (the guest was created just before, untimed)"]}
        samples = {t.label: [] for t in self.sides()}
        errors = {}
        for i in range(runs + 1):  # the first round is a warm-up
            for t in self.sides():
                if t.label in errors:
                    continue
                try:
                    nm = self.running_domain(t, "d")
                except RuntimeError as e:
                    errors[t.label] = self.fail(t, "create (for destroy)", e)
                    continue
                time.sleep(0.2)
                ms, rc, out, err = t.run("destroy", nm, timeout=60)
                if rc != 0:
                    errors[t.label] = self.fail(t, "`destroy %s`" % nm, "exited %s: %s" % (
                        rc, first_line(err)))
                    self.destroy_quiet(t, nm)
                    continue
                if i > 0:
                    samples[t.label].append(ms)
        self.add_vs_rows(wl, samples, errors, "< 50 ms", lambda m: m < 50)
        self.results.add(wl)

    def add_vs_rows(self, wl, samples, errors, target, okf, virtsh_note=""):
        vmed = med(samples.get("virtsh"))
        smed = med(samples.get("virsh")) if self.vs else None
        for label in ("virtsh", "virsh"):
            if label == "virsh" and not self.vs:
                wl["rows"].append(row("virsh", note=self.libvirt_reason))
                continue
            s = samples.get(label, [])
            if label == "virtsh":
                ratio = vmed / smed if (vmed and smed) else None
                ok = okf(vmed) if (vmed is not None and okf) else None
                wl["rows"].append(row(label, s, ratio=ratio,
                                      target=target, ok=ok,
                                      note=errors.get(label, "") or virtsh_note))
            else:
                wl["rows"].append(row(label, s, target="(libvirt)",
                                      note=errors.get(label, "")))
        if vmed and smed:
            wl["notes"].append("ratio: virtsh/virsh = %.3f (virsh takes %.1fx as long)"
                               % (vmed / smed, smed / vmed))

    def spawn_baseline(self):
        s = []
        for _ in range(20):
            s.append(run(["/bin/true"])[0])
        return med(s)

    def wl_oneshot(self):
        runs = self.runs * 5
        wl = {"name": "oneshot", "title": "one-shot `domstate NAME` and `dominfo NAME` of a "
              "running domain, %d runs each" % runs, "rows": [], "notes": []}
        base = self.spawn_baseline()
        wl["notes"].append("wall time of one process; spawn overhead of this script "
                           "(/bin/true) is %.2f ms and is included" % base)
        wl["spawn_overhead_ms"] = round(base, 3)
        doms, errors = {}, {}
        for t in self.sides():
            try:
                doms[t.label] = self.running_domain(t, "o")
            except RuntimeError as e:
                errors[t.label] = self.fail(t, "create (for domstate/dominfo)", e)
        time.sleep(0.3)
        for cmd in ("domstate", "dominfo"):
            samples = {t.label: [] for t in self.sides()}
            errs = dict(errors)
            for i in range(runs + 1):
                for t in self.sides():
                    if t.label in errs:
                        continue
                    ms, rc, out, err = t.run(cmd, doms[t.label], timeout=60)
                    if rc != 0:
                        errs[t.label] = self.fail(t, "`%s %s`" % (cmd, doms[t.label]),
                                                  "exited %s: %s" % (rc, first_line(err)))
                        continue
                    if i > 0:
                        samples[t.label].append(ms)
            sub = {"rows": [], "notes": []}
            self.add_vs_rows(sub, samples, errs, "< 5 ms", lambda m: m < 5)
            for r in sub["rows"]:
                r["tool"] = "%s %s" % (r["tool"], cmd)
            wl["rows"] += sub["rows"]
            wl["notes"] += ["%s: %s" % (cmd, n) for n in sub["notes"]]
        for t in self.sides():
            if t.label in doms:
                self.destroy_quiet(t, doms[t.label])
        self.results.add(wl)

    def wl_list(self):
        n = self.args.list_n
        runs = self.runs * 3
        wl = {"name": "list", "title": "`list --all` with %d defined (inactive) domains, %d runs"
              % (n, runs), "rows": [], "notes": []}
        errors, names = {}, {}
        for t in self.sides():
            nms = ["%s-l%04d" % (self.prefix, i) for i in range(n)]
            files = [self.write_xml(nm) for nm in nms]
            t0 = time.perf_counter()
            try:
                t.chain(["define %s" % f for f in files])
                got = [x for x in t.names() if x.startswith(self.prefix + "-l")]
                if len(got) != n:
                    raise RuntimeError("after defining %d, list --all --name shows %d"
                                       % (n, len(got)))
            except RuntimeError as e:
                errors[t.label] = self.fail(t, "define %d domains" % n, e)
            setup = time.perf_counter() - t0
            names[t.label] = nms
            wl["notes"].append("setup (untimed): %s defined %d domains in %.1f s "
                               "(one process per 200 `define` commands)" % (t.label, n, setup))
            wl.setdefault("setup_s", {})[t.label] = round(setup, 3)
        samples = {t.label: [] for t in self.sides()}
        for i in range(runs + 1):
            for t in self.sides():
                if t.label in errors:
                    continue
                ms, rc, out, err = t.run("list", "--all", timeout=120)
                if rc != 0:
                    errors[t.label] = self.fail(t, "`list --all`", "exited %s: %s" % (
                        rc, first_line(err)))
                    continue
                if i > 0:
                    samples[t.label].append(ms)
        self.add_vs_rows(wl, samples, errors, "< 20 ms" if n >= 1000 else "< 20 ms (at 1000)",
                         lambda m: m < 20)
        for t in self.sides():
            if t.label in names:
                t0 = time.perf_counter()
                t.chain(["undefine %s" % nm for nm in names[t.label]], check=False)
                wl["notes"].append("cleanup: %s undefined them in %.1f s" % (
                    t.label, time.perf_counter() - t0))
        self.results.add(wl)

    def wl_domstats(self):
        n = self.args.domstats_n
        runs = self.runs
        wl = {"name": "domstats", "title": "`domstats` (all domains) with %d running, paused, "
              "32 MiB bare %s domains, %d runs" % (n, self.accel.upper(), runs),
              "rows": [], "notes": []}
        errors, names = {}, {}
        try:
            for t in self.sides():
                nms = ["%s-s%03d" % (self.prefix, i) for i in range(n)]
                names[t.label] = nms
                files = [self.write_xml(nm, mem_mib=32) for nm in nms]
                t0 = time.perf_counter()
                try:
                    t.chain(["create %s --paused" % f for f in files], timeout=900)
                    got = [x for x in t.names(all_=False) if x.startswith(self.prefix + "-s")]
                    if len(got) != n:
                        raise RuntimeError("after creating %d, list --name shows %d running"
                                           % (n, len(got)))
                except RuntimeError as e:
                    errors[t.label] = self.fail(t, "create %d paused domains" % n, e)
                wl["notes"].append("setup (untimed): %s created %d paused domains in %.1f s" % (
                    t.label, n, time.perf_counter() - t0))
            # memory context with n guests
            sups = [supervisor_pid(self.root, nm) for nm in names.get("virtsh", [])]
            rss = [status_kib(p, "VmRSS") for p in sups if p]
            rss = [r for r in rss if r]
            if rss:
                wl["notes"].append("memory with %d guests: %d virtsh supervisors, VmRSS median "
                                   "%.2f MiB each, %.1f MiB in all" % (
                                       n, len(rss), med(rss) / 1024, sum(rss) / 1024))
                wl["supervisors_rss_kib"] = rss
            if self.libvirtd and self.libvirtd.pid():
                r = status_kib(self.libvirtd.pid(), "VmRSS")
                if r:
                    wl["notes"].append("memory with %d guests: libvirtd VmRSS %.1f MiB" % (
                        n, r / 1024))
                    wl["libvirtd_rss_kib"] = r
            samples = {t.label: [] for t in self.sides()}
            virtsh_note = ""
            for i in range(runs + 1):
                for t in self.sides():
                    if t.label in errors:
                        continue
                    ms, rc, out, err = t.run("domstats", timeout=300)
                    if rc != 0:
                        e = first_line(err) or first_line(out)
                        if t is self.vt and ("not supported" in e or "unknown command" in e
                                             or "not implemented" in e):
                            errors[t.label] = "not implemented yet (%s)" % e
                            log("  virtsh domstats: not implemented yet: %s" % e)
                        else:
                            errors[t.label] = self.fail(t, "`domstats`", "exited %s: %s" % (
                                rc, e))
                        continue
                    got = sum(1 for l in out.splitlines() if l.startswith("Domain: "))
                    if got < n:
                        errors[t.label] = self.fail(t, "`domstats`", "stats of %d domains, "
                                                    "expected %d" % (got, n))
                        continue
                    if i > 0:
                        samples[t.label].append(ms)
            self.add_vs_rows(wl, samples, errors, "(none given)", None, virtsh_note)
        finally:
            for t in self.sides():
                if t.label in names:
                    t0 = time.perf_counter()
                    t.chain(["destroy %s" % nm for nm in names[t.label]], timeout=900,
                            check=False)
                    wl["notes"].append("cleanup: %s destroyed them in %.1f s" % (
                        t.label, time.perf_counter() - t0))
        self.results.add(wl)

    def wl_boot(self):
        runs = self.runs
        wl = {"name": "boot", "title": "boot to guest-ready: tiny guest under TCG (256 MiB, "
              "kernel + initrd), until `TINYGUEST READY` on the serial console, %d runs" % runs,
              "rows": [], "notes": ["serial console to a file (raw: -chardev file; virtsh/virsh:"
                                    " <serial type='file'>), polled every 2 ms; time from spawn "
                                    "of qemu / `create`"]}
        try:
            kernel = self.guest_files()
        except RuntimeError as e:
            wl["notes"].append("tiny guest unavailable: %s" % e)
            self.results.add(wl)
            return
        samples = {"raw": [], "virtsh": [], "virsh": []}
        errors = {}
        for i in range(runs + 1):  # the first round is a warm-up
            serial = os.path.join(self.tmp, "serial-raw-%d.log" % i)
            if "raw" not in errors:
                try:
                    ms = self.raw.boot_to_ready(kernel, serial)
                    if i > 0:
                        samples["raw"].append(ms)
                except RuntimeError as e:
                    errors["raw"] = str(e)
            for t in self.sides():
                if t.label in errors:
                    continue
                nm = self.name("b")
                serial = os.path.join(self.tmp, "serial-%s.log" % nm)
                xml = self.write_xml(nm, dtype="qemu", mem_mib=256, kernel=kernel,
                                     serial=serial)
                t0 = time.perf_counter()
                try:
                    _, rc, out, err = t.run("create", xml, timeout=120)
                    if rc != 0:
                        raise RuntimeError("`create` exited %s: %s" % (rc, first_line(err)))
                    wait_ready(serial, t0, 120, lambda: True)
                    if i > 0:
                        samples[t.label].append((time.perf_counter() - t0) * 1000)
                except RuntimeError as e:
                    errors[t.label] = self.fail(t, "boot", e)
                self.destroy_quiet(t, nm)
        raw_med = med(samples["raw"])
        wl["rows"].append(row("raw qemu", samples["raw"], note=errors.get("raw", "")))
        if samples["raw"]:
            for label in ("virtsh", "virsh"):
                if samples[label]:
                    wl["notes"].append("%s adds %+.0f ms over raw by median, %+.0f ms by best run"
                                       " (TCG boot time varies by a few hundred ms with the "
                                       "machine's load)" % (label, med(samples[label]) - raw_med,
                                                            min(samples[label]) -
                                                            min(samples["raw"])))
        for label in ("virtsh", "virsh"):
            if label == "virsh" and not self.vs:
                wl["rows"].append(row("virsh", note=self.libvirt_reason))
                continue
            s = samples[label]
            added = med(s) - raw_med if (s and raw_med) else None
            ratio = ("%+.0f ms" % added) if added is not None else None
            ok = (added <= 100) if (added is not None and label == "virtsh") else None
            wl["rows"].append(row(label, s, ratio=ratio, ok=ok,
                                  target="<= +100 ms" if label == "virtsh" else "(libvirt)",
                                  note=errors.get(label, ""),
                                  extra={"added_ms": round(added, 3) if added is not None
                                         else None}))
        self.results.add(wl)

    def wl_memory(self):
        wl = {"name": "memory", "title": "resident memory of the supervisor of one running "
              "guest", "rows": [], "notes": []}
        nm = None
        try:
            nm = self.running_domain(self.vt, "m")
        except RuntimeError as e:
            wl["notes"].append(self.fail(self.vt, "create (for memory)", e))
        if nm:
            time.sleep(1.0)
            pid = supervisor_pid(self.root, nm)
            if pid is None:
                wl["notes"].append(self.fail(self.vt, "memory", "no `virtsh __supervise` process"
                                             " with --name %s found" % nm))
            else:
                rss, hwm, pss = (status_kib(pid, "VmRSS"), status_kib(pid, "VmHWM"),
                                 pss_kib(pid))
                wl["supervisor"] = {"pid": pid, "VmRSS_kib": rss, "VmHWM_kib": hwm,
                                    "Pss_kib": pss}
                ok = rss < 4096 if rss else None
                wl["notes"].append("virtsh supervisor (pid %d): VmRSS %.2f MiB, VmHWM %s, Pss %s"
                                   "   target < 4 MiB VmRSS %s" % (
                                       pid, rss / 1024, "%.2f MiB" % (hwm / 1024) if hwm else "?",
                                       "%.2f MiB" % (pss / 1024) if pss else "n/a",
                                       "✓" if ok else "✗"))
                wl["ok"] = ok
            self.destroy_quiet(self.vt, nm)
        if self.libvirtd and self.libvirtd.pid():
            pid = self.libvirtd.pid()
            lnm = None
            try:
                lnm = self.running_domain(self.vs, "m")
                time.sleep(1.0)
            except RuntimeError as e:
                wl["notes"].append("libvirt: create failed: %s" % e)
            rss, hwm = status_kib(pid, "VmRSS"), status_kib(pid, "VmHWM")
            wl["libvirtd"] = {"pid": pid, "VmRSS_kib": rss, "VmHWM_kib": hwm}
            if rss:
                wl["notes"].append("libvirtd (one daemon for all guests; pid %d, one guest "
                                   "running): VmRSS %.1f MiB, VmHWM %.1f MiB (after this run's "
                                   "earlier workloads)" % (pid, rss / 1024, (hwm or 0) / 1024))
            if lnm:
                self.destroy_quiet(self.vs, lnm)
        elif not self.vs:
            wl["notes"].append("libvirtd: %s" % self.libvirt_reason)
        self.results.add(wl)

    # -- run and clean up ------------------------------------------------------------------

    def run_all(self, only):
        t_start = time.perf_counter()
        self.check_tools()
        log("accel for bare domains: %s" % self.pick_accel())
        log("temp dir: %s; domain names start with %s" % (self.tmp, self.prefix))
        self.start_libvirtd()
        order = [("create", self.wl_create), ("destroy", self.wl_destroy),
                 ("oneshot", self.wl_oneshot), ("list", self.wl_list),
                 ("domstats", self.wl_domstats), ("boot", self.wl_boot),
                 ("memory", self.wl_memory)]
        times = {}
        for name, fn in order:
            if name not in only:
                continue
            t0 = time.perf_counter()
            try:
                fn()
            except RuntimeError as e:
                self.results.problem("workload %s stopped: %s" % (name, e))
                self.results.add({"name": name, "title": name, "rows": [],
                                  "notes": ["stopped: %s" % e]})
            times[name] = round(time.perf_counter() - t0, 1)
        self.total_s = round(time.perf_counter() - t_start, 1)
        self.times = times

    def cleanup(self):
        # guests first (through the tools), then the daemon, then anything left by marker
        try:
            running = [n for n in self.vt.names(all_=False) if n.startswith(self.prefix)]
            if running:
                self.vt.chain(["destroy %s" % n for n in running], check=False, timeout=300)
        except OSError:
            pass  # no virtsh to run: nothing was started with it
        except Exception as e:
            log("cleanup: virtsh: %s" % e)
        if self.vs:
            try:
                running = self.vs.names(all_=False)
                if running:
                    self.vs.chain(["destroy %s" % n for n in running], check=False, timeout=300)
            except Exception as e:
                log("cleanup: virsh: %s" % e)
        self.raw.cleanup()
        if self.libvirtd:
            common.stop_daemon(self.libvirtd)
        marks = [self.tmp.encode(), ("guest=%s-" % self.prefix).encode()]
        left = [pid for pid, _ in common.find_pids(common.with_marker(marks))]
        if left:
            log("cleanup: killing %d leftover processes: %s" % (len(left), left))
            kill_pids(left)
        if self.libvirtd:
            self.libvirtd.remove_mount_points()
        shutil.rmtree(self.tmp, ignore_errors=True)


def print_summary(bench, only):
    r = bench.results
    log("")
    log("== summary")
    for wl in r.workloads:
        parts = []
        for x in wl["rows"]:
            if x["median_ms"] is None:
                parts.append("%s: %s" % (x["tool"], x["note"] or "-"))
                continue
            s = "%s %s ms" % (x["tool"], fmt_ms(x["median_ms"]))
            if x["ratio"] is not None and x["tool"] not in ("virsh", "raw qemu") and \
                    not x["tool"].startswith("virsh "):
                s += " (%s)" % (x["ratio"] if isinstance(x["ratio"], str)
                                else "%.2fx" % x["ratio"])
            if x["ok"] is not None:
                s += " " + ("✓" if x["ok"] else "✗")
            if x["note"].startswith("not implemented"):
                s += " [%s]" % x["note"]
            parts.append(s)
        if wl["name"] == "memory":
            sup = wl.get("supervisor")
            if sup:
                parts.append("supervisor VmRSS %.2f MiB %s" % (
                    sup["VmRSS_kib"] / 1024, "✓" if wl.get("ok") else "✗"))
            lv = wl.get("libvirtd")
            if lv and lv.get("VmRSS_kib"):
                parts.append("libvirtd VmRSS %.1f MiB" % (lv["VmRSS_kib"] / 1024))
        log("   %-9s %s" % (wl["name"], "; ".join(parts) or "; ".join(wl.get("notes", []))))
    if r.problems:
        log("")
        log("virtsh problems seen in this run:")
        for p in r.problems:
            log("   - " + p)
    log("")
    log("times: %s; total %.1f s" % (", ".join("%s %.1f s" % kv for kv in bench.times.items()),
                                     bench.total_s))


def main():
    global QEMU
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common.add_tool_args(ap)
    ap.add_argument("--qemu", default="/usr/bin/qemu-system-x86_64")
    ap.add_argument("--runs", type=int, default=None, help="runs per workload (default 5; "
                    "--quick: 2); one-shot commands use 5x, list --all 3x")
    ap.add_argument("--quick", action="store_true",
                    help="2 runs, 200 domains for list, 10 for domstats")
    ap.add_argument("--only", default=None,
                    help="comma-separated subset of: " + ",".join(WORKLOADS))
    ap.add_argument("--no-libvirt", action="store_true", help="skip the libvirt side")
    ap.add_argument("--domstats-n", type=int, default=None, help="running domains for domstats "
                    "(default 50; --quick: 10)")
    ap.add_argument("--list-n", type=int, default=None, help="defined domains for list --all "
                    "(default 1000; --quick: 200)")
    ap.add_argument("--tcg", action="store_true", help="bare domains with TCG even if KVM works")
    ap.add_argument("--json", default=None, help="also write the results as JSON to this path")
    args = ap.parse_args()
    if args.runs is None:
        args.runs = 2 if args.quick else 5
    if args.domstats_n is None:
        args.domstats_n = 10 if args.quick else 50
    if args.list_n is None:
        args.list_n = 200 if args.quick else 1000
    only = WORKLOADS
    if args.only:
        only = [x.strip() for x in args.only.split(",") if x.strip()]
        bad = [x for x in only if x not in WORKLOADS]
        if bad:
            ap.error("unknown workload(s) %s; known: %s" % (",".join(bad), ",".join(WORKLOADS)))
    args.virtsh = os.path.abspath(args.virtsh)
    QEMU = args.qemu

    common.on_signals()

    log("virtsh QEMU benchmark, %s, %d runs, %d CPUs" % (
        time.strftime("%Y-%m-%d %H:%M"), args.runs, os.cpu_count() or 0))
    bench = Bench(args)
    status = 0
    interrupted = False
    try:
        bench.run_all(only)
    except ToolError as e:
        log("error: %s" % e)
        status = 1
    except KeyboardInterrupt:
        log("\ninterrupted: cleaning up")
        interrupted = True
        status = 130
    finally:
        common.shield_cleanup()
        t0 = time.perf_counter()
        bench.cleanup()
        cleanup_s = time.perf_counter() - t0
    if status == 0:
        bench.times["cleanup"] = round(cleanup_s, 1)
        print_summary(bench, only)
    if args.json and not interrupted:
        data = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "runs": args.runs,
                "quick": args.quick, "accel": bench.accel, "libvirt": bench.libvirt_reason or
                "private libvirtd", "workloads": bench.results.workloads,
                "virtsh_problems": bench.results.problems,
                "times_s": getattr(bench, "times", {}), "total_s": getattr(bench, "total_s", None)}
        common.write_json(args.json, data, ensure_ascii=False)
    return status


QEMU = "/usr/bin/qemu-system-x86_64"

if __name__ == "__main__":
    sys.exit(main())
