"""The component catalog's adapters: the shipped parts (data in this package), a memory
catalog, SQLite (FTS5) and PostgreSQL (full-text, GIN) catalogs, and embeddings.

    catalog = SqlCatalog(engine)          # SQLite or PostgreSQL, migrated
    hits = await catalog.search(user_id, ComponentQuery("20x20 stack"))
"""

from forge_adapters.catalog.memory import MemoryCatalog
from forge_adapters.catalog.shipped import load_jsonl, shipped_components
from forge_adapters.catalog.sql import SqlCatalog

__all__ = ["MemoryCatalog", "SqlCatalog", "load_jsonl", "shipped_components"]
