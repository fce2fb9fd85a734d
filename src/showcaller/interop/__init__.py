"""Around the show: exports from the journal (chapters, report) and notifications."""
