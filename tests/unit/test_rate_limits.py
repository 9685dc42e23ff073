"""The RateLimits use case over the memory limiter: sign-in attempts per address and per
email, runs per user, each refusal a RateLimited naming its limit with the seconds to
wait; and Runs.start refusing past the limit before anything is submitted or stored."""

from __future__ import annotations

from uuid import uuid4

import pytest

from forge_adapters.memory import MemoryRateLimiter
from forge_core.errors import RateLimited
from forge_core.rate_limits import RateLimits, email_key
from tests.unit.test_runs_service import ask, make_world

pytestmark = pytest.mark.anyio


def limits(auth: int = 3, runs: int = 2) -> RateLimits:
    return RateLimits(MemoryRateLimiter(), auth_per_minute=auth, runs_per_minute=runs)


async def test_one_address_is_limited_whatever_the_email() -> None:
    rules = limits()
    for n in range(3):
        await rules.check_auth("10.0.0.1", f"user{n}@example.com")
    with pytest.raises(RateLimited) as refused:
        await rules.check_auth("10.0.0.1", "user9@example.com")
    assert "from this address" in refused.value.detail and "3 a minute" in refused.value.detail
    assert 1 <= refused.value.retry_after <= 60
    await rules.check_auth("10.0.0.2", "user9@example.com")  # another address still may


async def test_one_email_is_limited_whatever_the_address() -> None:
    rules = limits()
    for n, email in enumerate(["ann@example.com", "ANN@example.com ", "Ann@Example.com"]):
        await rules.check_auth(f"10.0.0.{n}", email)
    with pytest.raises(RateLimited) as refused:
        await rules.check_auth("10.0.0.9", "ann@example.com")
    assert "for this email" in refused.value.detail
    await rules.check_auth("10.0.0.9", "bob@example.com")


async def test_without_an_email_only_the_address_counts() -> None:
    rules = limits(auth=1)
    await rules.check_auth("10.0.0.1")
    with pytest.raises(RateLimited):
        await rules.check_auth("10.0.0.1")


async def test_runs_are_counted_per_user() -> None:
    rules = limits()
    alice, bob = uuid4(), uuid4()
    await rules.check_runs(alice)
    await rules.check_runs(alice)
    with pytest.raises(RateLimited) as refused:
        await rules.check_runs(alice)
    assert "runs started" in refused.value.detail and refused.value.retry_after >= 1
    await rules.check_runs(bob)


def test_an_email_key_holds_no_address_in_the_clear() -> None:
    assert email_key(" Ann@Example.com") == email_key("ann@example.com")
    assert "ann" not in email_key("ann@example.com")


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        RateLimits(MemoryRateLimiter(), auth_per_minute=0)


async def test_a_run_past_the_rate_limit_submits_and_stores_nothing() -> None:
    world = await make_world(hold=False, limits=limits(runs=2))
    for _ in range(2):
        await world.runs.start(world.owner, world.chat.id, ask())
    with pytest.raises(RateLimited):
        await world.runs.start(world.owner, world.chat.id, ask())
    assert len(world.backend.submitted) == 2
    assert len(await world.store.list_unfinished()) == 2
    assert len(await world.messages()) == 2
    assert [event.type for event in world.bus.published] == ["runpod.queued"] * 2
