from django.apps import AppConfig


class OctoConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "octo"
    verbose_name = "OCTO supplier API"
