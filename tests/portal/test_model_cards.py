"""The model card page, its downloads and the API: they read the stored card, never MLflow."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from parivision import figures
from training.ml.card import card_build, card_html, card_markdown
from training.models import ModelVersion, PromotionDecision
from training.services.cards import card_key

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mongo_db")]

HOSTILE_REASON = '<script>alert("card")</script> promoted by hand'


@pytest.fixture
def version() -> ModelVersion:
    return ModelVersion.objects.create(version=4, algorithm="xgboost", mlflow_run_id="r4", is_champion=True)


def store_card(version: int, **extra) -> dict:
    card = card_build(
        version=version, algorithm="xgboost", generated_at=dt.datetime(2024, 4, 1, 3, 41, tzinfo=dt.UTC),
        run_id="r4", seasons=["2023-24"], features=["distance_ft", "is_three"],
        slices=[{"name": "holdout (test)", "rows": 1200, "first_date": "2024-03-01", "last_date": "2024-03-31"}],
        evaluation={"rows": 1200, "games": 40, "confidence": 0.95, "first_date": "2024-03-01",
                    "last_date": "2024-03-31",
                    "scores": [{"metric": "log_loss", "estimate": 0.6157, "low": 0.6101, "high": 0.6214}],
                    "calibration": [{"group": "shot type", "family": "3PT", "shots": 400, "predicted": 0.36,
                                     "observed": 0.35, "ece": 0.012}]},
        promotions=[{"when": "2024-04-01T03:41", "kind": "Manual promotion", "role": "challenger",
                     "other_version": 3, "promoted": True, "reason": HOSTILE_REASON, "triggered_by": "ops"}],
    )  # fmt: skip
    document = {"card": card, "markdown": card_markdown(card), "html": card_html(card), "evaluation": None,
                "error": "", **extra}
    figures.figure_put(key=card_key(version), value=document)
    return document


def test_the_card_page_shows_every_section_escaped(client, member, version):
    store_card(version.version)
    response = client.get(f"/model/versions/{version.version}/card/")

    assert response.status_code == 200
    text = response.content.decode()
    assert "v4 · xgboost" in text
    assert "0.6101 to 0.6214" in text
    assert "<code>distance_ft</code>" in text
    assert "promoted over v3" in text
    assert "Not run for this version." in text
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert(&quot;card&quot;)&lt;/script&gt;" in text
    assert 'href="/model/versions/4/card.md"' in text
    assert 'href="/model/versions/4/card.html"' in text


def test_both_downloads_are_attachments_of_the_stored_renderings(client, member, version):
    document = store_card(version.version)

    markdown = client.get("/model/versions/4/card.md")
    assert markdown.status_code == 200
    assert markdown["Content-Type"] == "text/markdown; charset=utf-8"
    assert markdown["Content-Disposition"] == 'attachment; filename="parivision-v4-model-card.md"'
    assert markdown.content.decode() == document["markdown"]
    html = client.get("/model/versions/4/card.html")
    assert html.status_code == 200
    assert html["Content-Type"] == "text/html; charset=utf-8"
    assert html["Content-Disposition"] == 'attachment; filename="parivision-v4-model-card.html"'
    assert html.content.decode() == document["html"]
    assert client.get("/model/versions/4/card.pdf").status_code == 404


def test_an_unknown_version_is_a_clear_404(client, member):
    response = client.get("/model/versions/99/card/")
    assert response.status_code == 404
    assert client.get("/model/versions/99/card.md").status_code == 404


def test_a_version_without_a_card_says_how_to_get_one(client, member, version):
    response = client.get("/model/versions/4/card/")

    assert response.status_code == 200
    text = response.content.decode()
    assert "No card for v4 yet." in text
    assert "manage.py model_cards --version 4" in text
    assert "card-download-md" not in text
    download = client.get("/model/versions/4/card.md")
    assert download.status_code == 404


def test_a_failed_card_shows_the_reason(client, member, version):
    figures.figure_put(key=card_key(4), value={"error": "MlflowException: run r4 not found"})
    text = client.get("/model/versions/4/card/").content.decode()

    assert "Card not generated:" in text
    assert "MlflowException: run r4 not found" in text


def test_a_failed_refresh_keeps_the_previous_card_and_says_so(client, member, version):
    store_card(4, error="RuntimeError: boom", failed_at="2024-04-02T00:00:00+00:00")
    text = client.get("/model/versions/4/card/").content.decode()

    assert "The last refresh failed:" in text
    assert "RuntimeError: boom" in text
    assert "0.6101 to 0.6214" in text


def test_the_model_page_links_every_versions_card(client, member, version):
    ModelVersion.objects.create(version=3, algorithm="random_forest", mlflow_run_id="r3")
    PromotionDecision.objects.create(kind="manual", challenger_version=4, champion_version=3, promoted=True,
                                     reason="by hand", triggered_by="ops")
    text = client.get("/model/").content.decode()

    assert 'id="champion-card" href="/model/versions/4/card/"' in text
    assert '<a href="/model/versions/3/card/">v3</a>' in text
    assert '<a href="/model/versions/4/card/">v4</a>' in text


def test_anonymous_visitors_are_sent_to_log_in(client, version):
    response = client.get("/model/versions/4/card/")
    assert response.status_code == 302
    assert "/login" in response["Location"]


# --- the API ---------------------------------------------------------------------------------------


def test_the_api_answers_json_by_default_and_files_by_accept(version):
    document = store_card(version.version)
    api = APIClient()

    as_json = api.get("/api/v1/models/4/card")
    assert as_json.status_code == 200
    assert as_json.json()["version"] == 4
    assert as_json.json()["card"]["holdout"]["scores"][0]["low"] == 0.6101
    as_markdown = api.get("/api/v1/models/4/card", HTTP_ACCEPT="text/markdown")
    assert as_markdown.status_code == 200
    assert as_markdown["Content-Type"].startswith("text/markdown")
    assert as_markdown["Content-Disposition"] == 'attachment; filename="parivision-v4-model-card.md"'
    assert as_markdown.content.decode() == document["markdown"]
    as_html = api.get("/api/v1/models/4/card", HTTP_ACCEPT="text/html")
    assert as_html["Content-Type"].startswith("text/html")
    assert as_html.content.decode() == document["html"]


def test_the_api_refuses_unknown_versions_and_missing_cards_in_the_one_error_shape(version):
    api = APIClient()

    unknown = api.get("/api/v1/models/99/card", HTTP_ACCEPT="text/markdown")
    assert unknown.status_code == 404
    assert unknown["Content-Type"] == "application/json"
    assert unknown.json()["code"] == "not_found"
    assert "No model version 99" in unknown.json()["message"]
    figures.figure_put(key=card_key(4), value={"error": "RuntimeError: boom"})
    missing = api.get("/api/v1/models/4/card")
    assert missing.status_code == 404
    assert "card not generated: RuntimeError: boom" in missing.json()["message"]
    assert api.get("/api/v1/models/4/card", HTTP_ACCEPT="application/pdf").status_code == 406


def test_the_admin_list_of_versions_links_each_card(admin_client, version):
    text = admin_client.get("/admin/training/modelversion/").content.decode()
    assert '<a href="/model/versions/4/card/">card</a>' in text
