"""Sign in (throttled by django-axes), sign out, password change (forced on first sign-in), and the home page that
sends each role where it works."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash, views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods
from rest_framework.authtoken.models import Token

from .. import access


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


@access.login_required_view
def home(request):
    return redirect("web:portal" if access.role(request.user) == access.UNIT else "web:dashboard")


@require_http_methods(["GET", "POST"])
def password_change(request):
    if not request.user.is_authenticated:
        return redirect("web:login")
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        Token.objects.filter(user=user).delete()  # an API token issued before the change stops working
        profile = getattr(user, "profile", None)
        if profile is not None and profile.must_change_password:
            profile.must_change_password = False
            profile.save(update_fields=["must_change_password"])
        messages.success(request, "密码已修改")
        return redirect("web:home")
    forced = getattr(getattr(request.user, "profile", None), "must_change_password", False)
    return render(request, "web/password_change.html", {"form": form, "forced": forced})


urlpatterns = [
    path("", home, name="home"),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", password_change, name="password_change"),
]
