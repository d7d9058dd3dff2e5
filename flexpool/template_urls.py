"""``{% url %}`` as Django's, except that a URL named without arguments (every link in the
header and menus) is reversed once per process rather than on every page: reversing costs
as much as rendering a dozen lines of template, and the header alone has nine.

A kept URL is looked up by everything ``reverse`` depends on for a name without
arguments: the URL configuration in use, the script prefix (where the site is mounted)
and the current namespace. Loaded as a template builtin (settings.TEMPLATES), so it
replaces the ``url`` tag in every template without a ``{% load %}``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template import Context, Library
from django.template.base import Parser, Token
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

register = Library()

KEEP_AT_MOST = 2000
_KEPT: dict[tuple[Any, ...], str] = {}


class KeptURLNode(URLNode):
    def render(self, context: Context) -> str:
        if self.args or self.kwargs:
            return super().render(context)
        view_name = self.view_name.resolve(context)
        try:  # as Django's tag finds it
            current_app = context.request.current_app  # type: ignore[attr-defined]
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace  # type: ignore[attr-defined]
            except AttributeError:
                current_app = None
        urlconf = get_urlconf() or settings.ROOT_URLCONF
        key = (view_name, current_app, urlconf, get_script_prefix())
        url = _KEPT.get(key)
        if url is None:
            try:
                url = reverse(view_name, current_app=current_app)
            except NoReverseMatch:
                return super().render(context)  # as Django's: raises, or sets "" with "as"
            if len(_KEPT) < KEEP_AT_MOST:  # names are few; a name from a variable may not be
                _KEPT[key] = url
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser: Parser, token: Token) -> URLNode:
    node = django_url(parser, token)
    return KeptURLNode(node.view_name, node.args, node.kwargs, node.asvar)
