"""Schemathesis hooks for the outside conformance run (``SCHEMATHESIS_HOOKS``).

Schemathesis' ``ensure_resource_availability`` (ST302) fails a 404 on a record the run
made, unless a DELETE of that record's path, or of a path above it, came first. Forge's
paths are flat (``/asset-meta/{id}``, not ``/assets/{id}/meta/{id}``), so the check
cannot see that deleting a session, chat, job or asset deletes what lies under it, as the
seed's API says it must. This check is the same one, with that cascade taught: a 404
after a successful DELETE of a parent is the answer, not a failure. Every other 404 on
a record just made still fails.
"""

from __future__ import annotations

import re
from typing import Any

import schemathesis
from schemathesis.openapi.checks import EnsureResourceAvailability
from schemathesis.specs.openapi.checks import ensure_resource_availability

# The records whose DELETE takes others with it (sessions: chats, jobs, ...; chats:
# messages; jobs: assets; assets: their per-part metadata).
PARENTS = re.compile(r"/api/v1/(sessions|chats|jobs|assets)/\{[a-z_]+\}$")


@schemathesis.check
def ensure_resource_availability_through_cascades(ctx: Any, response: Any, case: Any) -> Any:
    try:
        return ensure_resource_availability(ctx, response, case)
    except EnsureResourceAvailability:
        if _a_parent_was_deleted(ctx):
            return None
        raise


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
