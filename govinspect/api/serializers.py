"""What the API answers, field by field (the OpenAPI schema is made from these)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..rectify.models import STATES
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


# --- rectification items (整改事项) ---

class RoundRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ItemFindingSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="问题编号（/api/v1/findings/{id}/）")
    url = serializers.CharField(help_text="问题所在页面地址")
    detail = serializers.CharField(help_text="问题描述")
    round = serializers.IntegerField(help_text="发现该问题的检查轮次编号")


class ItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="整改事项编号")
    state = serializers.CharField(help_text="状态（中文，与网页显示相同）：待整改、已反馈、已整改、仍存在、未能复查、申诉中、逾期、申诉成立")
    state_code = serializers.ChoiceField(choices=[c for c, _ in STATES],
                                         help_text="状态代码：open、claimed、fixed、present、unverified、disputed、overdue、accepted")
    deadline = serializers.DateField(help_text="整改期限")
    rule = serializers.CharField(help_text="规则编号")
    rule_name = serializers.CharField(help_text="规则的中文名称")
    unit = UnitRefSerializer(help_text="责任单位")
    round_issued = RoundRefSerializer(help_text="下发本事项的检查轮次")
    created_at = serializers.DateTimeField(help_text="下发时间")
    closed_at = serializers.DateTimeField(allow_null=True, help_text="办结时间（已整改或申诉成立；未办结为 null）")
    signed_off_at = serializers.DateTimeField(allow_null=True, help_text="检查单位确认整改的时间（未确认为 null）")
    finding = ItemFindingSerializer(allow_null=True, help_text="最近一次发现该问题的记录")
    needs_signoff = serializers.BooleanField(help_text="复查已整改、按方案须检查单位确认而尚未确认")
    recheck_round = serializers.IntegerField(allow_null=True, help_text="正在排队或运行的复查任务（轮次编号；没有时为 null）")


class ItemEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="时间")
    actor = serializers.CharField(help_text="操作人（账号或 system）")
    action = serializers.CharField(help_text="操作（中文）：下发、反馈已整改、复查、申诉、同意申诉、驳回申诉、确认整改等")
    action_code = serializers.CharField(help_text="操作代码：issue、claim、recheck、dispute、accept、reject、signoff 等")
    from_state = serializers.CharField(allow_blank=True, help_text="原状态（中文；下发时为空）")
    to_state = serializers.CharField(help_text="新状态（中文）")
    note = serializers.CharField(allow_blank=True, help_text="说明")
    evidence = serializers.JSONField(help_text="证据：问题记录、网页存档位置、抓取时间；复查时为 before/after 两次抓取和复查任务编号")
    attachments = serializers.ListField(child=serializers.IntegerField(), help_text="随本次操作上传的材料编号")


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="文件名")
    content_type = serializers.CharField(help_text="按文件内容识别的类型")
    size = serializers.IntegerField(help_text="大小（字节）")
    sha256 = serializers.CharField(help_text="SHA-256")
    uploaded_by = serializers.CharField(help_text="上传人")
    at = serializers.DateTimeField(help_text="上传时间")
    url = serializers.CharField(allow_null=True, help_text="在网页上下载该材料的地址（登录后，仅对可查看该事项的账号开放；没有时为 null）")


class ItemDetailSerializer(ItemSerializer):
    events = ItemEventSerializer(many=True, help_text="整改记录（按时间先后，只增不改）")
    attachments = AttachmentSerializer(many=True, help_text="单位上传的材料")


class ClaimRequestSerializer(serializers.Serializer):
    note = serializers.CharField(help_text="整改情况说明（必填）")
    files = serializers.ListField(child=serializers.FileField(), required=False,
                                  help_text="材料（multipart/form-data 时可附，最多 5 个：图片、PDF 或 Office 文档）")


class DisputeRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="申诉理由（必填）")
    files = serializers.ListField(child=serializers.FileField(), required=False,
                                  help_text="材料（multipart/form-data 时可附，最多 5 个）")


class NoteRequestSerializer(serializers.Serializer):
    note = serializers.CharField(help_text="理由（必填）")


class SignoffRequestSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, help_text="说明（可不填）")
