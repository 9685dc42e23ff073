"""Whether a database is ready to serve: it answers, and its schema is Alembic's head.

``forge serve`` on PostgreSQL does not migrate (``forge migrate`` does, once per
release), so it asks this before it starts; a database that is missing, unreachable or
behind is refused in one line that names the problem and the fix, instead of a server
that answers every request with 503.
"""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from forge_core.errors import Unavailable

from .engine import alembic_config

MIGRATE = "run forge migrate"


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def schema_problem(engine: AsyncEngine) -> str | None:
    """None when the schema is at the head revision, else why not and what to do, in
    one line. Raises Unavailable, its detail saying the same, when the database cannot
    be reached."""
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(_current_revision)
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0]
        fix = (
            f"create it, then {MIGRATE}"
            if "does not exist" in reason and "database" in reason
            else "check FORGE_DATABASE_URL"
        )
        raise Unavailable(f"the database refused the connection: {reason}; {fix}") from exc
    except OSError as exc:
        raise Unavailable(
            f"the database does not answer ({exc.strerror or exc}); "
            "check FORGE_DATABASE_URL and that the server is running"
        ) from exc
    return _compare(current, head_revision())


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _compare(current: str | None, head: str | None) -> str | None:
    if current == head:
        return None
    if current is None:
        return f"the database has no Forge schema yet; {MIGRATE}"
    try:
        known = ScriptDirectory.from_config(alembic_config()).get_revision(current)
    except CommandError:
        known = None
    if known is None:  # a newer Forge migrated it: this one must not write to it
        return (
            f"the database schema is at revision {current}, which this version of Forge "
            "does not know (a newer one migrated it); upgrade Forge"
        )
    return f"the database schema is at revision {current}, not {head} (the newest); {MIGRATE}"
