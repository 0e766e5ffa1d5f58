from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "govinspect.web"
    label = "web"
    verbose_name = "平台账号"
