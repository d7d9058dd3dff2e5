"""Hostile input answers a field error or a 400, never a 500: the one place for the rules
every door applies to text, JSON bodies and dates.

- Text may not hold control characters: NUL (which PostgreSQL refuses outright), the
  rest of C0 and DEL. Tab, line feed and carriage return are allowed only in multi-line
  text (a form's ``Textarea``, an API ``TextField(multiline=True)``). Django forms get the
  rule from ``TextRules`` (every form in the project is a ``Form`` or ``ModelForm`` from
  here: a test walks them), the API from ``TextField`` and ``SlugRelatedField``.
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

from django import forms
from django.core.exceptions import ValidationError
from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# In multi-line text: every C0 control but tab, line feed and carriage return, and DEL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# In one-line text: every C0 control and DEL.
LINE_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
MAX_JSON_DEPTH = 32
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2100, 12, 31)


MULTI_LINE_MESSAGE = "Remove the control characters (such as NUL) from this text."
ONE_LINE_MESSAGE = (
    "Remove the control characters (such as tabs, line breaks or NUL) from this text."
)


def text_check(value: object, *, multiline: bool, field: str | None = None) -> None:
    """The rule: ``value`` (text, or a list of texts as a multiple choice posts) holds no
    control character; in one-line text, no tab or line break either. A ValidationError
    if it does (naming ``field`` when given, for a service that reads raw input)."""
    values = value if isinstance(value, list | tuple) else [value]
    pattern = CONTROL_CHARACTERS if multiline else LINE_CONTROL_CHARACTERS
    for item in values:
        if isinstance(item, str) and pattern.search(item):
            message = MULTI_LINE_MESSAGE if multiline else ONE_LINE_MESSAGE
            if field is not None:
                raise ValidationError({field: [message]}, code="control_characters")
            raise ValidationError(message, code="control_characters")


def reject_control_characters(value: object) -> None:
    """A validator for multi-line text."""
    text_check(value, multiline=True)


def reject_line_control_characters(value: object) -> None:
    """A validator for one-line text."""
    text_check(value, multiline=False)


def _field_guard(field: forms.Field) -> None:
    """Make ``field`` check its raw input before it parses it: a choice or a model lookup
    never sees a NUL (which PostgreSQL would refuse with an error, not a miss)."""
    if getattr(field, "_text_rules", False) or isinstance(field, forms.FileField):
        return
    if isinstance(field.widget, forms.PasswordInput):
        return  # a password is never stored or shown as text; it is the person's own
    multiline = isinstance(field.widget, forms.Textarea)
    strips = bool(getattr(field, "strip", False))
    clean = field.clean

    def guarded(value: Any) -> Any:
        # One-line text loses its surrounding spaces and line breaks anyway (strip=True).
        raw = value.strip(" \t\r\n") if strips and isinstance(value, str) else value
        text_check(raw, multiline=multiline)
        return clean(value)

    field.clean = guarded  # type: ignore[method-assign]
    field._text_rules = True  # type: ignore[attr-defined]


class TextRules:
    """For Django forms: every field (not a file or a password) refuses control characters
    in what is posted to it, before it is parsed, with a field error."""

    fields: dict[str, forms.Field]

    def full_clean(self) -> None:
        for field in self.fields.values():
            _field_guard(field)
        super().full_clean()  # type: ignore[misc]


class Form(TextRules, forms.Form):
    """The project's form: Django's, with the text rules."""


class ModelForm(TextRules, forms.ModelForm):  # type: ignore[type-arg]
    """The project's model form: Django's, with the text rules."""


def validate_sane_date(value: date) -> None:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValidationError(
            f"Enter a date between {EARLIEST_DATE:%-d %B %Y} and {LATEST_DATE:%-d %B %Y}."
        )


class TextField(serializers.CharField):
    """The API's text field: a CharField that refuses control characters (one line unless
    ``multiline=True``, which allows tabs and line breaks)."""

    def __init__(self, *, multiline: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.multiline = multiline
        self.validators.append(
            reject_control_characters if multiline else reject_line_control_characters
        )


class SlugRelatedField(serializers.SlugRelatedField):  # type: ignore[type-arg]
    """Looks the slug up only once it is plain text (a NUL would reach PostgreSQL)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and LINE_CONTROL_CHARACTERS.search(data):
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
