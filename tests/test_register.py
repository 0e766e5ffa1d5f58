"""The document register (公文公开属性台账): import, checks, seed-001 statistics."""

import datetime as dt
import json
import subprocess
import sys

import pytest

from govinspect.engine.finding import Location
from govinspect.engine.letters import LettersError
from govinspect.engine.register import check_proposals, check_register, read_register
from govinspect.sandbox.letters import export_csv_gbk, export_xlsx
from govinspect.sandbox.registers import document_register, proposal_register

@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_register_checks(tmp_path, fmt):
    f = tmp_path / f"台账.{fmt}"
    rows, expected, rejected = document_register()
    f.write_bytes(export_csv_gbk(rows) if fmt == "csv" else export_xlsx(rows))
    docs, errors = read_register(f)
    assert [e.row for e in errors] == rejected and "日期不存在" in errors[0].reason and "公开属性" == errors[1].column
    findings, stats = check_register(docs, dt.date(2025, 11, 30))
    got = {}
    for x in findings:
        got.setdefault(x.location.row, []).append(x.rule)
        assert x.subject.kind == "register_row" and x.location == Location(file=f.name, row=x.location.row)
        assert x.facts["file"] == f.name and x.facts["row"] == x.location.row and x.match == ""
    assert {r: sorted(v) for r, v in got.items()} == expected
    numbered = [x for x in findings if x.subject.ref]
    assert numbered and all(x.facts["number"] == x.subject.ref for x in numbered)
    assert stats["text"] == "共制发文件6件，其中主动公开4件，依申请公开1件，不予公开1件；需要解读2件，已解读1件。"


def test_register_bad_file_and_cli(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("名称,备注\n", encoding="utf-8")
    with pytest.raises(LettersError, match="公开属性"):
        read_register(f)
    g = tmp_path / "台账.xlsx"
    g.write_bytes(export_xlsx(document_register()[0]))
    r = subprocess.run([sys.executable, "-m", "govinspect.cli", "documents", str(g), "--as-of", "2025-11-30", "--json"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["stats"]["documents"] == 6 and len(data["findings"]) == 5 and len(data["errors"]) == 2


def test_proposals_handled_versus_disclosed(tmp_path, capsys):
    from govinspect.cli import main

    rows, expected, rejected = proposal_register()
    f = tmp_path / "建议提案.csv"
    f.write_bytes(export_csv_gbk(rows))
    assert main(["documents", str(f), "--proposals"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "承办人大代表建议2件、政协提案2件，已办结3件，公开答复1件。"
    assert "proposal.not_disclosed" in out and "优化营商环境" in out and "某事项" not in out.split("未能检查")[0].split("\n", 1)[1]
    assert "第6行“类型”列" in out


def test_proposal_findings_are_register_rows(tmp_path):
    rows, expected, rejected = proposal_register()
    f = tmp_path / "建议提案.xlsx"
    f.write_bytes(export_xlsx(rows))
    findings, stats, errors = check_proposals(f)
    assert {x.location.row: [x.rule] for x in findings} == expected and [e.row for e in errors] == rejected
    x = findings[0]
    assert x.subject.kind == "register_row" and x.subject.ref == "2" and x.subject.unit == "县发展和改革局"
    assert x.location == Location(file=f.name, row=3) and x.facts["number"] == "2" and x.facts["file"] == f.name
