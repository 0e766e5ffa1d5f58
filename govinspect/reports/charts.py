"""Bulletin charts (matplotlib, Agg, a CJK font from fonts-noto-cjk): pass rate by unit type, problems by type,
pass rate over the rounds of the same region."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

# a verdict over problems already counted (栏目不更新单项否决 sums up the stale columns): not a problem of its own,
# as in the bulletin's text
SUMMARY_RULES = ("site.veto_columns",)
CJK_FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")


class ChartError(RuntimeError):
    pass


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    font = next((f for f in CJK_FONTS if Path(f).exists()), None)
    if font is None:
        raise ChartError("未找到中文字体（Debian 软件包 fonts-noto-cjk），未生成图表")
    font_manager.fontManager.addfont(font)
    plt.rcParams["font.family"] = font_manager.FontProperties(fname=font).get_name()
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def _save(plt, fig, ax, title: str, path: Path) -> Path:
    ax.set_title(title, fontsize=12)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _bar(plt, labels, values, title, ylabel, path: Path, percent=False) -> Path:
    fig, ax = plt.subplots(figsize=(6.4, 3.2), dpi=150)
    bars = ax.bar(labels, values, color="#c0392b" if not percent else "#2c6fbb", width=0.55)
    ax.set_ylabel(ylabel)
    if percent:
        ax.set_ylim(0, 105)
    for b, v in zip(bars, values):
        ax.annotate(f"{v:g}{'%' if percent else ''}", (b.get_x() + b.get_width() / 2, b.get_height()), ha="center", va="bottom", fontsize=9)
    return _save(plt, fig, ax, title, path)


def problem_counts(data: dict, group_titles: dict, catalog: dict) -> Counter:
    """Problems by the bulletin section they are written under, counted as the bulletin's text counts them: one
    problem, one line (data["problems"]: a link that is dead, illegal and hidden is one), websites' problems only
    where the website was checked, verdicts over other problems (SUMMARY_RULES) left out."""
    unchecked = {f["id"] for s in data["sites"] if s["status"] != "checked" for f in s["findings"]}
    return Counter(group_titles.get(catalog.get(x["rule"], {}).get("group"), "其他") for x in data["problems"]
                   if x["rule"] not in SUMMARY_RULES and not set(x["finding_ids"]) & unchecked)


def make_charts(data: dict, out_dir: Path, group_titles: dict, catalog: dict) -> list[dict]:
    """PNG files and captions; charts without data are left out. Each chart also carries the numbers it plots
    (values: [(label, number), …])."""
    plt = _pyplot()
    out_dir.mkdir(parents=True, exist_ok=True)
    charts = []
    kinds = (data["summary"].get("pass_rate_by_kind") or {})  # the round's rates (RuleSet.rate: one rounding)
    if kinds:
        labels = sorted(kinds)
        rates = [float(kinds[k]) for k in labels]
        charts.append({"path": _bar(plt, [f"{k}网站" for k in labels], rates, "各类单位网站检查合格率", "合格率（%）",
                                    out_dir / "图1-合格率.png", percent=True), "caption": "各类单位网站检查合格率",
                       "values": [(f"{k}网站", r) for k, r in zip(labels, rates)]})
    by_group = problem_counts(data, group_titles, catalog)
    if by_group:
        top = by_group.most_common(10)[::-1]
        fig, ax = plt.subplots(figsize=(6.4, 0.9 + 0.32 * len(top)), dpi=150)
        bars = ax.barh([g for g, _ in top], [n for _, n in top], color="#c0392b", height=0.6)
        for b, (_, n) in zip(bars, top):
            ax.annotate(str(n), (b.get_width(), b.get_y() + b.get_height() / 2), xytext=(3, 0), textcoords="offset points",
                        va="center", fontsize=9)
        ax.set_xlabel("问题数")
        path = _save(plt, fig, ax, "发现问题数量（按类型）", out_dir / f"图{len(charts) + 1}-问题类型.png")
        charts.append({"path": path, "caption": "发现问题数量（按类型）", "values": top[::-1]})
    history = data.get("history") or []
    if len(history) >= 2:
        fig, ax = plt.subplots(figsize=(6.4, 3.0), dpi=150)
        points = [(h["name"][:10], float(h["pass_rate"])) for h in history]
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", color="#2c6fbb")
        ax.set_ylim(0, 105)
        ax.set_ylabel("合格率（%）")
        path = _save(plt, fig, ax, "政府网站检查合格率变化", out_dir / f"图{len(charts) + 1}-合格率变化.png")
        charts.append({"path": path, "caption": "政府网站检查合格率变化", "values": points})
    return charts
