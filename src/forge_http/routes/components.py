"""The component catalog: search the standard parts, keep your own."""

from __future__ import annotations

import builtins
from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from forge_core.component_commands import Category, ComponentChanges, NewComponent
from forge_core.services.catalog import MAX_QUERY
from forge_http.component_dto import ComponentOut, component_out, hit_out
from forge_http.dependencies import CallerRequest, Limit, Offset, page
from forge_http.openapi import Documented

Query = Annotated[
    str,
    QueryParameter(
        max_length=MAX_QUERY,
        description='Words, as people write them: "20x20 stack", "M3 nut", "Pi 4".',
    ),
]
CategoryFilter = Annotated[Category | None, QueryParameter(description="Only this kind of part")]
ComponentId = Annotated[str, PathParameter(min_length=1, max_length=100)]


class ComponentController(Controller):
    path = "/components"
    tags = ["components"]

    @get(
        "/",
        description=(
            "Shipped parts and the caller's own. With `q`: best match first, each with its "
            "`score` and the words it `matched`; without: by name."
        ),
        operation_class=Documented,
    )
    async def list(
        self,
        request: CallerRequest,
        q: Query = "",
        category: CategoryFilter = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> builtins.list[ComponentOut]:  # ``list`` here is the handler above
        caller = request.caller
        found = await caller.services.components.search(
            caller.user_id, q, category, page(limit, offset)
        )
        return [hit_out(h) for h in found]

    @post("/", operation_class=Documented, description="Add a part of your own.")
    async def create(self, data: JSONBody[NewComponent], request: CallerRequest) -> ComponentOut:
        caller = request.caller
        return component_out(await caller.services.components.create(caller.user_id, data))

    @get("/{component_id:str}", operation_class=Documented)
    async def read(self, component_id: ComponentId, request: CallerRequest) -> ComponentOut:
        caller = request.caller
        found = await caller.services.components.get(caller.user_id, component_id)
        return component_out(found)

    @patch(
        "/{component_id:str}",
        description="Change one of your parts; shipped parts are read-only (403).",
        operation_class=Documented,
    )
    async def update(
        self, component_id: ComponentId, data: JSONBody[ComponentChanges], request: CallerRequest
    ) -> ComponentOut:
        caller = request.caller
        changed = await caller.services.components.update(caller.user_id, component_id, data)
        return component_out(changed)

    @delete(
        "/{component_id:str}",
        description="Delete one of your parts; shipped parts are read-only (403).",
        operation_class=Documented,
    )
    async def remove(self, component_id: ComponentId, request: CallerRequest) -> None:
        caller = request.caller
        await caller.services.components.delete(caller.user_id, component_id)
