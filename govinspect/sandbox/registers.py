"""Sandbox registers an office keeps: the document register (公文公开属性台账) and the NPC/CPPCC proposal
register, each with planted problems and the findings they must give (row -> rules)."""

from __future__ import annotations

DOC_HEAD = ["文号", "标题", "成文日期", "发文单位", "公开属性", "不公开理由", "公开网址", "公开日期", "是否需要解读", "解读网址", "解读日期"]


def document_register(unit: str = "清河县人民政府") -> tuple[list[list], dict[int, list[str]], list[int]]:
    """(rows with header, expected findings by file row at as-of 2025-11-30, rows that must be rejected)."""
    rows = [DOC_HEAD,
            ["清政发〔2025〕1号", "关于印发A方案的通知", "2025-09-22", unit, "主动公开", "", "http://x/1", "2025-10-24", "是", "http://x/1j", "2025-10-30"],
            ["清政发〔2025〕2号", "关于印发B办法的通知", "2025-09-22", unit, "主动公开", "", "http://x/2", "2025-10-27", "是", "", ""],
            ["清政发〔2025〕3号", "关于C的批复", "2025-09-22", unit, "依申请公开", "", "", "", "否", "", ""],
            ["清政发〔2025〕4号", "关于D的请示", "2025-09-22", unit, "不予公开", "内部事务信息", "", "", "否", "", ""],
            ["清政发〔2025〕5号", "关于E的通知", "2025-10-09", unit, "主动公开", "", "", "", "否", "", ""],
            ["清政发〔2025〕6号", "关于F的通知", "2025-13-01", unit, "主动公开", "", "", "", "否", "", ""],
            ["清政发〔2025〕7号", "关于G的通知", "2025-10-09", unit, "内部", "", "", "", "否", "", ""],
            ["清政发〔2025〕8号", "关于H的通知", "2025-10-09", unit, "主动公开", "", "http://x/8", "2025-10-20", "否", "", ""]]
    expected = {2: ["document.interpretation_late"],  # published Fri 24 Oct (on time), interpretation Thu 30 Oct: 4 working days
                3: ["document.interpretation_missing", "document.published_late"],  # 27 Oct: one working day late
                4: ["document.no_reason"], 6: ["document.not_published"]}
    return rows, expected, [7, 8]


def proposal_register() -> tuple[list[list], dict[int, list[str]], list[int]]:
    rows = [["编号", "标题", "类型", "承办单位", "是否办结", "答复公开网址", "不公开理由"],
            ["1", "关于加强农村道路建设的建议", "人大代表建议", "县交通运输局", "已办结", "http://x/1", ""],
            ["2", "关于优化营商环境的提案", "政协提案", "县发展和改革局", "已办结", "", ""],
            ["3", "关于某事项的建议", "人大代表建议", "县公安局", "已办结", "", "涉及国家秘密"],
            ["4", "关于学校建设的提案", "政协提案", "县教育局", "未办结", "", ""],
            ["5", "无类型", "意见", "x", "", "", ""]]
    return rows, {3: ["proposal.not_disclosed"]}, [6]


def register_truth(documents: str, proposals: str, replies: dict) -> list[dict]:
    """The planted register and reply-letter problems as ground-truth entries ({rule, url}), keyed the way a round
    places them (sandbox/evaluate.py place): a register row as file:FILE#ROW, a reply letter as file:FILE."""
    _, expected, _ = document_register()
    out = [{"rule": rule, "url": f"file:{documents}#{row}"} for row, rules in expected.items() for rule in rules]
    _, p_expected, _ = proposal_register()
    out += [{"rule": rule, "url": f"file:{proposals}#{row}"} for row, rules in p_expected.items() for rule in rules]
    out += [{"rule": rule, "url": f"file:{name}"} for name, (_, _, rules) in replies.items() for rule in rules]
    return out
