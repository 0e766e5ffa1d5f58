"""Rounds on the web: list, detail with live per-site progress, create, launch, cancel, resume, downloads.

    /rounds/                              every round: status, counts, progress (office, readonly, supervisor)
    /rounds/new/                          create a round (office): name, as-of date, scope, scheme, 主送, 文号, networks
    /rounds/<id>/                         one round: jobs with live progress, events, results, downloads
    /rounds/<id>/progress.json            the jobs' progress (polled by rounds.js every 2 s)
    /rounds/<id>/launch|cancel|resume/    POST, office only
    /rounds/<id>/download/<kind>/         bulletin | attachment | json | rectification (reports made on demand)

A supervisor sees the jobs and sites of its own units only; a unit sees no round page, only its own 整改清单
(download kind "rectification"). Launching plans the jobs (services.start_round) and queues the round; the local runner
(rounds/runner.py, started by `govinspect serve`) runs it. Cancel sets Round.cancel_requested, which the runner polls.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import ipaddress
import json
import threading
import zipfile
from pathlib import Path

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Max, Q
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from ...registry.models import Account, Unit, Website
from ...rounds.models import Finding, Ignore, RecheckResult, Round, RoundEvent, RoundJob, RoundSite
from ...rounds.runner import alive as _local_runner_alive


def runner_alive() -> bool:
    """Whether something will run a queued round: the local runner (embedded mode; its heartbeat file), or in cluster
    mode the workers fed by beat (their state is on the health page, /health/)."""
    from ...cluster import enabled

    return enabled() or _local_runner_alive()


def _runs_it() -> str:
    from ...cluster import enabled

    return "工作进程" if enabled() else "运行器"
from .. import access
from . import int_param

SCHEMES_DIR = Path(__file__).resolve().parents[2] / "rules" / "schemes"
ACTIVE = ("queued", "running")
RESUMABLE = ("interrupted", "failed", "cancelled")
LIGHT = ("rules_snapshot", "run_options", "registers")  # large fields the pages do not show
DOWNLOADS = {"bulletin": "通报.docx", "attachment": "附件.xlsx", "json": "round.json", "rectification": "整改清单"}


def _see_rounds(request):
    """Round pages: the office, read-only leaders and supervisors (a unit has its portal and its downloads)."""
    if access.role(request.user) not in (access.OFFICE, access.READONLY, access.SUPERVISOR):
        raise PermissionDenied("此页面仅对检查单位、主管单位和只读账号开放")


def _jobs(user, rnd_ids):
    """The jobs the user may see: all for the office and read-only; a supervisor only its own units' sites' jobs."""
    qs = RoundJob.objects.filter(round__in=rnd_ids)
    if access.unit_ids(user) is not None:
        qs = qs.filter(kind="site", target__in=access.websites(user).values("id"))
    return qs


def _job_counts(user, rnd_ids) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {}
    for row in _jobs(user, rnd_ids).values("round_id", "state").annotate(n=Count("id")):
        out.setdefault(row["round_id"], {})[row["state"]] = row["n"]
    return out


def _summary(counts: dict[str, int]) -> dict:
    total = sum(counts.values())
    finished = counts.get("done", 0) + counts.get("could_not_check", 0) + counts.get("failed", 0)
    return {"total": total, "finished": finished, "running": counts.get("running", 0), "queued": counts.get("queued", 0),
            "failed": counts.get("failed", 0), "could_not_check": counts.get("could_not_check", 0),
            "percent": round(100 * finished / total) if total else 0}


# ------------------------------------------------------------------------------------------------------------ list
def scope_label(user, rnd) -> str:
    """The round's scope as the user may read it: a supervisor does not learn which other unit a round was for."""
    if rnd.scope_unit_id is None:
        return f"整个名录（{rnd.region}）"
    if access.may_see_unit(user, rnd.scope_unit_id):
        return f"{rnd.scope_unit.name}（含下级单位）"
    return "其他单位（含下级单位）"


@access.login_required_view
def index(request):
    _see_rounds(request)
    # item re-checks (a unit's claim answered at once) belong to their items' pages, not to this list
    rounds = list(Round.objects.defer(*LIGHT).filter(item_recheck=False).select_related("scope_unit").order_by("-id")[:200])
    ids = [r.pk for r in rounds]
    jobs = _job_counts(request.user, ids)
    findings = dict(access.findings(request.user, Finding.objects.filter(round__in=ids, ignored_by__isnull=True))
                    .values_list("round_id").annotate(n=Count("id")))
    sites = {}
    for row in (access.round_sites(request.user, RoundSite.objects.filter(round__in=ids))
                .values("round_id").annotate(checked=Count("id", filter=Q(status="checked")), n=Count("id"))):
        sites[row["round_id"]] = row
    rows = [{"round": r, "jobs": _summary(jobs.get(r.pk, {})), "findings": findings.get(r.pk, 0),
             "sites": sites.get(r.pk, {"checked": 0, "n": 0}), "scope": scope_label(request.user, r)} for r in rounds]
    return render(request, "web/rounds/index.html", {"rows": rows, "can_change": access.can_change(request.user)})


# ------------------------------------------------------------------------------------------------------------ detail
def _job_rows(user, rnd) -> list[dict]:
    jobs = list(_jobs(user, [rnd.pk]).order_by("id"))
    sites = {rs.job_id: rs for rs in RoundSite.objects.filter(round=rnd, job__in=[j.pk for j in jobs])
             .only("id", "job_id", "status", "reason", "verdict", "pages_fetched")}
    out = []
    for j in jobs:
        rs = sites.get(j.pk)
        pages = (j.progress or {}).get("pages")
        if pages is None and rs is not None:
            pages = rs.pages_fetched
        reason = j.reason or (rs.reason if rs is not None and rs.status == "could_not_check" else "")
        out.append({"id": j.pk, "kind": j.get_kind_display(), "label": j.label, "state": j.state,
                    "state_display": j.get_state_display(), "pages": pages if pages is not None else "",
                    "urls": (j.progress or {}).get("urls", ""), "reason": reason,
                    "verdict": rs.get_verdict_display() if rs is not None else "", "attempts": j.attempts})
    return out


def _visible_round(request, pk) -> Round:
    _see_rounds(request)
    return get_object_or_404(Round.objects.defer("rules_snapshot").select_related("scope_unit", "recheck_of"), pk=pk)


@access.login_required_view
def detail(request, pk):
    rnd = _visible_round(request, pk)
    user = request.user
    jobs = _job_rows(user, rnd)
    counts: dict[str, int] = {}
    for j in jobs:
        counts[j["state"]] = counts.get(j["state"], 0) + 1
    rs = access.round_sites(user, rnd.sites.all()).aggregate(
        n=Count("id"), checked=Count("id", filter=Q(status="checked")),
        failed=Count("id", filter=Q(status="could_not_check")), passed=Count("id", filter=Q(verdict="pass")))
    findings = access.findings(user, rnd.findings.filter(ignored_by__isnull=True)).count()
    sees_all = access.sees_everything(user)
    planned = None
    if rnd.status == "pending" and access.can_change(user):  # what launching will check, to confirm the scope
        sites, owners = scope_targets(rnd)
        planned = {"sites": sites, "accounts": Account.objects.filter(
            **({"owner__in": owners} if owners is not None else {})).count()}
    return render(request, "web/rounds/detail.html", {
        "planned": planned,
        "round": rnd, "jobs": jobs, "summary": _summary(counts), "sites": rs, "findings": findings,
        # events and the round's error name failed jobs of any unit: the office and read-only leaders only
        "events": list(rnd.events.order_by("at", "id")) if sees_all else [], "can_change": access.can_change(user), "sees_all": sees_all,
        "scope": scope_label(user, rnd),
        "downloads": [(k, DOWNLOADS[k]) for k in (DOWNLOADS if sees_all else ["rectification"])],
        "runner_missing": rnd.status == "queued" and not runner_alive(),
        "active": rnd.status in ACTIVE, "resumable": rnd.status in RESUMABLE and not rnd.recheck_of_id,
        "findings_url": reverse("web:findings") + f"?round={rnd.pk}",
    })


@access.login_required_view
def progress(request, pk):
    rnd = _visible_round(request, pk)
    jobs = _job_rows(request.user, rnd)
    counts: dict[str, int] = {}
    for j in jobs:
        counts[j["state"]] = counts.get(j["state"], 0) + 1
    return JsonResponse({"id": rnd.pk, "status": rnd.status, "status_display": rnd.get_status_display(),
                         "runner_missing": rnd.status == "queued" and not runner_alive(),
        "active": rnd.status in ACTIVE, "cancel_requested": rnd.cancel_requested is not None,
                         "summary": _summary(counts), "jobs": jobs})


# ------------------------------------------------------------------------------------------------------------ create
def _schemes() -> list[tuple[str, str]]:
    out = []
    for p in sorted(SCHEMES_DIR.glob("*.toml")):
        title = p.stem
        try:
            import tomllib

            meta = tomllib.loads(p.read_text(encoding="utf-8"))
            title = (meta.get("scheme") or meta).get("name") or p.stem
        except Exception:
            pass
        out.append((p.stem, f"{title}（{p.stem}）" if title != p.stem else p.stem))
    return out


def _unit_choices() -> list[tuple[str, str]]:
    """Units as a tree (indented by depth), for the scope picker."""
    units = list(Unit.objects.only("id", "name", "parent_id").order_by("name"))
    children: dict = {}
    for u in units:
        children.setdefault(u.parent_id, []).append(u)
    ids = {u.pk for u in units}
    out, seen = [("", "整个名录（全部网站和账号）")], set()

    def walk(parent, depth):
        for u in children.get(parent, []):
            if u.pk in seen:
                continue
            seen.add(u.pk)
            out.append((str(u.pk), "　" * depth + u.name + ("及下级单位" if children.get(u.pk) else "")))
            walk(u.pk, depth + 1)

    walk(None, 0)
    for u in units:  # parents outside the registry (should not happen) or cycles
        if u.pk not in seen and u.parent_id not in ids:
            walk(u.parent_id, 0)
    return out


def subtree(unit_id: int) -> set[int]:
    """unit_id and every unit whose parent chain reaches it."""
    parent = dict(Unit.objects.values_list("id", "parent_id"))
    out = {unit_id}
    for uid in parent:
        seen, cur = set(), uid
        while cur is not None and cur not in seen:
            if cur == unit_id:
                out.add(uid)
                break
            seen.add(cur)
            cur = parent.get(cur)
    return out


class RoundForm(forms.Form):
    name = forms.CharField(label="轮次名称", max_length=200)
    as_of = forms.DateField(label="检查时点", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                            help_text="统计期为检查时点前三个月")

    def clean_as_of(self):
        d = self.cleaned_data["as_of"]
        if not 2000 <= d.year <= 2100:
            raise forms.ValidationError("检查时点应在 2000 年至 2100 年之间")
        return d

    scope = forms.ChoiceField(label="检查范围", required=False,
                              help_text="整个名录，或某一单位及其下级单位所有的网站和新媒体账号")
    region = forms.CharField(label="范围名称", max_length=100, initial="全县", help_text="通报中的检查范围，如“全县”")
    office = forms.CharField(label="发文单位", max_length=100, initial="县人民政府办公室")
    scheme = forms.ChoiceField(label="考核方案")
    recipients = forms.CharField(label="主送", max_length=300, required=False,
                                 help_text="如“各乡镇人民政府，县政府各部门”")
    doc_number = forms.CharField(label="文号", max_length=100, required=False, help_text="如“清政办〔2026〕12号”")
    allow_networks = forms.CharField(label="允许访问的内网网段", max_length=200, required=False,
                                     help_text="默认禁止抓取本机和内网地址；检查内网网站时填写网段（CIDR），逗号分隔，如 10.0.0.0/8")
    max_pages = forms.IntegerField(label="每个网站最多抓取页面数", required=False, min_value=1, max_value=1_000_000,
                                   help_text="留空为默认上限")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = _unit_choices()
        self.fields["scheme"].choices = _schemes()
        self.fields["scheme"].initial = "national-2019"

    def clean_allow_networks(self) -> str:
        nets = []
        for part in self.cleaned_data["allow_networks"].replace("，", ",").split(","):
            part = part.strip()
            if not part:
                continue
            try:
                nets.append(str(ipaddress.ip_network(part, strict=False)))
            except ValueError:
                raise forms.ValidationError(f"“{part}”不是有效的网段，请写成 CIDR 形式，如 10.0.0.0/8 或 127.0.0.1/32") from None
        out = ",".join(nets)
        if len(out) > 200:
            raise forms.ValidationError("网段过多（最多200个字符）")
        return out

    def clean_scope(self):
        v = self.cleaned_data.get("scope") or ""
        if v and not Unit.objects.filter(pk=v).exists():
            raise forms.ValidationError("所选单位不存在")
        return int(v) if v else None


@access.office_required
def create(request):
    if request.method == "POST":
        form = RoundForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            rnd = Round.objects.create(
                name=d["name"], as_of=d["as_of"], period_start=d["as_of"] - dt.timedelta(days=91), region=d["region"],
                office=d["office"], scheme=d["scheme"], recipients=d["recipients"], doc_number=d["doc_number"],
                allow_networks=d["allow_networks"], scope_unit_id=d["scope"], status="pending",
                run_options={"crawl": {"max_pages": d["max_pages"]} if d["max_pages"] else {}})
            messages.success(request, f"已创建第{rnd.pk}轮；确认范围后点击“开始检查”")
            return redirect("web:round", pk=rnd.pk)
    else:
        last = Round.objects.only("region", "office", "recipients", "allow_networks").order_by("-id").first()
        form = RoundForm(initial={"as_of": timezone.localdate(), **({"region": last.region, "office": last.office,
                                                                      "recipients": last.recipients,
                                                                      "allow_networks": last.allow_networks}
                                                                     if last else {})})
    return render(request, "web/rounds/create.html", {"form": form})


# ------------------------------------------------------------------------------------------------------------ actions
def scope_targets(rnd: Round) -> tuple[list[Website], list[int] | None]:
    """The websites of the round's scope and the owners of its accounts (None: every account)."""
    if rnd.scope_unit_id is None:
        return list(Website.objects.order_by("id")), None
    ids = sorted(subtree(rnd.scope_unit_id))
    return list(Website.objects.filter(owner__in=ids).order_by("id")), ids


def plan(rnd: Round) -> list[RoundJob]:
    """Plan the round's jobs with the rounds service (the same jobs as `govinspect round`)."""
    from ...letters.models import Letter
    from ...rounds.services import crawl_options, start_round

    websites, owners = scope_targets(rnd)
    accounts = Account.objects.filter(**({"owner__in": owners} if owners is not None else {})).exists()
    crawl = {"delay": 0.5, **crawl_options(rnd)}
    jobs = start_round(rnd, websites=websites, crawl=crawl, accounts=accounts,
                       letters=owners is None and Letter.objects.exists())
    if owners is not None:
        RoundJob.objects.filter(round=rnd, kind="accounts").update(params={"owners": owners})
    return jobs


def _event(rnd, kind, detail):
    RoundEvent.objects.create(round=rnd, kind=kind, detail=detail[:2000])


def _who(request) -> str:
    return request.user.get_full_name() or request.user.username


@require_POST
@access.office_required
def launch(request, pk):
    with transaction.atomic():  # the round row locked: a second click waits here, then finds the round queued
        rnd = get_object_or_404(Round.objects.select_for_update(), pk=pk)
        if rnd.status != "pending":
            messages.error(request, f"第{rnd.pk}轮的状态为“{rnd.get_status_display()}”，不能再次开始")
            return redirect("web:round", pk=pk)
        return _launch(request, rnd)


def _launch(request, rnd):
    pk = rnd.pk
    websites, owners = scope_targets(rnd)
    if not websites and not Account.objects.filter(**({"owner__in": owners} if owners is not None else {})).exists():
        messages.error(request, "检查范围内没有网站或新媒体账号，请先导入检查对象名录或选择其他范围")
        return redirect("web:round", pk=pk)
    from ...rules import RulesError

    try:
        jobs = plan(rnd)
    except RulesError as e:
        messages.error(request, f"考核方案或规则文件有误，未能开始：{e}")
        return redirect("web:round", pk=pk)
    Round.objects.filter(pk=pk, status="pending").update(status="queued", cancel_requested=None)
    _event(rnd, "queue", f"{_who(request)} 在平台上开始本轮：检查任务{len(jobs)}项，等待{_runs_it()}执行")
    messages.success(request, f"第{rnd.pk}轮已排队（检查任务{len(jobs)}项），{_runs_it()}将依次检查")
    return redirect("web:round", pk=pk)


@require_POST
@access.office_required
def cancel(request, pk):
    rnd = get_object_or_404(Round, pk=pk)
    if rnd.status not in ("pending", "queued", "running"):
        messages.error(request, f"第{rnd.pk}轮的状态为“{rnd.get_status_display()}”，无需取消")
        return redirect("web:round", pk=pk)
    now = timezone.now()
    with transaction.atomic():
        Round.objects.filter(pk=pk).update(cancel_requested=now)
        # not taken by the runner yet: cancelled at once (else the runner stops it and marks it cancelled)
        idle = Round.objects.filter(pk=pk, status__in=("pending", "queued")).update(status="cancelled", finished_at=now)
    if idle:
        _event(rnd, "cancel", f"{_who(request)} 在平台上取消了本轮（尚未开始检查）")
        messages.success(request, f"第{rnd.pk}轮已取消")
    else:
        _event(rnd, "cancel", f"{_who(request)} 在平台上请求取消本轮：{_runs_it()}正在停止检查任务，已完成的结果保留")
        messages.success(request, f"正在停止第{rnd.pk}轮，已完成的检查任务结果保留")
    return redirect("web:round", pk=pk)


@require_POST
@access.office_required
def resume(request, pk):
    rnd = get_object_or_404(Round, pk=pk)
    if rnd.status not in RESUMABLE:
        messages.error(request, f"第{rnd.pk}轮的状态为“{rnd.get_status_display()}”，只有已中断、失败或已取消的轮次可以继续")
        return redirect("web:round", pk=pk)
    if rnd.recheck_of_id:
        messages.error(request, f"复查轮次请用命令行继续：govinspect round --resume {rnd.pk}")
        return redirect("web:round", pk=pk)
    if not rnd.jobs.exists():  # cancelled before it was launched
        plan(rnd)
    left = rnd.jobs.exclude(state__in=("done", "could_not_check")).count()
    if not Round.objects.filter(pk=pk, status__in=RESUMABLE).update(status="queued", cancel_requested=None, error=""):
        return redirect("web:round", pk=pk)
    _event(rnd, "queue", f"{_who(request)} 在平台上继续本轮：其余{left}项检查任务等待{_runs_it()}执行")
    messages.success(request, f"第{rnd.pk}轮已重新排队，将继续未完成的{left}项检查任务")
    return redirect("web:round", pk=pk)


# ------------------------------------------------------------------------------------------------------------ downloads
_report_lock = threading.Lock()


def _signature(rnd: Round) -> str:
    """What the reports depend on that can change after the round ended (ignores, re-checks, a resumed round, and the
    registry's unit names, regions and supervisors: the workbooks are named after the units)."""
    f = rnd.findings.aggregate(n=Count("id"), ignored=Count("id", filter=Q(ignored_by__isnull=False)),
                               last=Max("id"))
    units = hashlib.sha256(json.dumps(list(Unit.objects.order_by("pk").values_list(
        "pk", "name", "short_name", "region", "supervisor", "parent_id")), ensure_ascii=False).encode()).hexdigest()
    ig = Ignore.objects.aggregate(last=Max("id"), revoked=Max("revoked_at"))
    rc = RecheckResult.objects.filter(finding__round=rnd).aggregate(n=Count("id"), last=Max("id"))
    parts = [rnd.status, rnd.finished_at, rnd.name, rnd.recipients, rnd.doc_number, f, ig, rc, units]
    return hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()


def reports_for(rnd: Round) -> Path:
    """The round's reports in the storage (reports/<id>/), written again when the round changed since."""
    from ...reports import write_reports
    from ...reports.data import round_data  # noqa: F401  (write_reports needs it; import errors surface here)
    from ...safetext import unique_stems
    from ...storage import storage

    out = storage().path(f"reports/{rnd.pk}")
    sig = _signature(rnd)
    stamp = out / ".signature"
    with _report_lock:
        if stamp.exists() and stamp.read_text() == sig and (out / "round.json").exists():
            return out
        write_reports(rnd, out)
        data = json.loads((out / "round.json").read_text(encoding="utf-8"))
        names = {line["responsible_unit"] or line["unit"] or "未指定单位" for line in data.get("problems", [])}
        (out / ".units.json").write_text(json.dumps({n: s + ".xlsx" for n, s in unique_stems(names).items()},
                                                    ensure_ascii=False), encoding="utf-8")
        stamp.write_text(sig)
    return out


def _unit_files(out: Path, units) -> list[tuple[str, Path]]:
    """(unit name, workbook) of these units that have a 整改清单 in this round."""
    files = json.loads((out / ".units.json").read_text(encoding="utf-8"))
    res = []
    for u in units:
        name = files.get(u.name)
        if name and (out / "整改清单" / name).is_file():
            res.append((u.name, out / "整改清单" / name))
    return res


def _zip(files: list[tuple[str, Path]]) -> io.BytesIO:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for _, p in files:
            z.write(p, p.name)
    buf.seek(0)
    return buf


@access.login_required_view
def download(request, pk, kind):
    if kind not in DOWNLOADS:
        raise Http404("没有这种下载")
    user = request.user
    sees_all = access.sees_everything(user)
    if not sees_all and kind != "rectification":
        raise Http404("没有这种下载")
    rnd = get_object_or_404(Round.objects.defer("rules_snapshot"), pk=pk)
    unit_param = request.GET.get("unit")
    units = None
    if unit_param is not None:  # one unit's workbook: only a unit the user may see
        uid = int_param(unit_param)
        if uid is None or not access.may_see_unit(user, uid):
            raise Http404("没有这个单位的整改清单")
        units = list(Unit.objects.filter(pk=uid))
    elif not sees_all:
        units = list(access.units(user).order_by("name"))
    if rnd.status != "done":
        return render(request, "web/rounds/not_ready.html", {"round": rnd}, status=409)
    from ...rectify.issue import issued_dir

    frozen = issued_dir(rnd)  # an issued round: its documents as issued, never written again
    out = frozen if frozen is not None else reports_for(rnd)
    stem = f"第{rnd.pk}轮"
    if kind == "rectification":
        if units is None:
            files = [(p.stem, p) for p in sorted((out / "整改清单").glob("*.xlsx"))]
        else:
            files = _unit_files(out, units)
        if not files:
            raise Http404("本轮没有需要整改的问题清单")
        if len(files) == 1 and (units is not None and (access.role(user) == access.UNIT or unit_param is not None)):
            name, p = files[0]
            return FileResponse(open(p, "rb"), as_attachment=True, filename=f"{stem}整改清单-{p.name}")
        return FileResponse(_zip(files), as_attachment=True, filename=f"{stem}整改清单.zip")
    p = out / DOWNLOADS[kind]
    if not p.is_file():
        raise Http404("下发的文件缺失")
    names = {"bulletin": f"{stem}通报.docx", "attachment": f"{stem}附件.xlsx", "json": f"round-{rnd.pk}.json"}
    return FileResponse(open(p, "rb"), as_attachment=True, filename=names[kind])


urlpatterns = [
    path("rounds/", index, name="rounds"),
    path("rounds/new/", create, name="round_create"),
    path("rounds/<int:pk>/", detail, name="round"),
    path("rounds/<int:pk>/progress.json", progress, name="round_progress"),
    path("rounds/<int:pk>/launch/", launch, name="round_launch"),
    path("rounds/<int:pk>/cancel/", cancel, name="round_cancel"),
    path("rounds/<int:pk>/resume/", resume, name="round_resume"),
    path("rounds/<int:pk>/download/<str:kind>/", download, name="round_download"),
]
