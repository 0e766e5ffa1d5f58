"""Letters and 12345 tickets: import (good, malformed, GBK, large), working-day deadlines, statistics."""

import datetime as dt
import json

import pytest

from govinspect.engine import letters as L
from govinspect.engine.finding import Location, Subject
from govinspect.letters.models import ImportBatch, Letter
from govinspect.letters.services import engine_letters, import_letters, letters
from govinspect.rules.ruleset import RuleSet
from govinspect.sandbox.letters import export_csv_gbk, export_xlsx, generate_letters

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2025, 11, 10)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_sandbox_export_imports_with_every_bad_row_reported(tmp_path, fmt):
    rows, truth = generate_letters(n=150)
    f = tmp_path / f"export.{fmt}"
    f.write_bytes(export_csv_gbk(rows) if fmt == "csv" else export_xlsx(rows))
    batch = import_letters(f, "hotline", as_of=AS_OF)
    assert batch.rows_ok == 150 and Letter.objects.count() == 150
    assert {e["row"] for e in batch.errors} == set(truth["bad_rows"])  # nothing silently dropped
    for e in batch.errors:
        assert any(part in e["reason"] for part in truth["bad_rows"][e["row"]].split("|")), e
    assert batch.mapping["received"] == "受理时间" and batch.mapping["replied"] == "办结时间"
    # deadlines across the 2025 National Day break and its adjusted Saturday/Sunday, against the truth tables
    got = {l.ref: l for l in letters("hotline", dt.date(2025, 1, 1), AS_OF)}
    for ref, t in truth["letters"].items():
        a = L.assess(got[ref], AS_OF)
        assert a.due.isoformat() == t["due"], (ref, t)
        expected = {"on_time": "on_time", "late": "late", "open": "overdue_open" if AS_OF > a.due else "open"}[t["state"]]
        assert a.state == expected, (ref, t, a)
    # importing the same file again adds nothing and says why
    again = import_letters(f, "hotline", as_of=AS_OF)
    assert again.rows_ok == 0 and Letter.objects.count() == 150
    assert sum("已导入过" in e["reason"] for e in again.errors) == 151  # the 150 and the planted in-file duplicate


def test_deadline_over_national_day_and_adjusted_days():
    mk = lambda r, p=None, t="咨询": L.Letter(row=2, received=dt.datetime.fromisoformat(r), type=t,
                                           replied=dt.datetime.fromisoformat(p) if p else None)
    # received Tue 30 Sep 2025: 2 working days -> Fri 10 Oct (1-8 Oct off, Thu 9 is the first)
    assert L.assess(mk("2025-09-30 10:00"), AS_OF).due == dt.date(2025, 10, 10)
    assert L.assess(mk("2025-09-26 16:00"), AS_OF).due == dt.date(2025, 9, 29)  # Sat 27 off, Sun 28 worked
    assert L.assess(mk("2025-10-10 09:00", t="投诉"), AS_OF).due == dt.date(2025, 10, 16)  # Sat 11 Oct worked
    assert L.assess(mk("2025-09-30 10:00", "2025-10-10 17:00"), AS_OF).state == "on_time"
    assert L.assess(mk("2025-09-30 10:00", "2025-10-11 09:00"), AS_OF).state == "late"  # Sat 11 Oct was a working day
    # Spring Festival 2024: received Fri 9 Feb, 2 working days -> 18 Feb (adjusted Sunday) then 19 Feb
    assert L.assess(mk("2024-02-09 10:00"), AS_OF).due == dt.date(2024, 2, 19)
    # 2026: Spring Festival (Sat 14 Feb worked, 16-23 Feb off) and National Day (1-7 Oct off, Sat 10 Oct worked)
    assert L.assess(mk("2026-02-13 10:00"), AS_OF).due == dt.date(2026, 2, 24)
    assert L.assess(mk("2026-09-30 10:00"), AS_OF).due == dt.date(2026, 10, 9)
    assert L.assess(mk("2026-10-09 10:00", t="投诉"), AS_OF).due == dt.date(2026, 10, 15)
    unknown = L.assess(mk("2031-03-02 10:00"), dt.date(2031, 4, 1))
    assert unknown.state == "unknown" and "workdays.toml" in unknown.reason  # never guessed


def seed_003_letters():
    """三季度…共收到网民留言31件，办结31件，办结率100%，按时办结率93.54%（住建局县长信箱超期2件）。其中，咨询类5件，
    投诉类15件，建议类5件，求助类4件，举报类2件，分别交由7个镇和10个单位办理。"""
    rows = []
    day = dt.datetime(2025, 7, 7, 9, 0)  # a Monday
    counts = {"咨询": 5, "投诉": 15, "建议": 5, "求助": 4, "举报": 2}
    for typ, n in counts.items():
        for i in range(n):
            rows.append(L.Letter(row=len(rows) + 2, received=day, type=typ, unit="某镇", replied=day + dt.timedelta(days=1)))
    places = [f"{n}镇" for n in "双石唐藏平木留凤关红花铺黄牛铺"[:7]] + ["住建局县长信箱"] + [f"单位{i}" for i in range(9)]
    for i, r in enumerate(rows):  # 7 towns and 10 units share the letters
        r.unit = places[i % len(places)] if places[i % len(places)] != "住建局县长信箱" else "单位0"
    for r in rows[5:7]:  # two complaints answered a month later by the housing bureau's mailbox
        r.unit, r.replied = "住建局县长信箱", day + dt.timedelta(days=30)
    return rows


def test_seed_003_letter_statistics_exactly():
    county = RuleSet.load("county-example")  # the seed-003 county's scheme: rates truncated
    s = L.statistics(seed_003_letters(), dt.date(2025, 9, 30), county)
    assert L.prose(s) == ("共收到网民留言31件，办结31件，办结率100%，按时办结率93.54%（住建局县长信箱超期2件）。"
                          "其中，咨询类5件，投诉类15件，建议类5件，求助类4件，举报类2件，分别交由7个镇和10个单位办理。")


def test_one_rounding_the_schemes():
    """Letter statistics round every rate the way the scheme rounds the bulletin's rates (RuleSet.rate)."""
    rows = seed_003_letters()
    for scheme, expected in (("county-example", "93.54"), ("national-2019", "93.55")):
        rs = RuleSet.load(scheme)
        s = L.statistics(rows, dt.date(2025, 9, 30), rs)
        assert s["on_time_rate"] == rs.rate(29, 31) == expected and s["closed_rate"] == "100"
        assert f"按时办结率{expected}%" in L.prose(s)
        assert s["by_unit"]["住建局县长信箱"]["on_time_rate"] == "0" and s["topic_share"]["其他"] == "100"


def test_letters_stats_command_rounds_like_the_bulletin(tmp_path, capsys):
    """`letters stats` (national scheme by default) prints 29/31 as the national bulletin does: 93.55."""
    from govinspect.cli import main

    rows = [["编号", "受理时间", "办结时间", "类型", "承办单位"]]
    for i, r in enumerate(seed_003_letters()):
        rows.append([f"GD{i:03d}", f"{r.received:%Y/%m/%d %H:%M}", f"{r.replied:%Y/%m/%d %H:%M}", r.type, r.unit])
    f = tmp_path / "留言.csv"
    f.write_bytes(export_csv_gbk(rows))
    assert main(["letters", "import", str(f), "--channel", "mailbox", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["letters", "stats", "--channel", "mailbox", "--from", "2025-07-01", "--to", "2025-09-30",
                 "--as-of", "2025-09-30"]) == 0
    assert f"按时办结率{RuleSet.load().rate(29, 31)}%" in capsys.readouterr().out


def test_overdue_letters_and_tickets_are_findings_on_the_handling_unit(tmp_path):
    rows = [["编号", "受理时间", "办结时间", "类型", "承办单位"],
            ["GD-1", "2025/09/30 10:00", "2025/10/10 17:00", "咨询", "水利局"],  # due Fri 10 Oct: on time
            ["GD-2", "2025/09/30 10:00", "2025/10/11 09:00", "咨询", "住建局"],  # Sat 11 Oct worked: late
            ["GD-3", "2025/10/20 10:00", "", "投诉", "民政局"],  # due Mon 27 Oct, open at 10 Nov
            ["GD-4", "2025/11/07 10:00", "", "投诉", "民政局"]]  # due 14 Nov: still in time
    f = tmp_path / "工单.csv"
    f.write_bytes(export_csv_gbk(rows))
    import_letters(f, "hotline", as_of=AS_OF)
    mail = tmp_path / "信箱.csv"
    mail.write_bytes(export_csv_gbk([rows[0], ["XX-9", "2025/10/09 09:00", "", "建议", "教育局"]]))
    import_letters(mail, "mailbox", as_of=AS_OF)
    rs = RuleSet.load()
    found = L.letter_findings(engine_letters(dt.date(2025, 9, 1), AS_OF), AS_OF, (dt.date(2025, 9, 1), AS_OF), rs)
    assert sorted((x.rule, x.subject.ref) for x in found) == [("letter.overdue", "XX-9"), ("ticket.overdue", "GD-2"),
                                                              ("ticket.overdue", "GD-3")]
    late = next(x for x in found if x.subject.ref == "GD-2")
    assert late.subject == Subject(kind="ticket", unit="住建局", ref="GD-2")
    assert late.location == Location(file="工单.csv", row=3)
    assert late.facts == {"number": "GD-2", "kind": "咨询", "unit": "住建局", "received": "2025-09-30 10:00:00",
                          "due": "2025-10-10", "finished": "2025-10-11 09:00:00", "workdays": 2, "taken": 3}
    open_ = next(x for x in found if x.subject.ref == "GD-3")
    assert open_.facts["finished"] is None and open_.facts["due"] == "2025-10-27" and "仍未办结" in open_.detail
    # the scheme's deadlines decide: 10 working days for complaints and GD-3 (open since 20 Oct) is still in time
    lenient = RuleSet.from_snapshot({**rs.snapshot(), "files": {**rs.files, "letters": {
        **rs["letters"], "deadline_workdays": {**rs["letters"]["deadline_workdays"], "投诉": 20}}}})
    refs = [x.subject.ref for x in L.letter_findings(engine_letters(dt.date(2025, 9, 1), AS_OF), AS_OF, None, lenient)]
    assert "GD-3" not in refs and "GD-2" in refs
    # the period limits the letters judged; a finding keeps its fingerprint when judged again
    assert L.letter_findings(engine_letters(dt.date(2025, 9, 1), AS_OF), AS_OF, (dt.date(2025, 10, 1), AS_OF), rs) != found
    again = L.letter_findings(engine_letters(dt.date(2025, 9, 1), AS_OF), AS_OF, None, rs)
    assert {x.fingerprint for x in again} == {x.fingerprint for x in found}


def test_seed_001_simulated_letters(tmp_path, capsys):
    """信件办理模拟测评发出信件46件，在2个工作日答复的14个，5个工作日内答复的22个，超期答复2个，截至8月23日仍未答复8个"""
    from govinspect.cli import main

    rows = [["编号", "发送时间", "答复时间", "单位"]]
    sent = dt.datetime(2025, 8, 4, 9)  # Monday
    plan = [1] * 14 + [4] * 22 + [9] * 2 + [None] * 8
    for i, days in enumerate(plan):
        replied = sent + dt.timedelta(days=days) if days else None
        rows.append([f"MN{i:03d}", f"{sent:%Y/%m/%d %H:%M}", f"{replied:%Y/%m/%d %H:%M}" if replied else "", f"单位{i}"])
    f = tmp_path / "模拟测评.csv"
    f.write_bytes(export_csv_gbk(rows))
    assert main(["letters", "import", str(f), "--channel", "simulated", "--map", "答复时间=replied", "--quiet"]) == 0
    assert "已导入 46 行" in capsys.readouterr().out
    assert main(["letters", "stats", "--channel", "simulated", "--from", "2025-08-01", "--to", "2025-08-31", "--as-of", "2025-08-23"]) == 0
    assert capsys.readouterr().out.strip() == ("模拟测评发出信件46件，2个工作日内答复14件，5个工作日内答复22件，超期答复2件，"
                                               "截至8月23日仍未答复8件。")


def test_malformed_files_say_why(tmp_path):
    f = tmp_path / "wrong.csv"
    f.write_text("姓名,电话\n张三,123\n", encoding="utf-8")
    with pytest.raises(L.LettersError, match="收到时间"):
        import_letters(f, "mailbox")
    f.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(L.LettersError, match="二进制"):
        import_letters(f, "mailbox")
    with pytest.raises(L.LettersError, match="不存在"):
        import_letters(tmp_path / "missing.xlsx", "mailbox")
    with pytest.raises(L.LettersError, match="表头中没有"):
        L.map_columns(["受理时间"], {"派发时间": "received"})
    assert ImportBatch.objects.count() == 0  # nothing imported


def test_cli_import_writes_every_error_and_stats_prose(tmp_path, capsys):
    from govinspect.cli import main

    rows, truth = generate_letters(n=60, seed=7)
    f = tmp_path / "信箱.csv"
    f.write_bytes(export_csv_gbk(rows))
    errs = tmp_path / "errors.csv"
    assert main(["letters", "import", str(f), "--channel", "mailbox", "--errors", str(errs), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "已导入 60 行；有错误未导入 4 行" in out and "第" in out
    lines = errs.read_text(encoding="utf-8-sig").strip().splitlines()
    assert lines[0] == "行号,列,原因" and len(lines) == 5
    assert main(["letters", "stats", "--channel", "mailbox", "--from", "2025-09-01", "--to", "2025-10-31",
                 "--as-of", "2025-11-10", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["received"] == 60
    assert data["on_time"] == sum(t["state"] == "on_time" for t in truth["letters"].values())
    assert data["late"] == sum(t["state"] == "late" for t in truth["letters"].values())
    assert data["text"].startswith("共收到网民留言60件") and "诉求热点" in data["text"]
    # the classifier puts each planted text in its planted topic
    topics = {}
    for t in truth["letters"].values():
        topics[t["topic"]] = topics.get(t["topic"], 0) + 1
    assert data["topics"] == dict(sorted(topics.items(), key=lambda kv: -kv[1])) or data["topics"] == topics


# ------------------------------------------------------------------------------------ input robustness (issue 14)
def _long_refs_file(tmp_path, name="长编号.csv"):
    stem = "ZX" + "0" * 110  # two references that differ only after their 100th character
    rows = [["编号", "受理时间", "办结时间", "承办单位"],
            [stem + "1", "2025/10/09 09:00", "2025/10/10 10:00", "住建局"],
            [stem + "2", "2025/10/09 10:00", "2025/10/10 11:00", "住建局"],
            ["GD-001", "2025/10/09 11:00", "", "水利局"],
            ["GD-002", "2025/10/09 12:00", "2025/10/09 15:00", "民政局"],
            ["GD-001", "2025/10/09 13:00", "", "水利局"]]
    f = tmp_path / name
    f.write_bytes(export_csv_gbk(rows))
    return f


def test_long_and_duplicate_references_are_row_errors_and_the_rest_imported(tmp_path):
    f = _long_refs_file(tmp_path)
    batch = import_letters(f, "hotline", as_of=AS_OF)
    assert batch.rows_ok == 2 and set(Letter.objects.values_list("ref", flat=True)) == {"GD-001", "GD-002"}
    errors = {e["row"]: e for e in batch.errors}
    assert set(errors) == {2, 3, 6}
    assert all(errors[r]["column"] == "编号" and "编号过长" in errors[r]["reason"] for r in (2, 3))
    assert "与第4行重复" in errors[6]["reason"]
    # importing it again: every row is an error with its line number, no traceback, nothing doubled
    again = import_letters(f, "hotline", as_of=AS_OF)
    assert again.rows_ok == 0 and Letter.objects.count() == 2
    assert {e["row"] for e in again.errors} == {2, 3, 4, 5, 6}
    assert sum("已导入过" in e["reason"] for e in again.errors) == 3


def test_cli_import_with_progress_bar(tmp_path, capsys):
    from govinspect.cli import main

    rows, _ = generate_letters(n=40, seed=3)
    f = tmp_path / "工单.csv"
    f.write_bytes(export_csv_gbk(rows))
    assert main(["letters", "import", str(f), "--channel", "hotline"]) == 0  # without --quiet: the progress bar
    out = capsys.readouterr()
    assert "已导入 40 行" in out.out and "Traceback" not in out.err
    assert Letter.objects.count() == 40
    assert main(["letters", "import", str(_long_refs_file(tmp_path)), "--channel", "hotline"]) == 0
    out = capsys.readouterr().out
    assert "已导入 2 行；有错误未导入 3 行" in out and "第2行“编号”列：编号过长" in out


def test_amplified_xlsx_is_refused_with_a_reason(tmp_path):
    from tests.test_hostile import amplified_xlsx

    f = tmp_path / "工单.xlsx"
    f.write_bytes(amplified_xlsx())
    with pytest.raises(L.LettersError, match="超过上限"):
        import_letters(f, "hotline", as_of=AS_OF)
    assert ImportBatch.objects.count() == 0
