"""A worker's bookings as an iCalendar (RFC 5545) document, written by hand: a handful of
properties, escaped and folded as the RFC asks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.utils import timezone

from shifts.models import Booking


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space."""
    raw = line.encode("utf-8")
    if len(raw) <= 75:
        return line
    parts: list[str] = []
    current = b""
    limit = 75
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > limit:
            parts.append(current.decode("utf-8"))
            current = b""
            limit = 74  # continuation lines start with a space
        current += encoded
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


# A cancelled booking stays in the feed this long, marked cancelled, so the phone's
# calendar removes the event instead of keeping a shift that no longer exists.
CANCELLED_KEPT_DAYS = 14
REMINDER = "-PT2H"  # two hours before the start: time to get there


def bookings_icalendar(*, bookings: Iterable[Booking], site_url: str) -> str:
    """The feed. Each event's UID is built from ``SITE_URL`` (never the request's host,
    which differs between a phone on Wi-Fi and on mobile data), so an event stays one
    event; a cancelled booking comes back with ``STATUS:CANCELLED`` and a higher
    ``SEQUENCE`` (0 booked, 1 cancelled: a booking changes state once)."""
    host = urlsplit(site_url).hostname or "flexpool"
    now = _utc(timezone.now())
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//FlexPool//Worker shifts//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:FlexPool shifts",
    ]
    for booking in bookings:
        shift = booking.shift
        site = shift.site
        cancelled = booking.status == Booking.Status.CANCELLED
        lines += [
            "BEGIN:VEVENT",
            f"UID:booking-{booking.pk}@{host}",
            f"DTSTAMP:{now}",
            f"LAST-MODIFIED:{_utc(booking.cancelled_at or booking.booked_at)}",
            f"SEQUENCE:{1 if cancelled else 0}",
            f"DTSTART:{_utc(booking.start)}",
            f"DTEND:{_utc(booking.end)}",
            f"SUMMARY:{_escape(('Cancelled: ' if cancelled else '') + f'{shift.role} at {site.name}')}",
        ]
        if cancelled:
            # The address was for going there; a cancelled shift no longer needs it.
            lines += [
                f"DESCRIPTION:{_escape(f'{shift.provider.name}. This shift was cancelled.')}",
                "STATUS:CANCELLED",
            ]
        else:
            lines += [
                f"LOCATION:{_escape(f'{site.address}, {site.postcode}')}",
                f"DESCRIPTION:{_escape(f'{shift.provider.name}. Booked through FlexPool.')}",
                f"GEO:{site.latitude:.6f};{site.longitude:.6f}",
                f"URL:{site_url.rstrip('/')}/worker/shifts/{booking.pk}/",
                "STATUS:CONFIRMED",
                "BEGIN:VALARM",
                "ACTION:DISPLAY",
                f"DESCRIPTION:{_escape(f'Shift at {site.name} in 2 hours')}",
                f"TRIGGER:{REMINDER}",
                "END:VALARM",
            ]
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
