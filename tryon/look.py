"""A look: the products (each in one shade, at an intensity) a person tries on together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

from tryon.catalog import Product, Variant
from tryon.catalog.kinds import REGISTRY
from tryon.errors import InputError


@dataclass(frozen=True)
class LookItem:
    """One product of a look, in one shade (``variant``), at ``intensity`` in [0, 1]."""

    product: Product
    variant: Variant
    intensity: float = 1.0

    @property
    def spec(self) -> str:
        """``"ID:variant"``, as the look is given on the command line, the page and the API."""
        return f"{self.product.id}:{self.variant.id}"

    @property
    def kind(self) -> str:
        return self.product.kind


def check_intensity(value: object, name: str = "intensity") -> float:
    """``value`` as a float in [0, 1], or an :class:`InputError` saying what was received."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
        raise InputError(f"{name}: expected a number in [0, 1], got {value!r}")
    return float(value)


T = TypeVar("T", bound="Worn")


class Worn(Protocol):
    """Anything worn in a look: it has a kind (a :class:`LookItem`)."""

    @property
    def kind(self) -> str: ...


def resolve_look(items: Sequence[T]) -> tuple[list[T], list[tuple[T, T]]]:
    """The look without its clashes: two items whose kinds share a slot (the kind registry's
    ``slots``: glasses and sunglasses, a dress and a top, two lipsticks) are not worn together,
    the later one wins. Returns the items kept (in order) and the ``(replaced, by)`` pairs."""
    kept: list[T] = []
    replaced: list[tuple[T, T]] = []
    for item in items:
        slots = set(REGISTRY[item.kind].slots)
        for old in [k for k in kept if slots & set(REGISTRY[k.kind].slots)]:
            kept.remove(old)
            replaced.append((old, item))
        kept.append(item)
    return kept, replaced


def replaced_json(replaced: Sequence[tuple[LookItem, LookItem]]) -> list[dict[str, str]]:
    """``[{"spec": replaced, "by": by}]``, as the ``ack`` of a look says it."""
    return [{"spec": old.spec, "by": new.spec} for old, new in replaced]


def opaque_unless_makeup(item: LookItem) -> LookItem:
    """The item, drawn opaque (intensity 1) unless its kind takes an intensity (makeup)."""
    if REGISTRY[item.kind].takes_intensity or item.intensity == 1.0:
        return item
    return replace(item, intensity=1.0)
