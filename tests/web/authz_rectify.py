"""Authorization decisions of the rectification screens (merged into test_authz_matrix.MATRIX). Objects are unit B's
(教育局): its item b1, the issue event of it, a file attached to it."""

SIGNED_IN = {"office", "readonly", "supervisor", "unit_a"}
SEE_ALL = {"office", "readonly"}
OFFICE = {"office"}

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def _event(p):
    return p.items["b1"].events.order_by("id").first().pk


def _attachment(p):
    """A file unit B attached to its item b1 (made once per test: the matrix asks for each role in its own database)."""
    from govinspect.rectify.models import Attachment
    from govinspect.rectify.uploads import attach

    got = Attachment.objects.filter(item=p.items["b1"]).first()
    return (got or attach(p.items["b1"], None, [("教育局整改截图.png", PNG)], "unit_b")[0]).pk


MATRIX = {
    "web:rectify": ("GET", lambda p: [], "", SIGNED_IN),
    "web:rectify_progress": ("GET", lambda p: [], "", {"office", "readonly", "supervisor"}),
    "web:rectify_audit": ("GET", lambda p: [], "", SIGNED_IN),
    "web:rectify_item": ("GET", lambda p: [p.items["b1"].pk], "", SEE_ALL),
    "web:rectify_capture": ("GET", lambda p: [p.items["b1"].pk, _event(p), "before"], "", SEE_ALL),
    "web:rectify_attachment": ("GET", lambda p: [_attachment(p)], "", SEE_ALL),
    # only unit B answers for its item: none of the roles asked (unit A, the office, supervisors, read-only) may
    "web:rectify_claim": ("POST", lambda p: [p.items["b1"].pk], "", set()),
    "web:rectify_dispute": ("POST", lambda p: [p.items["b1"].pk], "", set()),
    "web:rectify_accept": ("POST", lambda p: [p.items["b1"].pk], "", OFFICE),
    "web:rectify_reject": ("POST", lambda p: [p.items["b1"].pk], "", OFFICE),
    "web:rectify_signoff": ("POST", lambda p: [p.items["b1"].pk], "", OFFICE),
}
