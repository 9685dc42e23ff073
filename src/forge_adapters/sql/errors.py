"""The SQL adapter's one error boundary: SQLAlchemy and driver exceptions become
``forge_core.errors``, once, here (``raise ... from exc`` keeps the cause for logs)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError, StatementError

from forge_core.errors import Conflict, ForgeError, InvalidInput, Unavailable


@contextmanager
def translate_errors() -> Iterator[None]:
    """Let ``ForgeError`` through; turn everything the database raises into one.

    IntegrityError is best handled by the caller, who knows which record it wrote; what
    reaches here is a Conflict. Values the database or a column type refuses are
    InvalidInput; a database that cannot be reached, or fails, is Unavailable.
    """
    try:
        yield
    except ForgeError:
        raise
    except IntegrityError as exc:
        raise Conflict("the change clashes with stored records") from exc
    except DataError as exc:
        raise InvalidInput("record", "the database refused a value") from exc
    except OverflowError as exc:  # an integer wider than the column, refused by the driver
        raise InvalidInput("record", "a number is too large to store") from exc
    except DBAPIError as exc:
        raise Unavailable("the database cannot answer now") from exc
    except StatementError as exc:
        if isinstance(exc.orig, ValueError | TypeError):
            raise InvalidInput("record", str(exc.orig)) from exc
        raise Unavailable("the database cannot answer now") from exc
    except (SQLAlchemyError, OSError) as exc:
        raise Unavailable("the database cannot answer now") from exc
