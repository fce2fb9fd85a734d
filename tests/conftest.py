"""Root fixtures: one real headless OBS per session, a local RTMP target, and a loud
summary line whenever real-OBS tests were skipped."""

from __future__ import annotations

import logging
import os
import signal
from collections import Counter
from collections.abc import Iterator
from typing import NoReturn

import pytest

from tests.realobs import (
    HeadlessOBS,
    ResetIncomplete,
    RTMPServer,
    nginx_rtmp_available,
    obs_available,
    reset_obs,
)

log = logging.getLogger(__name__)

REQUIRE_OBS_ENV = "SHOWCALLER_REQUIRE_OBS"
_REAL_FIXTURES = frozenset({"real_obs", "real_obs_process", "real_obs_japanese", "rtmp_server"})


def _unavailable(what: str, packages: str, why: str) -> NoReturn:
    """Skip, or fail when CI demands the real thing (SHOWCALLER_REQUIRE_OBS=1)."""
    message = (
        f"{what} not installed: apt-get install {packages} (CI sets {REQUIRE_OBS_ENV}=1) [{why}]"
    )
    if os.environ.get(REQUIRE_OBS_ENV) == "1":
        pytest.fail(f"{REQUIRE_OBS_ENV}=1 but {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _no_event_loop_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail a test whose event loop logged an error (an exception in a callback, a task
    exception never retrieved): asyncio only logs these, so nothing else would notice."""
    yield
    errors = [
        r.getMessage()
        for when in ("setup", "call", "teardown")
        for r in caplog.get_records(when)  # type: ignore[arg-type]
        if r.name == "asyncio" and r.levelno >= logging.ERROR
    ]
    assert not errors, f"the event loop logged errors: {errors}"


@pytest.fixture(scope="session")
def real_obs_process() -> Iterator[HeadlessOBS]:
    """The one real OBS of the session; prefer `real_obs`, which also resets it."""
    available, why = obs_available()
    if not available:
        _unavailable("real OBS", "obs-studio xvfb", why)
    with HeadlessOBS() as obs:
        yield obs


@pytest.fixture
def real_obs(real_obs_process: HeadlessOBS) -> HeadlessOBS:
    """The session's real OBS, running and reset: outputs stopped, one empty "Scene"."""
    obs = real_obs_process
    obs.ensure_running()
    try:
        reset_obs(obs.url, obs.password)
    except ResetIncomplete as exc:
        # A source some test left held cannot be removed: start over from a fresh config.
        log.warning("%s; restarting OBS with a fresh config", exc)
        obs.stop()
        obs.start()
        reset_obs(obs.url, obs.password)
    return obs


@pytest.fixture
def real_obs_japanese() -> Iterator[HeadlessOBS]:
    """A second real OBS, fresh, with its UI in Japanese (names its built-ins in Japanese)."""
    available, why = obs_available()
    if not available:
        _unavailable("real OBS", "obs-studio xvfb", why)
    with HeadlessOBS(language="ja-JP") as obs:
        yield obs


@pytest.fixture
def rtmp_server() -> Iterator[RTMPServer]:
    """A fresh nginx-rtmp on loopback; stream to `rtmp_server.url` with any key."""
    available, why = nginx_rtmp_available()
    if not available:
        _unavailable("nginx-rtmp", "nginx-light libnginx-mod-rtmp", why)
    with RTMPServer() as server:
        yield server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses a real-OBS fixture is a realobs test, marked or not."""
    for item in items:
        if _REAL_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.realobs)


class _RealOBSTally:
    """Counts outcomes of realobs tests so a run without real OBS cannot go unnoticed."""

    def __init__(self) -> None:
        self.outcomes: Counter[str] = Counter()
        self.skip_reasons: Counter[str] = Counter()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if "realobs" not in report.keywords:
            return
        if report.skipped:
            self.outcomes["skipped"] += 1
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else "?"
            self.skip_reasons[str(reason).removeprefix("Skipped: ")] += 1
        elif report.failed:
            self.outcomes["failed" if report.when == "call" else "error"] += 1
        elif report.when == "call":
            self.outcomes["passed"] += 1

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.outcomes:
            return
        counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(self.outcomes.items()))
        skipped = self.outcomes["skipped"]
        if skipped:
            terminalreporter.write_sep(
                "!",
                f"{skipped} realobs tests SKIPPED: real OBS was NOT tested",
                red=True,
                bold=True,
            )
            for reason, n in self.skip_reasons.most_common():
                terminalreporter.write_line(f"  {n} x {reason}", yellow=True)
        terminalreporter.write_line(f"realobs tests: {counts}", bold=True)


def _interrupt_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    """Register the realobs tally; make SIGTERM tear fixtures down like Ctrl-C."""
    config.pluginmanager.register(_RealOBSTally(), "showcaller-realobs-tally")
    # A cancelled CI job gets SIGTERM; by default that kills pytest without teardown
    # and leaves OBS, Xvfb and nginx running in their own sessions.
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
