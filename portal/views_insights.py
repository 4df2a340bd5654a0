"""Backtests, the model, the data and matches: pages for signed-in users (quarantine for staff).

Pages read, never compute: every figure here was computed by a Celery task and stored (read
by key), or is a small indexed SQL read. A figure not there yet says "being computed" or
"no data yet" instead.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods

from analytics import selectors as analytics_selectors
from analytics.status import live_status
from backtests import selectors as backtest_selectors
from backtests.engine import STRATEGIES
from backtests.models import Backtest
from backtests.services import backtest_create
from ingestion import selectors as ingestion_selectors
from ingestion.figures import ingestion_figures
from ingestion.models import IngestionRun
from parivision.errors import ApplicationError
from predictions import selectors as prediction_selectors
from predictions.shadow import shadow_summary
from training import selectors as training_selectors
from training.ml.card import card_sections
from training.models import DriftReport, ModelVersion
from training.services.drift import drift_artifact_text

# --- backtests ------------------------------------------------------------------------------------


class BacktestForm(forms.Form):
    model_versions = forms.TypedMultipleChoiceField(
        coerce=int, widget=forms.CheckboxSelectMultiple, help_text="One version, or two side by side.")
    date_from = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    strategy = forms.ChoiceField(choices=[(s, Backtest.Strategy(s).label) for s in STRATEGIES],
                                 widget=forms.RadioSelect, initial="flat")
    threshold = forms.FloatField(min_value=0, max_value=1, initial=0.02, label="Edge threshold",
                                 widget=forms.NumberInput(attrs={"step": "0.005"}),
                                 help_text="Bet when p * odds - 1 exceeds this.")
    stake = forms.FloatField(min_value=0.01, initial=10, label="Flat stake",
                             widget=forms.NumberInput(attrs={"step": "1"}))
    kelly_fraction = forms.FloatField(min_value=0.01, max_value=1, initial=0.25, label="Kelly fraction",
                                      widget=forms.NumberInput(attrs={"step": "0.05"}))
    margin = forms.FloatField(min_value=0, max_value=0.5, initial=lambda: settings.MARKET_MARGIN, label="Market margin",
                              widget=forms.NumberInput(attrs={"step": "0.01"}),
                              help_text="The book's overround (the live market's by default).")
    bankroll = forms.FloatField(min_value=1, initial=1000, label="Starting bankroll",
                                widget=forms.NumberInput(attrs={"step": "100"}))

    def __init__(self, *args: Any, versions: list[ModelVersion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["model_versions"]).choices = [
            (v.version, f"v{v.version} · {v.algorithm}{' · champion' if v.is_champion else ''}") for v in versions
        ]

    def clean_model_versions(self) -> list[int]:
        chosen = self.cleaned_data["model_versions"]
        if len(chosen) > settings.BACKTEST_MAX_VERSIONS:
            raise forms.ValidationError(f"Choose at most {settings.BACKTEST_MAX_VERSIONS} versions.")
        return chosen

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "Must not be before the start date.")
        return data


def _form_defaults(versions: list[ModelVersion]) -> dict[str, Any]:
    """The champion (and the runner-up) on the champion's holdout: out-of-sample for both."""
    champion = next((v for v in versions if v.is_champion), versions[0] if versions else None)
    initial: dict[str, Any] = {}
    if champion is None:
        return initial
    others = [v.version for v in versions if v.version != champion.version][:1]
    initial["model_versions"] = [champion.version, *others]
    span = (champion.data or {}).get("holdout") or {}
    if span.get("first_date") and span.get("last_date"):
        initial["date_from"], initial["date_to"] = span["first_date"], span["last_date"]
    else:
        last = analytics_selectors.latest_game_date()
        if last is not None:
            initial["date_from"], initial["date_to"] = last - dt.timedelta(days=30), last
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def backtest_list(request: HttpRequest) -> HttpResponse:
    versions = list(ModelVersion.objects.order_by("-version")[:30])
    if request.method == "POST":
        form = BacktestForm(request.POST, versions=versions)
        if form.is_valid():
            try:
                backtest = backtest_create(owner=request.user, **form.cleaned_data)
            except ApplicationError as error:
                field = error.field if error.field in form.fields else None
                form.add_error(field, error.message[:1].upper() + error.message[1:] + ".")
            else:
                return redirect("portal:backtest-detail", backtest_id=backtest.pk)
    else:
        form = BacktestForm(initial=_form_defaults(versions), versions=versions)
    backtests = list(backtest_selectors.backtests_visible(user=request.user)[:50])
    return render(request, "portal/insights/backtests.html",
                  {"form": form, "backtests": backtests, "has_versions": bool(versions)})


@login_required
@require_GET
def backtest_detail(request: HttpRequest, backtest_id: int) -> HttpResponse:
    backtest = backtest_selectors.backtest_get(user=request.user, backtest_id=backtest_id)
    if backtest is None:
        raise Http404("No such backtest.")
    versions = (backtest.results or {}).get("versions", [])
    metrics = [
        ("Bets placed", "bets", "int"), ("Hit rate", "hit_rate", "pct"), ("ROI", "roi", "signed_pct"),
        ("Profit", "profit", "signed"), ("Final bankroll", "final_bankroll", "money"),
        ("Bankroll growth", "growth", "signed_pct"), ("Max drawdown", "max_drawdown", "pct"),
        ("Total staked", "staked", "money"), ("Average edge", "average_edge", "pct"),
        ("Average odds", "average_odds", "odds"), ("Bets on “made”", "bets_made_side", "int"),
        ("Sharpe ratio (per bet)", "sharpe", "num"), ("Profit factor", "profit_factor", "odds"),
        ("Risk of ruin", "risk_of_ruin", "pct"),
    ]  # fmt: skip
    table = [{"label": label, "kind": kind, "values": [v.get(key) for v in versions]} for label, key, kind in metrics]
    curves = [{"label": f"v{v['version']} ({v.get('algorithm') or 'model'})", "points": v.get("curve", [])}
              for v in versions]  # fmt: skip
    return render(request, "portal/insights/backtest_detail.html",
                  {"backtest": backtest, "versions": versions, "table": table, "curves": curves})


# --- the model ------------------------------------------------------------------------------------


def live_quality(row: ModelVersion) -> dict[str, Any] | None:
    """The version's stored scores on settled live predictions beside its holdout ones, or None without any."""
    scores = ((live_status() or {}).get("live") or {}).get(str(row.version))
    if not scores:
        return None
    holdout = row.holdout_scores or {}
    return {
        "settled": scores["settled"],
        "metrics": [
            {"name": name, "holdout": training_selectors.score_of(row, key), "live": scores[key],
             "better_high": key == "accuracy"}
            for name, key in (("Accuracy", "accuracy"), ("Log loss", "log_loss"), ("Brier", "brier"))
            if key in holdout and key in scores
        ],
    }  # fmt: skip


def figure_state(status: Any) -> str:
    """``computing`` when its task is queued or running, ``failed`` after a failure, else ``missing``."""
    return "computing" if status.computing else "failed" if status.state == "failed" else "missing"


@login_required
@require_GET
def model_page(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"mlflow_ui_url": settings.MLFLOW_UI_URL, "history": training_selectors.versions_history(),
                               "card_versions": list(ModelVersion.objects.order_by("-version")
                                                     .values_list("version", flat=True)[:30]),
                               "decisions": training_selectors.recent_decisions(),
                               "drift": prediction_selectors.latest_drift_report(), "figures": None}  # fmt: skip
    row = prediction_selectors.champion_version_row()
    context["champion"] = row
    context["shadow"] = shadow_summary()
    if row is not None:
        scores = row.holdout_scores or {}
        context["scores"] = [
            (label, scores.get(key), fmt) for label, key, fmt in (
                ("Accuracy", "accuracy", "pct"), ("ROC AUC", "roc_auc", "num"), ("Log loss", "log_loss", "num"),
                ("Brier", "brier", "num"), ("ECE", "ece", "num"))
            if isinstance(scores.get(key), (int, float))
        ]  # fmt: skip
        context["promotion"] = training_selectors.promotion_of(row)
        context["live"] = live_quality(row)
        context["figures"] = training_selectors.model_figures_of(version=row.version)
        context["recalibration"] = training_selectors.recalibration_summary(version=row.version)
        if context["figures"] is None:
            status = training_selectors.model_figures_status(version=row.version)
            context["figures_state"] = figure_state(status)
            context["figures_error"] = status.message if status.state == "failed" else ""
    context.update(drift_story_context(row))
    return render(request, "portal/insights/model.html", context)


def drift_story_context(champion: ModelVersion | None) -> dict[str, Any]:
    """The stored drift story and, when there is none yet or it was told for another champion, why."""
    story = training_selectors.drift_story()
    status = training_selectors.drift_story_status()
    told_for = ((story or {}).get("champion") or {}).get("version")
    computed_at = (story or {}).get("computed_at")
    return {
        "story": story,
        "story_computed_at": dt.datetime.fromisoformat(computed_at) if isinstance(computed_at, str) else None,
        "story_state": figure_state(status) if story is None else "",
        "story_error": status.message if status.state == "failed" else "",
        "story_computing": status.computing,
        "story_stale": story is not None and told_for != (champion.version if champion else None),
    }  # fmt: skip


def _version_or_404(version: int) -> ModelVersion:
    row = ModelVersion.objects.filter(version=version).first()
    if row is None:
        raise Http404(f"No model version {version}: versions appear here once a pipeline run registers them.")
    return row


@login_required
@require_GET
def model_card_page(request: HttpRequest, version: int) -> HttpResponse:
    """The stored card of one version (generated at registration, refreshed after each decision about it)."""
    row = _version_or_404(version)
    stored = training_selectors.model_card_of(version=version) or {}
    card = stored.get("card")
    return render(request, "portal/insights/model_card.html", {
        "row": row, "card": card, "sections": card_sections(card) if card else None,
        "error": stored.get("error") or "", "failed_at": stored.get("failed_at") or "",
        "versions": list(ModelVersion.objects.order_by("-version").values_list("version", flat=True)[:30]),
    })  # fmt: skip


CARD_FORMATS = {"md": ("markdown", "text/markdown; charset=utf-8"), "html": ("html", "text/html; charset=utf-8")}


@login_required
@require_GET
def model_card_download(request: HttpRequest, version: int, fmt: str) -> HttpResponse:
    """The card as a Markdown or HTML file (an attachment: the HTML is never rendered in the portal's origin)."""
    if fmt not in CARD_FORMATS:
        raise Http404("Model cards download as .md or .html.")
    _version_or_404(version)
    key, content_type = CARD_FORMATS[fmt]
    text = (training_selectors.model_card_of(version=version) or {}).get(key)
    if not text:
        raise Http404(f"Model version {version} has no card yet (manage.py model_cards --version {version}).")
    response = HttpResponse(text, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="parivision-v{version}-model-card.{fmt}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
@xframe_options_sameorigin  # embedded in the model page
def drift_report(request: HttpRequest, report_id: int) -> HttpResponse:
    report = DriftReport.objects.filter(pk=report_id).first()
    if report is None or not report.html_artifact:
        raise Http404("No such drift report.")
    return HttpResponse(drift_artifact_text(report, report.html_artifact), content_type="text/html")


# --- the data -------------------------------------------------------------------------------------


def _chart_query(request: HttpRequest) -> analytics_selectors.ChartQuery:
    return analytics_selectors.ChartQuery(season=request.GET.get("season", "")[:7],
                                          team=request.GET.get("team", "")[:60],
                                          player=request.GET.get("player", "")[:100])  # fmt: skip


@login_required
@require_GET
def data_page(request: HttpRequest) -> HttpResponse:
    query = _chart_query(request)
    stored = ingestion_figures()
    context: dict[str, Any] = {
        "ingestion": stored,
        "counts": (stored or {}).get("counts"),
        "daily": (stored or {}).get("daily") or {"labels": []},
        "runs": list(IngestionRun.objects.order_by("-started_at")[:8]),
        "options": analytics_selectors.filter_options(season=query.season),
        "filter": query,
        "champion": prediction_selectors.champion_version_row(),
        "figures_status": analytics_selectors.status(),
    }
    if request.user.is_staff:
        context["reasons"] = (stored or {}).get("reasons") or []
        context["quarantined"] = ingestion_selectors.quarantine_list(limit=10)[0]
    return render(request, "portal/insights/data.html", context)


@login_required
@require_GET
def shot_chart_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(analytics_selectors.shot_chart(query=_chart_query(request)))


# --- a match --------------------------------------------------------------------------------------


@login_required
@require_GET
def match_page(request: HttpRequest) -> HttpResponse:
    try:
        day = dt.date.fromisoformat(request.GET["date"]) if request.GET.get("date") else None
    except ValueError:
        day = None
    day = day or analytics_selectors.latest_game_date()
    games = analytics_selectors.games_on(day) if day else []
    game_id = (request.GET.get("game") or (games[0]["game_id"] if games else ""))[:20]
    match = analytics_selectors.match(game_id=game_id, day=day) if game_id else None
    return render(request, "portal/insights/match.html", {
        "day": day, "games": games, "game_id": game_id, "match": match,
        "champion": prediction_selectors.champion_version_row(), "figures_status": analytics_selectors.status(),
    })  # fmt: skip
