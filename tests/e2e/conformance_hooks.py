"""Schemathesis hooks for the outside conformance run (``SCHEMATHESIS_HOOKS``).

Schemathesis' ``ensure_resource_availability`` (ST302) fails a 404 on a record the run
made, unless a DELETE of that record's path, or of a path above it, came first. Forge's
paths are flat (``/asset-meta/{id}``, not ``/assets/{id}/meta/{id}``), so the check
cannot see that deleting a session, chat, job or asset deletes what lies under it, as the
seed's API says it must. This check is the same one, taught two answers that are not a
missing record: a 404 after a successful DELETE of a parent (the cascade), and a 404 that
names a field of the body whose id points nowhere (``component_of: names an asset that
does not exist``: the record is there, what the body refers to is not). Every other 404
on a record just made still fails.
"""

from __future__ import annotations

import json
import re
from typing import Any

import schemathesis
from schemathesis.openapi.checks import EnsureResourceAvailability
from schemathesis.specs.openapi.checks import ensure_resource_availability

# The records whose DELETE takes others with it (sessions: chats, jobs, ...; chats:
# messages; jobs: assets; assets: their per-part metadata).
PARENTS = re.compile(r"/api/v1/(sessions|chats|jobs|assets)/\{[a-z_]+\}$")
# forge_core.errors.MissingReference's detail: the body's field, then what it names.
MISSING_REFERENCE = re.compile(r"^([a-z_]+): names an? [a-z ]+ that does not exist$")


@schemathesis.check
def ensure_resource_availability_through_cascades(ctx: Any, response: Any, case: Any) -> Any:
    try:
        return ensure_resource_availability(ctx, response, case)
    except EnsureResourceAvailability:
        if _a_parent_was_deleted(ctx) or _a_reference_is_missing(response, case):
            return None
        raise


def _a_reference_is_missing(response: Any, case: Any) -> bool:
    """The 404 names a field the request's body holds: what it refers to is missing."""
    try:
        detail = json.loads(response.content).get("detail", "")
    except (ValueError, AttributeError):
        return False
    found = MISSING_REFERENCE.match(detail) if isinstance(detail, str) else None
    return bool(found) and isinstance(case.body, dict) and found.group(1) in case.body


def _a_parent_was_deleted(ctx: Any) -> bool:
    recorder = ctx.internals.recorder
    if recorder is None:
        return False
    for prior in recorder.find_all_cases():
        if prior.operation.method.upper() != "DELETE" or not PARENTS.search(prior.path):
            continue
        answer = recorder.find_response(case_id=prior.id)
        if answer is not None and 200 <= answer.status_code < 300:
            return True
    return False
