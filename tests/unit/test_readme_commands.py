"""The README's ``forge`` commands are ones the command line takes."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from forge_http.cli import _parser

README = Path(__file__).parents[2] / "README.md"


def test_the_readme_says_how_to_change_the_port_with_options_forge_takes() -> None:
    commands = re.findall(r"^(forge serve [^#\n]*?)\s*(?:#.*)?$", README.read_text(), re.M)
    port_changes = [shlex.split(c)[1:] for c in commands if "--port" in c]
    assert port_changes, "README.md should show `forge serve --port`"
    for args in port_changes:
        parsed = _parser().parse_args(args)
        assert parsed.port == 8080 and parsed.command == "serve"
    assert "FORGE_PORT=" in README.read_text()
