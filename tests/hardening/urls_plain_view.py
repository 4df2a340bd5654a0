"""The project's URLs plus a plain (non-DRF) view under /api/ that crashes."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from parivision.urls import handler404, handler500  # noqa: F401
from parivision.urls import urlpatterns as project_urls


def crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("plain view bug")


urlpatterns = [path("api/plain-crash", crash), *project_urls]
