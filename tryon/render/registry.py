"""Renderers by product kind, registered beside their code with :func:`renders` (as the
converter's op handlers are), all behind one layer interface.

A *renderer* turns the look's items of its kinds into a :data:`Layer`, a function drawing them
on a frame from the frame's perception result. Assets are loaded when the layer is built, so a
bad asset fails when the look is set, never on a frame. Three shapes:

- per item (the default): one layer per look item (glasses, a hat, earrings ...);
- ``grouped``: one layer for all the look's items of the renderer's kinds (makeup: the colours
  are composed on the skin together, in their layer order);
- ``per_person``: one layer per kind, from the look's item (if any) and the people dressed in
  their own (``TryOnPipeline.dress_person``), by pose track id (garments).

Which kinds exist, their drawing order and the perception stages they need are in the kind
registry (:mod:`tryon.catalog.kinds`); a test checks every kind there has a renderer here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from tryon.catalog.kinds import REGISTRY
from tryon.errors import InputError
from tryon.frame import Frame
from tryon.look import LookItem
from tryon.results import Face, FrameResult

Layer = Callable[[Frame, FrameResult], Frame]
"""Draws part of a look on ``frame`` (a copy or in place) from the frame's perception result."""

RENDERER_MODULES = tuple(dict.fromkeys(spec.renderer for spec in REGISTRY.values()))
"""Modules whose ``@renders`` registrations :func:`load_renderers` imports: those the kind
registry names, so a new kind is a registry row and its module, nothing else."""


@dataclass(frozen=True)
class LayerRequest:
    """What a renderer is asked to draw: look items of its kinds, and (``per_person`` renderers)
    the people wearing their own item of the kind, by pose track id."""

    items: tuple[LookItem, ...]
    people: Mapping[int, LookItem] = field(default_factory=dict)

    @property
    def item(self) -> LookItem:
        """The one item of a per-item request."""
        if len(self.items) != 1:
            raise InputError(f"expected one look item, got {len(self.items)}")
        return self.items[0]


Build = Callable[[LayerRequest], Layer]


@dataclass(frozen=True)
class Renderer:
    kinds: tuple[str, ...]
    build: Build
    grouped: bool = False
    per_person: bool = False
    module: str = ""


_RENDERERS: dict[str, Renderer] = {}


def renders(*kinds: str, grouped: bool = False, per_person: bool = False) -> Callable[[Build], Build]:
    """Register the decorated ``build(request) -> Layer`` as the renderer of ``kinds``."""
    if not kinds or (grouped and per_person):
        raise ValueError("renders: expected at least one kind, and grouped or per_person, not both")

    def register(build: Build) -> Build:
        entry = Renderer(tuple(kinds), build, grouped, per_person, build.__module__)
        for kind in kinds:
            if kind not in REGISTRY:
                raise ValueError(f"renders: {kind!r} is not in the kind registry ({', '.join(REGISTRY)})")
            if kind in _RENDERERS and _RENDERERS[kind].module != entry.module:
                raise ValueError(f"renders: {kind!r} already has a renderer in {_RENDERERS[kind].module}")
            _RENDERERS[kind] = entry
        return build

    return register


def load_renderers() -> Mapping[str, Renderer]:
    """Every registered renderer by kind (importing the renderer modules once)."""
    for name in RENDERER_MODULES:
        importlib.import_module(name)
    return _RENDERERS


def renderer_of(kind: str) -> Renderer:
    renderers = load_renderers()
    if kind not in renderers:
        raise InputError(f"no renderer for {kind!r}; this version renders {', '.join(sorted(renderers))}")
    return renderers[kind]


def per_face(draw: Callable[[Frame, Face, FrameResult], Frame]) -> Layer:
    """A layer drawing ``draw(frame, face, result)`` on every face of the result, in turn."""

    def layer(out: Frame, r: FrameResult) -> Frame:
        for face in r.faces:
            out = draw(out, face, r)
        return out

    return layer


def person_mask(result: FrameResult) -> NDArray[np.float32] | None:
    """The frame's person mask in [0, 1], when segmentation ran for it."""
    return result.segmentation.mask if result.segmentation is not None else None
