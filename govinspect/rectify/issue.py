"""Issuing a round (下发): its rectification items created and its documents frozen, all or nothing; and the sanity
warnings the office sees before it issues.

    iss = issue(rnd, by="office", issued_on=date(2026, 10, 9), rectify_days=15)
    issued_dir(rnd)        # the frozen documents (storage key rectify/issued/<round id>/), None when not issued
    sanity(rnd)            # ["主送未填写", …]: what to look at before issuing

issue() writes the items (services.issue_round) and then the documents in one transaction with the Issuance row, so
the 整改清单 rows carry the ids of the items just created; the documents are written to a temporary directory inside
the storage and renamed into place before the row is committed, and removed again when anything fails. The frozen
copies are what the round's downloads serve from then on: later changes of the round (主送, 文号, ignores) do not
alter the documents as issued.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import statistics
import uuid
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from ..rounds.models import Finding, Round
from .models import Issuance, Item

# sanity thresholds (the scheme's rules/rectify.toml has no place for them yet): a could-not-check share of the
# round's websites above MAX_UNKNOWN_SHARE, and a problem section more than LONG_SECTION times the median length of
# the others, are worth a look before the bulletin goes out
MAX_UNKNOWN_SHARE = 0.2
LONG_SECTION = 3
DAYS_RANGE = (1, 60)
ISSUED_PREFIX = "rectify/issued"


class IssueError(ValueError):
    """A round that cannot be issued (the message is for the user, in Chinese)."""


def issued_key(round_id: int) -> str:
    return f"{ISSUED_PREFIX}/{round_id}"


def issuance_of(rnd: Round) -> Issuance | None:
    return Issuance.objects.filter(round_id=rnd.pk).first()


def issued_dir(rnd: Round) -> Path | None:
    """The directory of the round's documents as issued (通报.docx, 附件.xlsx, round.json, 整改清单/ …), None when the
    round was not issued."""
    from ..storage import storage

    if not Issuance.objects.filter(round_id=rnd.pk).exists():
        return None
    return storage().path(issued_key(rnd.pk))


def _sha256(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _unit_map(out: Path) -> None:
    """.units.json beside the documents: unit name -> its 整改清单 workbook (what the round's downloads read)."""
    from ..safetext import unique_stems

    data = json.loads((out / "round.json").read_text(encoding="utf-8"))
    names = {line["responsible_unit"] or line["unit"] or "未指定单位" for line in data.get("problems", [])}
    (out / ".units.json").write_text(json.dumps({n: s + ".xlsx" for n, s in unique_stems(names).items()},
                                                ensure_ascii=False), encoding="utf-8")


def refusal(rnd: Round) -> str:
    """Why the round cannot be issued ('' when it can)."""
    if rnd.recheck_of_id or rnd.item_recheck:
        return f"第{rnd.pk}轮是复查轮次，复查结果随整改事项记录，不单独下发整改"
    if rnd.daily:
        return (f"第{rnd.pk}轮是日常监测（每日增量抓取），不单独下发通报；其发现的问题在“问题”页面查看，"
                "由检查单位核实后随下一轮检查通报下发")
    if rnd.status != "done":
        return f"第{rnd.pk}轮的状态为“{rnd.get_status_display()}”，检查完成后才能下发"
    if Issuance.objects.filter(round_id=rnd.pk).exists():
        return f"第{rnd.pk}轮已下发，不能重复下发"
    return ""


def issue(rnd: Round, by: str, issued_on: dt.date | None = None, rectify_days: int | None = None) -> Issuance:
    """Issue the round: set its rectification period (when given), create its items (deadlines from issued_on, default
    today), write its documents and freeze them in the storage under rectify/issued/<round id>/ with their SHA-256,
    and record the Issuance. All or nothing: IssueError (nothing changed) for a round not done, a re-check round, a
    round issued already, a period outside 1–60 working days; any failure leaves no items, no row and no files."""
    from ..engine.workdays import UnknownYear
    from ..reports import ReportError, write_reports
    from ..storage import storage
    from .services import TransitionError, issue_round
    from .services import rectify_days as days_of

    by = (by or "").strip()
    if not by:
        raise IssueError("下发必须记录操作人")
    if rectify_days is not None and not (DAYS_RANGE[0] <= int(rectify_days) <= DAYS_RANGE[1]):
        raise IssueError(f"整改期限应为{DAYS_RANGE[0]}至{DAYS_RANGE[1]}个工作日，现为 {rectify_days}")
    store = storage()
    final = store.path(issued_key(rnd.pk))
    work = store.path(f"{ISSUED_PREFIX}/.{rnd.pk}-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    moved = False
    try:
        with transaction.atomic():
            locked = Round.objects.select_for_update().get(pk=rnd.pk)
            why = refusal(locked)
            if why:
                raise IssueError(why)
            if rectify_days is not None:
                locked.rectify_days = int(rectify_days)
                locked.save(update_fields=["rectify_days"])
            on = issued_on or timezone.localdate()
            try:
                created = issue_round(locked, by, on)
            except (TransitionError, UnknownYear) as e:  # not done; a deadline in a year without a calendar
                raise IssueError(str(e)) from e
            except OverflowError as e:  # issued_on near 9999-12-31: no date for the deadline
                raise IssueError(f"无法计算整改期限：通报日期{on:%Y-%m-%d}超出可计算的日期范围") from e
            work.mkdir(parents=True)
            docs = work / "docs"
            try:
                write_reports(locked, docs)  # after the items: the 整改清单 rows carry their ids
            except ReportError as e:
                raise IssueError(str(e)) from e
            _unit_map(docs)
            files = []
            for p in sorted(docs.rglob("*")):
                if p.is_file() and not p.name.startswith("."):
                    rel = p.relative_to(docs).as_posix()
                    files.append({"name": rel, "key": f"{issued_key(rnd.pk)}/{rel}", "sha256": _sha256(p),
                                  "size": p.stat().st_size})
            if final.exists():  # left by an attempt that died between the move and the commit: never issued
                store.set_aside(issued_key(rnd.pk), f"failed-{uuid.uuid4().hex[:8]}")
            final.parent.mkdir(parents=True, exist_ok=True)
            os.rename(docs, final)
            moved = True
            try:
                iss = Issuance.objects.create(round=locked, issued_on=on, issued_by=by, rectify_days=days_of(locked),
                                              items_created=created, files=files)
            except IntegrityError as e:  # issued at the same moment by someone else
                raise IssueError(f"第{rnd.pk}轮已下发，不能重复下发") from e
    except BaseException:
        if moved:
            shutil.rmtree(final, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rnd.rectify_days = locked.rectify_days
    return iss


def verify(iss: Issuance) -> list[str]:
    """The frozen files whose content no longer matches the SHA-256 recorded when issued (missing ones included)."""
    from ..storage import storage

    store, bad = storage(), []
    for f in iss.files:
        p = store.path(f["key"])
        if not p.is_file() or _sha256(p) != f["sha256"]:
            bad.append(f["name"])
    return bad


# ---------------------------------------------------------------------------------------------------- sanity warnings
def _praise_sentences(composed: dict) -> list[str]:
    out = []
    for para in composed.get("overview") or []:
        out += [s for s in para.split("。") if "表扬" in s]
    return out


def sanity(rnd: Round, data: dict | None = None, composed: dict | None = None) -> list[str]:
    """What the office should look at before issuing the round's bulletin, in Chinese: a unit praised although it has
    problems in this round, open rectification items or a failing website; a could-not-check share of the websites
    above MAX_UNKNOWN_SHARE; a problem section more than LONG_SECTION times as long as the median of the others;
    主送 or 文号 not set. `data`/`composed`: round_data(rnd) and compose(data) when the caller has them."""
    from ..reports.bulletin import compose
    from ..reports.data import round_data

    if data is None:
        data = round_data(rnd)
    if composed is None:
        composed = compose(data)
    out: list[str] = []

    praise = _praise_sentences(composed)
    if praise:
        names: dict[str, set[str]] = {}  # unit's full name -> the names the bulletin may call it by
        failing: set[str] = set()
        for x in data.get("sites") or []:
            o = x.get("org") or {}
            if o.get("unit"):
                names.setdefault(o["unit"], set()).update(n for n in (o["unit"], o.get("short")) if n)
            if x.get("verdict") == "fail":
                failing.add(x.get("unit") or o.get("unit"))
        praised = [u for u, ns in names.items() if any(n in s for n in ns for s in praise)]
        if praised:
            found = {r["responsible_unit__name"]: r["n"] for r in Finding.objects.filter(
                round=rnd, ignored_by__isnull=True, responsible_unit__name__in=praised)
                .values("responsible_unit__name").annotate(n=Count("id")).order_by()}
            items = {r["unit__name"]: r["n"] for r in Item.objects.filter(unit__name__in=praised, closed_at__isnull=True)
                     .values("unit__name").annotate(n=Count("id")).order_by()}
            for u in praised:
                why = []
                if found.get(u):
                    why.append(f"本轮有{found[u]}个问题")
                if items.get(u):
                    why.append(f"有{items[u]}个未办结的整改事项")
                if u in failing:
                    why.append("有网站检查结论为不合格")
                if why:
                    out.append(f"通报表扬了{u}，但该单位{'、'.join(why)}：请核对表扬是否恰当")

    sites = data.get("sites") or []
    unknown = [x for x in sites if x.get("status") != "checked"]
    if sites and len(unknown) / len(sites) > MAX_UNKNOWN_SHARE:
        out.append(f"{len(sites)}个网站中有{len(unknown)}个未能检查（{len(unknown) / len(sites):.0%}，超过"
                   f"{MAX_UNKNOWN_SHARE:.0%}）：{'、'.join(x['name'] for x in unknown[:5])}{'等' if len(unknown) > 5 else ''}"
                   "，请确认是否需要重新检查后再下发")

    groups = [(title, text) for title, text in composed.get("groups") or []]
    if len(groups) >= 2:
        for i, (title, text) in enumerate(groups):
            others = [len(t) for j, (_, t) in enumerate(groups) if j != i]
            med = statistics.median(others)
            if med and len(text) > LONG_SECTION * med:
                out.append(f"问题部分“{title.rstrip('。')}”有{len(text)}字，超过其他部分中位数（{med:.0f}字）的"
                           f"{LONG_SECTION}倍：请检查典型问题是否过多")

    if not (rnd.recipients or "").strip():
        out.append("主送单位未填写")
    if not (rnd.doc_number or "").strip():
        out.append("文号未填写")
    return out
