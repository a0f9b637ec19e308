"""Routes under /api/. Each app registers its endpoints in its own `api.py`; this
module mounts them, the token endpoint, the schema and the docs, and answers
every other /api/ path with a JSON 404."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from recognition.api import seed_recognition_create

from .auth import ObtainTokenView
from .exceptions import api_not_found

urlpatterns = [
    path("v1/auth/token/", ObtainTokenView.as_view(), name="api-token"),
    # Endpoints of the apps are added here (points, recognition, wallets, tenants).
    path("v1/", include("points.api")),
    path("v1/", include("tenants.api")),
    path("v1/", include("people.api")),
    path("v1/", include("tenants.api_settings")),
    path("v1/", include("recognition.api")),
    path("v1/", include("wallets.api")),
    path("v1/", include("insights.api")),
    path("v1/", include("webhooks.api")),
    path("v1/", include("identity.api")),
    path("v1/", include("automation.api")),
    path("v1/", include("events.api")),
    # The seed's recognition endpoint: the same create as POST /api/v1/recognitions/.
    re_path(r"^recognitions/?$", seed_recognition_create, name="seed-recognitions"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^.*$", api_not_found),
]
