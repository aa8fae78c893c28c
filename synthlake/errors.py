"""The exceptions synthlake raises on purpose.

Every message says what went wrong and what to do about it, names the table and
column involved, and never quotes a cell value (cell values may be personal data).
"""

from __future__ import annotations


class SynthlakeError(Exception):
    """Base class: an error the user can fix by changing input or parameters."""


class ConfigError(SynthlakeError):
    """A run parameter is unknown, missing or out of range."""


class SourceError(SynthlakeError):
    """A source file, folder or database cannot be found or read."""


class DataError(SynthlakeError):
    """A table's content makes the requested work impossible."""

    def __init__(self, message: str, *, table: str | None = None, column: str | None = None):
        super().__init__(message)
        self.table = table
        self.column = column


class RunExistsError(SynthlakeError):
    """A run folder is already in use by another run."""


class IntegrityError(SynthlakeError):
    """A product on disk does not match the hash recorded for it."""


class StepError(SynthlakeError):
    """A step failed for a reason outside synthlake; the original message is withheld."""
