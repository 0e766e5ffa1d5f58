"""The rectification API's entries of the authorization matrix (tests/web/test_authz_matrix.py merges them): asked for
on unit B's item (p.items["b1"]). Reading follows the findings' scope; claiming and disputing are for the unit the item is
assigned to (unit B, not a role of the matrix: everyone here is refused, the office and read-only with 403, unit A and
the supervisor with 404); accepting, rejecting and signing off are the office's."""

SIGNED_IN = {"office", "readonly", "supervisor", "unit_a"}
SEE_ALL = {"office", "readonly"}
OFFICE = {"office"}
NOBODY: set = set()

MATRIX = {
    "api:rectification-list": ("GET", lambda p: [], "", SIGNED_IN),
    "api:rectification-detail": ("GET", lambda p: [p.items["b1"].pk], "", SEE_ALL),
    "api:rectification-claim": ("POST", lambda p: [p.items["b1"].pk], "", NOBODY),
    "api:rectification-dispute": ("POST", lambda p: [p.items["b1"].pk], "", NOBODY),
    "api:rectification-accept": ("POST", lambda p: [p.items["b1"].pk], "", OFFICE),
    "api:rectification-reject": ("POST", lambda p: [p.items["b1"].pk], "", OFFICE),
    "api:rectification-signoff": ("POST", lambda p: [p.items["b1"].pk], "", OFFICE),
}
