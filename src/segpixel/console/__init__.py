"""The web console (Jinja2 pages under /console): what ad-ops people use instead of curl."""
