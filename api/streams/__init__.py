"""Shared event streams: one feed per job per API process, read by every viewer."""
