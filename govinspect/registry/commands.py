"""The registry command: import and export of the registry, its template, the national filing list."""

from __future__ import annotations

from pathlib import Path

from ..cliutil import CliError, _setup_django


def register(sub) -> None:
    r = sub.add_parser("registry", help="检查对象名录导入导出")
    r.add_argument("action", choices=["import", "export", "template", "filing-list"], help="filing-list：导入全国政务新媒体信息报送系统的备案清单（更新已备案标记）")
    r.add_argument("file")
    r.set_defaults(func=cmd_registry)


def cmd_registry(a) -> int:
    _setup_django()
    from .xlsx import RegistryImportError, export_registry, import_registry, write_template

    if a.action == "import":
        try:
            counts = import_registry(a.file)
        except RegistryImportError as e:
            raise CliError(str(e)) from None
        print("导入完成：" + "，".join(f"{k}{v}条" for k, v in counts.items()))
    elif a.action == "filing-list":
        from ..engine.letters import LettersError
        from .filing import import_filing_list

        try:
            r = import_filing_list(Path(a.file))
        except LettersError as e:
            raise CliError(str(e)) from None
        print(f"备案清单中的账号 {r['listed']} 个（新增到名录 {r['added']} 个，改为已备案 {r['now_filed']} 个）；"
              f"名录中不在清单上、记为未备案的账号 {len(r['not_on_list'])} 个")
        for plat, name in r["not_on_list"][:20]:
            print(f"  未备案：{name}（{plat}）")
        for e in r["errors"]:
            print(f"  未导入：{e}")
    else:
        try:
            path = export_registry(a.file) if a.action == "export" else write_template(a.file)
        except OSError as e:
            raise CliError(f"无法写入 {a.file}：{e.strerror or e}") from None
        print(f"已导出到 {path}" if a.action == "export" else f"空白模板已写入 {path}")
    return 0

