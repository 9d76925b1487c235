"""The management API (FastAPI): the Segment Service and its siblings (SPEC §2)."""
