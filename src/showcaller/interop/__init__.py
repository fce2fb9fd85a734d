"""Around the show: schedule importers (frab/pretalx `schedule.json`, CSV, connpass), the
iCalendar export of the plan, exports from the journal (chapters, report) and the
notification webhooks."""
