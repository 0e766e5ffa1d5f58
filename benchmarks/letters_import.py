"""Import of 100,000 12345 tickets (target: under a minute), CSV (GBK) and XLSX.

    .venv/bin/python benchmarks/letters_import.py [--rows 100000]

govinspect: `letters.services.import_letters` (parse, validate every row, working-day deadlines are
computed later) into a fresh SQLite database. Baseline in the same run: the naive import — one
`Letter.objects.create` per row — on a tenth of the rows, extrapolated.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gi-letters-"))
    os.environ["GOVINSPECT_DATA_DIR"] = str(tmp)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govinspect.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.utils import timezone

    from govinspect.engine import letters as L
    from govinspect.letters.models import ImportBatch, Letter
    from govinspect.letters.services import import_letters
    from govinspect.sandbox.letters import export_csv_gbk, export_xlsx, generate_letters

    t = time.perf_counter()
    rows, _ = generate_letters(n=a.rows, start=__import__("datetime").date(2025, 1, 2), end=__import__("datetime").date(2025, 12, 20))
    print(f"generated {a.rows:,} rows in {time.perf_counter() - t:.1f} s")
    results = {}
    for fmt in ("csv", "xlsx"):
        f = tmp / f"tickets.{fmt}"
        f.write_bytes(export_csv_gbk(rows) if fmt == "csv" else export_xlsx(rows))
        Letter.objects.all().delete()
        t = time.perf_counter()
        batch = import_letters(f, "hotline")
        results[fmt] = time.perf_counter() - t
        print(f"govinspect import {fmt:4} ({f.stat().st_size / 1e6:.1f} MB): {results[fmt]:.1f} s, {batch.rows_ok:,} rows, {batch.rows_bad} bad")
    # baseline: one INSERT per row (autocommit), a tenth of the rows
    Letter.objects.all().delete()
    headers, data, first = L.read_table(tmp / "tickets.csv")
    good, _ = L.parse_rows(data[: a.rows // 10], L.map_columns(headers), first)
    batch = ImportBatch.objects.create(channel="hotline", file_name="naive")
    t = time.perf_counter()
    for g in good:
        Letter.objects.create(batch=batch, channel="hotline", ref=g.ref, unit=g.unit, type=g.type, title=g.title, content=g.content,
                              received=timezone.make_aware(g.received), replied=timezone.make_aware(g.replied) if g.replied else None,
                              status=g.status, source_row=g.row)
    naive = (time.perf_counter() - t) * a.rows / max(1, len(good))
    print(f"naive per-row create (baseline, extrapolated from {len(good):,} rows): {naive:.1f} s")
    print(f"ratio naive / govinspect (csv): {naive / results['csv']:.1f}x; target: < 60 s for {a.rows:,} rows: "
          f"{'met' if max(results.values()) < 60 else 'NOT met'}")


if __name__ == "__main__":
    main()
