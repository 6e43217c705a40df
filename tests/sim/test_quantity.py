"""Resource quantities against the values k8s.io/apimachinery's resource package gives."""
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster_sim.quantity import (
    BINARY_SI, DECIMAL_EXPONENT, DECIMAL_SI, canonical_quantity, cpu_millis, format_bytes,
    format_cpu_millis, format_quantity, memory_bytes, parse, parse_quantity,
)

REGEX_MESSAGE = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
KI, MI, GI, TI = 2**10, 2**20, 2**30, 2**40


@pytest.mark.parametrize(("text", "value", "format"), [
    # From resource.TestQuantityParse.
    ("0", 0, DECIMAL_SI), ("0n", 0, DECIMAL_SI), ("0Ki", 0, BINARY_SI), ("0Mi", 0, BINARY_SI),
    ("1", 1, DECIMAL_SI), ("1Ki", KI, BINARY_SI), ("8Ki", 8 * KI, BINARY_SI), ("7Mi", 7 * MI, BINARY_SI),
    ("6Gi", 6 * GI, BINARY_SI), ("5Ti", 5 * TI, BINARY_SI), ("3Ei", 3 * 2**60, BINARY_SI),
    ("5n", Fraction(5, 10**9), DECIMAL_SI), ("4u", Fraction(4, 10**6), DECIMAL_SI), ("3m", Fraction(3, 1000), DECIMAL_SI),
    ("8k", 8000, DECIMAL_SI), ("50k", 50_000, DECIMAL_SI), ("7M", 7 * 10**6, DECIMAL_SI), ("6G", 6 * 10**9, DECIMAL_SI),
    ("40T", 4 * 10**13, DECIMAL_SI), ("2P", 2 * 10**15, DECIMAL_SI), ("1E", 10**18, DECIMAL_SI),
    ("1E-3", Fraction(1, 1000), DECIMAL_EXPONENT), ("1e3", 1000, DECIMAL_EXPONENT), ("1E18", 10**18, DECIMAL_EXPONENT),
    ("100.035k", 100_035, DECIMAL_SI), ("0.001", Fraction(1, 1000), DECIMAL_SI), ("0.0005k", Fraction(1, 2), DECIMAL_SI),
    ("0.5e-1", Fraction(5, 100), DECIMAL_EXPONENT), ("1.3E+6", 1_300_000, DECIMAL_EXPONENT),
    ("1.53E12", 153 * 10**10, DECIMAL_EXPONENT), ("9.01", Fraction(901, 100), DECIMAL_SI),
    ("6.987654321G", 6_987_654_321, DECIMAL_SI), ("1.01E", 101 * 10**16, DECIMAL_SI),
    # Values finer than a nano round up, away from zero.
    ("3.001n", Fraction(4, 10**9), DECIMAL_SI), ("1.1E-9", Fraction(2, 10**9), DECIMAL_EXPONENT),
    ("0.0000000001", Fraction(1, 10**9), DECIMAL_SI), ("0.9n", Fraction(1, 10**9), DECIMAL_SI),
    ("0.00000012345", Fraction(124, 10**9), DECIMAL_SI),
    # Binary values are capped at the largest int64.
    ("9Ei", 2**63 - 1, BINARY_SI), ("9223372036854775807Ki", 2**63 - 1, BINARY_SI),
    ("12E", 12 * 10**18, DECIMAL_SI),
    ("100.035Ki", Fraction(10243584, 100), BINARY_SI), ("0.5Mi", MI // 2, BINARY_SI),
    ("0.05Gi", Fraction(536870912, 10), BINARY_SI),
    ("0.000000000001Ki", Fraction(2, 10**9), DECIMAL_SI),  # rounds up, changes format
    (".001", Fraction(1, 1000), DECIMAL_SI), ("1.", 1, DECIMAL_SI), ("1.G", 10**9, DECIMAL_SI),
    ("-1500m", Fraction(-3, 2), DECIMAL_SI), ("+1Gi", GI, BINARY_SI),
])
def test_parse_matches_kubernetes(text, value, format):
    parsed = parse(text)
    assert parsed.value == value
    assert parsed.format == format
    assert parse_quantity(text) == value


@pytest.mark.parametrize(("text", "message"), [
    ("", REGEX_MESSAGE), ("aoeu", REGEX_MESSAGE), ("1.1.M", REGEX_MESSAGE), ("1+1.0M", REGEX_MESSAGE),
    ("1 Gi", REGEX_MESSAGE), ("-3.01e-", "unable to parse quantity's suffix"), ("true", REGEX_MESSAGE),
    ("0.1mi", "unable to parse quantity's suffix"), ("0.1am", REGEX_MESSAGE),
    (".5i", "unable to parse quantity's suffix"), ("1i", "unable to parse quantity's suffix"),
    ("-3.01i", "unable to parse quantity's suffix"), ("1e", "unable to parse quantity's suffix"),
])
def test_parse_errors_carry_the_apiserver_message(text, message):
    with pytest.raises(ValueError) as error:
        parse_quantity(text)
    assert str(error.value) == message


@pytest.mark.parametrize(("canonical", "alternate"), [
    # resource.TestQuantityString: the canonical text is kept, the alternate is canonicalised.
    ("1Gi", "1024Mi"), ("300Mi", "307200Ki"), ("6Ki", None), ("1001Gi", "1025024Mi"), ("1Ti", "1024Gi"),
    ("5", "5000m"), ("500m", "0.5"), ("1G", "1000M"), ("1G", "0.001T"), ("1m", "1000u"), ("80m", None),
    ("1080m", "1.08"), ("1080m", "1080000000n"), ("300M", None), ("1T", None), ("1234567M", None),
    ("1234567m", None), ("3k", None), ("1025", None), ("0", "00"), ("1e9", ".001e12"),
    ("1e-3", "0.001e0"), ("1e-9", "1000e-12"), ("80e-3", None), ("300e6", None), ("1n", None),
    ("1080n", None), ("1u", None), ("1080u", None),
    # resource.TestQuantityParseEmit.
    ("1G", "1000M"), ("1024m", ".001Ki"), ("1024u", ".000001Ki"), ("1024n", ".000000001Ki"), ("2n", ".000000000001Ki"),
    # Everyday values.
    ("1536Mi", "1.5Gi"), ("1", "1000m"), ("1500m", "1.5"), ("2k", "2000"), ("4Gi", "4096Mi"), ("512", "0.5Ki"),
    ("1536", "1.5Ki"), ("100Mi", None), ("110", None), ("1126400m", "1.1Ki"), ("10e3", "1e4"),
])
def test_canonical_form_matches_kubernetes(canonical, alternate):
    assert canonical_quantity(canonical) == canonical
    if alternate is not None:
        assert canonical_quantity(alternate) == canonical
        assert canonical_quantity("-" + alternate.lstrip("+")) in (f"-{canonical}", "0")


def test_text_already_in_canonical_form_is_echoed_verbatim():
    # The apiserver keeps the caller's string when it is already canonical, sign and zeros included.
    assert canonical_quantity("+1Gi") == "+1Gi"
    assert canonical_quantity("01") == "01"
    assert canonical_quantity("100Mi") == "100Mi"


def test_json_numbers_are_quantities_too():
    assert canonical_quantity(2) == "2"
    assert canonical_quantity(0.5) == "500m"
    assert canonical_quantity(" 2 ") == "2"  # the JSON decoder trims spaces


@pytest.mark.parametrize(("text", "millis"), [
    ("100m", 100), ("1", 1000), ("1.5", 1500), ("2", 2000), ("250m", 250), ("0.0001", 1), ("1n", 1), ("0", 0),
])
def test_cpu_millis_rounds_up_like_milli_value(text, millis):
    assert cpu_millis(text) == millis


@pytest.mark.parametrize(("text", "count"), [
    ("1Gi", GI), ("4Gi", 4 * GI), ("128974848", 128974848), ("129e6", 129_000_000), ("123Mi", 123 * MI),
    ("1.5k", 1500), ("0.5", 1), ("64Mi", 64 * MI),
])
def test_memory_bytes_rounds_up_like_value(text, count):
    assert memory_bytes(text) == count


@pytest.mark.parametrize(("millis", "text"), [
    (1000, "1"), (1500, "1500m"), (100, "100m"), (0, "0"), (2000, "2"), (250_000, "250"), (12_000, "12"),
])
def test_format_cpu_millis(millis, text):
    assert format_cpu_millis(millis) == text


@pytest.mark.parametrize(("count", "text"), [
    (1610612736, "1536Mi"), (4 * GI, "4Gi"), (128974848, "123Mi"), (3922296 * KI, "3922296Ki"),
    (1500, "1500"), (1025, "1025"), (1000, "1k"),  # below 1024 a BinarySI value prints as DecimalSI
    (512, "512"), (0, "0"), (18556039957, "18556039957"),
])
def test_format_bytes(count, text):
    assert format_bytes(count) == text


def test_format_quantity_of_a_decimal_exponent():
    assert format_quantity(Fraction(80, 1000), DECIMAL_EXPONENT) == "80e-3"


@settings(derandomize=True, max_examples=300)
@given(st.integers(min_value=0, max_value=2**62))
def test_formatted_bytes_parse_back_to_the_same_count(count):
    assert memory_bytes(format_bytes(count)) == count


@settings(derandomize=True, max_examples=300)
@given(st.integers(min_value=0, max_value=10**12))
def test_formatted_cpu_parses_back_and_is_stable(millis):
    text = format_cpu_millis(millis)
    assert cpu_millis(text) == millis
    assert canonical_quantity(text) == text
