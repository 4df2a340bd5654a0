"""Per-user budgets leased from Redis: exact across workers, with few round trips."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from predictions import throttling


def request_of(user_id: int) -> Any:
    return SimpleNamespace(user=SimpleNamespace(pk=user_id, is_authenticated=True))


def allowed(worker: throttling._Leases, monkeypatch: pytest.MonkeyPatch, user_id: int = 7) -> bool:
    """One request through the user throttle, as seen by a worker holding ``worker``'s leases."""
    monkeypatch.setattr(throttling, "_leases", worker)
    return throttling.UserRateThrottle().allow_request(request_of(user_id), None)


@pytest.mark.parametrize("limit", [1, 3, 100, 6000])
def test_two_workers_together_never_admit_more_than_the_rate(limit: int, settings, monkeypatch) -> None:
    settings.API_THROTTLE_USER_RATE = f"{limit}/hour"  # one window for the whole test
    workers = [throttling._Leases(), throttling._Leases()]
    admitted = sum(allowed(workers[i % 2], monkeypatch) for i in range(limit * 2))
    assert admitted <= limit
    # Both keep taking requests, so neither strands much of the budget.
    assert admitted >= limit - max(1, limit // throttling.LEASE_SHARE)


def test_a_busy_user_costs_few_redis_round_trips(settings, monkeypatch) -> None:
    settings.API_THROTTLE_USER_RATE = "6000/hour"
    worker = throttling._Leases()
    calls = 0
    script = worker.lease_script()

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return script(*args, **kwargs)

    monkeypatch.setattr(worker, "lease_script", lambda: counted)
    assert all(allowed(worker, monkeypatch) for _ in range(3000))
    assert calls < 20


def test_users_do_not_share_a_budget(settings, monkeypatch) -> None:
    settings.API_THROTTLE_USER_RATE = "2/hour"
    worker = throttling._Leases()
    assert [allowed(worker, monkeypatch, user_id=1) for _ in range(3)] == [True, True, False]
    assert allowed(worker, monkeypatch, user_id=2)


def test_a_refused_user_is_told_when_the_window_ends(settings, monkeypatch) -> None:
    settings.API_THROTTLE_USER_RATE = "1/minute"
    monkeypatch.setattr(throttling, "_leases", throttling._Leases())
    throttle = throttling.UserRateThrottle()
    assert throttle.allow_request(request_of(9), None)
    refused = throttling.UserRateThrottle()
    assert not refused.allow_request(request_of(9), None)
    assert 0 < refused.wait() <= 60
