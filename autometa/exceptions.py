"""Exceptions raised by autometa.

Every error that reaches a user is an :class:`AutometaError`. Each also derives from the
built-in exception a generic handler would expect (``ValueError`` for bad data,
``ImportError`` for a missing extra), so ``except ValueError`` keeps working. The CLI turns
them into one line on stderr and their ``exit_code``.
"""

from __future__ import annotations


class AutometaError(Exception):
    """Base class of autometa's documented errors."""

    exit_code = 1


class DataError(AutometaError, ValueError):
    """The data given cannot be used as it is; the message says how to fix it."""

    exit_code = 2


class SourceNotFoundError(DataError, FileNotFoundError):
    """A file, corpus entry or OpenML id that was asked for does not exist or cannot be reached."""


class MissingDependencyError(AutometaError, ImportError):
    """An optional dependency is needed for this feature and is not installed."""

    exit_code = 3


def missing_dependency(package: str, extra: str, feature: str) -> MissingDependencyError:
    return MissingDependencyError(
        f"{feature} needs the optional package {package!r}, which is not installed. "
        f"Install it with: pip install 'autometa[{extra}]'"
    )


class NotFittedError(AutometaError, ValueError, AttributeError):
    """An estimator-like object was used before it was fitted (as scikit-learn's, it is also a
    ValueError and an AttributeError, so generic handlers keep working)."""
