"""What handlers receive: the caller (with the use cases), paging, ids.

Each handler takes at most one injected dependency: Litestar resolves a batch of
several in a task group per request, which costs more than the handler's own work. The
caller is made by the authentication middleware (``security``) and handed over in a
context variable, so that its provider takes no parameters: Litestar then skips parsing
them, which cost more than making the caller.
"""

from __future__ import annotations

from contextvars import ContextVar
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


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller and the use cases, for one request."""

    principal: Principal
    services: ServiceSet

    @property
    def user_id(self) -> UUID:
        return self.principal.user_id


# Set in the request's own task (each request has one), so it never outlives it.
_caller: ContextVar[Caller | None] = ContextVar("caller", default=None)


def authenticated(principal: Principal, services: ServiceSet) -> None:
    """Called by the authentication middleware once it has checked the token."""
    _caller.set(Caller(principal, services))


def current_caller() -> Caller:
    caller = _caller.get()
    if caller is None:  # a handler that wants a caller on a route marked public
        raise Unauthenticated("Missing bearer token: send 'Authorization: Bearer <access_token>'")
    return caller


def services(state: State) -> ServiceSet:
    return state.services  # type: ignore[no-any-return]


DEPENDENCIES = {
    "caller": Provide(current_caller, sync_to_thread=False),
    "services": Provide(services, sync_to_thread=False),
}

# Handler parameter types: the name picks the dependency, the alias marks it as one.
CallerDep = NamedDependency[Caller]
Services = NamedDependency[ServiceSet]
PathId = FromPath[UUID]
ParentFilter = Annotated[UUID | None, QueryParameter(description="Only records under this parent")]
Limit = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description="Records per page")]
Offset = Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description="Records to skip")]


def page(limit: int, offset: int) -> Page:
    return Page(limit=limit, offset=offset)
