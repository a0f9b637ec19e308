"""Top-level routes: the console, the API, the pages and the health check."""

from django.urls import include, path

from perksu.admin_site import console
from perksu.health import healthz

urlpatterns = [
    path("admin/", console.urls),
    path("healthz", healthz, name="healthz"),
    path("api/", include("perksu.api.urls")),
    path("scim/v2/", include("identity.scim")),
    # Pages for managers, leads and employees (SPEC §7).
    path("", include("points.urls")),
    path("", include("recognition.urls")),
    path("", include("wallets.urls")),
    path("", include("people.urls")),
    path("", include("tenants.urls")),
    path("", include("identity.urls")),
    path("", include("webhooks.urls")),
    path("", include("automation.urls")),
    path("", include("events.urls")),
    path("", include("insights.urls")),
]
