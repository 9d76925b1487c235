"""segpixel: a self-hostable audience-segment pixel server."""

__version__ = "0.1.0"
