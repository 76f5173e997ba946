from django.views.generic import TemplateView


class PlatformHomeView(TemplateView):
    template_name = "platform/home.html"
