"""``{% return_task provider %}``: the provider's home page shows the workforce return it
owes (the last quarter's, until it is submitted), without the providers app importing
reports."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from reports.models import WorkforceReturn
from reports.quarters import quarter_to_return

register = template.Library()


@register.inclusion_tag("reports/_return_task.html")
def return_task(provider: Any) -> dict[str, Any]:
    today = timezone.localdate()
    quarter = quarter_to_return(today)
    submitted = WorkforceReturn.objects.filter(
        provider=provider, quarter=str(quarter), status=WorkforceReturn.Status.SUBMITTED
    ).exists()
    return {"quarter": quarter, "owed": not submitted, "late": today > quarter.due}
