"""The API (Django REST framework, OpenAPI schema by drf-spectacular): the pages' data with the pages' scoping
(govinspect/web/access.py), token authentication, and the pre-publication check (POST /api/v1/check-text/)."""
