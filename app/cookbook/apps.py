from django.apps import AppConfig


class CookbookConfig(AppConfig):
    name = "cookbook"
    verbose_name = "Cookbook"
    default_auto_field = "django.db.models.BigAutoField"
