"""Render Django form fields as GOV.UK Design System components: label, hint, error
message, and the input (or a fieldset of checkboxes/radios), linked by aria-describedby."""

from __future__ import annotations

from datetime import timedelta

from django import forms, template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from providers.forms import GovukDateWidget

register = template.Library()

ERROR_CLASS = {
    "select": "govuk-select--error",
    "textarea": "govuk-textarea--error",
}


def _hint_and_error(bf: forms.BoundField) -> tuple[SafeString, SafeString, list[str]]:
    describedby: list[str] = []
    hint = mark_safe("")
    error = mark_safe("")
    if bf.help_text:
        hint_id = f"{bf.auto_id}-hint"
        describedby.append(hint_id)
        hint = format_html('<div id="{}" class="govuk-hint">{}</div>', hint_id, bf.help_text)
    if bf.errors:
        error_id = f"{bf.auto_id}-error"
        describedby.append(error_id)
        error = format_html(
            '<p id="{}" class="govuk-error-message"><span class="govuk-visually-hidden">'
            "Error:</span> {}</p>",
            error_id,
            " ".join(str(e) for e in bf.errors),
        )
    return hint, error, describedby


def _group(bf: forms.BoundField, inner: SafeString, extra: str = "") -> SafeString:
    classes = "govuk-form-group" + (" govuk-form-group--error" if bf.errors else "") + extra
    return format_html('<div class="{}" id="{}-group">{}</div>', classes, bf.auto_id, inner)


def _choices(bf: forms.BoundField, kind: str, describedby: list[str]) -> SafeString:
    """A fieldset of radios (kind="radios") or checkboxes (kind="checkboxes")."""
    input_type = "radio" if kind == "radios" else "checkbox"
    items = []
    for i, sub in enumerate(bf.subwidgets):
        data = sub.data
        item_id = bf.auto_id if i == 0 else f"{bf.auto_id}_{i}"
        items.append(
            format_html(
                '<div class="govuk-{}__item"><input class="govuk-{}__input" id="{}" name="{}" '
                'type="{}" value="{}"{}><label class="govuk-label govuk-{}__label" for="{}">{}'
                "</label></div>",
                kind,
                kind,
                item_id,
                data["name"],
                input_type,
                data["value"],
                mark_safe(" checked") if data["selected"] else "",
                kind,
                item_id,
                data["label"],
            )  # fmt: skip
        )
    hint, error, _ = _hint_and_error(bf)
    legend = format_html(
        '<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">{}</legend>', bf.label
    )
    small = " govuk-radios--small" if kind == "radios" and len(items) > 4 else ""
    body = format_html(
        '<fieldset class="govuk-fieldset"{}>{}{}{}<div class="govuk-{}{}" data-module="govuk-{}">'
        "{}</div></fieldset>",
        format_html(' aria-describedby="{}"', " ".join(describedby)) if describedby else "",
        legend, hint, error, kind, small, kind, mark_safe("".join(items)),
    )  # fmt: skip
    return _group(bf, body)


def _date_input(bf: forms.BoundField, describedby: list[str]) -> SafeString:
    """The GOV.UK date input: a fieldset of day, month and year (see GovukDateWidget)."""
    hint, error, _ = _hint_and_error(bf)
    raw = bf.value()
    widget = bf.field.widget
    assert isinstance(widget, GovukDateWidget)
    values = raw if isinstance(raw, list | tuple) else widget.decompress(raw)
    items = []
    for i, (suffix, label) in enumerate((("day", "Day"), ("month", "Month"), ("year", "Year"))):
        width = "4" if suffix == "year" else "2"
        error_class = " govuk-input--error" if bf.errors else ""
        item_id = bf.auto_id if i == 0 else f"{bf.auto_id}_{suffix}"
        value = values[i] if values and values[i] is not None else ""
        items.append(
            format_html(
                '<div class="govuk-date-input__item"><div class="govuk-form-group">'
                '<label class="govuk-label govuk-date-input__label" for="{}">{}</label>'
                '<input class="govuk-input govuk-date-input__input govuk-input--width-{}{}" '
                'id="{}" name="{}_{}" type="text" inputmode="numeric" value="{}"></div></div>',
                item_id,
                label,
                width,
                error_class,
                item_id,
                bf.html_name,
                suffix,
                value,
            )  # fmt: skip
        )
    legend = format_html(
        '<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">{}</legend>', bf.label
    )
    body = format_html(
        '<fieldset class="govuk-fieldset" role="group"{}>{}{}{}'
        '<div class="govuk-date-input" id="{}-input">{}</div></fieldset>',
        format_html(' aria-describedby="{}"', " ".join(describedby)) if describedby else "",
        legend, hint, error, bf.auto_id, mark_safe("".join(items)),
    )  # fmt: skip
    return _group(bf, body)


@register.filter
def govuk_field(bf: forms.BoundField) -> SafeString:
    widget = bf.field.widget
    hint, error, describedby = _hint_and_error(bf)
    if isinstance(widget, GovukDateWidget):
        return _date_input(bf, describedby)
    # CheckboxSelectMultiple is a RadioSelect subclass: test it first.
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return _choices(bf, "checkboxes", describedby)
    if isinstance(widget, forms.RadioSelect):
        return _choices(bf, "radios", describedby)
    attrs: dict[str, str | bool] = {}
    if describedby:
        attrs["aria-describedby"] = " ".join(describedby)
    if isinstance(widget, forms.CheckboxInput):
        attrs["class"] = "govuk-checkboxes__input"
        body = format_html(
            '<div class="govuk-checkboxes govuk-checkboxes--small" data-module="govuk-checkboxes">'
            '<div class="govuk-checkboxes__item">{}<label class="govuk-label '
            'govuk-checkboxes__label" for="{}">{}</label></div></div>{}{}',
            bf.as_widget(attrs=attrs), bf.auto_id, bf.label, hint, error,
        )  # fmt: skip
        return _group(bf, body)
    base = str(widget.attrs.get("class", ""))
    if bf.errors:
        kind = bf.widget_type
        attrs["class"] = f"{base} {ERROR_CLASS.get(kind, 'govuk-input--error')}".strip()
    label = format_html(
        '<label class="govuk-label govuk-label--s" for="{}">{}</label>', bf.auto_id, bf.label
    )
    return _group(bf, format_html("{}{}{}{}", label, hint, error, bf.as_widget(attrs=attrs)))


@register.inclusion_tag("providers/_error_summary.html")
def govuk_error_summary(form: forms.Form) -> dict[str, object]:
    errors = []
    for name, messages in form.errors.items():
        if name == "__all__":
            for m in messages:
                errors.append(("", m))
            continue
        bf = form[name]
        for m in messages:
            errors.append((f"#{bf.auto_id}", m))
    return {"errors": errors}


@register.simple_tag
def govuk_fields(form: forms.Form, *names: str) -> SafeString:
    fields = [form[n] for n in names] if names else list(form)
    return format_html_join("", "{}", ((govuk_field(bf),) for bf in fields))


@register.filter
def duration_words(value: timedelta | None) -> str:
    """A countdown in plain words: "2 hours 15 minutes", "40 minutes", "under a minute"."""
    if value is None:
        return ""
    minutes = int(value.total_seconds() // 60)
    if minutes < 1:
        return "under a minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if mins and not days:
        parts.append(f"{mins} minute{'s' if mins != 1 else ''}")
    return " ".join(parts)
