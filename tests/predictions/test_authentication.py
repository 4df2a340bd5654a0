"""Token authentication (hashed knox tokens) answered from memory: no query per request, revocation effective."""

from __future__ import annotations

import time

import pytest
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework.test import APIClient

from predictions.authentication import CachedTokenAuthentication, token_cache
from predictions.services import token_create, token_revoke

pytestmark = pytest.mark.django_db

MODELS = "/api/v1/models"


def client_for(key: str) -> APIClient:
    return APIClient(HTTP_AUTHORIZATION=f"Token {key}")


def test_a_known_token_is_answered_from_memory_without_a_query(user, django_assert_num_queries) -> None:
    key = token_create(user=user).key
    assert client_for(key).get(MODELS).status_code == 200  # looked up once
    with django_assert_num_queries(0):
        found, token = CachedTokenAuthentication().authenticate_credentials(key)
    assert (found.pk, token.digest) == (user.pk, hash_token(key))


def test_a_revoked_token_stops_working_at_once_in_this_process(user) -> None:
    client = client_for(token_create(user=user).key)
    assert client.get(MODELS).status_code == 200
    token_revoke(user=user)
    refused = client.get(MODELS)
    assert refused.status_code == 401
    assert refused.json()["code"] == "authentication_failed"


def test_a_rotated_token_stops_working_at_once(user) -> None:
    old = client_for(token_create(user=user).key)
    assert old.get(MODELS).status_code == 200
    token_create(user=user)
    assert old.get(MODELS).status_code == 401


def test_a_token_deleted_in_the_admin_stops_working_at_once(user) -> None:
    client = client_for(token_create(user=user).key)
    assert client.get(MODELS).status_code == 200
    AuthToken.objects.get(user=user).delete()
    assert client.get(MODELS).status_code == 401


def test_a_deactivated_user_is_refused_at_once(user) -> None:
    client = client_for(token_create(user=user).key)
    assert client.get(MODELS).status_code == 200
    user.is_active = False
    user.save()
    assert client.get(MODELS).status_code == 401


def test_other_processes_forget_a_revoked_token_within_the_cache_time(user, settings) -> None:
    settings.API_TOKEN_CACHE_SECONDS = 0.3
    key = token_create(user=user).key
    client = client_for(key)
    assert client.get(MODELS).status_code == 200
    # Deleted without signals, as another worker's revocation looks from here.
    AuthToken.objects.filter(digest=hash_token(key))._raw_delete(AuthToken.objects.db)
    assert client.get(MODELS).status_code == 200
    time.sleep(0.35)
    assert client.get(MODELS).status_code == 401


def test_unknown_keys_are_never_remembered(user) -> None:
    assert client_for("f" * 40).get(MODELS).status_code == 401
    assert token_cache.get(hash_token("f" * 40)) is None


def test_no_cache_time_means_a_lookup_every_time(user, settings, django_assert_num_queries) -> None:
    settings.API_TOKEN_CACHE_SECONDS = 0
    key = token_create(user=user).key
    CachedTokenAuthentication().authenticate_credentials(key)
    # knox: the token by its first characters, and the user's other tokens (expired ones are swept).
    with django_assert_num_queries(2):
        CachedTokenAuthentication().authenticate_credentials(key)
