"""Each comparison policy rejects a value perturbed just past its tolerance; NaN never passes."""

import math

import numpy as np
import pytest

from hypothesis import given, strategies as st

from backprop_repro.core.policies import (compare, compare_printed, parse_policy, printed_decimals, printed_text,
                                          ulp_distance)

from .conftest import committed_pin, pinned_quantities


def _step_ulps(array, n):
    out = array.copy()
    flat = out.reshape(-1)
    for _ in range(n):
        flat[0] = np.nextafter(flat[0], np.inf, dtype=array.dtype)
    return out


def perturb_past(expected, policy_text):
    """The smallest realistic perturbation of one element that the policy must reject."""
    if isinstance(expected, str):
        return expected + "!"
    policy = parse_policy(policy_text)
    expected = np.array(expected)
    if expected.dtype.kind == "b":
        out = expected.copy()
        out.reshape(-1)[0] = not out.reshape(-1)[0]
        return out
    if policy.kind == "exact":
        return _step_ulps(expected, 1)
    if policy.kind == "ulp":
        return _step_ulps(expected, policy.ulps + 1)
    if policy.kind == "ratio":
        out = expected.astype(np.float64).copy()
        e = out.reshape(-1)[0]
        out.reshape(-1)[0] = e * policy.factor * 1.01 if e else 1e-300
        return out.astype(expected.dtype)
    if policy.kind == "printed":   # one unit of the last printed decimal
        out = expected.astype(np.float64).copy()
        out.reshape(-1)[0] += 10.0 ** -policy.digits
        return out.astype(expected.dtype)
    out = expected.astype(np.float64).copy()
    e = out.reshape(-1)[0]
    out.reshape(-1)[0] = e + 2 * (policy.atol + policy.rtol * abs(e)) + 1e-300
    return out.astype(expected.dtype)


@pytest.mark.parametrize("example_id,quantity", pinned_quantities(), ids=lambda v: str(v))
def test_every_pin_comparison_can_fail(example_id, quantity):
    pinned = committed_pin(example_id).quantities[quantity]
    assert compare(pinned["value"], pinned["value"], pinned["policy"]).passed
    perturbed = perturb_past(pinned["value"], pinned["policy"])
    result = compare(perturbed, pinned["value"], pinned["policy"])
    assert not result.passed, f"{example_id}:{quantity} accepted a value perturbed past {pinned['policy']}"
    assert result.n_mismatch >= 1 and result.message


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exact_rejects_one_ulp_and_signed_zero(dtype):
    x = np.array([0.1, 2.5, -3.0], dtype=dtype)
    assert compare(x, x.copy(), "exact").passed
    assert not compare(_step_ulps(x, 1), x, "exact").passed
    assert not compare(np.array([-0.0], dtype=dtype), np.array([0.0], dtype=dtype), "exact").passed


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ulp_policy_boundary(dtype):
    x = np.array([1.0, -7.25], dtype=dtype)
    assert compare(_step_ulps(x, 4), x, "ulp:4").passed
    failed = compare(_step_ulps(x, 5), x, "ulp:4")
    assert not failed.passed and failed.max_ulp == 5


def test_ulp_distance_across_zero_and_symmetry():
    a, b = np.array([np.float32(-0.0)]), np.array([np.nextafter(np.float32(0), np.float32(1))])
    assert ulp_distance(a, b) == ulp_distance(b, a) == [1]
    assert ulp_distance(np.array([-1e-45], np.float32), np.array([1e-45], np.float32)) == [2]


def test_ratio_policy_is_symmetric_in_factor():
    e = np.array([2e-10])
    assert compare(e * 2.9, e, "ratio:3").passed and compare(e / 2.9, e, "ratio:3").passed
    assert not compare(e * 3.1, e, "ratio:3").passed and not compare(e / 3.1, e, "ratio:3").passed
    assert not compare(-e, e, "ratio:3").passed
    assert compare(np.zeros(1), np.zeros(1), "ratio:3").passed


def test_strict_compares_bits_whatever_the_policy():
    e = np.array([1.0])
    assert compare(_step_ulps(e, 1), e, "close:rtol=1e-3,atol=0").passed
    assert not compare(_step_ulps(e, 1), e, "close:rtol=1e-3,atol=0", strict=True).passed


def test_close_policy_boundary():
    e = np.array([1.0, 100.0])
    assert compare(e * (1 + 0.9e-5), e, "close:rtol=1e-5,atol=0").passed
    assert not compare(e * (1 + 1.1e-5), e, "close:rtol=1e-5,atol=0").passed


@pytest.mark.parametrize("policy", ["exact", "ulp:1000000", "close:rtol=1e10,atol=1e10"])
def test_nan_never_passes(policy):
    x = np.array([1.0, np.nan])
    assert not compare(x, x.copy(), policy).passed
    assert not compare(x, np.array([1.0, 2.0]), policy).passed
    assert not compare(np.array([1.0, 2.0]), x, policy).passed


def test_infinities_pass_only_when_identical():
    assert compare(np.array([np.inf]), np.array([np.inf]), "close:rtol=1e-5,atol=0").passed
    assert not compare(np.array([np.inf]), np.array([-np.inf]), "close:rtol=1e10,atol=1e10").passed
    assert not compare(np.array([1e308]), np.array([np.inf]), "close:rtol=1,atol=0").passed


def test_shape_dtype_and_text_mismatches_fail():
    assert not compare(np.zeros(3), np.zeros((3, 1)), "close:rtol=1,atol=1").passed
    assert not compare(np.zeros(3, np.float32), np.zeros(3), "close:rtol=1,atol=1").passed
    assert not compare("shapes (3,)", "shapes (2,)", "exact").passed
    assert not compare(np.zeros(1), "0.0", "exact").passed


@pytest.mark.parametrize("text", ["close", "ulp:-1", "ulp:x", "close:rtol=-1,atol=0", "close:rtol=nan,atol=0",
                                  "close:atol=1,rtol=1", "approx", "ratio:0.5", "ratio:nan"])
def test_malformed_policies_are_rejected(text):
    with pytest.raises(ValueError, match="policy"):
        parse_policy(text)


def test_printed_policy_is_print_the_same():
    """printed:D is "both print the same at D decimals", not a distance: the issue 18 cases."""
    assert compare(np.float64(1.5), np.float64(2.49), "printed:0").passed        # both print 2
    assert not compare(np.float64(2.4), np.float64(2.6), "printed:0").passed     # 2 vs 3, 0.2 apart
    result = compare(np.float64(2.4), np.float64(2.6), "printed:0")
    assert "prints 2 vs 3" in result.message
    # one unit in the last printed digit fails, at any number of decimals, beside a pass
    assert compare(np.float64(0.12341), np.float64(0.12339), "printed:4").passed
    assert not compare(np.float64(0.1235), np.float64(0.1234), "printed:4").passed
    assert not compare(np.float32(0.5519137), np.float32(0.5519136), "printed:7").passed


def test_printed_zero_has_no_sign_but_a_printed_unit_still_counts():
    assert printed_text(-0.001, 2) == "0.00" and printed_text(-0.0, 0) == "0"
    assert compare(np.array([-0.001, 0.004]), np.array([0.001, -0.0]), "printed:2").passed
    assert not compare(np.array([-0.006]), np.array([0.001]), "printed:2").passed      # -0.01 vs 0.00
    assert compare_printed(0.001, "-0.00").passed
    assert not compare_printed(-0.006, "0.00").passed


def test_printed_policy_on_arrays_and_integers():
    e = np.array([[0.121, 0.5], [1.0, 2.0]])
    assert compare(e + 0.003, e, "printed:2").passed
    moved = e.copy()
    moved[1, 0] += 0.01
    result = compare(moved, e, "printed:2")
    assert not result.passed and result.n_mismatch == 1 and "at index [1, 0]" in result.message
    big = np.array([2 ** 62 + 1], dtype=np.int64)                 # integers print exactly, however large
    assert compare(big, big.copy(), "printed:0").passed
    assert not compare(big + 1, big, "printed:0").passed
    assert not compare(np.array([np.nan]), np.array([np.nan]), "printed:3").passed   # NaN never passes


def test_document_values_use_the_same_rule():
    assert compare_printed(1.5, "2").passed and compare_printed(2.49, "2").passed
    assert not compare_printed(2.6, "2").passed and not compare_printed(1.49, "2").passed
    assert compare_printed(0.78535854140, "0.78535854").passed
    assert not compare_printed(0.78535855, "0.78535854").passed      # one unit in the last printed digit
    assert compare_printed(1.5e-5, "1.5e-05").passed and printed_decimals("1.5e-05") == 6
    assert not compare_printed(1.6e-5, "1.5e-05").passed
    assert compare_printed(np.int64(12345678901234567), "12345678901234567").passed
    assert not compare_printed(np.int64(12345678901234568), "12345678901234567").passed
    assert not compare_printed(0.5, "n/a").passed


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
       st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6), st.integers(0, 8))
def test_printed_same_iff_the_formatted_texts_are_equal(a, b, digits):
    def unsigned(text):
        return text[1:] if text.startswith("-") and not text.strip("-0.") else text

    same = unsigned(f"{a:.{digits}f}") == unsigned(f"{b:.{digits}f}")
    assert compare(np.float64(a), np.float64(b), f"printed:{digits}").passed == same
    text = f"{b:.{digits}f}"
    assert compare_printed(a, text).passed == same


def test_printed_policy_rounds_to_the_printed_digits():
    assert compare_printed(-0.0174781, "-0.017").passed
    assert compare_printed(0.44999247789382935, "0.45").passed
    assert not compare_printed(1.2332, "1.235").passed
    assert not compare_printed(math.nan, "0.5").passed
    assert not compare_printed(0.3475136, "0.3475135").passed   # off by one printed unit
    assert compare_printed("same text", "same text").passed
