"""Authorization decisions of the health page (merged into test_authz_matrix.MATRIX): the platform's state is for the
office and read-only users; /healthz answers anyone (load balancers) with "ok" or 503 and no data."""

EVERYONE = {"anonymous", "office", "readonly", "supervisor", "unit_a"}
SEE_ALL = {"office", "readonly"}

MATRIX = {
    "web:health": ("GET", lambda p: [], "", SEE_ALL),
    "web:healthz": ("GET", lambda p: [], "", EVERYONE),
}
