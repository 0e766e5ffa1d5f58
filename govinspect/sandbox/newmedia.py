"""Sandbox new-media accounts: one WeChat account per site, its posts served as an RSS feed at
/rss.xml on the site's server, with planted problems and decoys (see plan_accounts)."""

from __future__ import annotations

import datetime as dt
import random
from email.utils import format_datetime
from xml.sax.saxutils import escape

from . import ids

PLATFORM = "微信公众号"
TOPICS = ["召开专题会议部署重点工作", "开展政策宣传进村入户活动", "发布最新便民服务指南", "组织志愿服务活动", "推进重点项目建设",
          "开展安全生产检查", "举办业务培训班", "公布办事流程优化措施"]


def account_key(name: str) -> str:
    return f"account:{PLATFORM}/{name}"  # how sandbox/evaluate.py places account findings


def plan_accounts(site, county_name: str, as_of: dt.date, seed: int) -> None:
    """Fill site.accounts and the feed route; plant problems by site key (the nine default sites)."""
    rng = random.Random(f"{seed}-nm-{site.key}")
    name = f"{site.name.replace(county_name, '清河')}发布"
    acc = {"platform": PLATFORM, "name": name, "owner": site.unit, "filed": site.index % 5 != 0, "interaction": True,
           "feed": True}
    k = site.key
    last_days = {"jyj": 20, "wjw": 120}.get(k, rng.randint(0, 6))
    posts = []
    n = 14
    for i in range(n):
        days = last_days + i * rng.randint(3, 6)
        when = dt.datetime.combine(as_of - dt.timedelta(days=days), dt.time(rng.randint(8, 20), rng.randint(0, 59)))
        title = f"{site.unit.replace(county_name, '')}{rng.choice(TOPICS)}"
        text = f"近日，{site.unit}{rng.choice(TOPICS)}。来源：{site.unit}"
        if k == "zrzyj" and i % 10 < 7:  # 70 % reposts: original share below 60 %
            title, text = f"【转载】{title}", f"{title}。来源：新华社"
        if k == "portal" and i == 1:
            text += f"咨询电话：{ids.make_mobile(rng)}（王老师）"
        posts.append({"published": when, "title": title, "text": text, "url": f"https://mp.weixin.qq.com/s/{site.key}{i:03d}"})
    acc["posts"] = posts
    key = account_key(name)
    prob = lambda rule, detail, url=key: site.problems.append(dict(rule=rule, path="/rss.xml", url=url, detail=detail))
    if not acc["filed"]:
        prob("newmedia.not_filed", f"“{name}”未备案")
    if k == "jyj":
        prob("newmedia.not_updated", "最近一次发布在20天前")
    if k == "wjw":
        prob("newmedia.not_updated", "最近一次发布在120天前")
        prob("newmedia.zombie", "超过3个月未更新")
    if k == "zrzyj":
        prob("newmedia.original_low", "原创占比约30%")
    if k == "portal":
        prob("privacy.mobile", "公众号文章含完整手机号码", url=posts[1]["url"])
        site.decoys.append(dict(rule="newmedia.original_low", path="/rss.xml", url=key, why="“来源：本单位”是原创"))
    if k == "rsj":  # the feed is broken: could not check, never "not updated"
        acc["feed"] = False
        site.decoys.append(dict(rule="newmedia.not_updated", path="/rss.xml", url=key, why="订阅源无法访问，应为未能检查"))
    if k == "bmz":
        acc["interaction"] = False
        prob("newmedia.no_interaction", "无互动功能")
    extra = []
    if k == "nyj":  # a second account of the same unit on the same platform
        dup = {"platform": PLATFORM, "name": f"{name}服务号", "owner": site.unit, "filed": True, "interaction": True,
               "feed": False, "posts": []}
        extra.append(dup)
        prob("newmedia.duplicate_account", "同一单位在同一平台开设两个账号")
        prob("newmedia.duplicate_account", "同一单位在同一平台开设两个账号", url=account_key(dup["name"]))
    site.accounts = [acc, *extra]
    if acc["feed"]:
        site.extra_routes["/rss.xml"] = ("raw", (rss(name, posts), "application/rss+xml; charset=utf-8"))


def rss(title: str, posts: list[dict]) -> bytes:
    tz = dt.timezone(dt.timedelta(hours=8))
    items = "".join(
        f"<item><title>{escape(p['title'])}</title><link>{escape(p['url'])}</link>"
        f"<description>{escape(p['text'])}</description><pubDate>{format_datetime(p['published'].replace(tzinfo=tz))}</pubDate></item>"
        for p in posts)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
            f"<link>https://mp.weixin.qq.com/</link><description>{escape(title)}</description>{items}</channel></rss>").encode("utf-8")
