from __future__ import annotations

from celery import shared_task


@shared_task(name="reports.tasks.rollups_refresh_recent")
def rollups_refresh_recent() -> int:
    """Every five minutes (beat): rebuild the dashboard rollups for the days where shifts
    still change (60 days back to 60 ahead), then compute every page's standard ranges so
    the first coordinator after the refresh does not wait. Idempotent: each run replaces
    those rows."""
    from reports.dashboards import dashboards_warm
    from reports.rollups import rollups_refresh_recent as refresh

    days = refresh()
    dashboards_warm()
    return days


@shared_task(name="reports.tasks.returns_send_reminders")
def returns_send_reminders() -> int:
    """Daily (beat, 08:00): remind providers who have not submitted last quarter's
    workforce return (when it opens, a week before it is due, when it is late).
    Idempotent: each reminder is remembered per provider, quarter and kind."""
    from reports.services import returns_send_reminders as send

    return send()
