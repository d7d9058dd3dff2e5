"""Render Django form fields as GOV.UK Design System components:
``{% govuk_field form.postcode %}`` gives the label, hint, error message and input."""

from __future__ import annotations

from typing import Any

from django import forms, template

register = template.Library()

_CLASSES = {
    "input": "govuk-input",
    "select": "govuk-select",
    "textarea": "govuk-textarea",
    "file": "govuk-file-upload",
}


def _kind(widget: forms.Widget) -> str:
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "checkboxes"
    if isinstance(widget, forms.RadioSelect):
        return "radios"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.Select):
        return "select"
    if isinstance(widget, forms.Textarea):
        return "textarea"
    if isinstance(widget, forms.FileInput):
        return "file"
    if isinstance(widget, forms.HiddenInput):
        return "hidden"
    return "input"


@register.inclusion_tag("workers/includes/field.html")
def govuk_field(
    field: forms.BoundField, label_size: str = "", inline: bool = False
) -> dict[str, Any]:
    widget = field.field.widget
    kind = _kind(widget)
    hint_id = f"{field.auto_id}-hint" if field.help_text else ""
    error_id = f"{field.auto_id}-error" if field.errors else ""
    described = " ".join(x for x in (hint_id, error_id) if x)
    html = ""
    if kind in _CLASSES:
        css = [_CLASSES[kind], widget.attrs.get("class", "")]
        if field.errors:
            css.append(f"{_CLASSES[kind]}--error")
        # GOV.UK asks for labels and hints, never placeholder text (it vanishes as you type).
        attrs: dict[str, str | bool] = {
            "class": " ".join(c for c in css if c),
            "placeholder": False,
        }
        if described:
            attrs["aria-describedby"] = described
        html = field.as_widget(attrs=attrs)
    elif kind in ("checkbox", "hidden"):
        plain: dict[str, str | bool] = {}
        if kind == "checkbox":
            plain["class"] = "govuk-checkboxes__input"
        if described:
            plain["aria-describedby"] = described
        html = field.as_widget(attrs=plain)
    options = []
    if kind in ("checkboxes", "radios"):
        for sub in field.subwidgets:
            options.append(
                {
                    "id": sub.id_for_label,
                    "value": sub.data["value"],
                    "label": sub.choice_label,
                    "checked": sub.data["selected"],
                }
            )
    return {
        "field": field,
        "kind": kind,
        "html": html,
        "options": options,
        "hint_id": hint_id,
        "error_id": error_id,
        "described": described,
        "label_size": label_size,
        "inline": inline,
    }


@register.inclusion_tag("workers/includes/error_summary.html")
def govuk_error_summary(form: forms.BaseForm) -> dict[str, Any]:
    errors = []
    for name, messages in form.errors.items():
        anchor = ""
        if name != "__all__" and name in form.fields:
            bound = form[name]
            widget = bound.field.widget
            anchor = bound.auto_id
            if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
                subs = bound.subwidgets
                anchor = subs[0].id_for_label if subs else anchor
        for message in messages:
            errors.append({"anchor": anchor, "message": message})
    return {"errors": errors}


@register.filter
def hhmm(minutes: int) -> str:
    """Minutes after midnight as a clock time; 1440 is midnight at the end of the day."""
    if minutes >= 1440:
        return "midnight"
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
