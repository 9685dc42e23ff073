"""Reading a design request's words: the model type, dimensions, counts and components.

Plain pattern matching, not language understanding: see docs/inference.md for what it
recognises. Numbers are converted to millimetres; later text (the newest message) wins.
``read`` is a pure function of the texts, and it keeps a ``Finding`` for every number it
understood (the words, what they were read as, the value) and the words of every number
it did not, so the answer can say what it made of each one.
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
_U = r"(?:mm|cm|m|inch(?:es)?|in|\")(?![a-z])"
_N = r"\d+(?:\.\d+)?"

#: Dimension labels (a word after or before a length) and the key each fills; the first
#: label that fits wins, so "3 mm thick arms" is an arm thickness, "3 mm thick" a thickness.
LABELS: tuple[tuple[str, str], ...] = (
    (r"motor[- ]to[- ]motor|diagonal|wheelbase", "motor_to_motor"),
    (r"thick arms?|arms? thickness", "arm_thickness"),
    (r"wide arms?|arms? width", "arm_width"),
    (r"wall(?:s| thickness)?", "wall_thickness"),
    (r"thick(?:ness)?", "thickness"),
    (r"wide|width", "width"),
    (r"long|length", "length"),
    (r"tall|high|height", "height"),
    (r"deep|depth", "depth"),
    (r"diameter|dia", "diameter"),
    (r"holes?", "hole_diameter"),
    (r"arms?", "arm_thickness"),  # "3 mm arms": flat arms are as thick as the plate
    (r"legs?|flanges?", "leg_length"),
    (r"props?|propellers?", "prop_diameter"),
    (r"stack", "stack"),
)
#: What each key means, in the words the answer uses.
MEANINGS = {
    "motor_to_motor": "motor-to-motor distance",
    "arm_thickness": "arm thickness",
    "arm_width": "arm width",
    "wall_thickness": "wall thickness",
    "hole_diameter": "hole diameter",
    "leg_length": "leg length",
    "prop_diameter": "propeller diameter",
    "stack": "flight-controller stack spacing",
}
_LABEL = "|".join(f"(?:{pattern})" for pattern, _ in LABELS)
AFTER = re.compile(rf"(?P<n>{_N})\s*(?P<u>{_U})[\s-]*(?P<label>{_LABEL})(?![a-z])")
BEFORE = re.compile(rf"(?P<label>{_LABEL})(?:\s+(?:of|is))?\s*[:=]?\s*(?P<n>{_N})\s*(?P<u>{_U})")
_BY = "\\s*(?:x|\u00d7|by)\\s*"  # "300 x 200", with a times sign, "300 by 200"
SIZE = re.compile(
    rf"(?P<pre>stack\s+)?(?P<a>{_N})\s*(?P<ua>{_U})?{_BY}(?P<b>{_N})\s*(?P<ub>{_U})?"
    rf"(?:{_BY}(?P<c>{_N})\s*(?P<uc>{_U})?)?(?P<post>\s+stack)?"
)
#: "a 160 mm quadcopter": a frame's size is its motor-to-motor distance.
FRAME_SIZE = re.compile(
    rf"(?P<n>{_N})\s*(?P<u>{_U})[\s-]*(?:quad[- ]?copter|quad|drone|multirotor)\b"
)
METRIC_SCREW = re.compile(r"\bm(?P<n>2|2\.5|3|4|5|6|8)\b")

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twelve": 12,
}  # fmt: skip
COUNTED = r"holes|arms|motors|screws|props|propellers|legs|fans|ports|slots"
COUNT = re.compile(
    rf"\b(?P<n>\d+|{'|'.join(NUMBER_WORDS)})\s+(?:{_N}\s*{_U}[\s-]+)?(?:[a-z]+\s+)?"
    rf"(?P<noun>{COUNTED})(?![\w-])"
)
#: Any number not glued to a word ("esp32" is a name), with its unit and next word.
ANY_NUMBER = re.compile(rf"(?<![\w.])(?P<n>{_N})(?:\s*{_U})?(?:[\s-]*[a-z]+)?")

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


@dataclass(frozen=True)
class Finding:
    """One number understood: the words as written, the key it fills, its value (mm for
    a size, a whole number for a count)."""

    text: str
    key: str
    value: float
    count: bool = False

    def __post_init__(self) -> None:  # one line, whatever spacing the words had
        object.__setattr__(self, "text", " ".join(self.text.split()))

    @property
    def meaning(self) -> str:
        if self.count:
            return f"number of {self.key}"
        return MEANINGS.get(self.key, self.key.replace("_", " "))


@dataclass
class Reading:
    """What the words said: a model type, sizes in mm, counts, standard components, and
    every number (``findings`` in reading order; ``unread``: the words of numbers that
    were not understood)."""

    model_type: str | None = None
    dimensions_mm: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    components: list[dict[str, str]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        """Keep a finding; its value replaces an earlier one for the same key."""
        self.findings.append(finding)
        if finding.count:
            self.counts[finding.key] = int(finding.value)
        else:
            self.dimensions_mm[finding.key] = finding.value


def given(reading: Reading, dimensions_mm: dict[str, float], counts: dict[str, int]) -> None:
    """Values a request states outright (``requirements_json``): each replaces what the
    words said, and is recorded as a finding where it says something new."""
    for key, value in dimensions_mm.items():
        if reading.dimensions_mm.get(key) != value:
            reading.add(Finding(f"dimensions_mm.{key}", key, value))
    for noun, number in counts.items():
        if reading.counts.get(noun) != number:
            reading.add(Finding(f"counts.{noun}", noun, number, count=True))


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
        findings, unread = _numbers(text)
        for finding in findings:
            reading.add(finding)
        reading.unread += unread
        for component in _components(text):
            if component not in reading.components:
                reading.components.append(component)
    return reading


def _mm(number: str, unit: str) -> float:
    return round(float(number) * UNITS[unit], 2)


def _key(label: str) -> str:
    return next(key for pattern, key in LABELS if re.fullmatch(pattern, label))


class _Spans:
    """The numbers already read, by their start: each number is read once."""

    def __init__(self) -> None:
        self.starts: set[int] = set()

    def take(self, match: re.Match[str], *groups: str) -> bool:
        starts = {match.start(g) for g in groups if match.group(g) is not None}
        if starts & self.starts:
            return False
        self.starts |= starts
        return True


def _numbers(text: str) -> tuple[list[Finding], list[str]]:
    """The findings in one text, in order of position, and the numbers not understood.
    Sizes first, then a frame's size, "3 mm thick" (number first), "thickness 3 mm",
    counts, and an M3 screw's hole."""
    spans, found = _Spans(), list[tuple[int, Finding]]()
    for m in SIZE.finditer(text):
        unit = m["uc"] or m["ub"] or m["ua"]
        if unit is None or not spans.take(m, "a", "b", "c"):
            continue
        values = [_mm(n, unit) for n in (m["a"], m["b"], m["c"]) if n is not None]
        keys = ("stack",) if m["pre"] or m["post"] else ("length", "width", "height")
        for key, value in zip(keys, values, strict=False):
            found.append((m.start(), Finding(m[0].strip(), key, value)))
    for m in FRAME_SIZE.finditer(text):
        if spans.take(m, "n"):
            found.append((m.start(), Finding(m[0], "motor_to_motor", _mm(m["n"], m["u"]))))
    for pattern in (AFTER, BEFORE):
        for m in pattern.finditer(text):
            if spans.take(m, "n"):
                found.append((m.start(), Finding(m[0], _key(m["label"]), _mm(m["n"], m["u"]))))
    for m in COUNT.finditer(text):
        if spans.take(m, "n"):
            value = int(m["n"]) if m["n"].isdigit() else NUMBER_WORDS[m["n"]]
            noun = {"props": "propellers"}.get(m["noun"], m["noun"])
            found.append((m.start(), Finding(m[0], noun, value, count=True)))
    found.sort(key=lambda pair: pair[0])
    findings = [finding for _, finding in found]
    screw = METRIC_SCREW.search(text)
    if screw and spans.take(screw, "n") and all(f.key != "hole_diameter" for f in findings):
        findings.append(Finding(screw[0], "hole_diameter", round(float(screw["n"]) + 0.2, 2)))
    unread = [m[0] for m in ANY_NUMBER.finditer(text) if m.start("n") not in spans.starts]
    return findings, [" ".join(words.split()) for words in unread]


def _components(text: str) -> list[dict[str, str]]:
    found = []
    for pattern, name, term in COMPONENTS:
        if re.search(pattern, text):
            stack = SIZE.search(text)
            if name == "Flight controller" and stack and (stack["pre"] or stack["post"]):
                term = f"stack {stack['a']}x{stack['b']} mm"
            found.append({"name": name, "search_term": term})
    return found
