"""/api/v1/: token, rounds, findings (+ evidence), units, rectification items, the pre-publication check and the OpenAPI schema."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from . import views

app_name = "api"

router = SimpleRouter()
router.register("rounds", views.RoundViewSet, basename="round")
router.register("findings", views.FindingViewSet, basename="finding")
router.register("units", views.UnitViewSet, basename="unit")
router.register("rectifications", views.RectificationViewSet, basename="rectification")

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("check-text/", views.CheckTextView.as_view(), name="check_text"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    *router.urls,
]
