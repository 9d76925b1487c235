"""The catalog: members, advertisers, segments, partners and users, in SQLite or PostgreSQL."""
