"""Who the client is: X-Forwarded-For counts only when a configured proxy sent it."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from parivision.middleware import client_address

pytestmark = pytest.mark.django_db

PROXY = ["10.0.0.0/8"]


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert client_address("203.0.113.7", "198.51.100.1", []) == "203.0.113.7"


def test_a_header_from_an_untrusted_peer_is_ignored() -> None:
    assert client_address("203.0.113.7", "198.51.100.1", PROXY) == "203.0.113.7"


def test_through_a_trusted_proxy_the_last_untrusted_hop_is_the_client() -> None:
    # The client may prepend anything it likes; only what our proxies appended is believed.
    assert client_address("10.0.0.2", "1.2.3.4, 198.51.100.9", PROXY) == "198.51.100.9"
    assert client_address("10.0.0.2", "1.2.3.4, 198.51.100.9, 10.0.0.3", PROXY) == "198.51.100.9"


def test_a_malformed_chain_from_a_proxy_falls_back_to_the_peer() -> None:
    assert client_address("10.0.0.2", "not-an-address", PROXY) == "10.0.0.2"
    assert client_address("10.0.0.2", "198.51.100.9, <script>", PROXY) == "10.0.0.2"


def test_ipv4_mapped_and_ipv6_peers_are_recognised() -> None:
    assert client_address("::ffff:10.0.0.2", "198.51.100.9", PROXY) == "198.51.100.9"
    assert client_address("2001:db8::1", "198.51.100.9", ["2001:db8::/32"]) == "198.51.100.9"


def test_a_rotating_forwarded_for_does_not_lift_the_anonymous_rate_limit(settings) -> None:
    settings.API_THROTTLE_ANON_RATE = "5/minute"
    statuses = [
        APIClient().get("/api/v1/models", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}", REMOTE_ADDR="203.0.113.50")
        .status_code for i in range(8)
    ]  # fmt: skip
    assert statuses == [200] * 5 + [429] * 3


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget(settings) -> None:
    settings.API_THROTTLE_ANON_RATE = "2/minute"
    settings.TRUSTED_PROXIES = ["203.0.113.60/32"]
    via_proxy = {"REMOTE_ADDR": "203.0.113.60"}
    first = [APIClient().get("/api/v1/models", HTTP_X_FORWARDED_FOR="198.51.100.1", **via_proxy).status_code
             for _ in range(3)]
    other = APIClient().get("/api/v1/models", HTTP_X_FORWARDED_FOR="198.51.100.2", **via_proxy).status_code
    assert first == [200, 200, 429]
    assert other == 200
