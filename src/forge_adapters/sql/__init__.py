"""The SQL adapter: SQLite (aiosqlite) or PostgreSQL (asyncpg) behind the Repository
and AuthStore ports, with SQLModel tables and Alembic migrations.

    engine = create_engine("sqlite:///forge.db")   # or postgresql://...
    await migrate(engine)
    repo, auth, runs = SqlRepository(engine), SqlAuthStore(engine), SqlRunStore(engine)
    runs_leased, jobs_leased = run_leases(engine), job_leases(engine)
    ...
    await engine.dispose()
"""

from forge_adapters.sql import catalog_table as catalog_table  # the table joins the models
from forge_adapters.sql.auth_store import SqlAuthStore
from forge_adapters.sql.engine import create_engine, migrate, normalize_url
from forge_adapters.sql.event_log import SqlEventLog
from forge_adapters.sql.leases import SqlLeases, job_leases, run_leases
from forge_adapters.sql.repository import SqlRepository
from forge_adapters.sql.run_store import SqlRunStore
from forge_adapters.sql.schema_check import schema_problem

__all__ = [
    "SqlAuthStore",
    "SqlEventLog",
    "SqlLeases",
    "SqlRepository",
    "SqlRunStore",
    "create_engine",
    "job_leases",
    "migrate",
    "normalize_url",
    "run_leases",
    "schema_problem",
]
