"""
Files every command writes and reads: atomic writes (no torn file, no temp file left behind,
whatever ends the process), content hashes, JSON we wrote, locks on run and data dirs, and
progress lines for logs.
"""
import contextlib
import glob
import hashlib
import json
import os
import signal
import sys
import threading
import time

from scalex.configurator import ConfigError


# ----------------------------------------------------------------------------- files
# Every file a run or a data dir depends on is written atomically and identified by hash.
def sha256_file(path, chunk=1 << 22):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while b := f.read(chunk):
            h.update(b)
    return h.hexdigest()


_TEMPS = set()  # temp files being written: removed on every exit, a signal's included


def atomic_write(path, write_fn, mode="wb"):
    """Write through a temp file and rename: a reader sees the old file or the whole new one,
    never a torn one, whatever kills us in between. The temp file goes on every way out (an
    error, Ctrl-C, SIGTERM); one a SIGKILL left behind goes with the next write of `path`."""
    for old in glob.glob(glob.escape(path) + ".tmp[0-9]*"):
        pid = old.rpartition(".tmp")[2]
        if pid.isdigit() and not _alive(int(pid)):
            os.remove(old)
    tmp = f"{path}.tmp{os.getpid()}"
    _TEMPS.add(tmp)
    try:
        with open(tmp, mode) as f:
            write_fn(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        _TEMPS.discard(tmp)
        if os.path.exists(tmp):
            os.remove(tmp)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _on_signal(signum, frame):
    for tmp in list(_TEMPS):
        with contextlib.suppress(OSError):
            os.remove(tmp)
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


for _sig in (signal.SIGTERM, signal.SIGHUP):
    if signal.getsignal(_sig) == signal.SIG_DFL and threading.current_thread() is threading.main_thread():
        signal.signal(_sig, _on_signal)


def write_json(path, obj):
    atomic_write(path, lambda f: json.dump(obj, f, indent=1), mode="w")


def read_json(path, fix):
    """A JSON file we wrote; a torn or edited one is one line naming it and `fix`."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid JSON ({str(e)[:80]}), truncated or edited; {fix}") from None


# ----------------------------------------------------------------------------- locks
_LOCKS = {}  # path -> the held filelock.FileLock (an flock: the OS drops it when the process dies)


def lock(path, what, fix):
    """Exclusive lock on `path` (created if missing) until unlock(path) or the process exits:
    a second process on the same run or data dir gets one line instead of interleaving writes.
    The holder writes its pid into the file, which that line quotes."""
    from filelock import FileLock, Timeout
    if path in _LOCKS:
        raise ConfigError(f"{what}: already in use by this process; {fix}")
    held = FileLock(path, timeout=0, is_singleton=False)
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        held.acquire()
        with open(path, "w") as f:  # the file stays on release (removing it would race a waiting locker)
            f.write(f"pid {os.getpid()} since {time.strftime('%H:%M:%S')}")
    except Timeout:
        with open(path) as f:
            holder = f.read().strip() or "another process"
        raise ConfigError(f"{what}: in use by {holder} (lock {path}); {fix}") from None
    except OSError as e:
        raise ConfigError(f"{what}: cannot create {path} ({e.strerror}); choose a folder that is a directory you can write") from None
    _LOCKS[path] = held
    return path


def unlock(path):
    held = _LOCKS.pop(path, None)
    if held:
        held.release(force=True)


# ----------------------------------------------------------------------------- progress
class _Lines:
    """tqdm's interface for logs: a plain line every `every` seconds and one at the end."""

    def __init__(self, total, desc, unit, initial, every):
        self.total, self.desc, self.unit, self.n, self.every = total, desc, unit, initial, every
        self.t0 = self.t_last = time.time()
        self.n0, self.post = initial, ""

    def update(self, k=1):
        self.n += k
        if time.time() - self.t_last >= self.every:
            self._line()

    def set_postfix(self, **kw):
        self.post = ", ".join(f"{k}={v}" for k, v in kw.items())

    def _line(self):
        self.t_last = time.time()
        rate = (self.n - self.n0) / max(1e-9, self.t_last - self.t0)
        pct = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
        left = f", {(self.total - self.n) / rate:.0f}s left" if self.total and rate > 0 else ""
        print(f"{self.desc}: {self.n:,}{f'/{self.total:,}' if self.total else ''} {self.unit}{pct}, "
              f"{rate:,.1f} {self.unit}/s{left}{f', {self.post}' if self.post else ''}", flush=True)

    def close(self):
        if self.n != self.n0:
            self._line()
            self.n0 = self.n


def progress(total=None, desc="", unit="it", initial=0, disable=False):
    """A progress bar on a terminal; in logs (stdout not a terminal) a plain line every
    SCALEX_PROGRESS_S seconds (30) instead, so CI and nohup logs still show where a run is."""
    from tqdm import tqdm
    if disable or sys.stdout.isatty():
        return tqdm(total=total, desc=desc, unit=unit, initial=initial, disable=disable, dynamic_ncols=True, leave=False)
    return _Lines(total, desc, unit, initial, float(os.environ.get("SCALEX_PROGRESS_S", "30")))
