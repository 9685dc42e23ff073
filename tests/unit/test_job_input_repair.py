"""A repair travels as ``repair: {scad, error}`` in the job's wire payload, and back."""

from __future__ import annotations

import pytest

from forge_core.errors import InvalidInput
from forge_core.inference import Action, JobInput, Repair


def test_a_repair_round_trips_through_the_payload() -> None:
    job = JobInput(action=Action.GENERATE_SCAD, prompt="a cube", repair=Repair("cube(;", "line 1"))
    payload = job.to_payload()
    assert payload["repair"] == {"scad": "cube(;", "error": "line 1"}
    assert JobInput.from_payload(payload) == job
    assert "repair" not in JobInput(action=Action.GENERATE_SCAD).to_payload()


@pytest.mark.parametrize("repair", [{"scad": "x"}, {"scad": 1, "error": "e"}, "fix it"])
def test_a_malformed_repair_is_refused(repair: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        JobInput.from_payload({"action": "generate_scad", "repair": repair})
    assert caught.value.field == "repair"
