from __future__ import annotations

from celery import shared_task


@shared_task(name="reports.tasks.rollups_refresh_recent")
def rollups_refresh_recent() -> int:
    """Every five minutes (beat): rebuild the dashboard rollups for the days where shifts
    still change (60 days back to 60 ahead). Idempotent: each run replaces those rows."""
    from reports.rollups import rollups_refresh_recent as refresh

    return refresh()
