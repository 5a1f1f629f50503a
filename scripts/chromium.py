"""Headless Debian Chromium driven by Playwright, shared by the browser tests and scripts/screenshots.py.

Playwright's own browser downloads are never used: the system chromium is given by path, with
flags that keep it from phoning home.
"""
from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run",
]
# A common Android phone: farmers chat and officers use the console from their phones as often as from a PC.
PHONE_VIEWPORT = {"width": 390, "height": 844}
DESKTOP_VIEWPORT = {"width": 1280, "height": 900}


async def launch(playwright):
    """Launch the system Chromium headless."""
    if not CHROMIUM.exists():
        raise FileNotFoundError(f"{CHROMIUM} not found: apt-get install chromium (CI does this in .ci/run)")
    return await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
