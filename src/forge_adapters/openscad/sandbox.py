"""The SCAD sandbox: which files untrusted SCAD may read, checked before OpenSCAD runs.

OpenSCAD reads files through ``include <...>`` and ``use <...>`` and through the
arguments of a few built-ins (``import``, ``surface``, ``dxf_dim``, ``dxf_cross``, and
the deprecated file forms of ``linear_extrude``, ``rotate_extrude``, ``import_stl``...).
A small tokenizer, which skips comments and strings as OpenSCAD's lexer does, finds
each of them. A file reference must be a plain string literal naming a regular file
inside the vetted library folder; it is rewritten to that file's resolved absolute path,
so OpenSCAD never searches anywhere else. Anything else (no library, an absolute path,
``..``, a link out of the library, an escape sequence, a computed name such as
``import(str("/etc/", "passwd"))``) is refused with InvalidInput naming the line.
Rewrites stay on their line, so OpenSCAD's line numbers still match the client's SCAD.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from forge_core.errors import InvalidInput

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>//[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<string>"(?:[^"\\]|\\.)*(?:"|\Z))
  | (?P<ident>[A-Za-z_$][A-Za-z0-9_]*)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<punct>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_INCLUDE_PATH = re.compile(r"[ \t\r\n>]*<([^\t\r\n>]*)(>?)")
# Built-ins that read the file named by their first positional or ``file=`` argument.
READERS = frozenset(
    {
        "import",
        "import_stl",
        "import_off",
        "import_dxf",
        "surface",
        "dxf_dim",
        "dxf_cross",
        "linear_extrude",
        "rotate_extrude",
        "dxf_linear_extrude",
        "dxf_rotate_extrude",
    }
)
FILE_ARGUMENTS = frozenset({"file", "filename"})


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # ident | string | number | punct | include
    text: str
    line: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Argument:
    name: str | None
    tokens: list[Token]


def tokenize(source: str) -> list[Token]:
    """OpenSCAD's tokens, without comments and spaces; ``include``/``use`` paths are one token."""
    tokens: list[Token] = []
    position, line = 0, 1
    while position < len(source):
        match = _TOKEN.match(source, position)
        assert match is not None  # the last alternative matches any character
        kind, text = match.lastgroup or "punct", match.group()
        if kind == "ident" and text in ("include", "use"):
            path = _INCLUDE_PATH.match(source, match.end())
            if path is not None:
                if not path.group(2):
                    raise InvalidInput("scad", f"line {line}: {text} <...> has no closing '>'")
                tokens.append(Token("include", path.group(1), line, match.start(), path.end()))
                line += source.count("\n", match.start(), path.end())
                position = path.end()
                continue
        if kind not in ("space", "comment"):
            tokens.append(Token(kind, text, line, match.start(), match.end()))
        line += text.count("\n")
        position = match.end()
    return tokens


def arguments(tokens: list[Token], open_at: int) -> tuple[list[Argument], int]:
    """The arguments of the call whose ``(`` is ``tokens[open_at]``, and the index of its ``)``."""
    args: list[Argument] = []
    current: list[Token] = []
    depth, index = 0, open_at + 1
    while index < len(tokens):
        token = tokens[index]
        if token.text in "([{" and token.kind == "punct":
            depth += 1
        elif token.text in ")]}" and token.kind == "punct":
            if depth == 0:
                break
            depth -= 1
        if depth == 0 and token.kind == "punct" and token.text == ",":
            args.append(_argument(current))
            current = []
        else:
            current.append(token)
        index += 1
    if current:
        args.append(_argument(current))
    return [arg for arg in args if arg.tokens], index


def _argument(tokens: list[Token]) -> Argument:
    named = (
        len(tokens) >= 3
        and tokens[0].kind == "ident"
        and tokens[1].text == "="
        and tokens[2].text != "="
    )
    return Argument(tokens[0].text, tokens[2:]) if named else Argument(None, tokens)


def vet_scad(source: str, library: Path | None) -> str:
    """``source`` with every file reference checked and pointed at the library file,
    or InvalidInput naming the first refused line."""
    tokens = tokenize(source)
    edits: list[tuple[int, int, str]] = []
    for index, token in enumerate(tokens):
        if token.kind == "include":
            keyword = "include" if source.startswith("include", token.start) else "use"
            found = _library_file(token.text, token.line, library, f"{keyword} <...>")
            if ">" in found:
                raise InvalidInput("scad", f"line {token.line}: {keyword} names an odd file")
            edits.append((token.start, token.end, f"{keyword} <{found}>"))
        elif token.kind == "ident" and token.text in READERS and _opens_call(tokens, index):
            args, _ = arguments(tokens, index + 1)
            edits.extend(_vet_call(token, args, library))
    for start, end, text in sorted(edits, reverse=True):
        source = source[:start] + text + source[end:]
    return source


def _opens_call(tokens: list[Token], index: int) -> bool:
    return index + 1 < len(tokens) and tokens[index + 1].text == "("


def _vet_call(
    call: Token, args: list[Argument], library: Path | None
) -> list[tuple[int, int, str]]:
    """Edits that point ``call``'s file arguments at the library; refuses what cannot be."""
    edits: list[tuple[int, int, str]] = []
    positional = [arg for arg in args if arg.name is None]
    for arg in args:
        if arg.name in FILE_ARGUMENTS:
            edits.append(_vet_literal(call, arg, library))
    if not positional:
        return edits
    first = positional[0]
    if _is_string(first) or call.text not in ("linear_extrude", "rotate_extrude"):
        edits.append(_vet_literal(call, first, library))
    elif len(first.tokens) == 1 and first.tokens[0].kind == "number":
        pass  # a number is never a file
    elif call.text == "linear_extrude" and len(positional) == 1:
        if any(arg.name == "height" for arg in args):
            _refuse(call, "takes height either by name or first, not both")
        start, end = first.tokens[0].start, first.tokens[-1].end
        edits.append((start, start, "height=("))
        edits.append((end, end, ")"))
    else:
        _refuse(call, "arguments other than a plain number must be given by name here")
    return edits


def _is_string(arg: Argument) -> bool:
    return len(arg.tokens) == 1 and arg.tokens[0].kind == "string"


def _vet_literal(call: Token, arg: Argument, library: Path | None) -> tuple[int, int, str]:
    if not _is_string(arg):
        _refuse(call, "the file must be a plain string, not an expression")
    token = arg.tokens[0]
    if not token.text.endswith('"') or len(token.text) < 2:
        _refuse(call, "the file name is not a closed string")
    found = _library_file(token.text[1:-1], token.line, library, f"{call.text}()")
    quoted = found.replace("\\", "\\\\").replace('"', '\\"')
    return token.start, token.end, f'"{quoted}"'


def _refuse(call: Token, problem: str) -> None:
    raise InvalidInput("scad", f"line {call.line}: {call.text}(): {problem}")


def _library_file(name: str, line: int, library: Path | None, what: str) -> str:
    """The resolved path of library file ``name``; InvalidInput if it is anything else."""

    def refuse(problem: str) -> InvalidInput:
        return InvalidInput("scad", f"line {line}: {what} {name!r} refused: {problem}")

    if library is None:
        raise refuse("reading files is off (no SCAD library is set: FORGE_SCAD_LIBRARY)")
    if not name or "\\" in name or "\0" in name:
        raise refuse("not a plain file name")
    if name.startswith(("/", "~")) or ".." in PurePosixPath(name).parts:
        raise refuse("only relative paths inside the SCAD library are allowed")
    root = library.resolve()
    try:
        found = (root / name).resolve(strict=True)
    except (OSError, RuntimeError):
        raise refuse("no such file in the SCAD library") from None
    if not found.is_relative_to(root):
        raise refuse("it leads out of the SCAD library")
    if not found.is_file():
        raise refuse("not a file")
    return str(found)
