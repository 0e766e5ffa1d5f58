from django.apps import AppConfig


class RoundsConfig(AppConfig):
    name = "govinspect.rounds"
    verbose_name = "检查轮次"
