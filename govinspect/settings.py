"""Django settings. Everything that differs between deployments comes from the environment.

GOVINSPECT_DATA_DIR      where rounds, WARC files and the SQLite database live (default ./var)
GOVINSPECT_DATABASE_URL  a database URL (default sqlite:///$GOVINSPECT_DATA_DIR/govinspect.sqlite3),
                         e.g. postgres://user:pass@127.0.0.1:5432/govinspect (cluster mode: PostgreSQL);
                         DATABASE_URL is read too, GOVINSPECT_DATABASE_URL wins when both are set
GOVINSPECT_BROKER_URL    the Celery broker, e.g. redis://127.0.0.1:6379/0: set, it turns on cluster mode
GOVINSPECT_SECRET_KEY    Django secret key; when unset a random key is created once in the data dir
GOVINSPECT_DEBUG         "1" for debug mode (never in production)
GOVINSPECT_ALLOWED_HOSTS comma-separated host names for the web app
GOVINSPECT_SESSION_IDLE_MINUTES  a web session ends after this many idle minutes (default 30)
GOVINSPECT_HTTPS         "1" when served over HTTPS (behind nginx): secure cookies and HSTS
GOVINSPECT_TRUSTED_PROXY the address of a reverse proxy in front of `govinspect serve` (e.g. 127.0.0.1 for nginx on the
                         same machine): its X-Forwarded-For names the client (sign-in throttling, API rate limits)
"""

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("GOVINSPECT_DATA_DIR", Path.cwd() / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    key = os.environ.get("GOVINSPECT_SECRET_KEY")
    if key:
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("GOVINSPECT_DEBUG") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("GOVINSPECT_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "axes",
    "govinspect.web",
    "govinspect.registry",
    "govinspect.rounds",
    "govinspect.monitor",
    "govinspect.letters",
    "govinspect.rectify",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files served by the app itself (govinspect serve)
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "govinspect.web.middleware.PasswordChangeRequired",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "govinspect.urls"
WSGI_APPLICATION = "govinspect.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASE_URL = (os.environ.get("GOVINSPECT_DATABASE_URL") or os.environ.get("DATABASE_URL")
                or f"sqlite:///{DATA_DIR / 'govinspect.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # a persistent connection that the server dropped (restart, pg_terminate_backend) is found out and replaced at the
    # start of the next request or job instead of failing it
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # round jobs commit from several worker processes: wait for the write lock instead of failing, and let readers
    # read while a job writes (WAL), a transaction takes the write lock when it begins (IMMEDIATE: no read-then-write
    # upgrade that SQLite refuses at once under contention); the test database is a file so that forked workers see it too
    DATABASES["default"]["OPTIONS"] = {"timeout": 60, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

# cluster mode (govinspect/cluster): Celery with this broker; unset, the embedded local runner runs the jobs
GOVINSPECT_BROKER_URL = os.environ.get("GOVINSPECT_BROKER_URL", "").strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"  # `govinspect manage collectstatic` for a web server in front (nginx)
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise serves from the apps' static/ folders and expects this to exist

WHITENOISE_USE_FINDERS = True  # no collectstatic step: files are found in the apps' static/ folders
WHITENOISE_AUTOREFRESH = DEBUG

# --- web platform: sign-in, sessions, security headers (govinspect/web) ---
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = 5  # failed sign-ins per user name and address before a lock-out
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "web/locked.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AUTH_PASSWORD_VALIDATORS = [  # a password a person chooses (first sign-in, change); temporary ones are random
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = 60 * int(os.environ.get("GOVINSPECT_SESSION_IDLE_MINUTES", "30"))
SESSION_SAVE_EVERY_REQUEST = True  # the age counts from the last request: an idle session expires
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
if os.environ.get("GOVINSPECT_HTTPS") == "1":
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Content-Security-Policy (django-csp): our own scripts, styles and images only; nothing inline, no outside requests.
# The captured-page view replaces it with a stricter one (govinspect/web/views/findings.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# --- API (govinspect/api): Django REST framework, OpenAPI schema by drf-spectacular ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication",
                                       "rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": "30/minute"},
    # the client is REMOTE_ADDR, never a header the client wrote; behind a proxy `govinspect serve` (waitress) sets
    # REMOTE_ADDR from the trusted proxy's X-Forwarded-For (GOVINSPECT_TRUSTED_PROXY)
    "NUM_PROXIES": 0,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "govinspect API",
    "DESCRIPTION": "政务公开智能检查平台接口：检查轮次、发现的问题、证据、单位，以及发布前内容检查（check-text）",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

# --- rectification reminders by e-mail (govinspect/rectify/reminders.py) ---
# GOVINSPECT_SMTP_HOST/_PORT (25)/_USER/_PASSWORD, _TLS or _SSL "1", GOVINSPECT_MAIL_FROM. Without a host no e-mail is
# sent (each reminder is recorded as not sent: 未配置邮件服务器).
GOVINSPECT_SMTP_HOST = os.environ.get("GOVINSPECT_SMTP_HOST", "").strip()
if GOVINSPECT_SMTP_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = GOVINSPECT_SMTP_HOST
EMAIL_PORT = int(os.environ.get("GOVINSPECT_SMTP_PORT") or 25)
EMAIL_HOST_USER = os.environ.get("GOVINSPECT_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("GOVINSPECT_SMTP_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("GOVINSPECT_SMTP_TLS") == "1"
EMAIL_USE_SSL = os.environ.get("GOVINSPECT_SMTP_SSL") == "1"
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("GOVINSPECT_MAIL_FROM", "") or "govinspect@localhost"
