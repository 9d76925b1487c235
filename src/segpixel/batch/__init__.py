"""Batch segment upload (SPEC §9): a file of users and their segments, streamed into the store."""
