"""(placeholder: replaced by the rounds screens)"""

from django.http import HttpResponse
from django.urls import path

from .. import access


@access.login_required_view
def index(request):
    return HttpResponse("建设中")


urlpatterns = [path("rounds/", index, name="rounds")]
