"""Ports: what the core needs from the outside, as small async Protocols.

Adapters in ``forge_adapters`` implement them; ``forge_adapters.memory`` holds an
in-memory implementation of each, with the same contract, for tests and embedders.

Persistence is one ``Repository`` over the owned records, with one transaction per call
(see docs/architecture.md for why not a unit of work), and an ``AuthStore`` for users and
logins. ``InferenceBackend`` and its types live in ``forge_core.inference`` (re-exported
here). Every method documents the ``forge_core.errors`` it raises; nothing else escapes.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar
from uuid import UUID

from forge_core.components import Component, ComponentHit
from forge_core.entities import (
    AuthSession,
    ChatEvent,
    EventDraft,
    InferenceRun,
    Job,
    JsonObject,
    Message,
    OwnedEntity,
    RunStatus,
    User,
)
from forge_core.inference import InferenceBackend as InferenceBackend
from forge_core.inference import RunState as RunState
from forge_core.render_request import RenderRequest as RenderRequest

E = TypeVar("E", bound=OwnedEntity)
T = TypeVar("T")


class Repository(Protocol):
    """Owned records (sessions, chats, messages, jobs, assets, asset meta).

    Every read and write is scoped to an owner: another user's record is NotFound.
    """

    async def add(self, entity: OwnedEntity) -> None:
        """Store a new record. Raises NotFound if its parent is gone, AlreadyExists if
        its id is taken (by any owner's record of its kind): never overwrites."""

    async def get(self, kind: type[E], entity_id: UUID, owner: UUID) -> E:
        """The record, or NotFound."""

    async def list(
        self,
        kind: type[E],
        owner: UUID,
        *,
        where: Mapping[str, UUID] | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[E]:
        """The owner's records (filtered by parent-id fields in ``where``), oldest first:
        ordered by ``created_at``, then ``id``."""

    async def count_owned(self, kind: type[E], ids: Sequence[UUID], owner: UUID) -> int:
        """How many of ``ids`` (distinct) exist and belong to ``owner``."""

    async def update(self, entity: E, *, expected_updated_at: datetime) -> None:
        """Replace a record's fields, if it still has ``expected_updated_at``.
        Raises NotFound if it is gone, StaleObject if it changed meanwhile."""

    async def delete(self, kind: type[E], entity_id: UUID, owner: UUID) -> None:
        """Delete a record and everything under it in one transaction, or NotFound."""

    async def running_jobs(self, limit: int = 500) -> builtins.list[Job]:
        """Running jobs of every user, oldest first (``created_at``, then ``id``): what
        ``JobWorker.drain`` waits on."""

    async def jobs_by_status(self) -> dict[str, int]:
        """How many jobs of every user are in each status; a status with none is left
        out. For the metrics, so one grouped count, not a read of the rows."""


@dataclass(frozen=True, slots=True)
class Lease:
    """A claim on one record: held by ``worker`` until ``until`` (see ``Leases``)."""

    worker: str
    until: datetime


class RunStore(Protocol):
    """Durable inference runs, for the supervisor that polls and finalizes them.

    Owner-scoped reads treat another user's run as missing (NotFound). A run goes with
    its chat (and so with its session and user). Unfinished means queued or in_progress.
    """

    async def add(self, run: InferenceRun, lease: Lease | None = None) -> None:
        """Store a new run, already leased (``Leases``) when ``lease`` is given, so no
        other worker can claim it before its starter polls it: a backend that keeps its
        runs in process (the template and OpenAI-compatible ones) answers only the
        replica that submitted them. Raises NotFound("Chat") if ``run.chat_id`` is
        missing or not ``run.user_id``'s, AlreadyExists if the id, or the owner's
        ``idempotency_key`` (when not None), is taken."""

    async def get(self, owner: UUID, run_id: UUID) -> InferenceRun:
        """The run, or NotFound (also for another user's)."""

    async def find_by_idempotency_key(self, owner: UUID, key: str) -> InferenceRun | None:
        """The owner's run added with ``key``, or None."""

    async def count_unfinished(self, owner: UUID) -> int:
        """How many of the owner's runs are queued or in progress."""

    async def list_unfinished(self, limit: int = 100) -> list[InferenceRun]:
        """Unfinished runs of every user, oldest first (``created_at``, then ``id``)."""

    async def runs_by_status(self) -> dict[str, int]:
        """How many runs of every user are in each status; a status with none is left
        out. For the metrics, so one grouped count, not a read of the rows."""

    async def set_status(
        self,
        run: InferenceRun,
        new_status: RunStatus,
        expected_status: RunStatus,
        *,
        backend_run_id: str | None = None,
    ) -> InferenceRun | None:
        """Compare-and-set: move the run to ``new_status`` (recording ``backend_run_id``
        when given) only if it is still ``expected_status``. Returns the stored run, or
        None if it is not (another worker moved it, or it is gone). Raises
        InvalidTransition if the lifecycle forbids ``expected_status -> new_status``."""

    async def finalize(
        self,
        run: InferenceRun,
        assistant_message: Message | None,
        status: RunStatus,
        error: str | None = None,
        *,
        event: EventDraft | None = None,
    ) -> Finalized | None:
        """In one transaction: store ``assistant_message`` (if any), move the run to the
        terminal ``status`` with ``error`` and ``result_message_id``, and append
        ``event`` (if any) to the run's chat as the ``EventLog`` would (the next ``seq``,
        stamped with the run's new ``updated_at``), only if the run is not terminal yet.
        Returns the finished run and the stored event to the one caller that won; every
        other caller (the run already terminal, or gone with its chat) gets None and
        nothing is stored, so racing finalizers leave exactly one message and one event.
        Raises InvalidTransition if ``status`` is not terminal, InvalidInput if the
        message is not on the run's chat and owner, AlreadyExists if the message id is
        taken, Conflict if the event could not be numbered (too many writers)."""


@dataclass(frozen=True, slots=True)
class Finalized:
    """What a winning ``RunStore.finalize`` stored: the run, and its end event if one
    was given (the caller publishes it; the log already holds it)."""

    run: InferenceRun
    event: ChatEvent | None = None


class Leases(Protocol[T]):
    """Who works on which unfinished record (an inference run, a pipeline job), so that
    replicas sharing one database never work on the same one at once.

    A lease is held by one ``worker`` (an id unique to a process start) until a time
    written with the caller's clock; after it, anyone may claim the record. A record is
    claimable while it is unfinished (a run queued or in progress; a job running with a
    ``scad_code`` string in its spec) and its lease is free (never taken, released, or
    expired). Leases are coordination, not data: the records read back without them.
    """

    async def claim(
        self,
        worker: str,
        now: datetime,
        until: datetime,
        limit: int,
        ids: Collection[UUID] | None = None,
    ) -> list[T]:
        """Take up to ``limit`` claimable records (only among ``ids`` when given), oldest
        first (``created_at``), leased to ``worker`` until ``until``; returns them. Two
        concurrent claims never return the same record. Raises Unavailable."""

    async def renew(self, worker: str, ids: Collection[UUID], until: datetime) -> set[UUID]:
        """Extend to ``until`` the leases ``worker`` still holds among ``ids``; returns
        the ids renewed: held by ``worker`` and unfinished (a record finished, gone or
        taken over by another worker is left out). Raises Unavailable."""

    async def release(self, worker: str, ids: Collection[UUID] | None = None) -> None:
        """Give up ``worker``'s leases (on ``ids`` only, when given): those records are
        claimable at once. Leases held by others are untouched. Raises Unavailable."""


class AuthStore(Protocol):
    """Users, their password hashes and their logins (auth sessions)."""

    async def add_user(self, user: User, password_hash: str | None) -> None:
        """Store a new user. Raises AlreadyExists if the email is taken."""

    async def save_profile(self, user: User) -> None:
        """Create or update a user whose identity lives elsewhere (an external provider)."""

    async def get_user(self, user_id: UUID) -> User:
        """The user, or NotFound."""

    async def find_login(self, email: str) -> tuple[User, str | None] | None:
        """The user with this email (lower-cased) and their password hash, or None."""

    async def add_session(self, session: AuthSession) -> None:
        """Store a new login."""

    async def get_session(self, session_id: UUID) -> AuthSession | None:
        """The login, or None."""

    async def is_live(self, session_id: UUID) -> bool:
        """Whether the login exists and is not revoked: the check every authenticated
        request makes, so an adapter answers it with as little as it can read."""

    async def rotate_refresh(
        self, session_id: UUID, old_hash: str, new_hash: str, now: datetime
    ) -> bool:
        """Swap the refresh hash if the login is live and still has ``old_hash``."""

    async def revoke_session(self, session_id: UUID, now: datetime) -> None:
        """Mark the login revoked; a no-op if it is unknown or already revoked."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the user and the login their token belongs to."""

    user_id: UUID
    session_id: UUID | None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    refresh_token: str
    user_id: UUID
    expires_in: int
    token_type: str = "bearer"


class AuthProvider(Protocol):
    """Accounts and tokens: the local one, or an external identity service."""

    async def register(self, email: str, password: str, display_name: str | None) -> User:
        """Create an account. Raises AlreadyExists for a registered email,
        InvalidInput for a password the provider refuses."""

    async def login(self, email: str, password: str) -> Tokens:
        """Start a login. Raises Unauthenticated, with one message for a wrong password
        and an unknown email alike."""

    async def refresh(self, refresh_token: str) -> Tokens:
        """Continue a login with a new token pair; the old refresh token stops working.
        Raises Unauthenticated."""

    async def authenticate(self, access_token: str) -> Principal:
        """Verify an access token. Raises Unauthenticated (bad, expired or revoked)."""

    async def profile(self, principal: Principal) -> User:
        """The caller's profile. Raises Unauthenticated if the user is gone."""

    async def logout(self, principal: Principal) -> None:
        """Revoke the login, so its access tokens are refused from now on."""


class ObjectStore(Protocol):
    """Bytes by key: rendered models, previews, sources. Every method raises InvalidInput
    for a key that is not a relative path of plain segments (one rule for every store:
    ``forge_core.storage_keys.check_key``) and Unavailable when the store
    cannot answer now."""

    async def put(self, key: str, data: bytes, content_type: str) -> str:
        """Store ``data`` under ``key`` (replacing it); returns the object's URI, in the
        store's own form (``file://...``, ``s3://bucket/key``, ``memory://key``).
        Raises InvalidInput for a key that is empty or leaves the store (nothing is
        written), Conflict where a file system cannot hold both ``a`` and ``a/b``."""

    async def get(self, key: str) -> bytes:
        """The object's bytes, or NotFound."""

    async def delete(self, key: str) -> None:
        """Remove the object; a no-op if it is missing."""

    async def exists(self, key: str) -> bool:
        """Whether the object is stored."""

    async def delete_prefix(self, prefix: str) -> int:
        """Remove every object whose key lies under the folder ``prefix`` (a key that
        starts with ``prefix + "/"``; ``a/b`` is not under ``a/bc``, and an object named
        ``prefix`` itself stays); returns how many were removed, 0 if none. ``prefix``
        follows the key rule."""


@dataclass(frozen=True, slots=True)
class RenderResult:
    """A rendered model: the mesh file's bytes, their format, and how the render went."""

    mesh: bytes
    format: str  # "stl" (binary STL)
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class RendererInfo:
    """Which engine renders, and its version (as health reports them)."""

    engine: str  # "manifold" | "openscad"
    version: str


class Renderer(Protocol):
    """Turns SCAD source (untrusted: from an LLM or a client) into a mesh."""

    async def render(self, request: RenderRequest) -> RenderResult:
        """Render ``request.source`` to a binary STL, within the adapter's time, memory and
        output limits, reading no file outside its vetted library, with the request's
        parameters set and, if it names one, only that part drawn (the adapter decides
        how). Raises InvalidInput (naming the line) for a file reference the sandbox
        refuses, RenderFailed (quoting the renderer's error and its line) for SCAD that
        does not render or renders to nothing, RenderLimitExceeded when a limit stops it,
        and Unavailable("renderer not installed") when the renderer is missing."""

    async def about(self) -> RendererInfo:
        """The engine and its version; Unavailable("renderer not installed") if missing."""


class EventLog(Protocol):
    """Every chat's events, kept in order so a reconnecting socket can replay them.
    A run's end event is appended by ``RunStore.finalize`` instead, in the transaction
    that ends the run, numbered by the same rule."""

    async def append(
        self, owner: UUID, chat_id: UUID, type: str, data: JsonObject, now: datetime
    ) -> ChatEvent:
        """Store the chat's next event, numbered one past its last (the first is 1), and
        return it. Two writers never get the same number. Raises NotFound if the chat is
        gone."""

    async def since(
        self, owner: UUID, chat_id: UUID, after: int, limit: int = 500
    ) -> list[ChatEvent]:
        """The owner's events on the chat numbered above ``after``, oldest first, at most
        ``limit``. The caller has checked the chat is the owner's."""


class EventBus(Protocol):
    """Delivers each published event to every current subscriber of its chat, in this
    process or (for a shared bus) in any replica. Delivery is live only: what a
    subscriber missed is read back from the ``EventLog``."""

    async def publish(self, event: ChatEvent) -> None:
        """Send the event to the chat's subscribers. Raises Unavailable if the bus is down."""

    def subscribe(self, chat_id: UUID) -> AbstractAsyncContextManager[AsyncIterator[ChatEvent]]:
        """Receive the chat's events published from now on, for as long as the block
        lasts; the iterator ends when the bus closes."""


@dataclass(frozen=True, slots=True)
class MeshFacts:
    """What a mesh measures, in its own units (millimetres for SCAD)."""

    triangles: int
    watertight: bool
    winding_consistent: bool
    volume: float
    bodies: int
    bbox_min: tuple[float, float, float]
    bbox_max: tuple[float, float, float]
    #: Size (x, y, z) of the body with the largest volume: a box printed beside its lid
    #: is measured without the lid. ``None`` means the whole bounding box.
    main_body_size: tuple[float, float, float] | None = None
    #: Largest horizontal distance from the centre of mass to a point of the mesh: half
    #: the diameter of the circle a frame's arms sweep, seen from above.
    reach_xy: float = 0.0
    #: Round vertical holes near the bottom, as (x, y, diameter): what a retrieved
    #: part's hole pattern is checked against.
    holes: tuple[tuple[float, float, float], ...] = ()


class MeshKit(Protocol):
    """Measures and converts a binary STL mesh (what ``Renderer`` produces)."""

    async def inspect(self, stl: bytes) -> MeshFacts:
        """The mesh's facts (all zero for an STL without triangles). Raises InvalidInput
        if the bytes are not a readable mesh."""

    async def export(self, stl: bytes, format: str) -> bytes:
        """The mesh in ``format``: "stl" (binary), "glb" or "3mf". Raises InvalidInput
        for an unknown format or an unreadable mesh."""

    async def preview(self, stl: bytes) -> bytes:
        """An isometric shaded view of the mesh as PNG bytes, drawn without a display or
        GPU. Raises InvalidInput for an unreadable mesh."""


@dataclass(frozen=True, slots=True)
class ComponentQuery:
    """A catalog search: words (``text``, may be empty: then every visible part, by
    name), an optional category, a page."""

    text: str = ""
    category: str | None = None
    limit: int = 20
    offset: int = 0


class ComponentCatalog(Protocol):
    """Standard parts (shipped with Forge, read-only, seen by all) and each user's own
    parts (seen by their owner only: another user's part is NotFound). Searches rank by
    BM25 over ``forge_core.catalog_text`` words, fused with vector similarity where the
    adapter has embeddings. Every method raises Unavailable when the store cannot answer."""

    async def search(self, viewer: UUID | None, query: ComponentQuery) -> list[ComponentHit]:
        """The shipped parts and ``viewer``'s own that match, best first (score
        descending, then id), paged. A query with no search words lists by name."""

    async def get(self, viewer: UUID | None, component_id: str) -> Component:
        """A shipped part or one of ``viewer``'s own, or NotFound."""

    async def add(self, component: Component) -> None:
        """Store a user's part (``component.owner`` set). Raises AlreadyExists if the id
        is taken."""

    async def update(self, component: Component) -> None:
        """Replace one of its owner's parts. Raises NotFound if it is not theirs."""

    async def delete(self, owner: UUID, component_id: str) -> None:
        """Remove one of the owner's parts, or NotFound."""

    async def count(self) -> int:
        """How many parts are stored, shipped ones included."""


class Embeddings(Protocol):
    """Text to vectors (an OpenAI-compatible ``/embeddings`` service)."""

    @property
    def dimensions(self) -> int:
        """The length of every vector this model returns."""

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order. Raises Unavailable when the service cannot
        answer, InvalidInput when it refuses the input."""
