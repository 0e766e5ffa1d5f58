from django.apps import AppConfig


class RectifyConfig(AppConfig):
    name = "govinspect.rectify"
    label = "rectify"
    verbose_name = "整改"
    default_auto_field = "django.db.models.BigAutoField"
