"""One module per area of the platform, each with its own urlpatterns (merged in govinspect/web/urls.py)."""
