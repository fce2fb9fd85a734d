"""The dashboard of several rooms (issue 21): a line per room above the focused room's
board; Tab and 1–9 move the focus, and the keys act on the focused room only."""

from __future__ import annotations

import asyncio
import dataclasses
import io
from pathlib import Path

from rich.console import Console

from showcaller.modes.prepare import RehearsalOptions
from showcaller.modes.rooms import Room, load_rooms, rehearse_rooms
from showcaller.show.session import ShowSession
from showcaller.show.state import CheckResult, OutputView
from showcaller.surfaces.dashboard import BoardUI
from showcaller.surfaces.rooms_board import RoomsDashboard, RoomsFocus, render_rooms
from tests.test_dashboard import CFG, _now, _state
from tests.test_rooms import EXAMPLE, ROOM_B, _cut


def _screen(*rooms: tuple[str, object], focus: int, width: int = 100, height: int = 30) -> str:
    console = Console(record=True, width=width, height=height, force_terminal=True)
    states = [(name, state) for name, state in rooms]
    board = render_rooms(
        states,  # type: ignore[arg-type]
        focus,
        _now(states[0][1]),  # type: ignore[arg-type]
        ui=BoardUI(),
        width=width,
        height=height,
        tz=CFG.tz,
    )
    console.print(board)
    return console.export_text(styles=False)


def test_each_room_has_a_line_and_the_focused_one_is_shown_below() -> None:
    main = _state(on_air=2, delay=30)
    failing = CheckResult("p9", "加藤 健一郎", "audio", "fail", "peak -73 dBFS")
    b_show = dataclasses.replace(_state(on_air=4, delay=240).show, title="Room B night")
    hall_b = dataclasses.replace(
        _state(on_air=4),
        show=b_show,
        link="backing off",
        stream=OutputView(active=False, reconnecting=True),
        checks=(failing,),
    )
    text = _screen(("main", main), ("hall-b", hall_b), focus=1, width=120)
    lines = text.splitlines()
    assert "2 rooms" in lines[0]
    assert "keys act on hall-b" in lines[0]
    main_line, b_line = lines[1], lines[2]
    assert main_line.startswith(" 1 main")
    assert main.show.on_air is not None
    assert main.show.on_air.title[:6] in main_line
    assert "+30s" in main_line
    assert "OBS ready" in main_line
    assert "stream on air" in main_line
    assert b_line.startswith("▶2 hall-b")
    assert "+4m" in b_line
    assert "OBS backing off" in b_line
    assert "stream reconnecting" in b_line
    assert "✗ 加藤 健一郎: audio" in b_line
    # Below: the focused room's own board, as with one room.
    assert "Room B night" in lines[3]
    # The failing check and the lost link are red on the overview line.
    console = Console(record=True, width=100, height=30, force_terminal=True)
    console.print(
        render_rooms(
            [("main", main), ("hall-b", hall_b)], 1, _now(main), ui=BoardUI(), width=100,
            height=30, tz=CFG.tz,
        )
    )  # fmt: skip
    html = console.export_html(inline_styles=True)
    assert "color: #800000" in html or "color: #ff0000" in html


def test_tab_and_digits_move_the_focus_other_keys_are_the_rooms() -> None:
    focus = RoomsFocus(("main", "hall-b", "lab"))
    assert focus.room == "main"
    assert focus.take("\t")
    assert focus.room == "hall-b"
    assert focus.take("\x1b[Z")
    assert focus.room == "main"
    assert focus.take("3")
    assert focus.room == "lab"
    assert focus.take("\t")
    assert focus.room == "main"
    assert not focus.take("4")  # no fourth room
    assert not focus.take("n")
    assert focus.room == "main"


async def test_keys_act_on_the_focused_room_only(tmp_path: Path) -> None:
    rooms = load_rooms(
        [_cut(EXAMPLE, tmp_path, "main"), _cut(ROOM_B, tmp_path, "b")], obs_url="sim"
    )
    board = RoomsDashboard(
        {r.name: r.cfg for r in rooms},
        Console(file=io.StringIO(), width=100, height=30),
        stdin_fd=-1,
    )
    sessions: dict[str, ShowSession] = {}
    both = asyncio.Event()

    def on_session(room: Room, session: ShowSession) -> None:
        sessions[room.name] = session
        board.attach(room.name, session)
        if len(sessions) == 2:
            both.set()

    async def host() -> None:
        await both.wait()
        for session in sessions.values():
            async for state in session.feed():
                if state.show.on_air is not None:
                    break
        board.on_key("2")  # room 2: hall-b
        assert "keys act on hall-b" in _plain(board)
        board.on_key("h")  # hold, in hall-b only
        async for state in sessions["hall-b"].feed():
            if state.show.held:
                break
        assert not sessions["main"].state.show.held
        board.on_key("\t")  # back to main: its end
        for key in "q":
            board.on_key(key)
        for key in "end\r":
            board.on_key(key)
        async for state in sessions["main"].feed():
            if state.show.phase == "ended":
                break
        assert sessions["hall-b"].state.show.phase != "ended"
        board.on_key("2")
        for key in "qend\r":
            board.on_key(key)

    def options(room: Room) -> RehearsalOptions:
        return RehearsalOptions(obs=room.obs, speed=5)

    hosting = asyncio.create_task(host())
    async with asyncio.timeout(15):
        reports = await rehearse_rooms(rooms, options, on_session=on_session)
    await hosting
    assert all(r.ended for r in reports)


def _plain(board: RoomsDashboard) -> str:
    console = Console(record=True, width=100, height=30, file=io.StringIO())
    console.print(board.frame())
    return console.export_text(styles=False)
