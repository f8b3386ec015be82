"""The suite's own comparison and peer helpers behave as the tests rely on."""

import numpy as np
import pytest

from helpers import assert_close, require


def test_assert_close_is_normwise_and_strict_at_zero():
    want = np.array([1.0, -4.0, 0.0])
    assert_close(want + 3e-12, want, 1e-12)  # 3e-12 <= 1e-12 · max|want|
    with pytest.raises(AssertionError, match=r"error 5e-12 > 1e-12 × scale 4 at index \(1,\)"):
        assert_close(want + [0, 5e-12, 0], want, 1e-12)
    with pytest.raises(AssertionError, match="error"):
        assert_close(np.array([1e-300]), np.array([0.0]), 1e-5)  # an all-zero result must be exact
    with pytest.raises(AssertionError, match="error"):
        assert_close(np.array([np.nan]), np.array([1.0]), 1e-5)
    with pytest.raises(AssertionError, match="dtype"):
        assert_close(want.astype(np.float32), want, 1e-5)
    with pytest.raises(AssertionError, match="shape"):
        assert_close(want[:2], want, 1e-5)
    assert_close(np.empty((0, 3)), np.empty((0, 3)), 0.0)


def test_assert_close_takes_a_scale_per_array_or_per_entry():
    want = np.array([1e-8, 1.0])
    got = want + [1e-9, 0.0]
    assert_close(got, want, 1e-8)  # normwise: 1e-9 <= 1e-8 · 1
    with pytest.raises(AssertionError, match=r"at index \(0,\)"):
        assert_close(got, want, 1e-8, np.abs(want))  # entrywise: 1e-9 > 1e-8 · 1e-8
    assert_close(got, want, 1e-3, 1.0, what="scalar scale")
    assert_close(2.0 + 1e-13, 2.0, 1e-13, 1.0, what="scalars")


def test_require_skips_or_fails_on_a_missing_peer(monkeypatch):
    monkeypatch.delenv("FASTNET_REQUIRE_PEERS", raising=False)
    assert require("numpy") is np
    with pytest.raises(pytest.skip.Exception):
        require("fastnet_no_such_peer")
    monkeypatch.setenv("FASTNET_REQUIRE_PEERS", "1")
    assert require("numpy") is np
    with pytest.raises(pytest.fail.Exception, match="FASTNET_REQUIRE_PEERS=1 but fastnet_no_such_peer"):
        require("fastnet_no_such_peer")
