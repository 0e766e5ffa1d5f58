"""(placeholder) Platform accounts from the registry's unit contacts; demo accounts; `govinspect accounts`."""


def register(sub) -> None:
    pass
