"""Reading a design request's words: the model type, dimensions, counts and components.

Plain pattern matching, not language understanding: see docs/inference.md for what it
recognises. Numbers are converted to millimetres; later text (the newest message) wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Model types and the words that name them.
MODEL_WORDS: dict[str, tuple[str, ...]] = {
    "drone": ("quadcopter", "quad copter", "drone", "multirotor", "quad", "fpv frame"),
    "enclosure": ("enclosure", "box", "case", "housing", "project box"),
    "bracket": ("l bracket", "l-bracket", "angle bracket", "bracket"),
    "plate": ("mounting plate", "plate", "panel", "base plate"),
}

UNITS = {"mm": 1.0, "cm": 10.0, "m": 1000.0, "in": 25.4, "inch": 25.4, "inches": 25.4, '"': 25.4}
_UNIT = r"(mm|cm|m|inch(?:es)?|in|\")"
_NUM = r"(\d+(?:\.\d+)?)"

#: Dimension labels (a word after or before a length) and the key each fills.
LABELS: tuple[tuple[str, str], ...] = (
    (r"motor[- ]to[- ]motor|diagonal|wheelbase", "motor_to_motor"),
    (r"wall(?:s| thickness)?", "wall_thickness"),
    (r"thick(?:ness)?", "thickness"),
    (r"wide|width", "width"),
    (r"long|length", "length"),
    (r"tall|high|height", "height"),
    (r"deep|depth", "depth"),
    (r"diameter|dia", "diameter"),
    (r"holes?", "hole_diameter"),
    (r"arms?", "arm_width"),
    (r"legs?|flanges?", "leg_length"),
    (r"props?|propellers?", "prop_diameter"),
    (r"stack", "stack"),
)
_LABEL = "|".join(f"(?:{pattern})" for pattern, _ in LABELS)
AFTER = re.compile(rf"{_NUM}\s*{_UNIT}(?![a-z])[\s-]*((?:{_LABEL}))(?![a-z])")
BEFORE = re.compile(rf"((?:{_LABEL}))(?:\s+(?:of|is))?\s*[:=]?\s*{_NUM}\s*{_UNIT}(?![a-z])")
SIZE = re.compile(
    rf"(stack\s+)?{_NUM}\s*x\s*{_NUM}(?:\s*x\s*{_NUM})?\s*{_UNIT}(?![a-z])(\s+stack)?"
)
#: "a 160 mm quadcopter": a frame's size is its motor-to-motor distance.
FRAME_SIZE = re.compile(
    rf"{_NUM}\s*{_UNIT}(?![a-z])[\s-]*(?:quad[- ]?copter|quad|drone|multirotor)\b"
)
METRIC_SCREW = re.compile(r"\bm(2|2\.5|3|4|5|6|8)\b")

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twelve": 12,
}  # fmt: skip
COUNTED = r"holes|arms|motors|screws|props|propellers|legs|fans|ports|slots"
COUNT = re.compile(
    rf"\b(\d+|{'|'.join(NUMBER_WORDS)})\s+(?:{_NUM}\s*{_UNIT}\s+|([a-z]+)\s+)?({COUNTED})(?![\w-])"
)

#: Standard parts: the words that name them, their name and a search term.
COMPONENTS: tuple[tuple[str, str, str], ...] = (
    (r"flight controller|\bfc\b", "Flight controller", "flight controller stack"),
    (r"(?<![\w-])motors?(?![\w-])", "Brushless motor", "brushless motor"),
    (r"\besc\b", "ESC", "4-in-1 esc"),
    (r"batter(?:y|ies)|lipo", "Battery", "lipo battery"),
    (r"camera", "Camera", "fpv camera"),
    (r"raspberry pi", "Raspberry Pi", "raspberry pi board"),
    (r"arduino", "Arduino", "arduino board"),
    (r"\bpcb\b|circuit board", "PCB", "pcb"),
    (r"\bfans?\b", "Fan", "cooling fan"),
    (r"display|\blcd\b|screen", "Display", "lcd display"),
    (r"\busb\b", "USB connector", "usb connector"),
    (r"screws?|bolts?", "Screws", "machine screws"),
)


@dataclass
class Reading:
    """What the words said: a model type, sizes in mm, counts, standard components."""

    model_type: str | None = None
    dimensions_mm: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    components: list[dict[str, str]] = field(default_factory=list)


def model_type_of(text: str) -> str | None:
    """The model type whose word comes first in the text."""
    found: list[tuple[int, str]] = []
    for kind, words in MODEL_WORDS.items():
        for word in words:
            match = re.search(rf"\b{re.escape(word)}s?\b", text)
            if match:
                found.append((match.start(), kind))
    return min(found)[1] if found else None


def read(texts: list[str]) -> Reading:
    """Read the texts, oldest first: a later text's values replace an earlier one's."""
    reading = Reading()
    for raw in texts:
        text = raw.lower()
        reading.model_type = model_type_of(text) or reading.model_type
        reading.dimensions_mm.update(_dimensions(text))
        reading.counts.update(_counts(text))
        for component in _components(text):
            if component not in reading.components:
                reading.components.append(component)
    return reading


def _mm(number: str, unit: str) -> float:
    return round(float(number) * UNITS[unit], 2)


def _key(label: str) -> str:
    return next(key for pattern, key in LABELS if re.fullmatch(pattern, label))


def _dimensions(text: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for match in SIZE.finditer(text):
        values = [_mm(n, match[5]) for n in match.groups()[1:4] if n is not None]
        if match[1] or match[6]:
            found["stack"] = values[0]
        else:
            found.update(zip(("length", "width", "height"), values, strict=False))
    for match in FRAME_SIZE.finditer(text):
        found["motor_to_motor"] = _mm(match[1], match[2])
    for match in BEFORE.finditer(text):
        found[_key(match[1])] = _mm(match[2], match[3])
    for match in AFTER.finditer(text):
        found[_key(match[3])] = _mm(match[1], match[2])
    screw = METRIC_SCREW.search(text)
    if screw and "hole_diameter" not in found:
        found["hole_diameter"] = round(float(screw[1]) + 0.2, 2)
    return found


def _counts(text: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for match in COUNT.finditer(text):
        number, _, _, between, noun = match.groups()
        if between in UNITS:  # "3 mm arms" is a size, not a count
            continue
        value = int(number) if number.isdigit() else NUMBER_WORDS[number]
        found[{"props": "propellers"}.get(noun, noun)] = value
    return found


def _components(text: str) -> list[dict[str, str]]:
    found = []
    for pattern, name, term in COMPONENTS:
        if re.search(pattern, text):
            stack = SIZE.search(text)
            if name == "Flight controller" and stack and (stack[1] or stack[6]):
                term = f"stack {stack[2]}x{stack[3]} mm"
            found.append({"name": name, "search_term": term})
    return found
