"""The report commands: a round's reports again from stored results, the default bulletin template."""

from __future__ import annotations

from ..cliutil import CliError, _setup_django


def register(sub) -> None:
    rp = sub.add_parser("report", help="根据已保存的检查结果重新生成通报（不重新抓取）")
    rp.add_argument("round", type=int)
    rp.add_argument("--out", required=True)
    rp.add_argument("--draft", action="store_true",
                    help="轮次未完成时仍生成报告，每页标注“未完成，仅供内部参考”（默认拒绝为未完成的轮次生成报告）")
    rp.set_defaults(func=cmd_report)
    rp.add_argument("--template", help="自定义通报模板（.docx，docxtpl 格式；用 govinspect report-template 生成默认模板后修改）")
    rt = sub.add_parser("report-template", help="写出默认通报模板（.docx），供修改文字和版式")
    rt.add_argument("--out", required=True)
    rt.set_defaults(func=cmd_report_template)


def cmd_report(a) -> int:
    _setup_django()
    from . import DRAFT_MARK, ReportError, write_reports
    from ..rounds.models import Round
    from ..rounds.services import mark_interrupted

    mark_interrupted()  # a round whose process is gone is reported as interrupted, not as running
    rnd = Round.objects.filter(pk=a.round).first()
    if rnd is None:
        raise CliError(f"没有编号为 {a.round} 的检查轮次（可用 govinspect manage shell 查看）")
    from ..rules import RulesError

    try:
        paths = write_reports(rnd, a.out, a.template, draft=a.draft)
    except (RulesError, ReportError) as e:
        raise CliError(str(e)) from None
    note = f"（第{rnd.pk}轮检查未完成，报告已标注“{DRAFT_MARK}”）" if rnd.status != "done" else ""
    print("已生成：" + "，".join(str(p) for p in paths.values()) + note)
    return 0


def cmd_report_template(a) -> int:
    _setup_django(migrate=False)
    from .bulletin import default_template

    path = default_template(a.out)
    print(f"已写出通报模板：{path}。用 Word/WPS 修改文字、字体和版式（保留 {{{{ }}}} 和 {{%p %}} 标记），"
          "再用 govinspect report 轮次 --template 模板 生成，或放到 数据目录/templates/通报模板.docx 作为默认模板")
    return 0

