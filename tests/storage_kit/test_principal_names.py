"""IAM principal names are at most 64 characters and distinct per scope, however long the scope."""

from __future__ import annotations

from storage_kit.credentials import principal_name


def test_long_scopes_that_share_a_start_get_distinct_names():
    first, second = "ws-" + "0" * 63, "ws-" + "0" * 62
    assert principal_name(first) != principal_name(second)
    assert len(principal_name(first)) <= 64
    assert len(principal_name(second)) <= 64
