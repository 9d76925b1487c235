"""The segment loads report (SPEC §8): catalog and load counters to CSV, JSON and charts."""
