"""The API's endpoints. Every read goes through govinspect/web/access.py, the same scoping as the pages: a unit reads
its own units' rounds numbers, findings, evidence and units only; anything else is answered 404, whatever id is asked.

    POST /api/v1/auth/token/          {"username", "password"} -> {"token"} (django-axes counts failures)
    GET  /api/v1/rounds/ , /rounds/{id}/
    GET  /api/v1/findings/ (?round= ?unit= ?site= ?rule= ?severity= ?include_ignored=1), /findings/{id}/,
         /findings/{id}/evidence/
    GET  /api/v1/units/ , /units/{id}/
    POST /api/v1/check-text/          the pre-publication check: {"text"} or {"html"} -> content findings
    GET  /api/v1/schema/              OpenAPI 3 (drf-spectacular; ?format=json)
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.contrib.auth import authenticate
from django.db.models import Count, Q, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from ..rounds.models import Finding, Round
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
    return value.encode("utf-8", "replace").decode("utf-8")


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
