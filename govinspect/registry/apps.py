from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "govinspect.registry"
    verbose_name = "检查对象名录"
