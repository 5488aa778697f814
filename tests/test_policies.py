"""Each comparison policy rejects a value perturbed just past its tolerance; NaN never passes."""

import math

import numpy as np
import pytest

from repro.policies import compare, compare_printed, parse_policy, ulp_distance

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


def test_printed_policy_rounds_to_the_printed_digits():
    assert compare_printed(-0.0174781, "-0.017").passed
    assert compare_printed(0.44999247789382935, "0.45").passed
    assert not compare_printed(1.2332, "1.235").passed
    assert not compare_printed(math.nan, "0.5").passed
    assert not compare_printed(0.3475136, "0.3475135").passed   # off by one printed unit
    assert compare_printed("same text", "same text").passed
