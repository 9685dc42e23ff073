"""One error tree for the whole product.

    ForgeError
    ├── NotFound              a missing object, or one the caller does not own
    │   └── MissingReference  a body names (by id) an object that does not exist
    ├── Conflict              the request clashes with stored state
    │   ├── NoStoredContent   an asset whose bytes are not in Forge's object store
    │   ├── InvalidTransition a job (or run) lifecycle step that is not allowed
    │   ├── AlreadyExists     a unique value already taken (an email, say)
    │   └── StaleObject       the object changed between read and write
    ├── InvalidInput          a value breaks a domain rule (names the field)
    │   ├── RenderFailed      SCAD that does not render (quotes the renderer, with the line)
    │   │   └── RenderLimitExceeded  the render ran out of time, memory or output size
    │   ├── TooLarge          a body or file over its size limit (413)
    │   └── KeyReused         an Idempotency-Key sent again with another request
    ├── Unauthenticated       missing, bad, expired or revoked credentials
    ├── PermissionDenied      authenticated, but the action is refused
    ├── RateLimited           too many requests; carries retry_after seconds
    └── Unavailable           a dependency (database, worker) cannot answer now

Adapters translate vendor exceptions into these, once, at their boundary; the HTTP
front end maps them to status codes in one table.
"""

from __future__ import annotations


class ForgeError(Exception):
    """Base of every error the core and its adapters raise on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(ForgeError):
    """The object does not exist, or belongs to someone else (never revealed)."""

    def __init__(self, kind: str, object_id: object) -> None:
        super().__init__(f"{kind} {object_id} not found")
        self.kind = kind
        self.object_id = object_id


class MissingReference(NotFound):
    """A body names, in ``field``, an object that does not exist (or is another user's):
    answered like a missing parent, naming the field rather than the id."""

    def __init__(self, field: str, kind: str) -> None:
        super().__init__(kind, field)
        self.detail = f"{field}: names {kind.lower()} that does not exist"
        self.args = (self.detail,)


class Conflict(ForgeError):
    """The request clashes with the stored state."""


class NoStoredContent(Conflict):
    """The asset exists but Forge stores no bytes for it: its uri points elsewhere (a
    client registered it), or nothing was uploaded yet. A conflict with the asset's
    state, not a missing asset: a client that just made it must not read "not found"."""

    def __init__(self, asset_id: object) -> None:
        super().__init__(
            f"Asset {asset_id} has no stored content: nothing was uploaded for it "
            "and its uri is not an object Forge stores"
        )


class InvalidTransition(Conflict):
    """A lifecycle step that the state machine does not allow."""

    def __init__(self, kind: str, current: str, target: str) -> None:
        super().__init__(f"{kind} cannot go from '{current}' to '{target}'")
        self.current = current
        self.target = target


class AlreadyExists(Conflict):
    """A value that must be unique is already taken."""


class StaleObject(Conflict):
    """The object changed between the read and the write; retry the request."""


class InvalidInput(ForgeError):
    """A value breaks a domain rule; ``field`` names it."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


class KeyReused(InvalidInput):
    """An idempotency key used again with a request that differs from its first one."""

    def __init__(self) -> None:
        super().__init__("Idempotency-Key", "was used with a different request")
        self.detail = "Idempotency-Key was used with a different request"


class RenderFailed(InvalidInput):
    """SCAD that the renderer refuses; ``line`` is where it says the error is, if it says."""

    def __init__(self, problem: str, line: int | None = None) -> None:
        where = f"line {line}: " if line is not None else ""
        super().__init__("scad", f"{where}{problem}")
        self.line = line


class RenderLimitExceeded(RenderFailed):
    """The render was stopped by a limit; ``limit`` is ``time``, ``memory`` or ``output``."""

    def __init__(self, limit: str, problem: str) -> None:
        super().__init__(problem)
        self.limit = limit


class TooLarge(InvalidInput):
    """A body or file over its size limit; ``limit`` is that limit in bytes."""

    def __init__(self, field: str, size: int, limit: int) -> None:
        super().__init__(field, f"is {size} bytes, over the limit of {limit} bytes")
        self.limit = limit


class Unauthenticated(ForgeError):
    """Credentials are missing, malformed, expired or revoked."""


class PermissionDenied(ForgeError):
    """The caller is known but may not do this (an unconfirmed email, say)."""


class RateLimited(ForgeError):
    """Too many requests; ``retry_after`` says how many seconds to wait."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class Unavailable(ForgeError):
    """A dependency cannot answer now; the request may succeed later."""
