"""Authorization of the review-before-issue pages (web/views/review.py): the office only. Merged into
tests/web/test_authz_matrix.py. The platform's current round is not issued (no Issuance row), so the office's GETs
render the review of a real round."""

OFFICE = {"office"}

MATRIX = {
    "web:review": ("GET", lambda p: [p.rounds["current"].pk], "", OFFICE),
    "web:review_preview": ("GET", lambda p: [p.rounds["current"].pk], "", OFFICE),
    "web:review_settings": ("POST", lambda p: [p.rounds["current"].pk], "", OFFICE),
    "web:review_examples": ("POST", lambda p: [p.rounds["current"].pk], "", OFFICE),
    "web:review_clear": ("POST", lambda p: [p.rounds["current"].pk], "", OFFICE),
    "web:review_issue": ("POST", lambda p: [p.rounds["current"].pk], "", OFFICE),
}
