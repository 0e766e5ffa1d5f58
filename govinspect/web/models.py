"""Platform accounts: a Django user plus its role and unit (Profile)."""

from django.conf import settings
from django.db import models

from ..registry.models import Unit

ROLES = [("office", "检查单位"), ("unit", "责任单位"), ("supervisor", "主管单位"), ("readonly", "只读")]


class Profile(models.Model):
    """The role of a platform account. office: everything, launches rounds, triages; unit: only its own unit's sites,
    accounts, findings and files; supervisor: the units it supervises (its subtree of the registry and the units
    naming it as 主管单位); readonly: everything, changes nothing (leaders)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    role = models.CharField("角色", max_length=12, choices=ROLES)
    unit = models.ForeignKey(Unit, verbose_name="单位", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="accounts_on_platform", help_text="责任单位、主管单位账号必填")
    must_change_password = models.BooleanField("首次登录须修改密码", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "平台账号"

    def __str__(self):
        return f"{self.user.username}（{self.get_role_display()}{'：' + self.unit.name if self.unit_id else ''}）"
