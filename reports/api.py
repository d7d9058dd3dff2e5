"""``GET /api/v1/stats/summary/?from=&to=``: the headline figures, as the dashboard shows them."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import Who, allow
from flexpool.input import SaneDateField, TextField
from pools.selectors import coordinator_of, pools_visible
from reports.dashboards import summary_kept
from reports.definitions import current_version
from reports.forms import MAX_RANGE_DAYS
from reports.metrics import Scope
from reports.quarters import Quarter
from reports.rollups import rollups_ensure
from reports.workforce import workforce_figures


@allow(Who.COORDINATOR)
class StatsSummaryApi(APIView):
    class InputSerializer(serializers.Serializer):
        locals()["from"] = SaneDateField()
        to = SaneDateField()

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if attrs["to"] < attrs["from"]:
                raise serializers.ValidationError({"to": ["Must be on or after 'from'."]})
            if (attrs["to"] - attrs["from"]).days > MAX_RANGE_DAYS:
                raise serializers.ValidationError({"to": ["Choose a range of two years or less."]})
            return attrs

    class OutputSerializer(serializers.Serializer):
        locals()["from"] = serializers.DateField()
        to = serializers.DateField()
        pool = serializers.CharField()
        shifts_requested = serializers.IntegerField()
        shifts_filled = serializers.IntegerField()
        fill_rate = serializers.DecimalField(max_digits=5, decimal_places=4, allow_null=True)
        hours_requested = serializers.DecimalField(max_digits=12, decimal_places=2)
        hours_filled = serializers.DecimalField(max_digits=12, decimal_places=2)
        hours_fill_rate = serializers.DecimalField(max_digits=5, decimal_places=4, allow_null=True)
        median_time_to_fill_minutes = serializers.FloatField(allow_null=True)
        p90_time_to_fill_minutes = serializers.FloatField(allow_null=True)
        agency_hours_avoided = serializers.DecimalField(max_digits=12, decimal_places=2)
        agency_spend_avoided = serializers.DecimalField(max_digits=14, decimal_places=2)
        pool_cost = serializers.DecimalField(max_digits=14, decimal_places=2)

    @extend_schema(
        parameters=[
            OpenApiParameter("from", str, description="First day, ISO date (inclusive)"),
            OpenApiParameter("to", str, description="Last day, ISO date (inclusive)"),
        ],
        responses=OutputSerializer,
    )
    def get(self, request: Request) -> Response:
        coordinator = coordinator_of(request.user)
        assert coordinator is not None  # allow(Who.COORDINATOR) let them in
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        start, end = params.validated_data["from"], params.validated_data["to"]
        rollups_ensure(pool_ids=[coordinator.pool_id], start=start, end=end)
        scope = Scope(pool_ids=(coordinator.pool_id,), start=start, end=end)
        fig = summary_kept(scope)
        data = {
            "from": start,
            "to": end,
            "pool": coordinator.pool.slug,
            "shifts_requested": fig.shifts_requested,
            "shifts_filled": fig.shifts_filled,
            "fill_rate": fig.fill_rate,
            "hours_requested": fig.hours_requested,
            "hours_filled": fig.hours_filled,
            "hours_fill_rate": fig.hours_fill_rate,
            "median_time_to_fill_minutes": fig.median_ttf_minutes,
            "p90_time_to_fill_minutes": fig.p90_ttf_minutes,
            "agency_hours_avoided": fig.agency_hours_avoided,
            "agency_spend_avoided": fig.spend_avoided,
            "pool_cost": fig.pool_cost,
        }
        return Response(self.OutputSerializer(data).data)


@allow(Who.COORDINATOR)
class StatsWorkforceApi(APIView):
    """``GET /api/v1/stats/workforce/?quarter=2026-Q3[&pool=<slug>]``: the quarter's
    workforce figures as the committee report defines them. Coordinators only (anyone else
    404); ``pool`` picks one of the pools a regional coordinator sees (another: 404)."""

    class InputSerializer(serializers.Serializer):
        quarter = TextField()
        pool = serializers.SlugField(required=False)

        def validate_quarter(self, value: str) -> Quarter:
            try:
                return Quarter.parse(value)
            except ValueError as exc:
                raise serializers.ValidationError(str(exc)) from exc

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "StatsWorkforce"  # two nested "OutputSerializer"s share one name

        quarter = TextField()
        pool = serializers.CharField()
        vacancy_rate = serializers.DecimalField(max_digits=6, decimal_places=4, allow_null=True)
        leaver_rate = serializers.DecimalField(max_digits=6, decimal_places=4, allow_null=True)
        starters = serializers.IntegerField()
        agency_hours = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
        agency_reliance = serializers.DecimalField(max_digits=6, decimal_places=4, allow_null=True)
        zero_hours_share = serializers.DecimalField(max_digits=6, decimal_places=4, allow_null=True)
        zero_hours_by_choice_share = serializers.DecimalField(
            max_digits=6, decimal_places=4, allow_null=True
        )
        qualification_share = serializers.DecimalField(
            max_digits=6, decimal_places=4, allow_null=True
        )
        living_wage_share = serializers.DecimalField(
            max_digits=6, decimal_places=4, allow_null=True
        )
        return_rate = serializers.DecimalField(max_digits=6, decimal_places=4, allow_null=True)
        definitions_version = serializers.IntegerField()

    @extend_schema(
        parameters=[
            OpenApiParameter("quarter", str, description="Calendar quarter, e.g. 2026-Q3"),
            OpenApiParameter("pool", str, required=False, description="Pool slug"),
        ],
        responses=OutputSerializer,
    )
    def get(self, request: Request) -> Response:
        coordinator = coordinator_of(request.user)
        assert coordinator is not None  # allow(Who.COORDINATOR) let them in
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        quarter: Quarter = params.validated_data["quarter"]
        visible = pools_visible(coordinator=coordinator)
        slug = params.validated_data.get("pool")
        pool = visible.filter(slug=slug).first() if slug else coordinator.pool
        if pool is None:
            raise NotFound
        version = current_version()
        figures = workforce_figures(pool_ids=[pool.pk], quarter=quarter, version=version)
        data = {"quarter": str(quarter), "pool": pool.slug, "definitions_version": version}
        data.update({k: v for k, v in figures.items() if k != "agency_spend"})
        return Response(self.OutputSerializer(data).data)
