"""The web platform: the office's and the units' screens (server-rendered Django, Chinese UI).

Who may see what is decided in one place, access.py; every view and the API (govinspect/api) go through it."""
