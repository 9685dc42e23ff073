"""One rule for U+0000: no text in a request may hold it, and the schema says so.

PostgreSQL's ``text`` and ``jsonb`` cannot store U+0000, and a record should read the
same on every database, so a command with NUL in any string (a field, a JSON key, a
value however deep) is refused, naming the field. ``declare`` writes the same rule into
a command's JSON Schema: every string gets ``NUL_FREE`` as a pattern, and every free-form
JSON object is one whose keys and values hold none (``JSON_VALUE``), so a client
generated from the schema never sends what the API refuses.
"""

from __future__ import annotations

from typing import Any

NUL_FREE = r"^[^\x00]*$"
#: The name ``declare``'s references use for ``JSON_VALUE`` among the schema's components.
JSON_VALUE_NAME = "NulFreeJson"
_JSON_VALUE_REF = {"$ref": f"#/components/schemas/{JSON_VALUE_NAME}"}
_NUL_FREE_TEXT = {"type": "string", "pattern": NUL_FREE}
#: Any JSON value whose strings (object keys included) hold no U+0000.
JSON_VALUE: dict[str, Any] = {
    "anyOf": [
        {"type": "null"},
        {"type": "boolean"},
        {"type": "number"},
        _NUL_FREE_TEXT,
        {"type": "array", "items": _JSON_VALUE_REF},
        {
            "type": "object",
            "propertyNames": _NUL_FREE_TEXT,
            "additionalProperties": _JSON_VALUE_REF,
        },
    ]
}


def has_nul(value: Any) -> bool:
    """Whether any string in ``value`` (keys included, at any depth) holds U+0000."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(item) for item in value)
    return False


def declare(schema: Any) -> None:
    """Add the rule, in place, to every string and free-form object in ``schema``."""
    if isinstance(schema, list):
        for item in schema:
            declare(item)
        return
    if not isinstance(schema, dict):
        return
    for key, value in schema.items():
        if key not in ("enum", "const", "default", "examples"):
            declare(value)
    if schema.get("type") == "string" and not schema.keys() & {"enum", "const", "format"}:
        pattern = schema.get("pattern")
        if pattern is None:
            schema["pattern"] = NUL_FREE
        elif pattern != NUL_FREE and "\\x00" not in pattern:
            # One pattern per schema: the other rule joins as a conjunct.
            conjuncts = schema.setdefault("allOf", [])
            if {"pattern": NUL_FREE} not in conjuncts:
                conjuncts.append({"pattern": NUL_FREE})
    elif schema.get("type") == "object" and _free_form(schema):
        schema["propertyNames"] = dict(_NUL_FREE_TEXT)
        schema["additionalProperties"] = dict(_JSON_VALUE_REF)


def _free_form(schema: dict[str, Any]) -> bool:
    """An object of any keys and values (``dict[str, Any]``), not a model's fields."""
    return "properties" not in schema and schema.get("additionalProperties", True) in (True, {})
