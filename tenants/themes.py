"""Themes are folders under themes/: base/ holds what every theme inherits, each other folder is a theme."""

from functools import cache

from django.conf import settings


@cache
def available_themes() -> tuple[str, ...]:
    return tuple(sorted(path.name for path in settings.THEMES_DIR.iterdir() if path.is_dir() and path.name != "base"))
