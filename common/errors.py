"""The one exception the programs turn into a one-line message and a non-zero exit."""


class UserError(Exception):
    """A problem with the user's input: a file, a value or a flag; its message says which and why."""


class DataError(UserError):
    """A data file that cannot be read or does not hold what it should."""
