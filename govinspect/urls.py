from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "政务公开智能检查平台"
admin.site.site_title = "govinspect"
admin.site.index_title = "管理"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("govinspect.api.urls")),
    path("", include("govinspect.web.urls")),
]
