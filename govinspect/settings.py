"""Django settings. Everything that differs between deployments comes from the environment.

GOVINSPECT_DATA_DIR      where rounds, WARC files and the SQLite database live (default ./var)
GOVINSPECT_DATABASE_URL  a database URL (default sqlite:///$GOVINSPECT_DATA_DIR/govinspect.sqlite3),
                         e.g. postgres://user:pass@127.0.0.1:5432/govinspect
GOVINSPECT_SECRET_KEY    Django secret key; when unset a random key is created once in the data dir
GOVINSPECT_DEBUG         "1" for debug mode (never in production)
GOVINSPECT_ALLOWED_HOSTS comma-separated host names for the web app
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
    "govinspect.registry",
    "govinspect.rounds",
    "govinspect.monitor",
    "govinspect.letters",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("GOVINSPECT_DATABASE_URL", f"sqlite:///{DATA_DIR / 'govinspect.sqlite3'}"),
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # round jobs commit from several worker processes: wait for the write lock instead of failing, and let readers
    # read while a job writes (WAL), a transaction takes the write lock when it begins (IMMEDIATE: no read-then-write
    # upgrade that SQLite refuses at once under contention); the test database is a file so that forked workers see it too
    DATABASES["default"]["OPTIONS"] = {"timeout": 60, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
