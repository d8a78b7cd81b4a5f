"""What the benchmarks share (benches/lxc.py, network.py, qemu.py and remote.py): printing and
medians, their common options, the checks of the tools they run, /proc look-ups for the
clean-up, and the frame of a run (signals, clean-up on errors and Ctrl-C, the JSON file).

The private libvirtd they compare with is benches/libvirtd.py's.
"""
import json
import os
import shutil
import signal
import statistics
import time

from libvirtd import Unavailable, first_line, run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ToolError(Exception):
    """A tool cannot run at all: the script exits 1."""


def log(msg=""):
    print(msg, flush=True)


def med(xs):
    return statistics.median(xs) if xs else None


def fmt(v, unit=""):
    """A number of ms (or MiB) for a table: one decimal below 1000, none above; `-` for None."""
    if v is None:
        return "-"
    return ("%.1f" % v if v < 1000 else "%.0f" % v) + unit


def missing(*programs):
    """The programs not found on PATH."""
    return [p for p in programs if not shutil.which(p)]


# ---------------------------------------------------------------------------------------------
# Options and tools


def add_tool_args(ap):
    """--virtsh (default: the release build) and --virsh."""
    ap.add_argument("--virtsh", default=os.path.join(ROOT, "target", "release", "virtsh"))
    ap.add_argument("--virsh", default="virsh")


def add_common_args(ap, per="side", busybox=False):
    """--virtsh, --virsh, --busybox if asked, then --runs and --quick: 10 runs per `per`, or 3
    with --quick (see parse_args)."""
    add_tool_args(ap)
    if busybox:
        ap.add_argument("--busybox", default="/usr/bin/busybox")
    ap.add_argument("--runs", type=int, default=None, help="runs per %s (default 10; "
                    "--quick: 3)" % per)
    ap.add_argument("--quick", action="store_true", help="3 runs per %s" % per)


def parse_args(ap):
    """--json, last, then the options parsed, and --runs set (see add_common_args)."""
    ap.add_argument("--json", default=None, help="also write every sample to this file")
    a = ap.parse_args()
    if a.runs is None:
        a.runs = 3 if a.quick else 10
    a.runs = max(1, a.runs)
    return a


def version(path, check=True):
    """The first line of `PATH --version`; with check, ToolError if it fails."""
    _, rc, out, err = run([path, "--version"], timeout=30)
    if check and rc != 0:
        raise ToolError("%s --version failed: %s" % (path, first_line(err)))
    return first_line(out)


def check_virtsh(path):
    """The first line of `virtsh --version`; ToolError if virtsh cannot run."""
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise ToolError("virtsh not found at %s (cargo build --release, or --virtsh PATH)"
                        % path)
    return version(path)


# ---------------------------------------------------------------------------------------------
# /proc


def cmdline(pid):
    """The arguments of pid (bytes), or None if it is gone."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return None


def pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def find_pids(pred):
    """(pid, arguments) of the processes (not this one) whose arguments satisfy pred."""
    me = os.getpid()
    for pid in pids():
        if pid == me:
            continue
        cmd = cmdline(pid)
        if cmd and pred(cmd):
            yield pid, cmd


def with_marker(markers):
    """A find_pids predicate: an argument contains one of the byte strings in markers."""
    return lambda cmd: any(m in arg for arg in cmd for m in markers)


def status_kib(pid, field):
    """A kB field of /proc/PID/status (VmRSS, VmHWM, ...), or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def alive(pid):
    """pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def kill_pids(pids, grace=3.0):
    """SIGTERM, then SIGKILL to what still runs after grace seconds."""
    pids = [p for p in pids if os.path.exists("/proc/%d" % p)]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.05)
    for pid in pids:
        if alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def kill_leftover(pid, what=None):
    """SIGKILL to a process the run left, said in a cleanup line."""
    try:
        os.kill(pid, signal.SIGKILL)
        log("cleanup: killed leftover process %d%s" % (pid, " (%s)" % what if what else ""))
    except OSError:
        pass


def stop_daemon(daemon):
    """Stop a PrivateLibvirtd; a failure is said and the clean-up goes on."""
    try:
        daemon.stop()
    except Exception as e:  # go on: leftovers are killed afterwards
        log("cleanup: libvirtd: %s" % e)


# ---------------------------------------------------------------------------------------------
# The frame of a run


def on_signals():
    """SIGTERM and SIGHUP end the run as Ctrl-C does, and Ctrl-C does even if the script was
    started ignoring it: KeyboardInterrupt, then the clean-up."""
    def on_term(signum, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)


def shield_cleanup():
    """A second Ctrl-C must not stop the clean-up half way."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def write_json(path, data, **kw):
    with open(path, "w") as f:
        json.dump(data, f, indent=2, **kw)
        f.write("\n")
    log("JSON written to %s" % path)


def run_bench(title, bench, body, json_path=None):
    """Run body() (setup, runs, report), then bench.cleanup() whatever happens. ToolError: exit
    status 1; Unavailable: said, status 0; Ctrl-C: 130. On success the time it took, and
    bench.to_json() (unless None) written to json_path if given. The exit status."""
    status = 0
    t0 = time.perf_counter()
    try:
        body()
    except ToolError as e:
        log("%s: error: %s" % (title, e))
        status = 1
    except Unavailable as e:
        log("%s unavailable: %s" % (title, e))
    except KeyboardInterrupt:
        log("\ninterrupted: cleaning up")
        status = 130
    finally:
        shield_cleanup()
        bench.cleanup()
    if status == 0:
        log("%s: %.1f s" % (title, time.perf_counter() - t0))
        data = bench.to_json() if json_path else None
        if data is not None:
            write_json(json_path, data)
    return status


def side_json(side):
    """A side's samples, medians, warm-up and failures, for the JSON file."""
    return {"label": side.label, "unavailable": side.unavailable,
            "samples": {k: [round(x, 3) for x in v] for k, v in side.samples.items()},
            "medians": {k: med(v) for k, v in side.samples.items()},
            "warmup": side.first, "failures": side.failures}
