"""A real `showcaller rehearse` with its dashboard on an 80×24 pseudo-terminal: keys work,
Ctrl-C and SIGTERM are handled, and the terminal is put back however the show ends."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from rich.cells import get_character_cell_size

ROOT = Path(__file__).resolve().parent.parent
SHOWCALLER = [sys.executable, "-m", "showcaller"]
# Where the captured screens go besides the test's tmp folder (to look at them).
ARTIFACTS_ENV = "SHOWCALLER_TEST_ARTIFACTS"

_CSI = re.compile(r"\x1b\[([?0-9;]*)([@-~])")


class Screen:
    """Just enough of a VT100 to read what rich's full-screen Live draws."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.clear()

    def clear(self) -> None:
        self.cells = [[" "] * self.width for _ in range(self.height)]
        self.row = self.col = 0

    def feed(self, text: str) -> None:
        i = 0
        while i < len(text):
            char = text[i]
            if char == "\x1b":
                match = _CSI.match(text, i)
                if match is None:  # an incomplete or other escape: skip the ESC
                    i += 1
                    continue
                self._csi(match.group(1), match.group(2))
                i = match.end()
                continue
            if char == "\r":
                self.col = 0
            elif char == "\n":
                self.row = min(self.row + 1, self.height - 1)
            elif char >= " ":
                self._put(char)
            i += 1

    def _csi(self, params: str, final: str) -> None:
        if final == "H":
            parts = [int(p) if p else 1 for p in params.split(";")] if params else [1, 1]
            self.row, self.col = parts[0] - 1, (parts[1] - 1 if len(parts) > 1 else 0)
        elif (final == "J" and params in ("2", "3")) or (final in "hl" and params == "?1049"):
            self.clear()
        elif final == "K":
            for c in range(self.col, self.width):
                self.cells[self.row][c] = " "

    def _put(self, char: str) -> None:
        size = get_character_cell_size(char)
        if self.col + size > self.width:
            return
        self.cells[self.row][self.col] = char
        if size == 2 and self.col + 1 < self.width:
            self.cells[self.row][self.col + 1] = ""
        self.col += size

    def text(self) -> str:
        return "\n".join("".join(row).rstrip() for row in self.cells)


def _controlling_terminal() -> None:
    """In the child: a session of its own whose controlling terminal is the pty, as a
    shell's foreground job has (so Ctrl-C with signal keys on would be a SIGINT)."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """A process on a pseudo-terminal (80×24 unless told), drained all the time."""

    def __init__(self, argv: list[str], *, width: int = 80, height: int = 24) -> None:
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
        self.before = termios.tcgetattr(self.slave)
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        env["TERM"] = "xterm-256color"
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=self.slave,
            stdout=self.slave,
            stderr=self.slave,
            close_fds=True,
            preexec_fn=_controlling_terminal,  # before the reader thread starts
        )
        self.screen = Screen(width, height)
        self.raw = ""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._drain, name="pty reader", daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self.master, 65536).decode(errors="replace")
            except OSError:
                return
            with self._lock:
                self.raw += data
                self.screen.feed(data)

    def text(self) -> str:
        with self._lock:
            return self.screen.text()

    async def wait_for(self, pattern: str, within: float = 20) -> str:
        deadline = time.monotonic() + within
        while True:
            text = self.text()
            if re.search(pattern, text):
                return text
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {pattern!r} on the screen:\n{text}")
            await asyncio.sleep(0.05)

    async def wait_for_output(self, text: str, within: float = 20) -> None:
        deadline = time.monotonic() + within
        while text not in self.raw:
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {text!r}:\n{self.raw[-3000:]}")
            await asyncio.sleep(0.05)

    def resize(self, width: int, height: int) -> None:
        """A new size, as a terminal window dragged bigger (the process redraws)."""
        with self._lock:
            self.screen = Screen(width, height)
            fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    async def exit_code(self, within: float = 30) -> int:
        return await asyncio.to_thread(self.proc.wait, within)

    def attrs(self) -> list[Any]:
        return termios.tcgetattr(self.slave)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self._stop.set()
        self._reader.join(2)
        os.close(self.master)
        os.close(self.slave)


def _records(journal: Path, kind: str) -> list[dict[str, Any]]:
    if not journal.exists():
        return []
    lines = journal.read_text(encoding="utf-8").splitlines()
    return [r for r in (json.loads(x) for x in lines if x.strip()) if r["kind"] == kind]


async def _until(predicate: Any, what: str, within: float = 20) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def _rehearse(journal: Path, speed: str = "60") -> list[str]:
    return [
        *SHOWCALLER,
        "rehearse",
        "config.example.toml",
        "--obs",
        "sim",
        "--speed",
        speed,
        "--journal",
        str(journal),
        "--web-port",  # any free port: another test's showcaller may hold 8080
        "0",
    ]


def _save(tmp_path: Path, name: str, screen: str) -> None:
    folders = [tmp_path]
    if os.environ.get(ARTIFACTS_ENV):
        folders.append(Path(os.environ[ARTIFACTS_ENV]))
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(screen + "\n", encoding="utf-8")


def _restored(term: Terminal) -> None:
    after = term.attrs()
    assert after == term.before
    assert after[3] & termios.ECHO
    assert after[3] & termios.ICANON
    assert after[3] & termios.ISIG


@pytest.mark.slow
async def test_keys_steer_a_rehearsal_and_q_end_puts_the_terminal_back(tmp_path: Path) -> None:
    journal = tmp_path / "rehearsal.jsonl"
    term = Terminal(_rehearse(journal))
    try:
        await term.wait_for(r"ON AIR 1/13 standby", 30)
        term.type("n")
        await _until(lambda: _records(journal, "command"), "the key's command in the journal")
        screen = await term.wait_for(r"✓ n: next")
        _save(tmp_path, "dashboard-80x24.txt", screen)
        assert re.search(r"ON AIR [23]/13", screen), screen
        assert len(screen.splitlines()) == 24
        command = _records(journal, "command")[0]
        assert (command["command"], command["source"]) == ("next", "keys")
        started = [r for r in _records(journal, "cue") if r.get("cue") == "slot_started"]
        assert started[-1]["reason"] == "command"
        term.type("m")
        term.type("あと5分です\r")
        await term.wait_for("timer says: あと5分です")
        term.type("q")
        screen = await term.wait_for(r"quit: type `end`")
        _save(tmp_path, "dashboard-quit-question.txt", screen)
        term.type("end\r")
        code = await term.exit_code()
        await term.wait_for_output("report")
        _restored(term)
    finally:
        term.close()
    assert code == 0, term.raw[-3000:]
    assert "Traceback" not in term.raw
    commands = [(c["command"].split("(")[0], c["source"]) for c in _records(journal, "command")]
    assert commands == [("next", "keys"), ("message", "keys"), ("end", "prompt")]
    # Every message the show said is in the log printed once the dashboard has closed.
    log = _CSI.sub("", term.raw).split("the show's messages:")[-1]
    said = re.findall(r"^\s*(\d+) \d\d:\d\d:\d\d ", log, re.M)
    assert [int(n) for n in said] == list(range(1, len(said) + 1))
    assert len(said) >= 3


@pytest.mark.slow
async def test_ctrl_c_asks_the_quit_question_and_detach_leaves(tmp_path: Path) -> None:
    journal = tmp_path / "rehearsal.jsonl"
    term = Terminal(_rehearse(journal, speed="10"))
    try:
        await term.wait_for(r"ON AIR 1/13", 30)
        term.type("\x03")  # Ctrl-C: a key while the dashboard runs, not a signal
        await term.wait_for(r"Ctrl-C: type `end`")
        assert term.proc.poll() is None
        term.type("\x1b")  # Esc: never mind
        await term.wait_for(r"ready: press a key")
        term.proc.send_signal(signal.SIGINT)  # from outside: the same question
        await term.wait_for(r"Ctrl-C: type `end`")
        term.type("detach\r")
        code = await term.exit_code()
        _restored(term)
    finally:
        term.close()
    assert code == 0, term.raw[-3000:]
    commands = [(c["command"], c["source"]) for c in _records(journal, "command")]
    assert commands == [("detach", "prompt")]


@pytest.mark.slow
async def test_sigterm_detaches_a_rehearsal_and_puts_the_terminal_back(tmp_path: Path) -> None:
    journal = tmp_path / "rehearsal.jsonl"
    term = Terminal(_rehearse(journal, speed="10"))
    try:
        await term.wait_for(r"ON AIR 1/13", 30)
        term.proc.send_signal(signal.SIGTERM)
        code = await term.exit_code()
        _restored(term)
    finally:
        term.close()
    assert code == 0, term.raw[-3000:]
    commands = [(c["command"], c["source"]) for c in _records(journal, "command")]
    assert commands == [("detach", "signal")]


def _japanese_evening(tmp_path: Path) -> Path:
    """The example with 加藤 健一郎 last among the speakers, his camera black (a picture is
    judged off air too; a microphone only once its scene is on program)."""
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    text = text.replace('name = "Ren Watanabe"', 'name = "加藤 健一郎"')
    text += '\n[[sim.feeds]]\nspeaker = "watanabe"\nvideo = "black"\n'
    path = tmp_path / "event.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.slow
async def test_the_failing_check_and_the_mc_intro_are_read_whole_at_80x24_and_120x40(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "rehearsal.jsonl"
    argv = _rehearse(journal)
    argv[argv.index("config.example.toml")] = str(_japanese_evening(tmp_path))
    term = Terminal(argv)
    # What the MC says as 佐藤 花子's talk starts, read whole on screen (wrapped).
    intro = r"佐藤 花子さんによる.*\n.*@hanako_ml です。.*よろ\s*\n?.*しくお願いします！"
    try:
        screen = await term.wait_for(r"✗ 加藤 健一郎 video \(luma", 30)
        # The checks of the rehearsal's start: before the first slot or with it on air.
        assert re.search(r"WAITING|ON AIR 1/13", screen), screen
        term.type("n")  # the opening; its first minute over, the next talk's intro
        await term.wait_for(intro, 20)
        term.type("h")  # hold it there
        screen = await term.wait_for(r"ON HOLD")
        _save(tmp_path, "dashboard-checks-80x24.txt", screen)
        assert re.search(intro, screen), screen
        assert re.search(r"^next .* · 佐藤 花子 [✓…!✗?]", screen, re.M), screen
        assert len(screen.splitlines()) == 24
        term.resize(120, 40)
        # Redrawn at the new size: the countdown's digits are drawn twice as large there.
        screen = await term.wait_for(r"██████", 10)
        _save(tmp_path, "dashboard-checks-120x40.txt", screen)
        assert re.search(r"✗ 加藤 健一郎 video \(luma \d+/255", screen), screen
        assert re.search(intro, screen), screen
        term.type("q")
        await term.wait_for(r"quit: type `end`")
        term.type("end\r")
        code = await term.exit_code()
        await term.wait_for_output("report")
        _restored(term)
    finally:
        term.close()
    assert code == 0, term.raw[-3000:]
