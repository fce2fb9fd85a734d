"""`showcaller doctor`: can showcaller reach OBS, and does OBS have what the event needs?"""

from __future__ import annotations

from showcaller.commands import command
from showcaller.stage.doctor import add_doctor_arguments, doctor_command

command(
    "doctor",
    "connect to OBS: versions, features, scenes and inputs (and what an event file lacks)",
    arguments=add_doctor_arguments,
)(doctor_command)
