"""(placeholder: replaced by the registry screens)"""

from django.http import HttpResponse
from django.urls import path

from .. import access


@access.login_required_view
def index(request):
    return HttpResponse("建设中")


urlpatterns = [path("registry/", index, name="registry")]
