from django.apps import AppConfig


class LettersConfig(AppConfig):
    name = "govinspect.letters"
    verbose_name = "信件与热线"
    default_auto_field = "django.db.models.BigAutoField"
