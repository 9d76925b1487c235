"""Segment load counters: daily loads by source, daily / monthly / hourly uniques (SPEC §8)."""
