from django.views.generic import TemplateView

from tenant_apps.site.selectors import studio_home


class HomeView(TemplateView):
    """The studio's home page, in its theme: who teaches what, when, for how much, and the way to book."""

    template_name = "site/home.html"

    def get_context_data(self, **kwargs) -> dict:
        return super().get_context_data(home=studio_home(studio=self.request.tenant), **kwargs)
