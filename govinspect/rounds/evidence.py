"""A finding's evidence: the finding as data and the page exactly as captured (from its WARC record).

    info = show_evidence(123, Path("页面.html"))   # `govinspect evidence 123 --out 页面.html`; the web evidence view

The page is written as the bytes the crawler received (the response body of the WARC record the finding names), so it
can be compared with any WARC tool; nothing is decoded, cleaned or re-encoded.
"""

from __future__ import annotations

from pathlib import Path

# subjects that are not web pages: their evidence is a submitted file or a letter, not a WARC record
_NOT_WEB = {"register_row": "台账", "reply": "依申请公开答复书", "letter": "信件", "ticket": "12345工单"}


class EvidenceError(Exception):
    """Why the evidence cannot be shown (the message is for the user, in Chinese)."""


def show_evidence(finding_id: int, out: Path | str | None) -> dict:
    """The finding as a JSON-able dict (rule, its Chinese name, detail, fingerprint, subject, location, facts, evidence
    with the excerpt and the hit), after writing the captured page to `out` (None: no page). EvidenceError when the
    finding does not exist, or a page is asked for and it has no WARC record (registers, letters) or its file is gone."""
    from ..engine.fetch.warc import read_payload
    from ..storage import StorageError, storage
    from .models import Finding
    from .scoring import round_rules

    row = Finding.objects.select_related("round").filter(pk=finding_id).first()
    if row is None:
        raise EvidenceError(f"问题 {finding_id} 不存在")
    f = row.to_engine()
    entry = round_rules(row.round).rule(f.rule)
    ev = f.evidence
    info = {"id": row.pk, "round": row.round_id, "rule": f.rule, "name": entry.get("name", f.rule), "detail": f.detail,
            "fingerprint": f.fingerprint, "subject": f.subject.to_dict(), "location": f.location.to_dict(),
            "where": f.location.describe(), "facts": f.facts, "evidence": ev.to_dict(), "severity": row.severity,
            "veto": row.veto}
    if ev.excerpt and ev.hit:
        info["hit_text"] = ev.excerpt[ev.hit[0]:ev.hit[1]]
    if out is None:
        return info
    if f.subject.kind in _NOT_WEB:
        raise EvidenceError(f"问题 {finding_id}（{info['name']}）来自{_NOT_WEB[f.subject.kind]}，不是网页，没有网页存档（WARC 记录）；"
                            f"位置：{info['where'] or '未记录'}")
    if not ev.warc_file or ev.warc_offset is None:
        raise EvidenceError(f"问题 {finding_id}（{info['name']}）没有记录网页存档位置（WARC 文件和记录），无法导出页面")
    try:
        path = storage().resolve(ev.warc_file)
    except StorageError as e:
        raise EvidenceError(f"问题 {finding_id} 的网页存档位置不合法：{e}") from None
    if not path.is_file():
        raise EvidenceError(f"问题 {finding_id} 的网页存档文件 {path} 不存在（可能已被清理或移动）")
    try:
        body = read_payload(path, ev.warc_offset)
    except Exception as e:  # a damaged file or a wrong offset: say so, not a traceback
        raise EvidenceError(f"网页存档文件 {path} 第 {ev.warc_offset} 字节处没有可读的记录（{type(e).__name__}）") from None
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(body)
    info["page_file"] = str(out)
    info["page_bytes"] = len(body)
    return info
