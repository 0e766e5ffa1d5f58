"""Typo false alarms on clean government text, beside ECSpell accuracy (issue 15 item 9).

    .venv/bin/python benchmarks/typo_false_alarms.py [--show] [REALDATA_DIR]

Clean text: the 60 www.gov.cn policy pages of `pages/govcn-policy-fragments.sql` (body HTML of the
dump) and the real pages under `pages/` and `pages-v2/`, each read with govinspect's own page
extractor. Every typo finding there counts as a false alarm (the texts are published, proof-read
documents; the few real slips they may hold would only make the figure look worse). Each distinct
paragraph is counted once (templates repeat). Prints false alarms per 100,000 CJK characters (target
<= 3) and the ECSpell odw.train character precision/recall of `benchmarks/typo_accuracy.py`'s method
(`typo.measure`, whole file). --show lists the false alarms in context. Also prints the outdated-
institution-name findings a site check gives on the dated real pages (each is a false accusation).
"""

from __future__ import annotations

import html
import json
import re
import sys
import time
from pathlib import Path

from govinspect.engine.content.typo import detector, measure
from govinspect.engine.extract import extract_page

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "realdata"
_CJK = re.compile(r"[\u4e00-\u9fff]")
# one value of the dump: the html column is the one before the trailing remark; take every quoted SQL string
_SQL_STRING = re.compile(r"'((?:[^'\\]|\\.|'')*)'", re.S)


def _sql_documents(path: Path) -> list[tuple[str, str]]:
    """(name, html) of the bodies in the gov.cn dump: every long SQL string holding markup."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    out = []
    for i, m in enumerate(_SQL_STRING.finditer(raw)):
        s = m.group(1)
        if len(s) > 500 and "<" in s:
            s = s.replace("\\'", "'").replace("''", "'").replace('\\"', '"').replace("\\n", "\n").replace("\\r", "")
            out.append((f"{path.name}#{i}", s))
    return out


def _texts(root: Path, sources: tuple[str, ...] = ("dump", "pages")) -> list[tuple[str, str]]:
    """(name, extracted text) of the clean documents: "dump" = the gov.cn policy dump, "pages" = pages/ and pages-v2/."""
    docs = []
    sql = root / "pages" / "govcn-policy-fragments.sql"
    if sql.exists() and "dump" in sources:
        docs += _sql_documents(sql)
    for p in sorted(list((root / "pages").glob("*.html")) + list((root / "pages-v2").rglob("*.html"))) if "pages" in sources else ():
        raw = p.read_bytes()
        enc = "gbk" if b"charset=gb" in raw[:2000].lower() else "utf-8"
        docs.append((str(p.relative_to(root)), raw.decode(enc, errors="replace")))
    out = []
    for name, body in docs:
        page = extract_page(body if "<html" in body[:2000].lower() else f"<html><body>{body}</body></html>", "http://clean.test/")
        out.append((name, html.unescape(page.text)))
    return out


def false_alarms(root: Path, det=None, sources: tuple[str, ...] = ("dump", "pages"), texts=None):
    """(CJK characters, typo hits, findings as a site report gives them: one per document and term).
    det: a detector (default: this process's); texts: the output of _texts (read again when None)."""
    det = det or detector()
    seen: set[str] = set()
    chars = 0
    hits = []
    for name, text in texts if texts is not None else _texts(root, sources):
        # each page is scanned whole, as a site check does; its sentences are counted once over all pages
        # (the dump holds each page twice, as text and as HTML; templates repeat)
        found = det.scan(text)
        for m in re.finditer(r"[^。！？；\n]+[。！？；]?", text):
            key = "".join(m.group().split())
            if not _CJK.search(key) or key in seen:
                continue
            seen.add(key)
            chars += len(_CJK.findall(key))
            hits += [(name, m.group(), h) for h in found if m.start() <= h.start < m.end()]
    findings = {(name, h.text) for name, _, h in hits}
    return chars, hits, findings


def institution_findings(root: Path) -> list[tuple[str, str]]:
    """content.institution_name findings a site check gives on the real pages (their own publish dates)."""
    from types import SimpleNamespace

    from govinspect.engine.checks.content import SiteContent
    from govinspect.engine.content import ContentChecker

    site = SiteContent(ContentChecker(only=("content.institution_name",), typos=False))
    for p in sorted(list((root / "pages").glob("*.html")) + list((root / "pages-v2").rglob("*.html"))):
        raw = p.read_bytes()
        page = extract_page(raw.decode("gbk" if b"charset=gb" in raw[:2000].lower() else "utf-8", errors="replace"),
                            "http://clean.test/")
        site.on_page(SimpleNamespace(url=str(p.relative_to(root)), depth=1), page)
    return [(f.url, f.detail) for f in site.findings()]


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    root = Path(args[0]) if args else DEFAULT
    if not (root / "pages").exists():
        sys.exit(f"not found: {root / 'pages'}")
    t = time.perf_counter()
    chars, hits, findings = false_alarms(root)
    rate = len(hits) / chars * 100_000 if chars else 0.0
    print(f"clean government text: {chars} distinct-sentence CJK characters, {len(hits)} typo hits = "
          f"{rate:.2f} false alarms per 100,000 characters (target <= 3); "
          f"{len(findings)} findings as reported (one per page and term)  [{time.perf_counter() - t:.1f}s]")
    if "--show" in sys.argv:
        for name, para, h in hits:
            print(f"  {name}: “{h.text}”→“{h.suggestion}”  {para.strip()}")
    named = institution_findings(root)
    print(f"outdated institution names on the dated real pages (pages/, pages-v2/): {len(named)} findings (all false: "
          f"the pages are right for their dates)" + "".join(f"\n  {u}: {d}" for u, d in named))
    odw = root / "spelling" / "ecspell-odw.train"
    if odw.exists():
        m = measure(odw)
        keep = ("char_tp", "char_fp", "char_fn", "char_precision", "char_recall", "sentence_precision", "sentence_recall",
                "false_alarm_rate")
        print("ECSpell odw.train (typo_accuracy.py method, whole file): "
              + json.dumps({k: round(m[k], 3) if isinstance(m[k], float) else m[k] for k in keep}, ensure_ascii=False))


if __name__ == "__main__":
    main()
