"""The web dashboard's assets (``static/``: vanilla JS modules, CSS, inline SVG; nothing fetched
from the internet).  The collector serves them: :mod:`collector.api.pages`."""

from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"
