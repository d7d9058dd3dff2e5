from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def offers(request: HttpRequest) -> HttpResponse:
    if not request.user.is_worker:
        raise Http404
    return render(request, "workers/offers.html")


@login_required
def apply(request: HttpRequest) -> HttpResponse:
    return render(request, "workers/apply.html")
