"""Template helpers of the dashboard, the portal and the unit and site pages.

    {% url_or_none "web:finding" f.id as href %}   the URL, or "" while that page does not exist (yet)
    {% findings_url round=r.pk unit=u.id state="new" %}   the findings browser with its filters
    {{ rate|pct }}                                  "66.67" -> "66.67%", None -> "—"
    {{ rs.reason|cn_reason }}                       a could-not-check reason in short Chinese
"""

from django import template
from django.urls import NoReverseMatch, reverse

from ..stats import findings_url as _findings_url

register = template.Library()


@register.simple_tag
def url_or_none(name, *args):
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


@register.simple_tag
def findings_url(**params):
    return _findings_url(**params)


@register.filter
def pct(value):
    if value is None or value == "":
        return "—"
    return f"{value}%"


@register.filter
def cn_reason(value):
    """A could-not-check reason in short Chinese (reports/data.py explain): engine wording becomes the cause."""
    from ...reports.data import cn_reason as _cn

    return _cn(value) if value else ""
