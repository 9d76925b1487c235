"""segpixel: a self-hostable audience-segment pixel server."""

from pathlib import Path

from segpixel import native

__version__ = "0.1.0"

# The pixel's hot modules from their mypyc build when it matches these sources (native.py).
native.install(Path(__file__).parent)
