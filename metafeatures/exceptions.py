"""Errors of the metafeatures package (importable without autometa)."""


class MetafeatureInputError(ValueError):
    """The input cannot be described: the message says what was expected and how to fix it."""
