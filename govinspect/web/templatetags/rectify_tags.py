"""Template tags of the rectification screens.

    {% rectify_counts user as rc %}    the user's items (access.items) counted by what they need: one query
"""

from django import template
from django.db.models import Count, Q

register = template.Library()


@register.simple_tag
def rectify_counts(user, unit_id=None):
    """{total, todo, came_back, waiting, overdue, done} of the items the user may see (of one unit when unit_id)."""
    from ...rectify.models import Item
    from .. import access

    qs = access.items(user, Item.objects.all())
    if unit_id:
        qs = qs.filter(unit_id=unit_id)
    return qs.aggregate(total=Count("id"), todo=Count("id", filter=Q(state__in=("open", "present", "unverified", "overdue"))),
                        came_back=Count("id", filter=Q(state__in=("present", "unverified"))),
                        waiting=Count("id", filter=Q(state__in=("claimed", "disputed"))),
                        overdue=Count("id", filter=Q(state="overdue")),
                        done=Count("id", filter=Q(state__in=("fixed", "accepted"))))
