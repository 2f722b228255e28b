"""The shop's settings for its whole catalog (``<root>/catalog.json``): one currency, and the rates
at which products priced in another one are converted.

``{"currency": "EUR", "rates": {"USD": 0.92}}``: every price is in EUR; a product priced in USD is
converted at 1 USD = 0.92 EUR (its ``price_original`` and ``currency_original`` kept); a product
in a currency with no rate is refused at load, naming its file and ``currency``. Without the file,
the catalog is in :data:`DEFAULT_CURRENCY` and converts nothing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from tryon.catalog.schema import CURRENCY_RE, Product
from tryon.errors import CatalogError, ProductValidationError

SETTINGS_FILE = "catalog.json"
DEFAULT_CURRENCY = "EUR"


@dataclass(frozen=True)
class ShopSettings:
    currency: str = DEFAULT_CURRENCY
    rates: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    """Units of :attr:`currency` per unit of another currency."""

    def priced(self, product: Product, path: Path | str) -> Product:
        """``product`` in the shop's currency: as it is, converted by a rate, or refused
        (:class:`ProductValidationError` on ``currency``)."""
        if product.currency == self.currency:
            return product
        rate = self.rates.get(product.currency)
        if rate is None:
            known = "".join(f", or {c} (converted at {r:g})" for c, r in self.rates.items())
            raise ProductValidationError(
                str(path),
                "currency",
                f"expected the shop's currency {self.currency}{known}, got {product.currency!r} "
                f"(set a rate in {SETTINGS_FILE}'s rates to convert it)",
            )
        return replace(
            product,
            price=round(product.price * rate, 2),
            currency=self.currency,
            price_original=product.price,
            currency_original=product.currency,
        )


def load_settings(root: Path | str | None) -> ShopSettings:
    """``root/catalog.json`` (the defaults without one); :class:`CatalogError` naming the file and
    the field if it is malformed."""
    if root is None:
        return ShopSettings()
    path = Path(root) / SETTINGS_FILE
    if not path.is_file():
        return ShopSettings()

    def bad(where: str, message: str) -> CatalogError:
        return CatalogError(f"{path}: {where}: {message}")

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise bad("<json>", f"invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise bad("<json>", "expected an object {currency, rates?}")
    unknown = sorted(set(data) - {"currency", "rates"})
    if unknown:
        raise bad(unknown[0], "unknown field; expected one of: currency, rates")
    currency = data.get("currency", DEFAULT_CURRENCY)
    if not isinstance(currency, str) or not CURRENCY_RE.match(currency):
        raise bad("currency", f"expected a code of 3 upper-case letters (e.g. EUR), got {currency!r}")
    rates = data.get("rates", {})
    if not isinstance(rates, dict):
        raise bad("rates", f'expected an object {{"USD": 0.92, ...}}, got {rates!r}')
    for code, rate in rates.items():
        if not CURRENCY_RE.match(code) or code == currency:
            raise bad(f"rates.{code}", f"expected another code than {currency} (3 upper-case letters)")
        number = isinstance(rate, int | float) and not isinstance(rate, bool)
        if not number or not math.isfinite(rate) or rate <= 0:
            raise bad(f"rates.{code}", f"expected a number > 0 ({currency} per {code}), got {rate!r}")
    return ShopSettings(currency, MappingProxyType({c: float(r) for c, r in rates.items()}))
