"""Sandbox 依申请公开 reply letters (答复书) with planted errors and their ground truth."""

from __future__ import annotations

GOOD = ("关于政府信息公开申请的答复\n张某某：\n本机关于2025年3月3日收到您提交的政府信息公开申请，申请获取“2024年城区道路改造项目批复文件”。"
        "经审查，您申请的信息已经主动公开，可通过清河县人民政府门户网站“政府信息公开”栏目查阅。\n"
        "如对本答复不服，可以自收到本答复之日起60日内向清河县人民政府申请行政复议，或者在6个月内向清河县人民法院提起行政诉讼。\n"
        "清河县住房和城乡建设局\n2025年3月20日")
REFUSAL_OLD = ("关于政府信息公开申请的答复\n李某某：\n本机关于2025年5月6日收到您的政府信息公开申请。经审查，您申请的信息涉及个人隐私，"
               "根据《中华人民共和国政府信息公开条例》第十五条，决定不予公开。\n"
               "如对本答复不服，可在收到本答复之日起60日内向邢台市自然资源和规划局或清河县人民政府申请行政复议，"
               "也可以在3个月内直接向清河县人民法院提起行政诉讼。\n清河县自然资源局\n2025年5月20日")
LATE_NO_REMEDY = ("关于政府信息公开申请的答复\n王某某：\n本机关于2025年9月22日收到您的申请。经检索，本机关未制作您所申请的信息，该信息不存在。\n"
                  "根据条例规定，本机关应在收到申请之日起15个工作日内答复。\n清河县教育局\n2025年10月30日")
UNCLEAR = ("关于申请事项的回复\n赵某某：\n本机关于2025年6月3日收到您的申请。您反映的问题我们高度重视，将认真研究。\n"
           "如对本答复不服，可以自收到本答复之日起60日内向清河县人民政府申请行政复议，或者在6个月内向清河县人民法院提起行政诉讼。\n"
           "清河县卫生健康局\n2025年6月10日")

LETTERS = {  # name -> (text, issuer, expected rules)
    "答复-已公开.txt": (GOOD, "清河县住房和城乡建设局", []),
    "答复-不予公开.docx": (REFUSAL_OLD, "清河县自然资源局", ["reply.remedy_period", "reply.review_body", "reply.review_first"]),
    "答复-信息不存在.pdf": (LATE_NO_REMEDY, "清河县教育局", ["reply.late", "reply.outdated_limit", "reply.remedy_missing"]),
    "答复-答非所问.txt": (UNCLEAR, "清河县卫生健康局", ["reply.type_unclear"]),
}


def letter_bytes(name: str) -> bytes:
    from .county import Attachment
    from .files import attachment_bytes

    text = LETTERS[name][0]
    if name.endswith(".txt"):
        return text.encode("gb18030")
    kind = name.rsplit(".", 1)[1]
    return attachment_bytes(Attachment(name=name, path="/" + name, kind=kind, rows=[[line] for line in text.split("\n")]))[0]
