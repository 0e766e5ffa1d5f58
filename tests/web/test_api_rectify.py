"""The rectification API (issue 18 item 8) on the shared small county (tests/web/conftest.py, its current round issued):
real tokens, the pages' scoping (a unit sees and answers for its own items only; another unit's item is 404, the office
and supervisors may not answer for a unit: 403), filters and pagination, the state in Chinese as in the UI, a claim that
queues the item's re-check at once (answered later: sites on 127.0.0.1:9 where nothing listens → 未能复查), disputes
accepted (an audited ignore) or rejected, the office's sign-off, and the OpenAPI schema."""

from __future__ import annotations

import json

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api_util import ids, many_findings
from browser_util import BUILD_PLATFORM, serving

PASSWORD = "Test-Passw0rd-42"  # tests/web/conftest.py
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
URL = "/api/v1/rectifications/"

pytestmark = pytest.mark.usefixtures("fresh_throttles")


def item_ids(platform, *keys) -> set[int]:
    return {platform.items[k].pk for k in keys}


def post(client, item, act, body=None, **kw):
    return client.post(f"{URL}{item.pk}/{act}/", body if body is not None else {}, format=kw.pop("format", "json"), **kw)


# --- reading ---

def test_each_role_sees_its_own_items_only(platform, api):
    I = platform.items
    assert set(I) == {"privacy", "still", "new_a", "b1", "b2", "town", "a_child"}
    everything = set(i.pk for i in I.values())
    assert ids(api("office").get(URL)) == everything
    assert ids(api("readonly").get(URL)) == everything
    assert ids(api("unit_a").get(URL)) == item_ids(platform, "privacy", "still", "new_a")  # not its child centre's
    assert ids(api("unit_b").get(URL)) == item_ids(platform, "b1", "b2")
    assert ids(api("supervisor").get(URL)) == item_ids(platform, "town")
    a = api("unit_a")
    for key in ("b1", "b2", "town", "a_child"):  # guessing ids: 404, never the content
        r = a.get(f"{URL}{I[key].pk}/")
        assert r.status_code == 404 and "不在本账号的查看范围内" in r.json()["detail"]
        assert platform.findings[key].detail not in r.content.decode()
    assert a.get(f"{URL}999999/").status_code == 404
    assert a.get(f"{URL}abc/").status_code == 404
    assert api("supervisor").get(f"{URL}{I['town'].pk}/").status_code == 200
    anon = APIClient()
    assert anon.get(URL).status_code == 401
    assert anon.get(f"{URL}{I['b1'].pk}/").status_code == 401
    assert post(anon, I["b1"], "claim", {"note": "已整改"}).status_code == 401


def test_list_fields_state_in_chinese_and_bounded_queries(platform, api, django_assert_max_num_queries):
    I, F, cur = platform.items, platform.findings, platform.rounds["current"]
    a = api("unit_a")
    with django_assert_max_num_queries(6):  # token+user, profile, count, page (with unit, round, finding), rule set
        r = a.get(URL)
    d = r.json()
    assert d["count"] == 3 and d["next"] is None
    row = next(x for x in d["results"] if x["id"] == I["privacy"].pk)
    assert row["state"] == "待整改" and row["state_code"] == "open"
    assert row["deadline"] == I["privacy"].deadline.isoformat()
    assert row["rule"] == "privacy.id_number" and row["rule_name"] and row["rule_name"] != row["rule"]
    assert row["unit"] == {"id": platform.units["a"].pk, "name": "测试县卫生健康局"}
    assert row["round_issued"] == {"id": cur.pk, "name": cur.name}
    assert row["finding"] == {"id": F["privacy"].pk, "url": F["privacy"].url, "detail": "公开了身份证号码", "round": cur.pk}
    assert row["closed_at"] is None and row["signed_off_at"] is None and row["created_at"]
    assert row["needs_signoff"] is False and row["recheck_round"] is None
    assert [x["deadline"] for x in d["results"]] == sorted(x["deadline"] for x in d["results"])

    with django_assert_max_num_queries(7):  # + events, attachments
        r = a.get(f"{URL}{I['privacy'].pk}/")
    detail = r.json()
    assert {k: v for k, v in detail.items() if k not in ("events", "attachments")} == row
    assert detail["attachments"] == []
    [issue] = detail["events"]
    assert issue["action"] == "下发" and issue["action_code"] == "issue" and issue["to_state"] == "待整改"
    assert issue["from_state"] == "" and issue["actor"] == "office" and issue["evidence"]["finding"] == F["privacy"].pk
    assert "整改期限" in issue["note"]


def _more_items(platform, n: int):
    """n more findings of unit A in the current round, issued: n more items."""
    from govinspect.rectify.services import issue_round

    many_findings(platform, n)
    cur = platform.rounds["current"]
    assert issue_round(cur, "office", issued_on=cur.as_of) == n


def test_filters_and_pagination(platform, api, django_assert_max_num_queries):
    from govinspect.rectify.services import dispute

    I, cur, prev = platform.items, platform.rounds["current"], platform.rounds["previous"]
    _more_items(platform, 60)
    a = api("unit_a")
    with django_assert_max_num_queries(6):  # the same few queries with 63 items as with 3
        d = a.get(URL).json()
    assert d["count"] == 63 and len(d["results"]) == 50 and d["next"]
    page2 = a.get(d["next"]).json()
    assert len(page2["results"]) == 13 and page2["next"] is None
    assert not {x["id"] for x in d["results"]} & {x["id"] for x in page2["results"]}

    dispute(I["privacy"], "unit_a", "该号码为虚构示例")
    assert ids(a.get(URL + "?state=申诉中")) == item_ids(platform, "privacy")
    assert ids(a.get(URL + "?state=disputed")) == item_ids(platform, "privacy")
    assert a.get(URL + "?state=待整改").json()["count"] == 62
    assert a.get(URL + "?state=open").json()["count"] == 62
    assert a.get(URL + "?state=已整改").json()["count"] == 0
    r = a.get(URL + "?state=完成")
    assert r.status_code == 400 and "待整改" in r.json()["detail"]
    assert a.get(URL + f"?round={cur.pk}").json()["count"] == 63
    assert a.get(URL + f"?round={prev.pk}").json()["count"] == 0  # the previous round was not issued
    r = a.get(URL + "?round=abc")
    assert r.status_code == 400 and "整数" in r.json()["detail"]
    o = api("office")
    assert ids(o.get(URL + f"?unit={platform.units['b'].pk}")) == item_ids(platform, "b1", "b2")
    assert ids(o.get(URL + f"?unit={platform.units['b'].pk}&state=待整改&round={cur.pk}")) == item_ids(platform, "b1", "b2")
    assert a.get(URL + f"?unit={platform.units['b'].pk}").json()["count"] == 0  # a filter never widens the scope
    assert a.get(URL + "?page=99").status_code == 404


# --- claim ---

def test_claim_by_the_unit_queues_the_recheck_and_its_answer_is_a_later_state(platform, api):
    from govinspect.rectify.services import run_item_recheck
    from govinspect.rounds.models import Round

    I, F = platform.items, platform.findings
    a = api("unit_a")
    r = post(a, I["privacy"], "claim", {"note": "已删除页面中的身份证号码"})
    assert r.status_code == 202, r.content.decode()
    d = r.json()
    assert d["state"] == "已反馈" and d["state_code"] == "claimed" and d["recheck_round"]
    rnd = Round.objects.get(pk=d["recheck_round"])
    assert rnd.item_recheck and rnd.status == "queued" and rnd.recheck_of_id == platform.rounds["current"].pk
    assert F["privacy"].pk in rnd.run_options["findings"]
    assert rnd.run_options["requested_by"] == "unit_a"
    claim_ev = d["events"][-1]
    assert claim_ev["action"] == "反馈已整改" and claim_ev["actor"] == "unit_a" and claim_ev["from_state"] == "待整改"
    assert claim_ev["to_state"] == "已反馈" and claim_ev["note"] == "已删除页面中的身份证号码"
    # a second claim while the first waits for its re-check: refused with the reason
    r = post(a, I["privacy"], "claim", {"note": "再次反馈"})
    assert r.status_code == 400 and "不能反馈已整改" in r.json()["detail"]

    run_item_recheck(rnd)  # the sites are on 127.0.0.1:9, where nothing listens
    d = a.get(f"{URL}{I['privacy'].pk}/").json()
    assert d["state"] == "未能复查" and d["state_code"] == "unverified" and d["recheck_round"] is None
    assert d["closed_at"] is None  # never counted as fixed
    last = d["events"][-1]
    assert last["action"] == "复查" and last["actor"] == "system" and last["from_state"] == "已反馈"
    assert last["evidence"]["recheck_round"] == rnd.pk and last["evidence"]["before"]["finding"] == F["privacy"].pk
    assert last["note"]
    assert a.get(URL + "?state=未能复查").json()["count"] == 1
    # 未能复查 may be claimed again (a new re-check queued)
    r = post(a, I["privacy"], "claim", {"note": "网站已恢复访问"})
    assert r.status_code == 202 and r.json()["recheck_round"] not in (None, rnd.pk)


def test_claim_with_files_and_a_refused_file(platform, api):
    import hashlib

    from govinspect.rectify.models import Attachment, Item

    I = platform.items
    a = api("unit_a")
    # a file that is not an image, PDF or Office document, whatever its name says: refused, nothing changes
    r = post(a, I["still"], "claim", {"note": "已修复链接", "files": [_upload("截图.png", b"MZ\x90\x00 not an image")]},
             format="multipart")
    assert r.status_code == 400 and "只能上传图片" in r.json()["detail"]
    assert Item.objects.get(pk=I["still"].pk).state == "open" and not Attachment.objects.exists()

    r = post(a, I["still"], "claim", {"note": "已修复链接", "files": [_upload("../../修复后截图.png", PNG)]},
             format="multipart")
    assert r.status_code == 202, r.content.decode()
    d = r.json()
    [att] = d["attachments"]
    assert att["name"] == "修复后截图.png" and att["content_type"] == "image/png" and att["size"] == len(PNG)
    assert att["sha256"] == hashlib.sha256(PNG).hexdigest() and att["uploaded_by"] == "unit_a"
    assert d["events"][-1]["action_code"] == "claim" and d["events"][-1]["attachments"] == [att["id"]]
    assert "key" not in att  # where it is stored is not the API's business
    try:  # the web's download of an attachment (served only to those who may see the item), when the web has it
        web_url = reverse("web:rectify_attachment", args=[att["id"]])
    except NoReverseMatch:
        web_url = None
    assert att["url"] == web_url
    # others may not see it: the item is out of unit B's scope
    assert api("unit_b").get(f"{URL}{I['still'].pk}/").status_code == 404
    assert api("office").get(f"{URL}{I['still'].pk}/").json()["attachments"] == [att]


def _upload(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="image/png")


def test_only_the_unit_may_claim(platform, api):
    from govinspect.rectify.models import Item, ItemEvent

    I = platform.items
    before = ItemEvent.objects.count()
    r = post(api("unit_a"), I["b1"], "claim", {"note": "已整改"})  # another unit's item
    assert r.status_code == 404 and platform.findings["b1"].detail not in r.content.decode()
    r = post(api("unit_a"), I["a_child"], "claim", {"note": "已整改"})  # its child centre answers for itself
    assert r.status_code == 404
    for who in ("office", "readonly"):
        r = post(api(who), I["b1"], "claim", {"note": "已整改"})
        assert r.status_code == 403 and "责任单位" in r.json()["detail"], who
    r = post(api("supervisor"), I["town"], "claim", {"note": "已整改"})  # it sees the item, it does not answer for it
    assert r.status_code == 403
    b = api("unit_b")
    for body in ({"note": ""}, {"note": "   "}, {}):
        r = post(b, I["b1"], "claim", body)
        assert r.status_code == 400 and r.json()["detail"] == "请说明整改情况", body
    r = post(b, I["b1"], "claim", {"note": ["列表"]})
    assert r.status_code == 400 and "note" in r.json()["detail"]
    r = b.post(f"{URL}{I['b1'].pk}/claim/", "not json", content_type="application/json")
    assert r.status_code == 400 and "JSON" in r.json()["detail"]
    r = b.post(f"{URL}{I['b1'].pk}/claim/", "note", content_type="text/plain")
    assert r.status_code == 400 and "JSON" in r.json()["detail"]
    assert ItemEvent.objects.count() == before and Item.objects.get(pk=I["b1"].pk).state == "open"
    r = b.get(f"{URL}{I['b1'].pk}/claim/")
    assert r.status_code == 405
    # a body larger than 5 files of upload_max_mb (10 MB) is refused before it is read
    r = post(b, I["b1"], "claim", {"note": "已整改"}, format="multipart", CONTENT_LENGTH=str(60 * 1024 * 1024))
    assert r.status_code == 413 and "10MB" in r.json()["detail"]
    r = post(b, I["b1"], "claim", {"note": "已" * 5001})
    assert r.status_code == 400 and "5000" in r.json()["detail"]
    for fmt in ("json", "multipart"):  # past Django's 2.5 MB for what is not a file: answered in JSON too
        r = post(b, I["b1"], "claim", {"note": "已" * 1_000_000}, format=fmt)
        assert r.status_code == 413 and "过大" in r.json()["detail"], fmt
    assert ItemEvent.objects.count() == before


def test_actions_are_throttled_per_account(platform, api):
    I = platform.items
    b = api("unit_b")
    for _ in range(60):
        assert post(b, I["b1"], "claim", {"note": ""}).status_code == 400
    assert post(b, I["b1"], "claim", {"note": "已整改"}).status_code == 429
    assert post(api("unit_a"), I["privacy"], "claim", {"note": "已整改"}).status_code == 202  # per account


# --- dispute, accept, reject, sign-off ---

def test_dispute_then_accept_makes_an_audited_ignore(platform, api):
    from govinspect.rounds.models import Finding, Ignore

    I, F = platform.items, platform.findings
    b, o = api("unit_b"), api("office")
    r = post(b, I["b1"], "dispute", {"reason": ""})
    assert r.status_code == 400 and r.json()["detail"] == "申诉必须说明理由"
    assert post(api("unit_a"), I["b1"], "dispute", {"reason": "不是问题"}).status_code == 404
    assert post(o, I["b1"], "dispute", {"reason": "不是问题"}).status_code == 403
    r = post(b, I["b1"], "dispute", {"reason": "这是国务院文件的原文标题"})
    assert r.status_code == 200 and r.json()["state"] == "申诉中"
    r = post(b, I["b1"], "accept", {"note": "自己同意"})
    assert r.status_code == 403 and "检查单位" in r.json()["detail"]
    assert post(api("readonly"), I["b1"], "accept", {"note": "同意"}).status_code == 403
    r = post(o, I["b1"], "accept", {"note": ""})
    assert r.status_code == 400 and "理由" in r.json()["detail"]
    assert not Ignore.objects.exists()
    r = post(o, I["b1"], "accept", {"note": "原文引用，不是问题"})
    assert r.status_code == 200, r.content.decode()
    d = r.json()
    assert d["state"] == "申诉成立" and d["closed_at"]
    ig = Ignore.objects.get()
    assert Finding.objects.get(pk=F["b1"].pk).ignored_by_id == ig.pk
    assert f"事项{I['b1'].pk}" in ig.reason and "原文引用" in ig.reason and ig.created_by == "office"
    acts = [(e["action"], e["actor"], e["to_state"]) for e in d["events"]]
    assert acts[-2:] == [("申诉", "unit_b", "申诉中"), ("同意申诉", "office", "申诉成立")]
    assert d["events"][-1]["evidence"]["ignore"] == ig.pk
    r = post(o, I["b1"], "accept", {"note": "再次同意"})
    assert r.status_code == 400 and "没有待处理的申诉" in r.json()["detail"]
    assert b.get(URL + "?state=申诉成立").json()["count"] == 1


def test_dispute_rejected_goes_back_to_the_unit(platform, api):
    I = platform.items
    b, o = api("unit_b"), api("office")
    r = post(o, I["b2"], "reject", {"note": "没有申诉"})
    assert r.status_code == 400 and "没有待处理的申诉" in r.json()["detail"]
    assert post(b, I["b2"], "dispute", {"reason": "该链接不是非法网站"}, format="multipart").status_code == 200
    assert post(b, I["b2"], "reject", {"note": "驳回"}).status_code == 403
    r = post(o, I["b2"], "reject", {"note": "经核实为非法网站"})
    assert r.status_code == 200
    d = r.json()
    late = I["b2"].deadline < timezone.localdate()
    assert d["state"] == ("逾期" if late else "待整改") and d["closed_at"] is None
    assert d["events"][-1]["action"] == "驳回申诉" and d["events"][-1]["note"] == "经核实为非法网站"
    # back with the unit: it may claim it fixed now
    assert post(b, I["b2"], "claim", {"note": "已删除该链接"}).status_code == 202


def _signoff_required(rnd):
    """The round's rules with rectify.toml `signoff = true` (as a scheme's [rectify] would set it)."""
    from govinspect.rounds.models import Round
    from govinspect.rules.ruleset import RuleSet

    rules = RuleSet.load(rnd.scheme)
    snap = rules.snapshot()
    snap["files"]["rectify"] = {**snap["files"]["rectify"], "signoff": True}
    Round.objects.filter(pk=rnd.pk).update(rules_snapshot=snap, rules_hash=RuleSet.from_snapshot(snap).hash)


def test_signoff(platform, api):
    from govinspect.rectify.services import transition

    I = platform.items
    a, o = api("unit_a"), api("office")
    r = post(o, I["new_a"], "signoff")
    assert r.status_code == 400 and "复查确认已整改后才能确认" in r.json()["detail"]
    transition(I["new_a"], "fixed", "system", "recheck", note="复查未再发现该问题")
    row = a.get(f"{URL}{I['new_a'].pk}/").json()
    assert row["state"] == "已整改" and row["closed_at"] and row["needs_signoff"] is False  # the shipped rules: no sign-off
    _signoff_required(platform.rounds["current"])
    row = a.get(f"{URL}{I['new_a'].pk}/").json()
    assert row["needs_signoff"] is True
    assert ids(o.get(URL + "?state=已整改")) == item_ids(platform, "new_a")
    assert [x["needs_signoff"] for x in o.get(URL).json()["results"]].count(True) == 1
    assert post(a, I["new_a"], "signoff").status_code == 403
    assert post(api("supervisor"), I["new_a"], "signoff").status_code == 404
    r = post(o, I["new_a"], "signoff", {"note": "已核实"})
    assert r.status_code == 200, r.content.decode()
    d = r.json()
    assert d["signed_off_at"] and d["needs_signoff"] is False and d["state"] == "已整改"
    assert (d["events"][-1]["action"], d["events"][-1]["actor"], d["events"][-1]["note"]) == ("确认整改", "office", "已核实")
    r = post(o, I["new_a"], "signoff", {})
    assert r.status_code == 400 and r.json()["detail"] == "该事项已经确认"


# --- schema ---

def test_schema_documents_the_endpoints(platform):
    r = APIClient().get("/api/v1/schema/?format=json")
    assert r.status_code == 200
    schema = json.loads(r.content)
    paths = schema["paths"]
    base = "/api/v1/rectifications/"
    assert {base, base + "{id}/"} <= set(paths)
    for act in ("claim", "dispute", "accept", "reject", "signoff"):
        op = paths[f"{base}{{id}}/{act}/"]["post"]
        assert op["summary"] and any("\u4e00" <= ch <= "\u9fff" for ch in op["description"]), act
        assert {"400", "403", "404"} <= set(op["responses"]), act
    claim = paths[base + "{id}/claim/"]["post"]
    assert "202" in claim["responses"] and "复查" in claim["description"]
    assert {"application/json", "multipart/form-data"} <= set(claim["requestBody"]["content"])
    assert {"round", "unit", "state"} <= {p["name"] for p in paths[base]["get"]["parameters"]}
    comps = schema["components"]["schemas"]
    item = comps["Item"]["properties"]
    assert {"id", "state", "state_code", "deadline", "rule_name", "unit", "round_issued", "finding", "needs_signoff"} <= set(item)
    assert "待整改" in item["state"]["description"]
    assert {"events", "attachments"} <= set(comps["ItemDetail"]["properties"])


# --- the README's examples, run with curl against `govinspect serve` holding the test county ---

@pytest.fixture
def served_county(tmp_path):
    """`govinspect serve` (no runner: a queued re-check stays queued) on a data directory holding the county of
    tests/web/conftest.py with its current round issued; its port."""
    with serving(tmp_path, BUILD_PLATFORM, runner=False, timeout=180) as srv:
        yield srv.port


def test_readme_rectification_examples_as_a_unit(served_county):
    """The README's token line (as unit_a), then its rectification lines as printed: the list of 待整改 items (the
    Chinese state sent URL-encoded by curl), then the claim of the first of them (编号) → 已反馈 with its re-check queued."""
    import shlex
    import subprocess

    from test_readme_api import curl_lines

    lines = curl_lines()
    token_line = lines[0]
    rect = [l for l in lines if "/rectifications/" in l]
    assert len(rect) == 2 and "claim/" in rect[1], rect

    def run(line, **subs):
        cmd = line.replace("127.0.0.1:8000", f"127.0.0.1:{served_county}")
        for k, v in subs.items():
            assert k in cmd, (k, line)
            cmd = cmd.replace(k, v)
        r = subprocess.run(shlex.split(cmd), capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, (line, r.stderr)
        return json.loads(r.stdout)

    token = run(token_line, **{'"office"': '"unit_a"', "密码": PASSWORD})["token"]
    listed = run(rect[0], 令牌=token)
    assert listed["count"] == 3 and {x["state"] for x in listed["results"]} == {"待整改"}
    assert {x["unit"]["name"] for x in listed["results"]} == {"测试县卫生健康局"}
    first = listed["results"][0]
    claimed = run(rect[1], 令牌=token, 编号=str(first["id"]))
    assert claimed["id"] == first["id"] and claimed["state"] == "已反馈" and claimed["recheck_round"]
    assert claimed["events"][-1]["actor"] == "unit_a" and claimed["events"][-1]["note"]
    again = run(rect[0], 令牌=token)
    assert again["count"] == 2 and first["id"] not in {x["id"] for x in again["results"]}
