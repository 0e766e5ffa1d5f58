"""The API's endpoints. Every read goes through govinspect/web/access.py, the same scoping as the pages: a unit reads
its own units' rounds numbers, findings, evidence and units only; anything else is answered 404, whatever id is asked.

    POST /api/v1/auth/token/          {"username", "password"} -> {"token"} (django-axes counts failures)
    GET  /api/v1/rounds/ , /rounds/{id}/
    GET  /api/v1/findings/ (?round= ?unit= ?site= ?rule= ?severity= ?include_ignored=1), /findings/{id}/,
         /findings/{id}/evidence/
    GET  /api/v1/units/ , /units/{id}/
    GET  /api/v1/rectifications/ (?round= ?unit= ?state=), /rectifications/{id}/ (with the trail and attachments)
    POST /api/v1/rectifications/{id}/claim/ {"note"} (+ files, multipart) -> 202, the re-check queued at once;
         dispute/ {"reason"} (the unit the item is assigned to); accept/, reject/ {"note"}; signoff/ (the office)
    POST /api/v1/check-text/          the pre-publication check: {"text"} or {"html"} -> content findings
    GET  /api/v1/schema/              OpenAPI 3 (drf-spectacular; ?format=json)
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.db.models import Count, Q, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, ParseError, PermissionDenied, UnsupportedMediaType
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from ..rounds.models import Finding, Round
from ..safetext import without_surrogates
from ..web import access
from . import serializers as s

# --- who may use the API ---


class PlatformAccount(BasePermission):
    """Signed in (token or session), with a role, and past the first-login password change."""

    message = "此账号没有分配角色，请联系检查单位"

    def has_permission(self, request, view):
        user = request.user
        if user is None or not user.is_authenticated:
            return False
        if access.role(user) is None:
            self.message = "此账号没有分配角色，请联系检查单位"
            return False
        profile = getattr(user, "profile", None)
        if profile is not None and profile.must_change_password:
            self.message = "此账号须先在网页上登录并修改初始密码，之后才能使用接口"
            return False
        return True


def _lockout_message() -> str:
    minutes = int(round(float(settings.AXES_COOLOFF_TIME) * 60)) if getattr(settings, "AXES_COOLOFF_TIME", None) else 0
    wait = f"已暂停 {minutes} 分钟" if minutes else "已暂停"
    return f"登录失败次数过多，为防止密码被猜测，该账号在本机的登录{wait}。请稍后再试，或联系检查单位重置密码"


class TokenView(APIView):
    """Exchange a platform account's user name and password for an API token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="auth_token", summary="用账号和密码换取接口令牌", auth=[], request=s.TokenRequestSerializer,
        responses={200: s.TokenResponseSerializer, 400: s.ErrorSerializer, 403: s.ErrorSerializer,
                   429: s.ErrorSerializer},
        description="返回的令牌放在之后每个请求的请求头中：Authorization: Token <token>。连续登录失败 5 次后该账号"
                    "在本机的登录暂停（429）；首次登录须修改密码的账号和没有角色的账号不发令牌（403）。")
    def post(self, request):
        try:
            data = request.data
        except ParseError:
            return Response({"detail": "请求内容应为 JSON：{\"username\": …, \"password\": …}"}, status=400)
        ser = s.TokenRequestSerializer(data=data if isinstance(data, dict) else {})
        if not ser.is_valid():
            return Response({"detail": "请提供用户名（username）和密码（password）"}, status=400)
        django_request = request._request
        # through django.contrib.auth so that django-axes counts failures and locks the name out like the sign-in page
        user = authenticate(request=django_request, username=ser.validated_data["username"],
                            password=ser.validated_data["password"])
        if getattr(django_request, "axes_locked_out", False):
            django_request.axes_locked_out = False  # answered here as JSON, not by axes' HTML page
            return Response({"detail": _lockout_message()}, status=status.HTTP_429_TOO_MANY_REQUESTS)
        if user is None:
            return Response({"detail": "用户名或密码错误"}, status=400)
        if access.role(user) is None:
            return Response({"detail": "此账号没有分配角色，请联系检查单位"}, status=403)
        profile = getattr(user, "profile", None)
        if profile is not None and profile.must_change_password:
            return Response({"detail": "此账号须先在网页上登录并修改初始密码，之后才能使用接口"}, status=403)
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


# --- rounds ---

def _verdicts() -> dict:
    return {"total": 0, "checked": 0, "could_not_check": 0, "passed": 0, "failed": 0, "unknown": 0}


def round_counts(user, round_ids) -> dict[int, dict]:
    """Per round: its sites, accounts and findings (not ignored) that `user` may see (three queries)."""
    round_ids = list(round_ids)
    out = {rid: {"sites": _verdicts(), "accounts": _verdicts(),
                 "findings": {"total": 0, "veto": 0, "high": 0, "medium": 0, "low": 0}} for rid in round_ids}
    if not round_ids:
        return out
    for key, qs in (("sites", access.round_sites(user)), ("accounts", access.round_accounts(user))):
        for row in qs.filter(round__in=round_ids).values("round", "status", "verdict").annotate(n=Count("id")):
            c, n = out[row["round"]][key], row["n"]
            c["total"] += n
            if row["status"] in ("checked", "could_not_check"):
                c[row["status"]] += n
            c[{"pass": "passed", "fail": "failed"}.get(row["verdict"], "unknown")] += n
    rows = access.findings(user, Finding.objects.filter(round__in=round_ids, ignored_by__isnull=True)) \
        .values("round", "severity", "veto").annotate(n=Count("id"))
    for row in rows:
        c, n = out[row["round"]]["findings"], row["n"]
        c["total"] += n
        if row["veto"]:
            c["veto"] += n
        if row["severity"] in ("high", "medium", "low"):
            c[row["severity"]] += n
    return out


_ROUND_HEAVY = ("rules_snapshot", "run_options", "registers", "owner", "allow_networks", "error")


@extend_schema_view(
    list=extend_schema(summary="检查轮次列表", description="所有轮次；统计数只含本账号可见单位的网站、账号和问题。"),
    retrieve=extend_schema(summary="一个检查轮次", description="状态、统计数和本账号可见的各网站检查结果。"))
class RoundViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [PlatformAccount]
    serializer_class = s.RoundSerializer

    def get_queryset(self):
        return Round.objects.defer(*_ROUND_HEAVY).order_by("-as_of", "-id")

    def get_object(self):
        return _scoped_object(self.get_queryset(), self.kwargs["pk"], "检查轮次")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        ctx = {**self.get_serializer_context(), "counts": round_counts(request.user, [r.pk for r in page])}
        return self.get_paginated_response(s.RoundSerializer(page, many=True, context=ctx).data)

    def retrieve(self, request, *args, **kwargs):
        rnd = self.get_object()
        sites = access.round_sites(request.user).filter(round=rnd).select_related("website").order_by("website__name")
        ctx = {**self.get_serializer_context(), "counts": round_counts(request.user, [rnd.pk]), "sites": sites}
        return Response(s.RoundDetailSerializer(rnd, context=ctx).data)


# --- findings ---

_RULESETS: dict = {}
_RULESETS_LOCK = threading.Lock()


def rulesets(round_ids) -> dict:
    """Round id -> the RuleSet it ran with (rounds.scoring.round_rules), kept per process: a round's snapshot does
    not change once taken (keyed by its hash), a round without one uses its scheme's shipped rules."""
    from ..rules.ruleset import RuleSet

    out, need = {}, []
    for pk, digest, scheme in Round.objects.filter(pk__in=set(round_ids)).values_list("pk", "rules_hash", "scheme"):
        key = ("round", pk, digest) if digest else ("scheme", scheme)
        if key in _RULESETS:
            out[pk] = _RULESETS[key]
        else:
            need.append((pk, key, scheme))
    if need:
        snaps = dict(Round.objects.filter(pk__in=[pk for pk, key, _ in need if key[0] == "round"])
                     .values_list("pk", "rules_snapshot"))
        with _RULESETS_LOCK:
            if len(_RULESETS) > 64:
                _RULESETS.clear()
            for pk, key, scheme in need:
                snap = snaps.get(pk)
                rs = RuleSet.from_snapshot(snap) if snap else RuleSet.load(scheme)
                _RULESETS[key] = out[pk] = rs
    return out


def _int_param(request, name: str) -> int | None:
    from ..web.views import int_param

    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    value = int_param(raw)
    if value is None:
        raise ParseError(f"参数 {name} 应为整数编号：{raw[:50]}")
    return value


def _scoped_object(qs, pk, what: str):
    from ..web.views import int_param

    pk = int_param(pk)
    if pk is None:
        raise NotFound(f"{what}不存在，或不在本账号的查看范围内")
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise NotFound(f"{what}不存在，或不在本账号的查看范围内")
    return obj


_FINDING_FILTERS = [
    OpenApiParameter("round", OpenApiTypes.INT, description="检查轮次编号"),
    OpenApiParameter("unit", OpenApiTypes.INT, description="责任单位编号"),
    OpenApiParameter("site", OpenApiTypes.INT, description="网站编号"),
    OpenApiParameter("rule", OpenApiTypes.STR, description="规则编号（如 link.dead）或规则前缀（如 content、privacy）"),
    OpenApiParameter("severity", OpenApiTypes.STR, enum=["high", "medium", "low"], description="严重程度"),
    OpenApiParameter("include_ignored", OpenApiTypes.BOOL, description="包括已标记为“不是问题”的问题（默认不包括）"),
]


@extend_schema_view(
    list=extend_schema(summary="发现的问题（分页）", parameters=_FINDING_FILTERS,
                       description="只含本账号可见单位的问题：责任单位、主管单位账号只看到自己范围内的问题。"),
    retrieve=extend_schema(summary="一个问题", description="规则（含中文名称）、问题描述、对象、位置、事实、严重程度、责任单位和网站。"))
class FindingViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [PlatformAccount]
    serializer_class = s.FindingSerializer

    def get_queryset(self):
        qs = access.findings(self.request.user).select_related(
            "responsible_unit", "round_site__website", "round_account__account")
        return qs.defer("evidence", "round_site__deductions", "round_site__veto", "round_site__availability",
                        "round_site__crawl_stats", "round_site__check_stats")

    def get_object(self):
        return _scoped_object(self.get_queryset(), self.kwargs["pk"], "问题")

    def filtered(self):
        qs = self.get_queryset()
        p = self.request.query_params
        for name, field in (("round", "round_id"), ("unit", "responsible_unit_id"), ("site", "round_site__website_id")):
            v = _int_param(self.request, name)
            if v is not None:
                qs = qs.filter(**{field: v})
        rule = (p.get("rule") or "").strip()
        if rule:
            qs = qs.filter(Q(rule=rule) | Q(rule__startswith=rule.rstrip(".") + "."))
        sev = (p.get("severity") or "").strip()
        if sev:
            if sev not in ("high", "medium", "low"):
                raise ParseError("参数 severity 应为 high、medium 或 low")
            qs = qs.filter(severity=sev)
        if (p.get("include_ignored") or "").lower() not in ("1", "true", "yes"):
            # "not ignored", written so that no index is looked up for it (nearly every finding is not ignored): SQLite
            # then reads the findings in the order of the (round desc, id) index and stops at the page's end, instead
            # of taking them all through the ignored_by index and sorting 200,000 rows
            qs = qs.alias(ignored=Coalesce("ignored_by_id", Value(0))).filter(ignored=0)
        return qs.order_by("-round_id", "id")

    def _context(self, rows):
        return {**self.get_serializer_context(), "rules": rulesets({r.round_id for r in rows})}

    def list(self, request, *args, **kwargs):
        # the page's ids first, in index order and without joins; then those rows with their unit, site and account
        ids = list(self.paginate_queryset(self.filtered().values_list("id", flat=True)))
        rows = {f.pk: f for f in self.get_queryset().filter(pk__in=ids)}
        page = [rows[i] for i in ids if i in rows]
        return self.get_paginated_response(s.FindingSerializer(page, many=True, context=self._context(page)).data)

    def retrieve(self, request, *args, **kwargs):
        row = self.get_object()
        return Response(s.FindingSerializer(row, context=self._context([row])).data)

    @extend_schema(summary="一个问题的证据", responses=s.EvidenceSerializer,
                   description="抓取时间、HTTP 状态、命中处的摘录和命中位置；page_url 是网页上查看抓取时页面的地址。")
    @action(detail=True, methods=["get"])
    def evidence(self, request, pk=None):
        row = _scoped_object(access.findings(request.user).only("id", "round_id", "rule", "url", "evidence"), pk, "问题")
        ev = row.evidence or {}
        hit = ev.get("hit")
        excerpt = ev.get("excerpt") or ""
        hit_text = excerpt[hit[0]:hit[1]] if excerpt and hit and len(hit) == 2 else None
        has_capture = bool(ev.get("warc_file")) and ev.get("warc_offset") is not None
        page_url = None
        if has_capture:
            try:
                page_url = reverse("web:finding_page", args=[row.pk])
            except NoReverseMatch:
                page_url = None
        rules = rulesets([row.round_id]).get(row.round_id)
        name = (rules.rule(row.rule).get("name") if rules is not None else None) or row.rule
        return Response({"finding": row.pk, "rule": row.rule, "rule_name": name, "url": row.url,
                         "captured_at": ev.get("captured_at"), "http_status": ev.get("http_status"), "excerpt": excerpt,
                         "hit": list(hit) if hit else None, "hit_text": hit_text, "coverage": ev.get("coverage", ""),
                         "has_capture": has_capture, "page_url": page_url})


# --- units ---

@extend_schema_view(
    list=extend_schema(summary="单位列表", description="本账号可见的单位：责任单位账号只有本单位，主管单位账号是其所辖单位。"),
    retrieve=extend_schema(summary="一个单位", responses=s.UnitDetailSerializer, description="单位信息和其主办的网站。"))
class UnitViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [PlatformAccount]
    serializer_class = s.UnitSerializer

    def get_queryset(self):
        return access.units(self.request.user).order_by("name", "id")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "visible": access.unit_ids(self.request.user)}

    def get_object(self):
        return _scoped_object(self.get_queryset().prefetch_related("websites"), self.kwargs["pk"], "单位")

    def retrieve(self, request, *args, **kwargs):
        return Response(s.UnitDetailSerializer(self.get_object(), context=self.get_serializer_context()).data)


# --- the pre-publication check ---

MAX_CHECK_BYTES = 2 * 1024 * 1024
_CHECKERS: dict = {}
_CHECKERS_LOCK = threading.Lock()


def checker(typos: bool):
    """The shipped content rules, built once per process (word lists and the typo model take about a second)."""
    c = _CHECKERS.get(typos)
    if c is None:
        with _CHECKERS_LOCK:
            c = _CHECKERS.get(typos)
            if c is None:
                from ..engine.content import ContentChecker

                c = _CHECKERS[typos] = ContentChecker(typos=typos)
    return c


def _clean(value: str) -> str:
    """Lone surrogates (valid in JSON, not in UTF-8) become "?": one character for one, so positions hold."""
    return without_surrogates(value, "?")


def html_text(html: str) -> str:
    """The visible text of an HTML fragment or page as the crawler reads it (engine/extract: scripts, styles and
    comments left out; broken markup recovered by lxml), its title first when the body does not repeat it."""
    from ..engine.extract import extract_page

    page = extract_page(html, "http://check-text.invalid/")
    text = page.text or ""
    title = (page.title or "").strip()
    if title and title not in text:
        text = f"{title}\n{text}" if text else title
    return text


class CheckTextThrottle(UserRateThrottle):
    """Per account: the check is CPU work on up to 2 MB of text."""

    scope = "check_text"
    rate = "60/minute"


class CheckTextView(APIView):
    permission_classes = [PlatformAccount]
    throttle_classes = [CheckTextThrottle]
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="check_text", summary="发布前内容检查",
        description="提交待发布的文字或 HTML，返回错敏词、固定表述、机构名称、个人信息和错别字等内容问题（与网站检查使用同一套规则）。"
                    "请求体不超过 2 MB（超出返回 413）；每个账号每分钟最多 60 次。HTML 只检查可见文字。个人信息在返回中已脱敏。",
        request=s.CheckTextRequestSerializer,
        responses={200: s.CheckTextResponseSerializer, 400: s.ErrorSerializer, 413: s.ErrorSerializer,
                   429: s.ErrorSerializer})
    def post(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_CHECK_BYTES:
            return _too_big()
        try:
            data = request.data
        except ParseError:
            return Response({"detail": "请求内容应为 JSON：{\"text\": \"…\"} 或 {\"html\": \"…\"}"}, status=400)
        if not isinstance(data, dict):
            return Response({"detail": "请求内容应为 JSON 对象：{\"text\": \"…\"} 或 {\"html\": \"…\"}"}, status=400)
        ser = s.CheckTextRequestSerializer(data=data)
        if not ser.is_valid():
            field = next(iter(ser.errors), "")
            return Response({"detail": f"参数 {field} 不正确：text 和 html 应为字符串，rules 应为规则编号的列表（最多 20 个），"
                                       "typos 应为 true 或 false"}, status=400)
        v = ser.validated_data
        if "text" in v and "html" in v:
            return Response({"detail": "text 和 html 只能提供一个"}, status=400)
        from ..engine.content import ALL_RULES

        only = tuple(r.strip() for r in v.get("rules") or () if r.strip())
        unknown = [p for p in only if not any(r.startswith(p) for r in ALL_RULES)]
        if unknown:
            return Response({"detail": f"未知的规则：{'、'.join(unknown)}（可用：{'、'.join(ALL_RULES)}）"}, status=400)
        if "html" in v:
            raw = v["html"]
            if len(raw) > MAX_CHECK_BYTES:
                return _too_big()
            text = html_text(_clean(raw)) if raw.strip() else ""
            if not text.strip():
                return Response({"detail": "HTML 中没有可检查的文字"}, status=400)
        else:
            text = _clean(v.get("text") or "")
            if len(text) > MAX_CHECK_BYTES:
                return _too_big()
            if not text.strip():
                return Response({"detail": "没有需要检查的文字：请提供 text 或 html"}, status=400)

        chk = checker(bool(v.get("typos", True)))
        wanted = (lambda rule: any(rule.startswith(p) for p in only)) if only else (lambda rule: True)
        hits, masked = chk.check_all(text)
        from ..engine.content import hit_evidence

        out = []
        for h in hits:
            if not wanted(h.rule):
                continue
            d = hit_evidence(h, text)
            d["rule_name"] = chk.ruleset.rule(h.rule).get("name") or h.rule
            out.append(d)
        return Response({"findings": out, "masked": sum(1 for h in masked if wanted(h.rule)), "characters": len(text)})


def _too_big():
    return Response({"detail": "请求内容超过 2 MB，请分段提交检查"}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)


# --- rectification items (整改事项) ---

def _state_code(raw: str) -> str:
    """A state given as its code (claimed) or as shown in the UI (已反馈)."""
    from ..rectify.models import STATES

    raw = raw.strip()
    for code, label in STATES:
        if raw in (code, label):
            return code
    raise ParseError(f"参数 state 不正确：{raw[:20]}（可用：{'、'.join(label for _, label in STATES)}，或其代码 "
                     f"{'、'.join(code for code, _ in STATES)}）")


def _signoff_required(rules) -> bool:
    """The scheme's rectify `signoff` (rules/rectify.toml with the scheme's [rectify]), as services.settings_for reads it."""
    from ..rules import load_rules

    got = rules.get("rectify") if rules is not None else None
    return bool((got or load_rules("rectify")).get("signoff"))


def _attachment_url(pk: int) -> str | None:
    try:
        return reverse("web:rectify_attachment", args=[pk])
    except NoReverseMatch:
        return None


def item_rows(items) -> list[dict]:
    """The items as the API shows them (ItemSerializer): the state in Chinese as in the UI, the rule's name and whether
    the office's sign-off is awaited from the rule set the round was issued with (one per round, kept per process)."""
    from ..rectify.models import STATE_LABELS

    items = list(items)
    rules = rulesets({i.round_issued_id for i in items})
    signoff = {rid: _signoff_required(rs) for rid, rs in rules.items()}
    out = []
    for i in items:
        rs, f = rules.get(i.round_issued_id), i.finding
        out.append({
            "id": i.pk, "state": STATE_LABELS.get(i.state, i.state), "state_code": i.state, "deadline": i.deadline,
            "rule": i.rule, "rule_name": (rs.rule(i.rule).get("name") if rs is not None else None) or i.rule,
            "unit": {"id": i.unit_id, "name": i.unit.name},
            "round_issued": {"id": i.round_issued_id, "name": i.round_issued.name},
            "created_at": i.created_at, "closed_at": i.closed_at, "signed_off_at": i.signed_off_at,
            "finding": {"id": f.pk, "url": f.url, "detail": f.detail, "round": f.round_id} if f is not None else None,
            "needs_signoff": i.state == "fixed" and i.signed_off_at is None and signoff.get(i.round_issued_id, False),
            "recheck_round": i.recheck_round_id,
        })
    return out


def item_detail(item) -> dict:
    """One item with its trail (events, oldest first) and the files units attached (two queries)."""
    from ..rectify.models import ACTIONS, STATE_LABELS

    actions = dict(ACTIONS)
    row = item_rows([item])[0]
    files = list(item.attachments.order_by("at", "id"))
    by_event: dict[int, list[int]] = {}
    for a in files:
        if a.event_id is not None:
            by_event.setdefault(a.event_id, []).append(a.pk)
    row["events"] = [{"at": e.at, "actor": e.actor, "action": actions.get(e.action, e.action), "action_code": e.action,
                      "from_state": STATE_LABELS.get(e.from_state, e.from_state),
                      "to_state": STATE_LABELS.get(e.to_state, e.to_state), "note": e.note, "evidence": e.evidence or {},
                      "attachments": by_event.get(e.pk, [])}
                     for e in item.events.order_by("at", "id")]
    row["attachments"] = [{"id": a.pk, "name": a.name, "content_type": a.content_type, "size": a.size,
                           "sha256": a.sha256, "uploaded_by": a.uploaded_by, "at": a.at, "url": _attachment_url(a.pk)}
                          for a in files]
    return row


_ITEM_FILTERS = [
    OpenApiParameter("round", OpenApiTypes.INT, description="下发事项的检查轮次编号"),
    OpenApiParameter("unit", OpenApiTypes.INT, description="责任单位编号"),
    OpenApiParameter("state", OpenApiTypes.STR,
                     description="状态：中文（待整改、已反馈、已整改、仍存在、未能复查、申诉中、逾期、申诉成立）或其代码"
                                 "（open、claimed、fixed、present、unverified、disputed、overdue、accepted）"),
]
_ACT_ERRORS = {400: s.ErrorSerializer, 403: s.ErrorSerializer, 404: s.ErrorSerializer, 413: s.ErrorSerializer,
               429: s.ErrorSerializer}


MAX_NOTE = 5000  # characters of a note or a reason


class TooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "请求内容过大：说明请精简，材料请作为文件上传（最多5个）"


class RectifyActThrottle(UserRateThrottle):
    """Per account: actions write the trail and may carry files (up to 5 × upload_max_mb each)."""

    scope = "rectify_act"
    rate = "60/minute"


def _json_or_multipart(ser_class) -> dict:
    """The request body of an action that may carry files: JSON, or multipart/form-data with files (field "files")."""
    return {"application/json": ser_class, "multipart/form-data": ser_class}


@extend_schema_view(
    list=extend_schema(summary="整改事项（分页）", parameters=_ITEM_FILTERS, responses=s.ItemSerializer(many=True),
                       description="只含本账号可见单位的整改事项（与问题的可见范围相同）：责任单位只看到本单位的事项，主管单位看到所辖单位的事项。"
                                   "每个事项有状态（中文，与网页相同）、整改期限和最近一次发现的问题。按整改期限排序。"),
    retrieve=extend_schema(summary="一个整改事项", responses=s.ItemDetailSerializer,
                           description="事项及其全部整改记录（谁、何时、做了什么、状态从何变为何、依据的证据）和单位上传的材料。"
                                       "不在本账号可见范围内的事项返回 404。"))
class RectificationViewSet(viewsets.GenericViewSet):
    """GET /api/v1/rectifications/ (?round= ?unit= ?state=), /rectifications/{id}/; POST …/{id}/claim/, dispute/ (the
    unit the item is assigned to), accept/, reject/, signoff/ (the office). Out of scope: 404; in scope but not the
    user's to act on: 403; a refused change (TransitionError) or file (UploadError): 400 with the Chinese message."""

    permission_classes = [PlatformAccount]
    serializer_class = s.ItemSerializer

    def get_queryset(self):
        from ..rectify.models import Item

        qs = Item.objects.select_related("unit", "round_issued", "finding").only(
            "id", "state", "deadline", "rule", "unit_id", "round_issued_id", "finding_id", "created_at", "closed_at",
            "signed_off_at", "recheck_round_id", "unit__name", "round_issued__name", "finding__url", "finding__detail",
            "finding__round_id")
        return access.items(self.request.user, qs)

    def get_object(self):
        return _scoped_object(self.get_queryset(), self.kwargs["pk"], "整改事项")

    def filtered(self):
        qs = self.get_queryset()
        for name, field in (("round", "round_issued_id"), ("unit", "unit_id")):
            v = _int_param(self.request, name)
            if v is not None:
                qs = qs.filter(**{field: v})
        state = self.request.query_params.get("state") or ""
        if state.strip():
            qs = qs.filter(state=_state_code(state))
        return qs.order_by("deadline", "id")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filtered())
        return self.get_paginated_response(s.ItemSerializer(item_rows(page), many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(s.ItemDetailSerializer(item_detail(self.get_object())).data)

    # --- actions ---

    def _text(self, request, name: str) -> str:
        try:
            data = request.data
        except (ParseError, UnsupportedMediaType):
            raise ParseError(f"请求内容应为 JSON（{{\"{name}\": \"…\"}}）或 multipart/form-data") from None
        except RequestDataTooBig:
            raise TooLarge() from None
        if not hasattr(data, "get"):
            raise ParseError(f"请求内容应为 JSON 对象：{{\"{name}\": \"…\"}}")
        value = data.get(name)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ParseError(f"参数 {name} 应为文字")
        from ..rectify.workbook import clean_text

        value = clean_text(value)  # no NUL (PostgreSQL refuses it), no bidirectional overrides: as the web's forms
        if len(value) > MAX_NOTE:
            raise ParseError(f"说明不能超过{MAX_NOTE}字，详细材料请作为附件上传")
        return value

    def _act(self, request, pk, who: str, do, status_code=200, files=False):
        """Scope (404), then who may act (403), then the body and the service (400 with its message)."""
        from ..rectify.services import TransitionError
        from ..rectify.uploads import MAX_FILES, UploadError, max_bytes

        user = request.user
        item = _scoped_object(access.items(user), pk, "整改事项")  # whole rows: the services change and save them
        if who == "unit" and not access.may_act_on_item(user, item):
            raise PermissionDenied("只有该事项的责任单位可以反馈整改或申诉")
        if who == "office" and not access.can_change(user):
            raise PermissionDenied("只有检查单位可以处理申诉和确认整改")
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if files and length > MAX_FILES * max_bytes(item) + 1024 * 1024:
            return Response({"detail": f"上传内容过大：最多{MAX_FILES}个文件，每个不超过{max_bytes(item) // (1024 * 1024)}MB"},
                            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        try:
            do(item, user.get_username(), request)
        except (TransitionError, UploadError) as e:
            return Response({"detail": str(e)}, status=400)
        fresh = self.get_queryset().get(pk=item.pk)
        return Response(s.ItemDetailSerializer(item_detail(fresh)).data, status=status_code)

    def _files(self, request) -> list:
        try:
            return request.FILES.getlist("files")
        except (ParseError, UnsupportedMediaType):
            raise ParseError("请求内容应为 JSON 或 multipart/form-data") from None
        except (RequestDataTooBig, TooManyFilesSent):
            raise TooLarge() from None

    @extend_schema(
        summary="反馈已整改", request=_json_or_multipart(s.ClaimRequestSerializer),
        responses={202: s.ItemDetailSerializer, **_ACT_ERRORS},
        description="责任单位说明问题已整改（note 必填，可用 multipart/form-data 在 files 字段附截图、PDF 或 Office 文档）。"
                    "事项变为“已反馈”，系统立即排队复查该问题（recheck_round 为复查任务编号）；复查结果是事项之后的状态："
                    "已整改（附整改前后的证据）、仍存在（附新的证据）或未能复查（按计划再次复查，不算已整改）。"
                    "只有事项所属的责任单位可以反馈（其他账号 403，看不到该事项的账号 404）。")
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, MultiPartParser, FormParser],
            throttle_classes=[RectifyActThrottle])
    def claim(self, request, pk=None):
        from ..rectify.services import claim

        return self._act(request, pk, "unit",
                         lambda item, actor, req: claim(item, actor, self._text(req, "note"), self._files(req)),
                         status_code=status.HTTP_202_ACCEPTED, files=True)

    @extend_schema(
        summary="申诉（认为不是问题）", request=_json_or_multipart(s.DisputeRequestSerializer),
        responses={200: s.ItemDetailSerializer, **_ACT_ERRORS},
        description="责任单位认为不是问题，说明理由（reason 必填，可附材料）。事项变为“申诉中”，由检查单位同意或驳回。"
                    "只有事项所属的责任单位可以申诉。")
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, MultiPartParser, FormParser],
            throttle_classes=[RectifyActThrottle])
    def dispute(self, request, pk=None):
        from ..rectify.services import dispute

        return self._act(request, pk, "unit",
                         lambda item, actor, req: dispute(item, actor, self._text(req, "reason"), self._files(req)),
                         files=True)

    @extend_schema(
        summary="同意申诉", request=s.NoteRequestSerializer, responses={200: s.ItemDetailSerializer, **_ACT_ERRORS},
        description="检查单位同意申诉（note 必填）：该问题标记为“不是问题”（留有记录，以后各轮不再报告），事项变为“申诉成立”。仅检查单位。")
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, FormParser], throttle_classes=[RectifyActThrottle])
    def accept(self, request, pk=None):
        from ..rectify.services import accept_dispute

        return self._act(request, pk, "office",
                         lambda item, actor, req: accept_dispute(item, actor, self._text(req, "note")))

    @extend_schema(
        summary="驳回申诉", request=s.NoteRequestSerializer, responses={200: s.ItemDetailSerializer, **_ACT_ERRORS},
        description="检查单位驳回申诉（note 必填）：事项回到“待整改”，已过整改期限的为“逾期”。仅检查单位。")
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, FormParser], throttle_classes=[RectifyActThrottle])
    def reject(self, request, pk=None):
        from ..rectify.services import reject_dispute

        return self._act(request, pk, "office",
                         lambda item, actor, req: reject_dispute(item, actor, self._text(req, "note")))

    @extend_schema(
        summary="确认整改", request=s.SignoffRequestSerializer, responses={200: s.ItemDetailSerializer, **_ACT_ERRORS},
        description="检查单位确认复查已整改的事项（note 可不填）。只能确认“已整改”且尚未确认的事项；方案要求确认时，"
                    "待确认的事项 needs_signoff 为 true。仅检查单位。")
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, FormParser], throttle_classes=[RectifyActThrottle])
    def signoff(self, request, pk=None):
        from ..rectify.services import sign_off

        return self._act(request, pk, "office", lambda item, actor, req: sign_off(item, actor, self._text(req, "note")))
