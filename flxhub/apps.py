from django.apps import AppConfig


class FlxhubConfig(AppConfig):
    name = "flxhub"
    verbose_name = "flxhub"
