"""``forge catalog import FILE.jsonl`` and ``forge catalog search "..."``.

An import stores every line in one transaction, or nothing: a bad line is named with its
field and the command exits 1. Without ``--owner`` the parts are the site's (every user
sees them, nobody changes them through the API); with ``--owner EMAIL`` they are that
user's. Each line's ``id`` identifies the part, so importing a file again replaces what
it imported before (a user's part gets an id derived from the owner and that ``id``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from forge_core.errors import ForgeError
from forge_http.settings import Settings


def add_parser(commands: Any) -> None:
    catalog = commands.add_parser("catalog", help="import or search standard components")
    actions = catalog.add_subparsers(dest="catalog_command", required=True, metavar="ACTION")
    imports = actions.add_parser("import", help="add parts from a JSON-lines file")
    imports.add_argument("file", type=Path, help="one component per line (see docs/catalog.md)")
    imports.add_argument("--owner", help="the email of the user the parts belong to")
    search = actions.add_parser("search", help="search the catalog as people write")
    search.add_argument("text", help='words, e.g. "20x20 stack" or "M3 nut"')
    search.add_argument("--category", help="only this kind of part")
    search.add_argument("--limit", type=int, default=10)
    search.add_argument("--json", action="store_true", help="one JSON object per line")


def run(settings: Settings, args: argparse.Namespace) -> None:
    if settings.uses_memory:
        print("forge: the memory database keeps no catalog between runs", file=sys.stderr)
        raise SystemExit(2)
    action = _import if args.catalog_command == "import" else _search
    try:
        asyncio.run(action(settings, args))
    except ForgeError as exc:
        print(f"forge: {exc.detail}", file=sys.stderr)
        raise SystemExit(1) from None
    except OSError as exc:
        print(f"forge: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


async def _catalog(settings: Settings) -> Any:
    from forge_adapters.catalog import SqlCatalog
    from forge_adapters.sql import create_engine, migrate

    engine = create_engine(settings.database_url)
    if settings.migrates_on_start:
        await migrate(engine)
    return engine, SqlCatalog(engine)


async def _import(settings: Settings, args: argparse.Namespace) -> None:
    from forge_adapters.catalog import load_jsonl
    from forge_adapters.sql import SqlAuthStore

    parts = load_jsonl(args.file.read_text("utf-8").splitlines(), where=args.file.name)
    engine, catalog = await _catalog(settings)
    try:
        if args.owner is not None:
            found = await SqlAuthStore(engine).find_login(args.owner)
            if found is None:
                raise ForgeError(f"no user with the email {args.owner!r}")
            owner = found[0].id
            parts = [replace(p, owner=owner, id=_owned_id(owner, p.id)) for p in parts]
        stored = await catalog.import_parts(parts)
    finally:
        await engine.dispose()
    whose = f"for {args.owner}" if args.owner else "for the whole site"
    print(f"forge: imported {stored} components {whose}")


def _owned_id(owner: UUID, line_id: str) -> str:
    return str(uuid5(NAMESPACE_URL, f"forge:{owner}:{line_id}"))


async def _search(settings: Settings, args: argparse.Namespace) -> None:
    from forge_core.services.catalog import Components
    from forge_core.services.records import Page

    engine, catalog = await _catalog(settings)
    try:
        hits = await Components(catalog).search(
            UUID(int=0), args.text, args.category, Page(limit=args.limit)
        )
    finally:
        await engine.dispose()
    for hit in hits:
        c = hit.component
        if args.json:
            print(json.dumps({**c.to_json(), "score": round(hit.score, 4), "matched": hit.matched}))
        else:
            sizes = ", ".join(f"{k} {v:g}" for k, v in c.dimensions_mm.to_json().items())
            holes = "".join(
                f"; holes {p.spacing[0]:g}x{p.spacing[1]:g} {p.thread or ''}".rstrip()
                for p in c.hole_patterns
                if p.spacing is not None
            )
            print(f"{hit.score:7.2f}  {c.id:<28} {c.name}  [{sizes}{holes}]")
    if not hits:
        print("forge: no component matches", file=sys.stderr)
