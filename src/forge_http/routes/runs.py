"""``POST /chats/{chat_id}/runpod``: start an inference run on a chat, as the seed says.

Without ``sync`` the run is queued and answered at once (202); the app's supervisor
finishes it and stores the assistant message. With ``"sync": true`` the request waits
for the run to end (the supervisor still does the polling) and answers 200 with it.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Response, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter, JSONBody

from forge_core.commands import RunRequest
from forge_core.entities import InferenceRun, Message
from forge_http.dependencies import Caller, CallerRequest, PathId
from forge_http.dto import MessageOut, RunQueuedOut, RunResultOut, to_dto
from forge_http.openapi import Documented

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Repeating a request with the same key answers the same run; the "
        "same key with a different request is 422.",
    ),
]


async def result(caller: Caller, run: InferenceRun) -> RunResultOut:
    ended = await caller.services.runs.wait_result(run)
    run, message = ended.run, None
    if run.result_message_id is not None:
        stored = await caller.services.messages.get(caller.user_id, run.result_message_id)
        message = to_dto(MessageOut, stored)
    return RunResultOut(
        chat_id=run.chat_id,
        runpod_id=run.backend_run_id,
        status=run.status.value,
        message=message,
        output=ended.output,
        error=run.error,
    )


def queued(run: InferenceRun, message: Message | None) -> RunQueuedOut:
    return RunQueuedOut(
        chat_id=run.chat_id,
        runpod_id=run.backend_run_id,
        message_id=message.id if message else None,
        status=run.status.value,
    )


@post(
    "/chats/{chat_id:uuid}/runpod",
    tags=["runs"],
    status_code=202,
    description=(
        "Start an inference run on the chat: actions process_requirements, generate_scad "
        "(process_scad is its alias) and health. 202 with the queued run, or with "
        '"sync": true, 200 once it has ended.'
    ),
    responses={200: ResponseSpec(RunResultOut, description='With "sync": true, the ended run')},
    operation_class=Documented,
)
async def start_run(
    chat_id: PathId,
    data: JSONBody[RunRequest],
    request: CallerRequest,
    idempotency_key: IdempotencyKey = None,
) -> Response[RunQueuedOut | RunResultOut]:
    caller = request.caller
    run, message = await caller.services.runs.start(caller.user_id, chat_id, data, idempotency_key)
    if data.sync:
        return Response(await result(caller, run), status_code=200)
    return Response(queued(run, message), status_code=202)


__all__ = ["start_run"]
