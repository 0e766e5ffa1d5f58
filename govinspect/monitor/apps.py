from django.apps import AppConfig


class MonitorConfig(AppConfig):
    name = "govinspect.monitor"
    verbose_name = "可用性监测"
