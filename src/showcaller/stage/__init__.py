"""What OBS shows: scene templates, text fields, live texts, provision, what an event
needs of OBS, preflight, doctor, cue cards, post drafts, the sim's scripted feeds."""
