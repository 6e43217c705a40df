"""Kubernetes resource quantities (``500m``, ``1536Mi``, ``2``, ``1e3``) as the API server treats them.

Parsing follows ``resource.ParseQuantity`` of k8s.io/apimachinery: the same accepted syntax, the
same error messages, values rounded up to nano units, binary values capped at 2^63-1.  Printing
follows ``Quantity.String``/``MarshalJSON``: a quantity that was written in canonical form keeps
its original text, anything else is re-canonicalised (``1000m`` -> ``1``, ``1.5Gi`` -> ``1536Mi``).
Values are exact ``Fraction``s so no floating point rounding creeps into resource accounting.
"""
from __future__ import annotations

from fractions import Fraction

DECIMAL_SI = "DecimalSI"
BINARY_SI = "BinarySI"
DECIMAL_EXPONENT = "DecimalExponent"

SPLIT_RE_STRING = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
ERR_FORMAT_WRONG = "quantities must match the regular expression '" + SPLIT_RE_STRING + "'"
ERR_NUMERIC = "unable to parse numeric part of quantity"
ERR_SUFFIX = "unable to parse quantity's suffix"

DECIMAL_SUFFIX_EXPONENT = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12,
                           "P": 15, "E": 18}
BINARY_SUFFIX_EXPONENT = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
DECIMAL_EXPONENT_SUFFIX = {exponent: suffix for suffix, exponent in DECIMAL_SUFFIX_EXPONENT.items()}
BINARY_POWER_SUFFIX = {0: "", 1: "Ki", 2: "Mi", 3: "Gi", 4: "Ti", 5: "Pi", 6: "Ei"}

SUFFIX_CHARACTERS = "eEinumkKMGTP"
DIGITS = "0123456789"
NANO_SCALE = -9
MAX_INT64_FACTORS = 18
MAX_ALLOWED = (1 << 63) - 1
MAX_DECIMAL_SUFFIX_EXPONENT = 18
MAX_EXPONENT = 100


class ParsedQuantity:
    """A parsed quantity: exact value, its format, and the text the API would echo back."""

    __slots__ = ("value", "format", "cached_text")

    def __init__(self, value: Fraction, format: str, cached_text: str | None):
        self.value = value
        self.format = format
        self.cached_text = cached_text

    def __str__(self) -> str:
        if self.cached_text is not None:
            return self.cached_text
        return format_quantity(self.value, self.format)


def _as_text(text: object) -> str:
    """YAML and JSON numbers reach the API as JSON numbers, which Quantity parses as text."""
    if isinstance(text, bool):
        return "true" if text else "false"
    if isinstance(text, (int, float)):
        return repr(text)
    if not isinstance(text, str):
        raise ValueError(ERR_FORMAT_WRONG)
    return text.strip()


def _split(text: str) -> tuple[bool, str, str, str, str]:
    """parseQuantityString: (positive, numeric text, numerator, denominator, suffix)."""
    end = len(text)
    position = 0
    positive = True
    if text[:1] in ("-", "+"):
        positive = text[0] == "+"
        position = 1
    while position < end and text[position] == "0":
        position += 1
    if position >= end:
        return positive, "0", "0", "", ""
    numerator_start = position
    while position < end and text[position] in DIGITS:
        position += 1
    numerator = text[numerator_start:position] or "0"
    if position >= end:
        return positive, text, numerator, "", ""
    denominator = ""
    if text[position] == ".":
        position += 1
        denominator_start = position
        while position < end and text[position] in DIGITS:
            position += 1
        denominator = text[denominator_start:position]
        if position >= end:
            return positive, text, numerator, denominator, ""
    numeric_text = text[:position]
    suffix_start = position
    while position < end and text[position] in SUFFIX_CHARACTERS:
        position += 1
    if position < end and text[position] in "+-":
        position += 1
    while position < end and text[position] in DIGITS:
        position += 1
    if position < end:
        raise ValueError(ERR_FORMAT_WRONG)
    return positive, numeric_text, numerator, denominator, text[suffix_start:]


def _interpret_suffix(suffix: str) -> tuple[int, int, str]:
    """(base, exponent, format) of a suffix."""
    if suffix in DECIMAL_SUFFIX_EXPONENT:
        return 10, DECIMAL_SUFFIX_EXPONENT[suffix], DECIMAL_SI
    if suffix in BINARY_SUFFIX_EXPONENT:
        return 2, BINARY_SUFFIX_EXPONENT[suffix], BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE":
        digits = suffix[1:]
        unsigned = digits[1:] if digits[0] in "+-" else digits
        if unsigned and all(character in DIGITS for character in unsigned):
            return 10, int(digits), DECIMAL_EXPONENT
    raise ValueError(ERR_SUFFIX)


def parse(text: str | int | float) -> ParsedQuantity:
    """resource.ParseQuantity (after the JSON decoder's whitespace trim)."""
    text = _as_text(text)
    if text == "":
        raise ValueError(ERR_FORMAT_WRONG)
    if text == "0":
        return ParsedQuantity(Fraction(0), DECIMAL_SI, "0")
    positive, numeric_text, numerator, denominator, suffix = _split(text)
    base, exponent, format = _interpret_suffix(suffix)
    if abs(exponent) > MAX_EXPONENT:
        # Go keeps such values as a scale; exact arithmetic on them would never finish.
        raise ValueError(f"quantity {text!r} is out of the range this simulation supports")
    fast = _parse_fast(text, positive, numerator, denominator, exponent, format)
    if fast is not None:
        return fast
    return _parse_exact(numeric_text, base, exponent, format)


def _parse_fast(text: str, positive: bool, numerator: str, denominator: str, exponent: int,
                format: str) -> ParsedQuantity | None:
    """The int64 fast path; it alone may keep the original text as the canonical form."""
    if format == BINARY_SI:
        if denominator:
            return None
        precision = 15 - len(numerator) - (exponent * 3) // 10 - 1
        multiplier = 1 << exponent
        scale = 0
    else:
        precision = MAX_INT64_FACTORS - len(numerator + denominator)
        multiplier = 1
        scale = exponent - len(denominator)
    if precision < 0 or scale < NANO_SCALE:
        return None
    shifted = numerator + denominator
    magnitude = int(shifted) * multiplier
    if magnitude > MAX_ALLOWED:
        return None
    value = Fraction(magnitude if positive else -magnitude) * Fraction(10) ** scale
    if format == BINARY_SI:
        keeps_text = int(shifted) & 0x07 != 0
    else:
        keeps_text = scale % 3 == 0 and not shifted.endswith("000") and shifted[0] != "0"
    return ParsedQuantity(value, format, text if keeps_text else None)


def _parse_exact(numeric_text: str, base: int, exponent: int, format: str) -> ParsedQuantity:
    try:
        amount = Fraction(numeric_text)
    except ValueError:
        raise ValueError(ERR_NUMERIC) from None
    amount *= Fraction(base) ** exponent
    negative = amount < 0
    amount = abs(amount)
    if amount:
        # Round up to the smallest representable unit: asking for a little should give a little.
        nanos = -((-amount * 10 ** 9) // 1)
        amount = Fraction(nanos, 10 ** 9)
    if format == BINARY_SI and amount > MAX_ALLOWED:
        amount = Fraction(MAX_ALLOWED)
    if format == BINARY_SI and 0 < amount < 1:
        format = DECIMAL_SI
    return ParsedQuantity(-amount if negative else amount, format, None)


def parse_quantity(text: str | int | float) -> Fraction:
    """The exact value of a quantity; raises ValueError with the API server's message."""
    return parse(text).value


def canonical_quantity(text: str | int | float) -> str:
    """The text the API server returns for a quantity it was given as ``text``."""
    return str(parse(text))


def format_quantity(value: Fraction, format: str = DECIMAL_SI) -> str:
    """Quantity.String for a value of the given format (CanonicalizeBytes)."""
    if value == 0:
        return "0"
    if format == BINARY_SI and (-1024 < value < 1024 or value.denominator != 1):
        format = DECIMAL_SI
    if format == BINARY_SI:
        return _format_binary(int(value))
    return _format_decimal(value, format)


def _format_binary(value: int) -> str:
    magnitude, power = abs(value), 0
    for _ in range(len(BINARY_POWER_SUFFIX) - 1):
        if magnitude < 1024 or magnitude % 1024:
            break
        magnitude //= 1024
        power += 1
    sign = "-" if value < 0 else ""
    return f"{sign}{magnitude}{BINARY_POWER_SUFFIX[power]}"


def _format_decimal(value: Fraction, format: str) -> str:
    magnitude = abs(value)
    exponent = 0
    # Values are rounded to nano units, so scaling by 10^9 at most makes them whole.
    for _ in range(-NANO_SCALE):
        if magnitude.denominator == 1:
            break
        magnitude *= 10
        exponent -= 1
    mantissa = int(magnitude)
    for _ in range(len(str(mantissa))):
        if mantissa % 10:
            break
        mantissa //= 10
        exponent += 1
    lower_multiple_of_three = exponent - exponent % 3
    mantissa *= 10 ** (exponent - lower_multiple_of_three)
    exponent = lower_multiple_of_three
    sign = "-" if value < 0 else ""
    if format == DECIMAL_EXPONENT:
        return f"{sign}{mantissa}" + (f"e{exponent}" if exponent else "")
    if exponent > MAX_DECIMAL_SUFFIX_EXPONENT:
        mantissa *= 10 ** (exponent - MAX_DECIMAL_SUFFIX_EXPONENT)
        exponent = MAX_DECIMAL_SUFFIX_EXPONENT
    return f"{sign}{mantissa}{DECIMAL_EXPONENT_SUFFIX[exponent]}"


def _round_away_from_zero(value: Fraction) -> int:
    magnitude = -(-abs(value) // 1)
    return magnitude if value >= 0 else -magnitude


def cpu_millis(text: str | int | float) -> int:
    """Quantity.MilliValue: thousandths, rounded up (``"100m"`` -> 100, ``"1.5"`` -> 1500)."""
    return _round_away_from_zero(parse_quantity(text) * 1000)


def memory_bytes(text: str | int | float) -> int:
    """Quantity.Value: whole units, rounded up (``"1Gi"`` -> 1073741824)."""
    return _round_away_from_zero(parse_quantity(text))


def format_cpu_millis(millis: int) -> str:
    """How Kubernetes prints NewMilliQuantity(millis, DecimalSI): 1500 -> "1500m", 2000 -> "2"."""
    return format_quantity(Fraction(millis, 1000), DECIMAL_SI)


def format_bytes(count: int) -> str:
    """How Kubernetes prints NewQuantity(count, BinarySI): 1610612736 -> "1536Mi"."""
    return format_quantity(Fraction(count), BINARY_SI)
