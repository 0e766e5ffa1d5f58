"""A page's charset declaration is data from the page: a declaration naming a codec that is not a text encoding
(undefined, idna, punycode, rot13, hex) is ignored — it must not make decoding raise, which dropped the page and the
links on it (a way to hide a gambling link from the checker)."""

import pytest

from govinspect.engine.extract import decode_html, extract_page


@pytest.mark.parametrize("charset", ["undefined", "idna", "punycode", "rot13", "hex", "unicode_escape", "no-such-codec"])
def test_a_hostile_charset_declaration_is_ignored(charset):
    body = (f'<html><head><meta charset="{charset}"><title>清河县人民政府</title></head><body><p>政务公开</p>'
            '<a href="http://www.bet-888.top/">旅游</a></body></html>').encode("utf-8")
    text, enc = decode_html(body, f"text/html; charset={charset}")
    assert enc == "utf-8" and "政务公开" in text
    page = extract_page(text, "http://www.qh.gov.cn/a.html")
    assert page.title == "清河县人民政府" and "http://www.bet-888.top/" in [l.url for l in page.links]
