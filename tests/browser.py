"""Debian's Chromium as the page tests and the web benchmark start it (no browser download)."""

from __future__ import annotations

import os
from pathlib import Path

# Debian's; SHOWCALLER_CHROMIUM names another build of Chromium on a machine without it.
CHROMIUM = Path(os.environ.get("SHOWCALLER_CHROMIUM", "/usr/bin/chromium"))
# Headless as root, and quiet on a closed network: without the background-networking
# flags Chromium keeps trying hosts it cannot reach.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
