"""The one exception the programs turn into a one-line message and a non-zero exit."""


class UserError(Exception):
    """A problem with the user's input: a file, a value or a flag; its message says which and why."""


class ConfigError(UserError):
    """Hyperparameters that do not go together or do not fit the data; `fields` names those refused, so that a
    person can be asked for just them again."""

    def __init__(self, message: str, fields: tuple[str, ...] = ()):
        super().__init__(message)
        self.fields = tuple(fields)


class DataError(UserError):
    """A data file that cannot be read or does not hold what it should."""


def first_line(error: Exception, limit: int = 120) -> str:
    """An exception's message cut to its first line and `limit` characters (its type when it has none): what a
    one-line error can quote of a library's reason."""
    text = str(error).strip().splitlines()
    return text[0][:limit] if text else type(error).__name__
