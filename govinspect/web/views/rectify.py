"""rectify views (issue 18): being built."""

urlpatterns = []
