"""Hostile input answers a field error or a 400, never a 500: the one place for the rules
every door applies to text, JSON bodies and dates.

- Text may not hold control characters (NUL, which PostgreSQL refuses outright, and the
  rest of C0 and DEL; tab, line feed and carriage return are allowed).
- A JSON body may nest at most ``MAX_JSON_DEPTH`` deep (Python's parser recurses, so a
  deep body would otherwise be a RecursionError); its size is bounded by Django's
  ``DATA_UPLOAD_MAX_MEMORY_SIZE``.
- A date must fall between ``EARLIEST_DATE`` and ``LATEST_DATE`` (arithmetic on year 9999
  overflows).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_JSON_DEPTH = 32
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2100, 12, 31)


def reject_control_characters(value: object) -> None:
    if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
        raise ValidationError("Remove the control characters (such as NUL) from this text.")


def validate_sane_date(value: date) -> None:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValidationError(
            f"Enter a date between {EARLIEST_DATE:%-d %B %Y} and {LATEST_DATE:%-d %B %Y}."
        )


class TextField(serializers.CharField):
    """The API's text field: a CharField that refuses control characters."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(reject_control_characters)


class SlugRelatedField(serializers.SlugRelatedField):  # type: ignore[type-arg]
    """Looks the slug up only once it is plain text (a NUL would reach PostgreSQL)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and CONTROL_CHARACTERS.search(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class SaneDateField(serializers.DateField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(validate_sane_date)


def _depth(value: object) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, Mapping):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in item)
    return deepest


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with a depth limit; a body too deep to parse is a 400."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(f"JSON nested more than {MAX_JSON_DEPTH} deep.") from exc
        if _depth(data) > MAX_JSON_DEPTH:
            raise ParseError(f"JSON nested more than {MAX_JSON_DEPTH} deep.")
        return data
