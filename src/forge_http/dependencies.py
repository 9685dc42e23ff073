"""What handlers receive by name: the caller, a page, and the use cases."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter

from forge_core.ports import Principal
from forge_core.services import MAX_PAGE, Page
from forge_http.container import ServiceSet


def current_principal(request: Request[Principal, Any, Any]) -> Principal:
    return request.user


def page(
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description="Records per page")] = 50,
    offset: Annotated[int, QueryParameter(ge=0, description="Records to skip")] = 0,
) -> Page:
    return Page(limit=limit, offset=offset)


def services(state: State) -> ServiceSet:
    return state.services  # type: ignore[no-any-return]


DEPENDENCIES = {
    "principal": Provide(current_principal, sync_to_thread=False),
    "page": Provide(page, sync_to_thread=False),
    "services": Provide(services, sync_to_thread=False),
}


# Handler parameter types: the name picks the dependency, the alias marks it as one.
Caller = NamedDependency[Principal]
Services = NamedDependency[ServiceSet]
Paging = NamedDependency[Page]
PathId = FromPath[UUID]

ParentFilter = Annotated[UUID | None, QueryParameter(description="Only records under this parent")]
