"""An isometric, flat-shaded PNG of a triangle mesh, drawn on the CPU with numpy.

A z-buffer rasterizer: no display, no GPU, no OpenGL. The view looks at the part from
the front-right-top corner (z up); each triangle is shaded by the angle its normal makes
with a light beside the viewer (lit from both sides, so an open mesh still shows). The
image is drawn at twice its size and scaled down, which smooths the edges.
See docs/pipeline.md for why this method, and how it compared with the others.
"""

from __future__ import annotations

import io

import numpy as np
from numpy.typing import NDArray
from PIL import Image

Floats = NDArray[np.float64]

BACKGROUND = (244, 245, 247)
BASE_COLOUR = np.array([112.0, 168.0, 250.0])
_EYE = np.array([1.0, -1.0, 0.9])  # where the viewer stands, relative to the part
_LIGHT = np.array([0.3, -0.8, 1.0])
_SUPERSAMPLE = 2
_MARGIN = 0.06


def render_png(vertices: Floats, faces: NDArray[np.int64], size: int = 512) -> bytes:
    """The PNG bytes of the mesh seen from the isometric corner, ``size`` pixels square."""
    big = size * _SUPERSAMPLE
    screen, depth = _project(vertices, big)
    shade = _shades(vertices, faces)
    image = np.empty((big * big, 3), dtype=np.uint8)
    image[:] = BACKGROUND
    if len(faces):
        pixels, colours = _rasterize(screen[faces], depth[faces], shade, big)
        image[pixels] = colours
    picture = Image.fromarray(image.reshape(big, big, 3), "RGB")
    picture = picture.resize((size, size), Image.Resampling.BOX)
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=False)
    return out.getvalue()


def _camera() -> tuple[Floats, Floats, Floats]:
    """The screen's right and up directions and the viewing direction (into the screen)."""
    forward = -_EYE / np.linalg.norm(_EYE)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    return right, np.cross(right, forward), forward


def _project(vertices: Floats, big: int) -> tuple[Floats, Floats]:
    """Pixel coordinates (x right, y down) fitted into the image, and depth per vertex."""
    right, up, forward = _camera()
    if len(vertices) == 0:
        return np.zeros((0, 2)), np.zeros(0)
    flat = np.stack([vertices @ right, -(vertices @ up)], axis=1)
    low, high = flat.min(axis=0), flat.max(axis=0)
    scale = big * (1 - 2 * _MARGIN) / max(float((high - low).max()), 1e-9)
    centred = (flat - (low + high) / 2) * scale + big / 2
    return centred, vertices @ forward


def _shades(vertices: Floats, faces: NDArray[np.int64]) -> NDArray[np.uint8]:
    """One RGB colour per face: ambient light plus two-sided Lambert from the light."""
    corners = vertices[faces]
    normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    lengths = np.linalg.norm(normals, axis=1, keepdims=True)
    normals = normals / np.where(lengths == 0, 1, lengths)
    light = _LIGHT / np.linalg.norm(_LIGHT)
    lambert = np.abs(normals @ light)
    intensity = 0.35 + 0.65 * lambert
    rgb = np.clip(intensity[:, None] * BASE_COLOUR[None, :], 0, 255)
    shades: NDArray[np.uint8] = rgb.astype(np.uint8)
    return shades


def _rasterize(
    tri: Floats, depth: Floats, shade: NDArray[np.uint8], big: int
) -> tuple[NDArray[np.int64], NDArray[np.uint8]]:
    """The nearest face's colour for every covered pixel (flat indices, colours).

    Scanlines, all triangles at once: each triangle is cut into the pixel rows it
    crosses, each row into the pixel centres between its edges; the nearest wins."""
    tri, depth, shade = _drop_degenerate(tri, depth, shade)
    face, y = _rows(tri, big)
    left, right = _row_span(tri[face], y.astype(np.float64) + 0.5)
    first = np.maximum(np.ceil(left - 0.5), 0).astype(np.int64)
    last = np.minimum(np.floor(right - 0.5), big - 1).astype(np.int64)
    count = np.maximum(last - first + 1, 0)
    face, y = np.repeat(face, count), np.repeat(y, count)
    x = np.repeat(first - np.cumsum(count) + count, count) + np.arange(int(count.sum()))
    a, b, c = _planes(tri, depth)[face].T
    z = a * (x + 0.5) + b * (y + 0.5) + c
    pixels = y * big + x
    zbuffer = np.full(big * big, np.inf)
    np.minimum.at(zbuffer, pixels, z)
    nearest = z <= zbuffer[pixels]
    return pixels[nearest], shade[face[nearest]]


def _drop_degenerate(
    tri: Floats, depth: Floats, shade: NDArray[np.uint8]
) -> tuple[Floats, Floats, NDArray[np.uint8]]:
    """Triangles seen edge-on (no area on screen) cover nothing."""
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    keep = np.abs(area) > 1e-9
    return tri[keep], depth[keep], shade[keep]


def _rows(tri: Floats, big: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(face, row) for every pixel row whose centre line crosses a face."""
    top = np.maximum(np.ceil(tri[:, :, 1].min(axis=1) - 0.5), 0).astype(np.int64)
    bottom = np.minimum(np.floor(tri[:, :, 1].max(axis=1) - 0.5), big - 1).astype(np.int64)
    count = np.maximum(bottom - top + 1, 0)
    face = np.repeat(np.arange(len(tri)), count)
    row = np.repeat(top - np.cumsum(count) + count, count) + np.arange(int(count.sum()))
    return face, row


def _row_span(tri: Floats, y: Floats) -> tuple[Floats, Floats]:
    """Where the line at height ``y`` enters and leaves each triangle."""
    left = np.full(len(y), np.inf)
    right = np.full(len(y), -np.inf)
    for i, j in ((0, 1), (1, 2), (2, 0)):
        p, q = tri[:, i], tri[:, j]
        dy = q[:, 1] - p[:, 1]
        crosses = (np.minimum(p[:, 1], q[:, 1]) <= y) & (y <= np.maximum(p[:, 1], q[:, 1]))
        crosses &= dy != 0
        t = np.divide(y - p[:, 1], dy, out=np.zeros_like(y), where=crosses)
        x = p[:, 0] + t * (q[:, 0] - p[:, 0])
        left = np.where(crosses, np.minimum(left, x), left)
        right = np.where(crosses, np.maximum(right, x), right)
    return left, right


def _planes(tri: Floats, depth: Floats) -> Floats:
    """Per triangle, (a, b, c) with depth = a*x + b*y + c on its plane."""
    points = np.concatenate([tri, depth[:, :, None]], axis=2)
    normal = np.cross(points[:, 1] - points[:, 0], points[:, 2] - points[:, 0])
    a, b = -normal[:, 0] / normal[:, 2], -normal[:, 1] / normal[:, 2]
    c = points[:, 0, 2] - a * points[:, 0, 0] - b * points[:, 0, 1]
    return np.stack([a, b, c], axis=1)
