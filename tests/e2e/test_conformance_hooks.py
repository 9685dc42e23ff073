"""The conformance hook's rule for a 404 that is about a body's reference, not the record.

The outside run reaches such a 404 only when its stateful phase gets far enough, which
depends on the machine's speed; these cases pin the rule down without that luck.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import requests
from schemathesis.core.transport import Response

from tests.e2e.conformance_hooks import _a_reference_is_missing


def answer(status: int, body: object) -> Response:
    sent = requests.Request("PATCH", "http://forge.test/api/v1/asset-meta/x").prepare()
    return Response(status, {}, json.dumps(body).encode(), sent, 0.01, True)


MISSING = {"status_code": 404, "detail": "component_of: names an asset that does not exist"}


@pytest.mark.parametrize(
    ("status", "body", "sent", "excused"),
    [
        (404, MISSING, {"component_of": "5b1c…"}, True),
        # The field the detail names is not in the body: the record itself is missing.
        (404, MISSING, {"name": "x"}, False),
        (404, {"status_code": 404, "detail": "AssetMeta 5b1c not found"}, {}, False),
        (404, ["not", "an", "object"], {"component_of": "x"}, False),
        (404, MISSING, None, False),
    ],
)
def test_only_a_404_naming_a_field_of_the_body_is_excused(
    status: int, body: object, sent: object, excused: bool
) -> None:
    case = SimpleNamespace(body=sent)
    assert _a_reference_is_missing(answer(status, body), case) is excused


def test_a_body_that_is_not_json_is_not_excused() -> None:
    sent = requests.Request("GET", "http://forge.test/").prepare()
    raw = Response(404, {}, b"<html>not found</html>", sent, 0.01, True)
    assert _a_reference_is_missing(raw, SimpleNamespace(body={"component_of": "x"})) is False
