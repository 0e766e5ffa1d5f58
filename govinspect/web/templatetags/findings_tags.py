"""Template filters of the findings pages.

    {{ ev.excerpt|highlight:ev.hit }}    the excerpt escaped, only the hit [start, end) wrapped in <mark>
"""

from django import template
from django.utils.html import escape, format_html

register = template.Library()


@register.filter
def highlight(excerpt, hit):
    """Crawled text is never trusted: each part (before, the hit, after) is escaped on its own, and only the <mark> we
    add is markup. A missing or impossible hit leaves the excerpt escaped and unmarked."""
    text = "" if excerpt is None else str(excerpt)
    try:
        start, end = int(hit[0]), int(hit[1])
    except (TypeError, ValueError, IndexError, KeyError):
        return escape(text)
    if not 0 <= start < end <= len(text):
        return escape(text)
    return format_html("{}<mark>{}</mark>{}", text[:start], text[start:end], text[end:])


@register.filter
def severity_name(value):
    from ...rounds.models import SEVERITIES

    return dict(SEVERITIES).get(value, value or "")


# the catalogue's basis column marks how far a source was verified (docs/rules.md): words, not emoji a font may lack
_MARKS = {"✅": "（已核实）", "🟡": "（部分核实）", "❓": "（未核实）"}


@register.filter
def basis_text(value):
    text = "" if value is None else str(value)
    for mark, words in _MARKS.items():
        text = text.replace(" " + mark, words).replace(mark, words)
    return text


@register.filter
def local_time(value):
    """An ISO time stored with a finding's evidence (often UTC) as local time "2026-11-29 07:13:41"; text that is not
    an ISO time is shown as it is."""
    import datetime as dt

    from django.utils import timezone

    if not value:
        return ""
    try:
        t = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if timezone.is_naive(t):
        return t.strftime("%Y-%m-%d %H:%M:%S")
    return timezone.localtime(t).strftime("%Y-%m-%d %H:%M:%S")
