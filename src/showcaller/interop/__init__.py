"""Around the show: schedule importers (frab/pretalx `schedule.json`, CSV, connpass) and
the iCalendar export of the plan."""
