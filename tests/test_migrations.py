"""Every model change has its migration: a fresh machine's database must match the models."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_models_and_migrations_agree():
    try:
        call_command("makemigrations", "--check", "--dry-run", verbosity=0)
    except SystemExit as e:  # makemigrations --check exits 1 when a migration is missing
        pytest.fail(f"a model change has no migration (govinspect manage makemigrations): exit {e.code}")
