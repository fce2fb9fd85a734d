"""The show itself: the plan, the pure timetable, show time, its state and views, host
commands, the journal, the engine, the session and its attachment context, the mode
policies and the run stages (prepare, assemble, run)."""
