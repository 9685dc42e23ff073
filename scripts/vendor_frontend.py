"""Vendor the console's front-end libraries from the npm registry into the package.

    python scripts/vendor_frontend.py

Downloads each pinned package's tarball from registry.npmjs.org, checks it against the
registry's SHA-512 integrity, and copies the listed files (and the package's licence)
into ``src/forge_http/console/vendor/<package>/``, keeping the package's own layout so
relative imports between its files still resolve. The result is committed: installing
Forge needs neither Node nor the network, and the browser loads nothing from a CDN.
To upgrade, change a version here, run the script, and commit what changed.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import sys
import tarfile
import urllib.request
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
VENDOR = Path(__file__).resolve().parents[1] / "src" / "forge_http" / "console" / "vendor"

#: package -> (version, files inside the tarball's ``package/`` folder)
PACKAGES: dict[str, tuple[str, list[str]]] = {
    "three": (
        "0.187.0",
        [
            "LICENSE",
            "build/three.module.js",
            "build/three.core.js",
            "examples/jsm/loaders/GLTFLoader.js",
            "examples/jsm/loaders/STLLoader.js",
            "examples/jsm/controls/OrbitControls.js",
            "examples/jsm/utils/BufferGeometryUtils.js",
            "examples/jsm/utils/SkeletonUtils.js",
        ],
    ),
}


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as answer:
        return bytes(answer.read())


def tarball(name: str, version: str) -> bytes:
    """The package's tarball, verified against the integrity the registry publishes."""
    dist = json.loads(fetch(f"{REGISTRY}/{name}/{version}"))["dist"]
    data = fetch(dist["tarball"])
    algorithm, _, expected = dist["integrity"].partition("-")
    if algorithm != "sha512":
        raise SystemExit(f"{name}@{version}: unexpected integrity algorithm {algorithm}")
    digest = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if digest != expected:
        raise SystemExit(f"{name}@{version}: tarball does not match its integrity")
    return data


def vendor(name: str, version: str, files: list[str]) -> None:
    target = VENDOR / name
    shutil.rmtree(target, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(tarball(name, version)), mode="r:gz") as archive:
        for file in files:
            member = archive.extractfile(f"package/{file}")
            if member is None:
                raise SystemExit(f"{name}@{version}: {file} is not a file")
            path = target / file
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(member.read())
    (target / "VERSION").write_text(f"{name}@{version} from {REGISTRY}\n")
    print(f"vendored {name}@{version}: {len(files)} files into {target}")


def main() -> None:
    for name, (version, files) in PACKAGES.items():
        vendor(name, version, files)


if __name__ == "__main__":
    sys.exit(main())
