"""Until an account created with a temporary password has set its own, every page sends it to the password form."""

from django.shortcuts import redirect
from django.urls import reverse

_FREE = ("web:password_change", "web:logout", "web:login")


class PasswordChangeRequired:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(("/static/", "/api/")):
            profile = getattr(user, "profile", None)
            if profile is not None and profile.must_change_password and \
                    request.path not in {reverse(n) for n in _FREE}:
                return redirect("web:password_change")
        return self.get_response(request)
