"""The warnings a document example really raises are asserted, not ignored (filterwarnings = error)."""

import warnings

import pytest

from reference_impl.examples import activations, learning_rate, losses


def test_chapter_softmax_and_tanh_overflow_on_large_inputs():
    with pytest.warns(RuntimeWarning) as record:
        result = activations.run()
    assert {str(w.message) for w in record} == {"overflow encountered in exp", "invalid value encountered in divide"}
    assert result["large_input/softmax_chapter_is_nan"].tolist() == [True, False, False]


def test_chapter_cross_entropy_takes_log_of_zero():
    with pytest.warns(RuntimeWarning, match="divide by zero encountered in log"):
        result = losses.run()
    assert not result["confident_wrong/binary_cross_entropy_chapter_is_finite"]


def test_learning_rate_one_gets_stuck_without_any_overflow():
    """lr 1 stalls through float32 spacing, not overflow: no warning at all (an error here if one came)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traces = learning_rate.fit(1)
    assert (traces["gradient_trace"][3:] == 0).all()
