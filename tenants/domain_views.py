"""Custom domains on the platform host: approving them, and the TLS ask endpoint (being built)."""

# Under /platform/ (platform admins).
urlpatterns = []
# At the root of the platform host (machines: the TLS proxy).
public_urlpatterns = []
