"""synthlake: synthetic tables from a lakehouse, with evidence an auditor can read."""

__version__ = "0.1.0"
