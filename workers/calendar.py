"""A worker's bookings as an iCalendar (RFC 5545) document, written by hand: a handful of
properties, escaped and folded as the RFC asks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

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


def bookings_icalendar(*, bookings: Iterable[Booking], host: str) -> str:
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
        lines += [
            "BEGIN:VEVENT",
            f"UID:booking-{booking.pk}@{host.split(':')[0]}",
            f"DTSTAMP:{now}",
            f"DTSTART:{_utc(booking.start)}",
            f"DTEND:{_utc(booking.end)}",
            f"SUMMARY:{_escape(f'{shift.role} at {site.name}')}",
            f"LOCATION:{_escape(f'{site.address}, {site.postcode}')}",
            f"DESCRIPTION:{_escape(f'{shift.provider.name}. Booked through FlexPool.')}",
            f"GEO:{site.latitude:.6f};{site.longitude:.6f}",
            "STATUS:CONFIRMED",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
