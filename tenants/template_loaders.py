"""Templates come from the studio's theme, then themes/base; many studios share a theme, so the theme (not
the schema) picks the folder, and the cache is keyed by it."""

from django.conf import settings
from django.db import connection
from django.template.loaders import cached, filesystem


def current_theme() -> str | None:
    return getattr(connection.tenant, "theme", None)


class ThemeLoader(filesystem.Loader):
    def get_dirs(self):
        theme = current_theme()
        if theme is None:  # the platform host has no theme
            return []
        return [settings.THEMES_DIR / theme / "templates", settings.THEMES_DIR / "base" / "templates"]


class CachedThemeLoader(cached.Loader):
    def cache_key(self, template_name, skip=None):
        return f"{current_theme() or '-'}:{super().cache_key(template_name, skip)}"
