"""A private libvirtd for the benchmarks and tests that compare virtsh with libvirt 9.0.

Shared by benches/qemu.py, benches/network.py and (through benches/qemu.py)
tests/qemu-vs-libvirt. The host's libvirt is never used or changed: libvirtd runs in its own
mount namespace (unshare -m) with private /etc/libvirt, /run/libvirt, /var/lib/libvirt,
/var/cache/libvirt and /var/log/libvirt (bind mounts of folders in the caller's temp dir), and
its sockets in that temp dir. With `netns=NAME` it also runs inside the network namespace NAME
(`ip netns exec NAME unshare -m ...`), so that what its network driver makes (bridges, dnsmasq,
iptables rules) lives there and not on the host.
"""
import os
import shutil
import subprocess
import time

LIBVIRT_DIRS = ["/etc/libvirt", "/run/libvirt", "/var/lib/libvirt", "/var/cache/libvirt",
                "/var/log/libvirt"]

ENV = dict(os.environ)
ENV.pop("LIBVIRT_DEFAULT_URI", None)
ENV.pop("VIRSH_DEFAULT_CONNECT_URI", None)
ENV["LC_ALL"] = "C"

# The user libvirt 9.0 looks up on a machine without libvirt-daemon-system (which creates it):
# its default QEMU user, resolved before qemu.conf is read. (Its dnsmasq needs no user of its
# own: libvirt writes no `user=` line, and dnsmasq drops to its built-in default.)
SYSTEM_USERS = {
    "libvirt-qemu": ("libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin",
                     "libvirt-qemu:x:64055:"),
}


class Unavailable(Exception):
    """One side of a workload cannot run; the reason is reported and the run goes on."""


def first_line(text):
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def run(argv, timeout=120, check=False):
    """Run argv; return (ms, rc, stdout, stderr). rc is None on timeout."""
    t0 = time.perf_counter()
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=ENV, timeout=timeout,
                           start_new_session=True)
    except subprocess.TimeoutExpired as e:
        ms = (time.perf_counter() - t0) * 1000
        out = (e.stdout or b"").decode(errors="replace")
        err = (e.stderr or b"").decode(errors="replace") + "\n(timed out after %ss)" % timeout
        if check:
            raise RuntimeError("%s: timed out after %ss" % (" ".join(argv[:4]), timeout))
        return ms, None, out, err
    ms = (time.perf_counter() - t0) * 1000
    out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    if check and p.returncode != 0:
        raise RuntimeError("%s ... exited %d: %s" % (" ".join(argv[:4])[:200], p.returncode,
                                                    first_line(err) or first_line(out)))
    return ms, p.returncode, out, err


class PrivateLibvirtd:
    """libvirtd in a private mount namespace (and optionally a network namespace).

    tmp: the caller's temp dir (this uses tmp/libvirtd); virsh: the virsh binary used to wait
    for the daemon; netns: a network namespace (from `ip netns add`) to run libvirtd in;
    driver: the URI scheme clients use, "qemu" (qemu:///system) or "network"
    (network:///system); the readiness check is `list --all` or `net-list --all` on it.
    """

    def __init__(self, tmp, virsh, netns=None, driver="qemu"):
        self.dir = os.path.join(tmp, "libvirtd")
        self.virsh = virsh
        self.netns = netns
        self.driver = driver
        self.proc = None
        self.created_dirs = []
        self.sock = os.path.join(self.dir, "sock", "libvirt-sock")
        self.uri = "%s:///system?socket=%s" % (driver, self.sock)
        self.pidfile = os.path.join(self.dir, "libvirtd.pid")
        self.logfile = os.path.join(self.dir, "libvirtd.log")
        self.outfile = os.path.join(self.dir, "libvirtd.out")

    def path(self, target):
        """Where a file under one of LIBVIRT_DIRS (as libvirtd sees it) is on the host."""
        for sub, top in zip(["etc", "run", "lib", "cache", "log"], LIBVIRT_DIRS):
            if target == top or target.startswith(top + "/"):
                return os.path.join(self.dir, sub) + target[len(top):]
        raise ValueError("%s is not under %s" % (target, LIBVIRT_DIRS))

    def start(self, timeout=30):
        d = self.dir
        if not shutil.which("libvirtd") or not shutil.which("unshare"):
            raise Unavailable("libvirtd or unshare not found")
        if self.netns and not shutil.which("ip"):
            raise Unavailable("ip (iproute2) not found")
        for sub in ["etc", "run", "lib", "cache", "log", "sock"]:
            os.makedirs(os.path.join(d, sub))
        with open(os.path.join(d, "etc", "libvirtd.conf"), "w") as f:
            f.write('unix_sock_dir = "%s"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\n'
                    'unix_sock_rw_perms = "0700"\nlog_outputs = "3:file:%s"\n'
                    % (os.path.join(d, "sock"), self.logfile))
        # user/group root: qemu runs as root, no libvirt-qemu user needed at run time; no
        # security driver, cgroups, private /dev or virtlogd, none of which exist here.
        with open(os.path.join(d, "etc", "qemu.conf"), "w") as f:
            f.write('user = "root"\ngroup = "root"\nsecurity_driver = "none"\n'
                    'stdio_handler = "file"\ncgroup_controllers = [ ]\nremember_owner = 0\n'
                    'namespaces = [ ]\n')
        # libvirt 9.0 resolves its default QEMU user (libvirt-qemu) before it reads qemu.conf, so
        # that user must exist: private copies of /etc/passwd and /etc/group that have it.
        binds = []
        for i, name in enumerate(("passwd", "group")):
            src = os.path.join("/etc", name)
            dst = os.path.join(d, name)
            shutil.copyfile(src, dst)
            with open(dst) as f:
                have = {line.split(":", 1)[0] for line in f}
            with open(dst, "a") as f:
                for user, entries in SYSTEM_USERS.items():
                    if user not in have:
                        f.write(entries[i] + "\n")
            binds.append((dst, src))
        for sub, target in zip(["etc", "run", "lib", "cache", "log"], LIBVIRT_DIRS):
            binds.append((os.path.join(d, sub), target))
        # Mount points must exist on the host; the ones created here are removed at cleanup.
        for target in LIBVIRT_DIRS:
            real = os.path.realpath(target)
            if not os.path.exists(real):
                os.makedirs(real)
                self.created_dirs.append(real)
        script = "set -e; " + "; ".join("mount --bind '%s' '%s'" % b for b in binds)
        script += "; exec libvirtd -f '%s' -p '%s'" % (
            os.path.join("/etc/libvirt", "libvirtd.conf"), self.pidfile)
        argv = ["unshare", "-m", "--propagation", "private", "sh", "-c", script]
        if self.netns:
            # `ip netns exec` execs its command, so the pid stays libvirtd's.
            argv = ["ip", "netns", "exec", self.netns] + argv
        with open(self.outfile, "wb") as out:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                         env=ENV, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None:
                raise Unavailable("libvirtd exited %s: %s" % (self.proc.returncode,
                                                             self.why()))
            if time.monotonic() > deadline:
                raise Unavailable("libvirtd's socket did not appear in %ss: %s"
                                  % (timeout, self.why()))
            time.sleep(0.02)
        # The socket exists before the drivers are initialised: wait until a client works.
        check = ["net-list", "--all"] if self.driver == "network" else ["list", "--all"]
        while True:
            _, rc, out, err = run([self.virsh, "-c", self.uri] + check, timeout=60)
            if rc == 0:
                if out.strip().splitlines()[2:]:
                    raise Unavailable("the private libvirtd is not empty: %s" % out)
                return
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise Unavailable("virsh cannot use the private libvirtd: %s" % (
                    first_line(err) or self.why()))
            time.sleep(0.1)

    def why(self):
        text = ""
        for p in (self.outfile, self.logfile):
            try:
                with open(p, errors="replace") as f:
                    text += f.read()
            except OSError:
                pass
        errs = [l for l in text.splitlines() if " error " in l or "rror" in l]
        return (errs[-1] if errs else first_line(text[-500:])) or "(no log)"

    def log_errors(self, since=0, limit=5):
        """The last `limit` error lines of libvirtd's log after byte offset `since`."""
        try:
            with open(self.logfile, "rb") as f:
                f.seek(since)
                text = f.read().decode(errors="replace")
        except OSError:
            return []
        return [l for l in text.splitlines() if " error : " in l][-limit:]

    def log_size(self):
        try:
            return os.path.getsize(self.logfile)
        except OSError:
            return 0

    def pid(self):
        if self.proc and self.proc.poll() is None:
            return self.proc.pid  # unshare and sh exec, so this is libvirtd itself
        return None

    def stop(self):
        """Stop libvirtd, and remove the mount points start() made (empty folders)."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
            self.proc = None
        self.remove_mount_points()

    def remove_mount_points(self):
        for p in reversed(self.created_dirs):
            try:
                os.rmdir(p)  # only if still empty
            except OSError:
                pass
        self.created_dirs = []
