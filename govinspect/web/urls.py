"""The platform's pages: each area's views module brings its own urlpatterns."""

from .views import accounts, auth, dashboard, findings, health, portal, rectify, registry, review, rounds

app_name = "web"
urlpatterns = (auth.urlpatterns + dashboard.urlpatterns + rounds.urlpatterns + findings.urlpatterns
               + portal.urlpatterns + registry.urlpatterns + accounts.urlpatterns + review.urlpatterns
               + rectify.urlpatterns + health.urlpatterns)
