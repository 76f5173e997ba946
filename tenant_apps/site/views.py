from django.views.generic import TemplateView


class LandingView(TemplateView):
    """The studio's home page, in its theme (the studio itself comes from the context processor)."""

    template_name = "site/landing.html"
