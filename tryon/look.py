"""A look: the products (each in one shade, at an intensity) a person tries on together."""

from __future__ import annotations

from dataclasses import dataclass

from tryon.catalog import Product, Variant
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
