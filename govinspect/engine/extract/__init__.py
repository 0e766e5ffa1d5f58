"""bytes -> decoded text -> page model."""

from .decode import decode_html
from .page import PageModel, Item, extract_page

__all__ = ["decode_html", "PageModel", "Item", "extract_page"]
