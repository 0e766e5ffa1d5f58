"""Import letters and tickets into the database and compute their statistics (engine/letters.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from ..engine import letters as L
from .models import ImportBatch, Letter

BATCH = 5000


def _aware(d: dt.datetime) -> dt.datetime:
    return timezone.make_aware(d) if timezone.is_naive(d) else d


@transaction.atomic
def import_letters(path: Path, channel: str, mapping: dict[str, str] | None = None, as_of: dt.date | None = None,
                   progress=None) -> ImportBatch:
    """Good rows are imported, bad rows are recorded on the batch with row, column and reason.
    A file whose columns cannot be understood raises LettersError and imports nothing."""
    headers, rows, first = L.read_table(Path(path))
    colmap = L.map_columns(headers, mapping)
    good, bad = L.parse_rows(rows, colmap, first, as_of)
    seen: dict[str, int] = {}
    existing = set()
    refs = [g.ref for g in good if g.ref]
    for i in range(0, len(refs), 900):
        existing |= set(Letter.objects.filter(channel=channel, ref__in=refs[i:i + 900]).values_list("ref", flat=True))
    keep = []
    limit = Letter._meta.get_field("ref").max_length
    for g in good:
        if len(g.ref) > limit:  # never cut: two long references sharing their start would become one
            bad.append(L.RowError(g.row, "编号", f"编号过长（{len(g.ref)}个字符，上限{limit}个）：{g.ref[:30]}……"))
        elif g.ref and g.ref in existing:
            bad.append(L.RowError(g.row, "编号", f"编号 {g.ref} 已导入过（不重复导入）"))
        elif g.ref and g.ref in seen:
            bad.append(L.RowError(g.row, "编号", f"编号 {g.ref} 与第{seen[g.ref]}行重复"))
        else:
            if g.ref:
                seen[g.ref] = g.row
            keep.append(g)
    bad.sort(key=lambda e: e.row)
    batch = ImportBatch.objects.create(
        channel=channel, file_name=Path(path).name, rows_ok=len(keep), rows_bad=len(bad),
        errors=[{"row": e.row, "column": e.column, "reason": e.reason} for e in bad],
        warnings=[{"row": g.row, "warning": w} for g in keep for w in g.warnings],
        mapping={f: headers[i] for f, i in colmap.items()})
    for i in range(0, len(keep), BATCH):
        Letter.objects.bulk_create([
            Letter(batch=batch, channel=channel, ref=g.ref, unit=g.unit[:100], type=g.type, title=g.title[:500],
                   content=g.content, received=_aware(g.received), replied=_aware(g.replied) if g.replied else None,
                   status=g.status[:50], source_row=g.row)
            for g in keep[i:i + BATCH]])
        if progress:
            progress(min(i + BATCH, len(keep)), len(keep))
    return batch


def letters(channel: str | None, start: dt.date, end: dt.date) -> list[L.Letter]:
    """The channel's letters (every channel's when None) received in [start, end], as engine records (local time)."""
    tz = timezone.get_current_timezone()
    lo = timezone.make_aware(dt.datetime.combine(start, dt.time.min), tz)
    hi = timezone.make_aware(dt.datetime.combine(end, dt.time.max), tz)
    qs = Letter.objects.filter(received__gte=lo, received__lte=hi).select_related("batch").order_by("received", "pk")
    if channel:
        qs = qs.filter(channel=channel)
    out = []
    for x in qs.iterator(chunk_size=2000):
        out.append(L.Letter(row=x.source_row, received=timezone.localtime(x.received, tz).replace(tzinfo=None),
                            replied=timezone.localtime(x.replied, tz).replace(tzinfo=None) if x.replied else None,
                            ref=x.ref, unit=x.unit, type=x.type, title=x.title, content=x.content, status=x.status,
                            channel=x.channel, file=x.batch.file_name))
    return out


def engine_letters(start: dt.date, end: dt.date) -> list[L.Letter]:
    """Mailbox letters and 12345 tickets received in [start, end], for engine.letters.letter_findings (a round's
    letters job); simulated test letters are left out."""
    return [x for x in letters(None, start, end) if x.channel != "simulated"]
