"""What handlers receive: the caller (with the use cases), paging, ids.

The caller is made by the authentication middleware (``security``) and read from the
request (``request: CallerRequest``, then ``request.caller``), not injected: for a
handler with any dependency Litestar resolves it, opens an exit stack and a cleanup
group on every request, about 6 % of a small GET. The public routes' one dependency
(``services``) stays injected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter

from forge_core.errors import Unauthenticated
from forge_core.ports import Principal
from forge_core.services import MAX_OFFSET, MAX_PAGE, Page
from forge_http.container import ServiceSet
from forge_http.json_input import JsonRequest

MISSING_TOKEN = "Missing bearer token: send 'Authorization: Bearer <access_token>'"


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller and the use cases, for one request."""

    principal: Principal
    services: ServiceSet

    @property
    def user_id(self) -> UUID:
        return self.principal.user_id


class CallerRequest(JsonRequest):
    """The app's request class: Litestar's, with the JSON depth check and the caller
    (``request.user``, which the authentication middleware sets)."""

    @property
    def caller(self) -> Caller:
        caller = self.scope.get("user")
        if not isinstance(caller, Caller):  # a handler that wants a caller on a public route
            raise Unauthenticated(MISSING_TOKEN)
        return caller


def services(state: State) -> ServiceSet:
    return state.services  # type: ignore[no-any-return]


DEPENDENCIES = {
    "services": Provide(services, sync_to_thread=False),
}

# Handler parameter types: the name picks the dependency, the alias marks it as one.
Services = NamedDependency[ServiceSet]
PathId = FromPath[UUID]
ParentFilter = Annotated[UUID | None, QueryParameter(description="Only records under this parent")]
Limit = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description="Records per page")]
Offset = Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description="Records to skip")]


def page(limit: int, offset: int) -> Page:
    return Page(limit=limit, offset=offset)
