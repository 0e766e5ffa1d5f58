"""What the API answers, field by field (the OpenAPI schema is made from these)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..rounds.models import Finding, Round
from ..registry.models import Unit


# --- auth ---

class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, help_text="平台账号用户名")
    password = serializers.CharField(max_length=256, trim_whitespace=False, style={"input_type": "password"},
                                     help_text="密码")


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="之后的请求带上请求头 Authorization: Token <token>")


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="错误说明（中文）")


# --- rounds ---

class VerdictCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    checked = serializers.IntegerField(help_text="已检查")
    could_not_check = serializers.IntegerField(help_text="未能检查")
    passed = serializers.IntegerField(help_text="合格")
    failed = serializers.IntegerField(help_text="不合格")
    unknown = serializers.IntegerField(help_text="结论未定（未能检查等）")


class FindingCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="问题数（不含已忽略）")
    veto = serializers.IntegerField(help_text="单项否决问题数")
    high = serializers.IntegerField(help_text="严重")
    medium = serializers.IntegerField(help_text="一般")
    low = serializers.IntegerField(help_text="轻微")


class RoundCountsSerializer(serializers.Serializer):
    sites = VerdictCountsSerializer(help_text="网站（只含本账号可见单位的网站）")
    accounts = VerdictCountsSerializer(help_text="新媒体账号（只含本账号可见单位的账号）")
    findings = FindingCountsSerializer(help_text="问题（只含本账号可见单位的问题）")


class RoundSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    counts = serializers.SerializerMethodField()

    class Meta:
        model = Round
        fields = ["id", "name", "region", "office", "as_of", "status", "status_display", "scheme", "doc_number",
                  "recheck_of", "created_at", "started_at", "finished_at", "counts"]

    def get_counts(self, obj) -> RoundCountsSerializer:
        return self.context["counts"][obj.pk]


class RoundSiteSerializer(serializers.Serializer):
    website = serializers.IntegerField(source="website_id")
    name = serializers.CharField(source="website.name")
    home_url = serializers.CharField(source="website.home_url")
    unit = serializers.IntegerField(source="website.owner_id")
    status = serializers.CharField()
    verdict = serializers.CharField()
    score = serializers.IntegerField(allow_null=True)
    pages_fetched = serializers.IntegerField()
    reason = serializers.CharField(help_text="未能检查的原因等")


class RoundDetailSerializer(RoundSerializer):
    sites = serializers.SerializerMethodField()

    class Meta(RoundSerializer.Meta):
        fields = RoundSerializer.Meta.fields + ["sites"]

    def get_sites(self, obj) -> RoundSiteSerializer(many=True):
        return RoundSiteSerializer(self.context["sites"], many=True).data


# --- findings ---

class UnitRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class SiteRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    home_url = serializers.CharField()


class FindingSerializer(serializers.ModelSerializer):
    rule_name = serializers.SerializerMethodField(help_text="规则的中文名称")
    severity_display = serializers.CharField(source="get_severity_display", read_only=True)
    location = serializers.SerializerMethodField()
    unit = serializers.SerializerMethodField(help_text="责任单位")
    site = serializers.SerializerMethodField(help_text="问题所在网站（新媒体、台账等问题为 null）")
    account = serializers.SerializerMethodField(help_text="问题所在新媒体账号（网站问题为 null）")
    text = serializers.CharField(source="match", help_text="命中内容（个人信息为脱敏后的形式）")
    ignored = serializers.SerializerMethodField(help_text="已被检查单位标记为“不是问题”")

    class Meta:
        model = Finding
        fields = ["id", "round", "rule", "rule_name", "detail", "subject_kind", "subject", "location", "text", "facts",
                  "severity", "severity_display", "veto", "unit", "site", "account", "fingerprint", "ignored"]

    def get_rule_name(self, obj) -> str:
        rules = self.context.get("rules", {}).get(obj.round_id)
        return (rules.rule(obj.rule).get("name") if rules is not None else None) or obj.rule

    def get_location(self, obj) -> dict:
        return obj.location.to_dict()

    def get_unit(self, obj) -> UnitRefSerializer(allow_null=True):
        u = obj.responsible_unit
        return {"id": u.pk, "name": u.name} if u is not None else None

    def get_site(self, obj) -> SiteRefSerializer(allow_null=True):
        rs = obj.round_site
        if rs is None:
            return None
        w = rs.website
        return {"id": w.pk, "name": w.name, "home_url": w.home_url}

    def get_account(self, obj) -> UnitRefSerializer(allow_null=True):
        ra = obj.round_account
        if ra is None:
            return None
        a = ra.account
        return {"id": a.pk, "name": f"{a.platform}：{a.name}"}

    def get_ignored(self, obj) -> bool:
        return obj.ignored_by_id is not None


class EvidenceSerializer(serializers.Serializer):
    finding = serializers.IntegerField(help_text="问题编号")
    rule = serializers.CharField()
    rule_name = serializers.CharField()
    url = serializers.CharField(help_text="问题所在页面地址")
    captured_at = serializers.CharField(allow_null=True, help_text="抓取时间（ISO 8601）")
    http_status = serializers.IntegerField(allow_null=True, help_text="抓取时的 HTTP 状态码")
    excerpt = serializers.CharField(help_text="命中处前后的文字（个人信息已脱敏）")
    hit = serializers.ListField(child=serializers.IntegerField(), allow_null=True,
                                help_text="命中内容在 excerpt 中的 [起, 止) 位置")
    hit_text = serializers.CharField(allow_null=True, help_text="excerpt 中命中的文字")
    coverage = serializers.CharField(allow_blank=True, help_text="网站只部分检查时的说明")
    has_capture = serializers.BooleanField(help_text="是否存有抓取时的网页存档（WARC 记录）")
    page_url = serializers.CharField(allow_null=True, help_text="在网页上查看抓取时页面的地址（无存档时为 null）")


# --- units ---

class UnitSerializer(serializers.ModelSerializer):
    parent = serializers.SerializerMethodField(help_text="上级单位编号（不在本账号可见范围内时为 null）")
    class Meta:
        model = Unit
        fields = ["id", "name", "short_name", "kind", "region", "parent", "supervisor"]

    def get_parent(self, obj) -> int | None:
        visible = self.context.get("visible")
        if obj.parent_id is None or (visible is not None and obj.parent_id not in visible):
            return None
        return obj.parent_id


class WebsiteRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    home_url = serializers.CharField()
    is_portal = serializers.BooleanField()


class UnitDetailSerializer(UnitSerializer):
    websites = serializers.SerializerMethodField()

    class Meta(UnitSerializer.Meta):
        fields = UnitSerializer.Meta.fields + ["websites"]

    def get_websites(self, obj) -> WebsiteRefSerializer(many=True):
        return [{"id": w.pk, "name": w.name, "home_url": w.home_url, "is_portal": w.is_portal} for w in obj.websites.all()]


# --- pre-publication check ---

@extend_schema_field(OpenApiTypes.STR)
class RawTextField(serializers.Field):
    """A string taken exactly as sent: NUL and other control characters, leading "=", spaces are all just text
    (CharField would refuse NUL and trim)."""

    default_error_messages = {"invalid": "应为字符串"}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class CheckTextRequestSerializer(serializers.Serializer):
    text = RawTextField(required=False, help_text="待检查的文字（与 html 二选一）")
    html = RawTextField(required=False, help_text="待检查的 HTML（只检查其中可见的文字，脚本和样式不检查）")
    rules = serializers.ListField(child=serializers.CharField(max_length=60), required=False, max_length=20,
                                  help_text="只检查这些规则（规则编号或前缀，如 content.sensitive、privacy）；默认全部")
    typos = serializers.BooleanField(required=False, default=True, help_text="是否检查错别字（较慢），默认是")


class CheckTextHitSerializer(serializers.Serializer):
    rule = serializers.CharField(help_text="规则编号，如 content.sensitive、privacy.id_number")
    rule_name = serializers.CharField(help_text="规则的中文名称")
    category = serializers.CharField(help_text="类别，如 赌博、固定表述、身份证号码")
    severity = serializers.CharField(help_text="high / medium / low")
    start = serializers.IntegerField(help_text="在检查的文字中的起始位置（字符）")
    end = serializers.IntegerField(help_text="结束位置（不含）")
    text = serializers.CharField(help_text="命中的文字（个人信息为脱敏后的形式）")
    suggestion = serializers.CharField(allow_blank=True, help_text="建议的改法")
    context = serializers.CharField(help_text="命中处前后的文字，命中部分用【】标出（个人信息已脱敏）")


class CheckTextResponseSerializer(serializers.Serializer):
    findings = CheckTextHitSerializer(many=True)
    masked = serializers.IntegerField(help_text="已按规定脱敏的个人信息处数（合规，不是问题）")
    characters = serializers.IntegerField(help_text="检查的字符数（HTML 为提取出的文字）")
