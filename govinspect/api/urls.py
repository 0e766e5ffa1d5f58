"""(placeholder: filled in by the API)"""

urlpatterns = []
