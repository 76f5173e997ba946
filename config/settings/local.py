"""Development on one machine: `make run`."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="local-development-only-not-a-secret")
SITE_PORT = env.str("SITE_PORT", default="8000")
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)
# Static files straight from the theme folders, no collectstatic needed while developing.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
# A custom domain's check may reach a server on this machine (a private or loopback address).
CUSTOM_DOMAIN_CHECK_PRIVATE_ADDRESSES = env.bool("CUSTOM_DOMAIN_CHECK_PRIVATE_ADDRESSES", default=True)
