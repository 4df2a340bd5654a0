"""What the portal's tests share: a signed-in member."""

from __future__ import annotations

import pytest


@pytest.fixture
def member(client, django_user_model):
    user = django_user_model.objects.create_user(username="member", password="pw-member-123")
    client.force_login(user)
    return user
