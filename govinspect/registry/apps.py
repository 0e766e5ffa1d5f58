from django.apps import AppConfig


def _db_workdays() -> dict:
    """The admin's working-day table, {date: is_workday} (empty while the table does not exist yet), for
    RuleSet.load(calendar=...).

    Checks call it from async code too: Django's ORM may not run on an event loop's thread, so the
    query then runs on a thread of its own."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection
    from django.db.utils import DatabaseError

    from .models import WorkdayOverride

    def query():
        try:
            return {o.date: o.is_workday for o in WorkdayOverride.objects.all()}
        except (DatabaseError, RuntimeError):  # before migrate; or where database access is not allowed (tests)
            return {}

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return query()
    with ThreadPoolExecutor(1) as pool:
        def in_thread():
            try:
                return query()
            finally:
                connection.close()

        return pool.submit(in_thread).result()


class RegistryConfig(AppConfig):
    name = "govinspect.registry"
    verbose_name = "检查对象名录"
