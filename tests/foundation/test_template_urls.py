"""``{% url %}`` keeps what it reverses for a name without arguments (flexpool/
template_urls.py) and still answers as Django's tag: under the prefix the site is served
at, with arguments, ``as`` a variable, and for a name that does not exist."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.urls import NoReverseMatch, clear_script_prefix, reverse, set_script_prefix

from flexpool.template_urls import KeptURLNode


def _render(source: str, **context: object) -> str:
    return Template(source).render(Context(context))


def test_every_template_gets_the_kept_url_tag_without_loading_it():
    template = Template("{% url 'workers:offers' %}")
    assert isinstance(template.nodelist[0], KeptURLNode)


def test_a_kept_url_is_the_reversed_one_under_each_script_prefix():
    path = reverse("workers:offers")
    assert _render("{% url 'workers:offers' %}") == path
    try:
        set_script_prefix("/flexpool/")
        assert _render("{% url 'workers:offers' %}") == "/flexpool" + path
    finally:
        clear_script_prefix()
    assert _render("{% url 'workers:offers' %}") == reverse("workers:offers")


def test_a_url_with_arguments_is_reversed_with_them():
    assert _render("{% url 'workers:offer' 5 %}") == reverse("workers:offer", args=[5])
    assert _render("{% url 'workers:offer' pk=n %}", n=7) == reverse("workers:offer", args=[7])


def test_a_url_named_by_a_variable_is_that_name_s():
    rendered = _render("{% url name %}|{% url name %}", name="workers:shifts")
    assert rendered == f"{reverse('workers:shifts')}|{reverse('workers:shifts')}"


def test_a_url_as_a_variable_is_set_in_the_context_and_empty_for_an_unknown_name():
    assert _render("{% url 'workers:offers' as u %}[{{ u }}]") == f"[{reverse('workers:offers')}]"
    assert _render("{% url 'no-such-page' as u %}[{{ u }}]") == "[]"


def test_an_unknown_name_fails_as_with_django_s_tag():
    with pytest.raises(NoReverseMatch):
        _render("{% url 'no-such-page' %}")
