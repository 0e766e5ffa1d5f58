"""(placeholder) `govinspect serve`: the web platform and its job runner."""


def register(sub) -> None:
    pass
