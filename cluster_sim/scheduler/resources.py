"""Kubernetes resource quantities (the subset the scheduler needs), parsed as Go's resource.Quantity
does for MilliValue() and Value(): both round up to the next integer."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

_BINARY_SUFFIXES = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60}
_DECIMAL_SUFFIXES = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
                     "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
                     "P": Decimal("1e15"), "E": Decimal("1e18")}

_cache: dict = {}


def parse_quantity(text) -> Decimal:
    """The exact value of a quantity string ("100m", "1.5Gi", "2e3", 4)."""
    if isinstance(text, (int, float)):
        return Decimal(str(text))
    text = text.strip()
    suffix = text[-2:]
    if suffix in _BINARY_SUFFIXES:
        return _number(text[:-2], text) * _BINARY_SUFFIXES[suffix]
    for position in range(len(text) - 1, -1, -1):
        if text[position].isdigit() or text[position] == ".":
            number, suffix = text[:position + 1], text[position + 1:]
            break
    else:
        raise ValueError(f"quantities must match the regular expression: {text!r}")
    if suffix in _DECIMAL_SUFFIXES:
        return _number(number, text) * _DECIMAL_SUFFIXES[suffix]
    if suffix[:1] in ("e", "E"):
        return _number(number, text) * (Decimal(10) ** int(suffix[1:]))
    raise ValueError(f"quantities must match the regular expression: {text!r}")


def _number(number: str, text: str) -> Decimal:
    try:
        return Decimal(number)
    except InvalidOperation:
        raise ValueError(f"quantities must match the regular expression: {text!r}") from None


def _ceil(value: Decimal) -> int:
    integral = int(value)
    return integral + 1 if value > integral else integral


def milli_value(text) -> int:
    """Like Quantity.MilliValue(): cpu "100m" -> 100, "1" -> 1000."""
    key = ("m", text)
    cached = _cache.get(key)
    if cached is None:
        cached = _cache[key] = _ceil(parse_quantity(text) * 1000)
    return cached


def value(text) -> int:
    """Like Quantity.Value(): memory "128Mi" -> 134217728."""
    key = ("v", text)
    cached = _cache.get(key)
    if cached is None:
        cached = _cache[key] = _ceil(parse_quantity(text))
    return cached


def quantity_of(resource_name: str, text) -> int:
    """cpu in millicores, everything else in its base unit."""
    return milli_value(text) if resource_name == "cpu" else value(text)
