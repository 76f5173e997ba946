from django.views.generic import TemplateView

from shared_apps.core.permissions import IsPlatformAdmin


class PlatformHomeView(TemplateView):
    template_name = "platform/home.html"

    def get_context_data(self, **kwargs):
        # The same rule as the pages under /platform/: only a platform admin is offered the link to them.
        return {
            **super().get_context_data(**kwargs),
            "is_platform_admin": IsPlatformAdmin().has_permission(self.request, self),
        }
