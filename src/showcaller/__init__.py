"""showcaller: the show caller of an online meetup (drives OBS Studio from the timetable)."""

__version__ = "0.1.0"
