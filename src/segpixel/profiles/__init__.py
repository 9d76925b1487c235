"""Profile stores: where users' segment memberships live (embedded SQLite, or Redis)."""
