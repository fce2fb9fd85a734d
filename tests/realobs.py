"""A real OBS Studio, headless, for integration tests, CI and benchmarks.

`HeadlessOBS` runs OBS on its own Xvfb display with a throwaway config (websocket
enabled, password set, preview off, no dialogs); `RTMPServer` runs nginx-rtmp on
loopback as a stream target; `reset_obs` brings a running OBS back to a known state.
Only the standard library is imported at module level, so `scripts/obs-headless`
can use this module outside the venv.

With SHOWCALLER_OBS_ROOT set to a tree built by `scripts/obs-trixie build` (Debian
trixie: OBS 30.2, obs-websocket 5.5), OBS runs from that tree instead of the system's
(`scripts/obs-trixie run`, which execs into OBS: the PID is OBS's own). Xvfb still runs
on the host; the host's /tmp is the tree's /tmp, so the temp dirs below, the X socket
and every temp file a test hands to OBS have the same path inside and out.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

_NGINX_RTMP_MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")
_PROFILE = "showcaller"
_STOP_GRACE_S = 5.0
# OBS 30's 207 window after its port opens lasted 33-93 ms (measured on 30.2.3).
_NOT_READY_WAIT_S = 0.5
# Selects an OBS tree built by scripts/obs-trixie; unset: the system's OBS.
OBS_ROOT_ENV = "SHOWCALLER_OBS_ROOT"
_OBS_TRIXIE = Path(__file__).resolve().parent.parent / "scripts" / "obs-trixie"
# What scripts/obs-trixie leaves in a finished tree.
_TREE_MARKER = ".showcaller-obs-tree"


class HeadlessOBSError(RuntimeError):
    """OBS, Xvfb or nginx could not be started; the message carries the tail of its log."""


# ---------------------------------------------------------------------------
# availability


def obs_root() -> Path | None:
    """The OBS tree SHOWCALLER_OBS_ROOT selects, or None for the system's OBS."""
    root = os.environ.get(OBS_ROOT_ENV)
    return Path(root) if root else None


def obs_available() -> tuple[bool, str]:
    """Whether OBS (on PATH, or the selected tree) and `Xvfb` are there; if not, what lacks."""
    root = obs_root()
    if root is not None:
        if shutil.which("Xvfb") is None:
            return False, "Xvfb not found on PATH"
        if not (root / _TREE_MARKER).is_file():
            return False, f"{OBS_ROOT_ENV}={root} is not a built tree (scripts/obs-trixie build)"
        if os.geteuid() != 0:
            return False, f"{OBS_ROOT_ENV} needs root (chroot and mounts)"
        return True, ""
    missing = [name for name in ("obs", "Xvfb") if shutil.which(name) is None]
    if missing:
        return False, f"{' and '.join(missing)} not found on PATH"
    return True, ""


def obs_command(root: Path | None) -> list[str]:
    """argv prefix that runs a program as OBS would see it: inside `root`, or directly."""
    if root is None:
        return []
    return [str(_OBS_TRIXIE), "run", "--root", str(root), "--"]


def obs_version(root: Path | None) -> tuple[int, int, int] | None:
    """OBS's (major, minor, patch) from `obs --version` (in `root` if given), or None."""
    try:
        out = subprocess.run(
            [*obs_command(root), "obs", "--version"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    # e.g. "OBS Studio - 29.0.2-1+b1" or "OBS Studio - 30.2.3.1-3"
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", out)
    if match is None:
        return None
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def _nginx_binary() -> str | None:
    # /usr/sbin is not on a normal user's PATH, but that is where Debian puts nginx.
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")


def nginx_rtmp_available() -> tuple[bool, str]:
    """Whether nginx and its RTMP module are installed, and if not, what is missing."""
    if _nginx_binary() is None:
        return False, "nginx not found (apt-get install nginx-light)"
    if not _NGINX_RTMP_MODULE.exists():
        return False, f"{_NGINX_RTMP_MODULE} not found (apt-get install libnginx-mod-rtmp)"
    return True, ""


# ---------------------------------------------------------------------------
# small process helpers


def free_port() -> int:
    """A TCP port that is free on all interfaces right now (OBS 5.1 binds all of them)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("", 0))
        port: int = sock.getsockname()[1]
        return port


def port_accepts(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _end_process(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Signal a process group leader and its group, escalate to SIGKILL, and reap it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class _Resources:
    """What must be released even if the owner is forgotten (weakref.finalize target)."""

    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    dirs: list[Path] = field(default_factory=list)

    def release(self) -> None:
        """Stop every process (last started first) and delete every temp dir."""
        for name in reversed(list(self.processes)):
            _end_process(self.processes.pop(name))
        while self.dirs:
            shutil.rmtree(self.dirs.pop(), ignore_errors=True)


# ---------------------------------------------------------------------------
# OBS


def _last_version(version: tuple[int, int, int]) -> int:
    # OBS's version encoded as (major << 24) | (minor << 16) | patch; with FirstRun=true
    # it tells OBS that the first-run wizard was already seen, by this very version.
    major, minor, patch = version
    return (major << 24) | (minor << 16) | patch


def _ini(sections: dict[str, dict[str, object]]) -> str:
    # OBS's config parser wants plain key=value without spaces around '='.
    out: list[str] = []
    for name, values in sections.items():
        out.append(f"[{name}]")
        out.extend(f"{key}={value}" for key, value in values.items())
        out.append("")
    return "\n".join(out)


class HeadlessOBS:
    """One real OBS Studio on its own Xvfb display with a throwaway config."""

    def __init__(
        self,
        *,
        port: int | None = None,
        password: str | None = None,
        width: int = 640,
        height: int = 360,
        fps: int = 30,
        startup_timeout: float = 20.0,
        language: str = "en-US",
        root: Path | None = None,
        split_and_chapters: bool = False,
    ) -> None:
        """Describe an instance; nothing runs until start(). `language`: OBS's UI locale;
        `root`: an OBS tree from scripts/obs-trixie (default: SHOWCALLER_OBS_ROOT, if set);
        `split_and_chapters`: record so that OBS 30 splits files by hand and takes chapter
        markers (Advanced output, manual splitting, Hybrid MP4), instead of Simple output."""
        self.port = port or free_port()
        self.password = password or secrets.token_urlsafe(12)
        self.url = f"ws://127.0.0.1:{self.port}"
        self.width, self.height, self.fps = width, height, fps
        self.startup_timeout = startup_timeout
        self.language = language
        self.split_and_chapters = split_and_chapters
        self.obs_root = root if root is not None else obs_root()
        self._version: tuple[int, int, int] | None = None
        self.display: int | None = None
        self.root: Path | None = None
        self._res = _Resources()
        self._finalizer = weakref.finalize(self, self._res.release)

    # paths (valid after start)

    @property
    def config_home(self) -> Path:
        """The XDG_CONFIG_HOME that OBS runs with."""
        return self._root / "config"

    @property
    def record_dir(self) -> Path:
        """Where recordings (.mkv) land."""
        return self._root / "recordings"

    @property
    def log_path(self) -> Path:
        """OBS's stdout/stderr (OBS logs there too), appended across restarts."""
        return self._root / "obs.log"

    @property
    def obs_pid(self) -> int | None:
        """PID of the OBS process, or None if it is not running."""
        proc = self._res.processes.get("obs")
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    def xvfb_pid(self) -> int | None:
        """PID of the Xvfb process, or None if it is not running."""
        proc = self._res.processes.get("xvfb")
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    def version(self) -> tuple[int, int, int]:
        """The OBS Studio version this instance runs, e.g. (29, 0, 2); asked once."""
        if self._version is None:
            found = obs_version(self.obs_root)
            if found is None:
                raise HeadlessOBSError(f"cannot tell the OBS version (root {self.obs_root})")
            self._version = found
        return self._version

    @property
    def _root(self) -> Path:
        if self.root is None:
            raise HeadlessOBSError("HeadlessOBS is not started")
        return self.root

    # lifecycle

    def start(self) -> Self:
        """Write the config, start Xvfb and OBS, return once the websocket accepts."""
        if self.root is not None:
            raise HeadlessOBSError("HeadlessOBS already started")
        self.root = Path(tempfile.mkdtemp(prefix="showcaller-obs-"))
        self._res.dirs.append(self.root)
        try:
            self._write_config()
            self._start_xvfb()
            self._start_obs()
        except BaseException:
            self._res.release()
            self.root = None
            raise
        return self

    def stop(self) -> None:
        """Stop OBS and Xvfb (SIGTERM, then SIGKILL) and delete the temp dirs."""
        self._res.release()
        self.root = None
        self.display = None

    def kill(self) -> None:
        """SIGKILL OBS only (a crash); Xvfb and the config stay for restart()."""
        proc = self._res.processes.pop("obs", None)
        if proc is not None:
            _end_process(proc, signal.SIGKILL)

    def restart(self) -> None:
        """Kill OBS and start it again on the same port, password and config."""
        self.kill()
        if self.xvfb_pid is None:
            self._start_xvfb()
        self._start_obs()

    def ensure_running(self) -> None:
        """Start OBS (and Xvfb) again if a test stopped or killed it."""
        if self.root is None:
            self.start()
        elif not self.is_running():
            self.restart()

    def is_running(self) -> bool:
        """Whether the OBS process is alive (not whether it answers)."""
        return self.obs_pid is not None

    def state(self) -> dict[str, Any]:
        """What scripts/obs-headless keeps in its state file (includes the password)."""
        return {
            "url": self.url,
            "port": self.port,
            "password": self.password,
            "obs_pid": self.obs_pid,
            "xvfb_pid": self.xvfb_pid,
            "display": self.display,
            "root": str(self._root),
            "obs_root": str(self.obs_root) if self.obs_root else None,
            "record_dir": str(self.record_dir),
            "log_path": str(self.log_path),
        }

    def release_ownership(self) -> None:
        """Forget the processes and dirs so they outlive this object (detached use)."""
        self._finalizer.detach()
        self._res = _Resources()

    def __enter__(self) -> Self:
        """Start if not started."""
        if self.root is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop."""
        self.stop()

    # internals

    def _write_config(self) -> None:
        obs_dir = self.config_home / "obs-studio"
        profile_dir = obs_dir / "basic" / "profiles" / _PROFILE
        profile_dir.mkdir(parents=True)
        (obs_dir / "basic" / "scenes").mkdir(parents=True)
        self.record_dir.mkdir()
        runtime = self._root / "runtime"
        runtime.mkdir(mode=0o700)
        (self._root / "cache").mkdir()
        general: dict[str, object] = {
            "FirstRun": "true",
            "Language": self.language,
            "LastVersion": _last_version(self.version),
            "EnableAutoUpdates": "false",
            "ConfirmOnExit": "false",
            "WarnBeforeStartingStream": "false",
            "WarnBeforeStoppingStream": "false",
            "WarnBeforeStoppingRecord": "false",
            "Pre19Defaults": "false",
            "Pre21Defaults": "false",
            "Pre23Defaults": "false",
            "Pre24.1Defaults": "false",
        }
        global_ini = _ini(
            {
                "General": general,
                "Basic": {
                    "Profile": _PROFILE,
                    "ProfileDir": _PROFILE,
                    "SceneCollection": _PROFILE,
                    "SceneCollectionFile": _PROFILE,
                },
                "BasicWindow": {"PreviewEnabled": "false", "SysTrayEnabled": "false"},
                "OBSWebSocket": {
                    "FirstLoad": "false",
                    "ServerEnabled": "true",
                    "ServerPort": self.port,
                    "AlertsEnabled": "false",
                    "AuthRequired": "true",
                    "ServerPassword": self.password,
                },
            }
        )
        basic_sections: dict[str, dict[str, object]] = {
            "General": {"Name": _PROFILE},
            "Video": {
                "BaseCX": self.width,
                "BaseCY": self.height,
                "OutputCX": self.width,
                "OutputCY": self.height,
                "FPSType": 0,
                "FPSCommon": self.fps,
            },
            "Output": {"Mode": "Simple"},
            "SimpleOutput": {
                "FilePath": self.record_dir,
                "RecFormat": "mkv",
                # "Stream" quality makes Pause/ResumeRecord fail with 503.
                "RecQuality": "Small",
                "RecEncoder": "x264",
                "StreamEncoder": "x264",
                "Preset": "ultrafast",
            },
        }
        if self.split_and_chapters:
            basic_sections["Output"]["Mode"] = "Advanced"
            basic_sections["AdvOut"] = {
                "RecType": "Standard",
                "RecFilePath": self.record_dir,
                # Only OBS 30.2+ has Hybrid MP4, the one format that takes chapters.
                "RecFormat2": "hybrid_mp4" if self.version >= (30, 2, 0) else "mkv",
                "RecEncoder": "obs_x264",
                "RecTracks": 1,
                "RecSplitFile": "true",
                "RecSplitFileType": "Manual",
            }
            # A split takes effect at the next keyframe: one a second, not x264's 250 frames.
            (profile_dir / "recordEncoder.json").write_text(
                json.dumps({"keyint_sec": 1, "preset": "ultrafast"})
            )
        basic_ini = _ini(basic_sections)
        # The password is in this file; keep it private.
        for path, text in (
            (obs_dir / "global.ini", global_ini),
            (profile_dir / "basic.ini", basic_ini),
        ):
            path.write_text(text)
            path.chmod(0o600)

    def _popen(
        self, argv: list[str], env: dict[str, str], **kwargs: Any
    ) -> subprocess.Popen[bytes]:
        # Own session: killpg reaches any children, and a terminal's Ctrl-C does not.
        return subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            **kwargs,
        )

    def _start_xvfb(self) -> None:
        read_fd, write_fd = os.pipe()
        try:
            proc = self._popen(
                [
                    "Xvfb",
                    "-displayfd",
                    str(write_fd),
                    "-screen",
                    "0",
                    "640x480x24",
                    "-nolisten",
                    "tcp",
                ],
                env=dict(os.environ),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(write_fd,),
            )
            self._res.processes["xvfb"] = proc
            os.close(write_fd)
            write_fd = -1
            self.display = self._read_display(read_fd, proc)
        finally:
            os.close(read_fd)
            if write_fd >= 0:
                os.close(write_fd)

    def _read_display(self, read_fd: int, proc: subprocess.Popen[bytes]) -> int:
        # Xvfb writes "N\n" once it accepts clients; EOF means it died.
        deadline = time.monotonic() + self.startup_timeout
        data = b""
        while not data.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise HeadlessOBSError("Xvfb did not report a display in time")
            ready, _, _ = select.select([read_fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(read_fd, 64)
            if not chunk:
                raise HeadlessOBSError(
                    f"Xvfb exited (code {proc.poll()}) before reporting a display"
                )
            data += chunk
        return int(data.strip())

    def _obs_env(self) -> dict[str, str]:
        env = dict(os.environ)
        for var in ("WAYLAND_DISPLAY", "SESSION_MANAGER"):
            env.pop(var, None)
        env.update(
            DISPLAY=f":{self.display}",
            XDG_CONFIG_HOME=str(self.config_home),
            XDG_RUNTIME_DIR=str(self._root / "runtime"),
            XDG_CACHE_HOME=str(self._root / "cache"),
            LIBGL_ALWAYS_SOFTWARE="1",
            QT_QPA_PLATFORM="xcb",
        )
        return env

    def _start_obs(self) -> None:
        # Else the readiness poll below would mistake another server for this OBS.
        if port_accepts(self.port):
            raise HeadlessOBSError(f"port {self.port} is already in use; cannot start OBS on it")
        with self.log_path.open("ab") as log:
            proc = self._popen(
                [*obs_command(self.obs_root), "obs", *self._obs_flags()],
                env=self._obs_env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self._root,
            )
        self._res.processes["obs"] = proc
        self._wait_until_accepting(proc)
        # OBS 29 answers requests as soon as its port accepts; 30 opens the port before
        # it has loaded its scenes and refuses every request with 207 (not ready) for
        # about 50 ms more (measured): wait that out so a started OBS is a usable one.
        if self.version >= (30, 0, 0):
            self._wait_until_answering(proc)

    def _wait_until_answering(self, proc: subprocess.Popen[bytes]) -> None:
        # Test-only dependency, imported late so scripts/obs-headless runs without it.
        try:
            from obswebsocket import obsws  # type: ignore[import-untyped]
            from obswebsocket import requests as req
        except ImportError:
            # Outside the venv (scripts/obs-headless with a bare python3): wait well past
            # the window instead of asking.
            time.sleep(_NOT_READY_WAIT_S)
            return
        deadline = time.monotonic() + self.startup_timeout
        ws = obsws("127.0.0.1", self.port, self.password, legacy=False, timeout=5)
        connect(ws)
        try:
            while not ws.call(req.GetSceneList()).status:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise HeadlessOBSError(
                        f"OBS on port {self.port} never became ready (207); last lines of "
                        f"its log:\n{_tail(self.log_path)}"
                    )
                time.sleep(0.01)
        finally:
            ws.disconnect()

    def _obs_flags(self) -> list[str]:
        flags = ["--multi", "--disable-missing-files-check"]
        # OBS 30 may ask whether to start in safe mode after an unclean exit (the SIGKILL
        # tests make one). With --multi it did not (30.2.3, measured); the flag makes
        # sure. 29 has no such dialog and no such flag.
        if self.version >= (30, 0, 0):
            flags.append("--disable-shutdown-check")
        return flags

    def _wait_until_accepting(self, proc: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while not port_accepts(self.port):
            # OBS exits with code 0 when it cannot open the display: check liveness.
            code = proc.poll()
            if code is not None:
                raise HeadlessOBSError(
                    f"OBS exited with code {code} before its websocket accepted on port "
                    f"{self.port}; last lines of its log:\n{_tail(self.log_path)}"
                )
            if time.monotonic() > deadline:
                raise HeadlessOBSError(
                    f"OBS websocket not accepting on port {self.port} after "
                    f"{self.startup_timeout:.0f} s; last lines of its log:\n"
                    f"{_tail(self.log_path)}"
                )
            time.sleep(0.05)


# ---------------------------------------------------------------------------
# detached instances (scripts/obs-headless)


def _pid_runs(pid: int | None, name: str) -> bool:
    """Whether pid is alive and its command is `name` (guards against PID reuse)."""
    if not pid:
        return False
    try:
        argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0]
    except OSError:
        return False
    return os.path.basename(argv0.decode(errors="replace")) == name


# What a state file may name: PID key, expected command name.
_DETACHED_PROCESSES = (("obs_pid", "obs"), ("xvfb_pid", "Xvfb"), ("nginx_pid", "nginx"))


def stop_detached(state: dict[str, Any]) -> list[int]:
    """Stop the processes a state dict names, delete its dirs; return the PIDs ended."""
    ended: list[int] = []
    for key, name in _DETACHED_PROCESSES:
        pid = state.get(key)
        if not isinstance(pid, int) or not _pid_runs(pid, name):
            continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + _STOP_GRACE_S
        while _pid_runs(pid, name) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _pid_runs(pid, name):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        ended.append(pid)
    for key in ("root", "rtmp_root"):
        root = state.get(key)
        # Only dirs this module created, whatever a hand-edited state file says.
        if isinstance(root, str) and Path(root).name.startswith(
            ("showcaller-obs-", "showcaller-rtmp-")
        ):
            shutil.rmtree(root, ignore_errors=True)
    return ended


def detached_status(state: dict[str, Any]) -> dict[str, bool]:
    """Liveness of each process a state dict names, and whether the websocket accepts."""
    status = {
        name: _pid_runs(state[key], name) for key, name in _DETACHED_PROCESSES if key in state
    }
    status["websocket"] = isinstance(state.get("port"), int) and port_accepts(state["port"])
    return status


def write_state(path: Path, state: dict[str, Any]) -> None:
    """Write a state file readable only by its owner (it holds the password)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(state, out, indent=2)
        out.write("\n")


def read_state(path: Path) -> dict[str, Any]:
    """Read a state file written by write_state."""
    data: dict[str, Any] = json.loads(path.read_text())
    return data


# ---------------------------------------------------------------------------
# RTMP target


class RTMPServer:
    """nginx with the RTMP module on a free loopback port: a stream target for OBS."""

    def __init__(self, *, port: int | None = None, startup_timeout: float = 10.0) -> None:
        """Describe a server; nothing runs until start()."""
        self.port = port or free_port()
        self.url = f"rtmp://127.0.0.1:{self.port}/live"
        self.startup_timeout = startup_timeout
        self.root: Path | None = None
        self._res = _Resources()
        self._finalizer = weakref.finalize(self, self._res.release)

    @property
    def log_path(self) -> Path:
        """nginx's error log."""
        if self.root is None:
            raise HeadlessOBSError("RTMPServer is not started")
        return self.root / "error.log"

    def start(self) -> Self:
        """Start nginx and return once the RTMP port accepts."""
        nginx = _nginx_binary()
        if nginx is None:
            raise HeadlessOBSError("nginx not found")
        self.root = root = Path(tempfile.mkdtemp(prefix="showcaller-rtmp-"))
        self._res.dirs.append(root)
        conf = root / "nginx.conf"
        # master_process off: one process, so a SIGKILL leaves no orphaned worker.
        conf.write_text(
            f"load_module {_NGINX_RTMP_MODULE};\n"
            "daemon off;\n"
            "master_process off;\n"
            f"pid {root}/nginx.pid;\n"
            f"error_log {root}/error.log info;\n"
            "events { worker_connections 64; }\n"
            "rtmp { server {\n"
            f"  listen 127.0.0.1:{self.port};\n"
            "  application live { live on; record off; }\n"
            "} }\n"
        )
        try:
            with (root / "stderr.log").open("wb") as stderr:
                proc = subprocess.Popen(
                    [nginx, "-c", str(conf), "-p", str(root), "-e", str(root / "error.log")],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    start_new_session=True,
                )
            self._res.processes["nginx"] = proc
            deadline = time.monotonic() + self.startup_timeout
            while not port_accepts(self.port):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise HeadlessOBSError(
                        f"nginx-rtmp did not come up on port {self.port}:\n"
                        f"{_tail(root / 'stderr.log')}\n{_tail(root / 'error.log')}"
                    )
                time.sleep(0.05)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop nginx and delete its temp dir."""
        self._res.release()
        self.root = None

    def state(self) -> dict[str, Any]:
        """What scripts/obs-headless keeps in its state file."""
        proc = self._res.processes.get("nginx")
        return {
            "rtmp_url": self.url,
            "nginx_pid": proc.pid if proc is not None and proc.poll() is None else None,
            "rtmp_root": str(self.root) if self.root else None,
        }

    def bytes_received(self) -> int:
        """Bytes the server has received on its open connections (the kernel's tcp_info,
        via `ss`): grows while a stream arrives; a new connection counts from 0."""
        out = subprocess.run(
            ["ss", "-tinH", "state", "established", f"( sport = :{self.port} )"],
            capture_output=True,
            text=True,
            check=True,
            timeout=5,
        ).stdout
        return sum(int(m) for m in re.findall(r"bytes_received:(\d+)", out))

    def release_ownership(self) -> None:
        """Forget the process and dir so they outlive this object (detached use)."""
        self._finalizer.detach()
        self._res = _Resources()

    def __enter__(self) -> Self:
        """Start if not started."""
        if self.root is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop."""
        self.stop()


# ---------------------------------------------------------------------------
# known state between tests


class ResetIncomplete(HeadlessOBSError):
    """reset_obs could not bring OBS to the known state (something kept a source alive)."""


def reset_obs(url: str, password: str, *, timeout: float = 10.0, settle: float = 3.0) -> None:
    """Bring a running OBS to a known state: no outputs, one empty "Scene" on program."""
    # Also: studio mode off, no inputs at all, Fade 300 ms as the current transition.
    # Test-only dependency, imported late so scripts/obs-headless runs without it.
    from obswebsocket import obsws  # type: ignore[import-untyped]
    from obswebsocket import requests as req

    parts = urlsplit(url)
    ws = obsws(
        parts.hostname or "127.0.0.1", parts.port or 4455, password, legacy=False, timeout=timeout
    )
    connect(ws)
    try:
        _stop_outputs(ws, req, timeout)
        current = ws.call(req.GetCurrentSceneTransition()).datain
        if (current.get("transitionName"), current.get("transitionDuration")) != ("Fade", 300):
            ws.call(req.SetCurrentSceneTransition(transitionName="Fade"))
            ws.call(req.SetCurrentSceneTransitionDuration(transitionDuration=300))
        # OBS 29 applies studio mode and removals on its UI thread and keeps listing a
        # removed source while something still holds it: repeat until a pass finds
        # nothing left to clean.
        # A removed scene can leave GetSceneList while its source still exists (CreateScene
        # of the same name then fails with 601): names removed here are checked until gone.
        removed: set[str] = set()
        deadline = time.monotonic() + settle
        while found := _clean_pass(ws, req, removed):
            if time.monotonic() > deadline:
                raise ResetIncomplete(f"reset_obs: still present after {settle} s: {found}")
            time.sleep(0.05)
    finally:
        ws.disconnect()


def _clean_pass(ws: Any, req: Any, removed: set[str]) -> list[str]:
    """Remove what differs from the known state; return what was found (empty: clean)."""
    found: list[str] = []
    for name in sorted(removed):
        # Any failure of GetSourceActive here means OBS no longer knows the name.
        if ws.call(req.GetSourceActive(sourceName=name)).status:
            found.append(f"source {name!r} still exists after removal")
        else:
            removed.discard(name)
    if ws.call(req.GetStudioModeEnabled()).datain.get("studioModeEnabled"):
        found.append("studio mode")
        ws.call(req.SetStudioModeEnabled(studioModeEnabled=False))
    scenes = [s["sceneName"] for s in ws.call(req.GetSceneList()).getScenes()]
    if "Scene" not in scenes:
        found.append("no Scene")
        _ok(ws.call(req.CreateScene(sceneName="Scene")))
    program = ws.call(req.GetCurrentProgramScene()).datain.get("currentProgramSceneName")
    if program != "Scene":
        found.append(f"program {program!r}")
        _ok(ws.call(req.SetCurrentProgramScene(sceneName="Scene")))
    for name in scenes:
        if name != "Scene":
            found.append(f"scene {name!r}")
            ws.call(req.RemoveScene(sceneName=name))
            removed.add(name)
    for item in ws.call(req.GetSceneItemList(sceneName="Scene")).datain.get("sceneItems", []):
        found.append(f"scene item {item.get('sourceName')!r}")
        ws.call(req.RemoveSceneItem(sceneName="Scene", sceneItemId=item["sceneItemId"]))
    for inp in ws.call(req.GetInputList()).getInputs():
        found.append(f"input {inp['inputName']!r}")
        ws.call(req.RemoveInput(inputName=inp["inputName"]))
        removed.add(inp["inputName"])
    return found


def connect(ws: Any) -> None:
    """obsws.connect(), closing the socket when it fails (else a ResourceWarning follows)."""
    try:
        ws.connect()
    except BaseException:
        if ws.ws is not None:
            ws.ws.shutdown()
        raise


def _ok(response: Any) -> Any:
    if not response.status:
        raise HeadlessOBSError(f"reset_obs: {response!r}")
    return response


def _stop_outputs(ws: Any, req: Any, timeout: float) -> None:
    """Stop stream, recording and replay buffer if active, and wait until they are."""
    outputs = (
        (req.GetStreamStatus, req.StopStream),
        (req.GetRecordStatus, req.StopRecord),
        (req.GetReplayBufferStatus, req.StopReplayBuffer),
    )
    pending = []
    for status, stop in outputs:
        response = ws.call(status())
        # GetReplayBufferStatus fails (604) when no replay buffer is configured.
        if response.status and response.datain.get("outputActive"):
            ws.call(stop())
            pending.append(status)
    deadline = time.monotonic() + timeout
    while pending:
        pending = [s for s in pending if ws.call(s()).datain.get("outputActive")]
        if pending and time.monotonic() > deadline:
            raise HeadlessOBSError(f"reset_obs: outputs still active after {timeout} s")
        if pending:
            time.sleep(0.1)
