"""The document register (公文公开属性台账): import, checks, seed-001 statistics."""

import datetime as dt
import json
import subprocess
import sys

import pytest

from govinspect.engine.letters import LettersError
from govinspect.engine.register import check_register, read_register
from govinspect.sandbox.letters import export_csv_gbk, export_xlsx

HEAD = ["文号", "标题", "成文日期", "发文单位", "公开属性", "不公开理由", "公开网址", "公开日期", "是否需要解读", "解读网址", "解读日期"]


def register_rows():
    rows = [HEAD]
    rows.append(["清政发〔2025〕1号", "关于印发A方案的通知", "2025-09-22", "县政府", "主动公开", "", "http://x/1", "2025-10-24", "是", "http://x/1j", "2025-10-30"])
    rows.append(["清政发〔2025〕2号", "关于印发B办法的通知", "2025-09-22", "县政府", "主动公开", "", "http://x/2", "2025-10-27", "是", "", ""])
    rows.append(["清政发〔2025〕3号", "关于C的批复", "2025-09-22", "县政府", "依申请公开", "", "", "", "否", "", ""])
    rows.append(["清政发〔2025〕4号", "关于D的请示", "2025-09-22", "县政府", "不予公开", "内部事务信息", "", "", "否", "", ""])
    rows.append(["清政发〔2025〕5号", "关于E的通知", "2025-10-09", "县政府", "主动公开", "", "", "", "否", "", ""])
    rows.append(["清政发〔2025〕6号", "关于F的通知", "2025-13-01", "县政府", "主动公开", "", "", "", "否", "", ""])
    rows.append(["清政发〔2025〕7号", "关于G的通知", "2025-10-09", "县政府", "内部", "", "", "", "否", "", ""])
    return rows


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_register_checks(tmp_path, fmt):
    f = tmp_path / f"台账.{fmt}"
    f.write_bytes(export_csv_gbk(register_rows()) if fmt == "csv" else export_xlsx(register_rows()))
    docs, errors = read_register(f)
    assert [e.row for e in errors] == [7, 8] and "日期不存在" in errors[0].reason and "公开属性" == errors[1].column
    findings, stats = check_register(docs, dt.date(2025, 11, 30))
    got = sorted((x["row"], x["rule"]) for x in findings)
    assert got == [(2, "document.interpretation_late"),  # published Fri 24 Oct (on time), interpretation Thu 30 Oct: 4 working days later
                   (3, "document.interpretation_missing"), (3, "document.published_late"),  # 27 Oct is one day late
                   (4, "document.no_reason"), (6, "document.not_published")]
    assert stats["text"] == "共制发文件5件，其中主动公开3件，依申请公开1件，不予公开1件；需要解读2件，已解读1件。"


def test_register_bad_file_and_cli(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("名称,备注\n", encoding="utf-8")
    with pytest.raises(LettersError, match="公开属性"):
        read_register(f)
    g = tmp_path / "台账.xlsx"
    g.write_bytes(export_xlsx(register_rows()))
    r = subprocess.run([sys.executable, "-m", "govinspect.cli", "documents", str(g), "--as-of", "2025-11-30", "--json"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["stats"]["documents"] == 5 and len(data["findings"]) == 5 and len(data["errors"]) == 2


def test_proposals_handled_versus_disclosed(tmp_path, capsys):
    from govinspect.cli import main

    rows = [["编号", "标题", "类型", "承办单位", "是否办结", "答复公开网址", "不公开理由"],
            ["1", "关于加强农村道路建设的建议", "人大代表建议", "交通局", "已办结", "http://x/1", ""],
            ["2", "关于优化营商环境的提案", "政协提案", "发改局", "已办结", "", ""],
            ["3", "关于某事项的建议", "人大代表建议", "公安局", "已办结", "", "涉及国家秘密"],
            ["4", "关于学校建设的提案", "政协提案", "教育局", "未办结", "", ""],
            ["5", "无类型", "意见", "x", "", "", ""]]
    f = tmp_path / "建议提案.csv"
    f.write_bytes(export_csv_gbk(rows))
    assert main(["documents", str(f), "--proposals"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "承办人大代表建议2件、政协提案2件，已办结3件，公开答复1件。"
    assert "proposal.not_disclosed" in out and "优化营商环境" in out and "某事项" not in out.split("未能检查")[0].split("\n", 1)[1]
    assert "第6行“类型”列" in out
