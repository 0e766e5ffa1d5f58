"""Whole-site coverage (issue 15, item 10): no silent cap. A crawl stops only at a safety limit (the registry's
per-site 抓取页面上限, else `--max-pages`, else 50,000) and a capped crawl says how many in-scope URLs it found and did
not fetch — in check-site's JSON, in round.json per site and in the bulletin — and the whole-site rules (dead links,
personal data) say they only saw the fetched part.

The site is a real HTTP server on 127.0.0.1 (stdlib); what it served is the independent record the counts are
checked against: "not fetched" = the site's links on the pages it served, minus the pages it served."""

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from docx import Document

from govinspect.cli import main as cli_main
from govinspect.engine.fetch import CrawlConfig
from govinspect.engine.fetch.crawler import DEFAULT_MAX_PAGES, crawl_site
from govinspect.engine.inspect import inspect_site
from govinspect.registry.xlsx import write_template
from loopback import HTMLHandler

AS_OF = "2026-11-20"
BIN = Path(sys.executable).parent / "govinspect"


class Site:
    """home -> `lists` list pages (+ one missing page) -> `per_list` articles each -> one attachment page per article.
    Every page links back home. A list page carries a mobile number (personal data) when `phone` is set."""

    def __init__(self, lists: int, per_list: int, phone: bool = False):
        self.lists, self.per_list, self.phone = lists, per_list, phone
        self.served: set[str] = set()
        self.lock = threading.Lock()

    def links(self, path: str) -> list[str] | None:
        """The site's own links on a page (None: no such page)."""
        if path == "/":
            return [f"/list/{i}.html" for i in range(1, self.lists + 1)] + ["/missing.html"]
        parts = path.strip("/").split("/")
        if len(parts) != 2 or not parts[1].endswith(".html"):
            return None
        kind, name = parts[0], parts[1][:-5]
        if kind == "list" and name.isdigit() and 1 <= int(name) <= self.lists:
            return ["/"] + [f"/art/{name}-{j}.html" for j in range(1, self.per_list + 1)]
        if kind in ("art", "file"):
            i, _, j = name.partition("-")
            if i.isdigit() and j.isdigit() and 1 <= int(i) <= self.lists and 1 <= int(j) <= self.per_list:
                return ["/", f"/file/{name}.html"] if kind == "art" else ["/"]
        return None

    def all_pages(self) -> set[str]:
        todo, seen = ["/"], {"/"}
        while todo:
            for link in self.links(todo.pop()) or []:
                if link not in seen:
                    seen.add(link)
                    todo.append(link)
        return seen  # includes /missing.html (linked, answered 404)

    def html(self, path: str, links: list[str]) -> str:
        title = {"/": "某县人民政府"}.get(path, f"页面 {path}")
        body = "".join(f'<li><a href="{u}">链接 {u}</a><span>2026-11-{1 + len(u) % 9:02d}</span></li>' for u in links)
        extra = ("<p>低保人员名单公示：张三，住址某村，联系电话 13912345678。</p>"
                 if self.phone and path == "/list/1.html" else "")
        return (f"<html><head><meta charset='utf-8'><title>{title}</title></head><body><h1>{title}</h1>{extra}"
                f"<ul>{body}</ul><div class='footer'>主办：某县人民政府 网站标识码1300000001</div></body></html>")

    def not_fetched(self) -> int:
        """What the crawler must report: the site's links on the pages it served, minus what it served."""
        served = set(self.served)
        found = {link for p in served for link in self.links(p) or []}
        return len(found - served)


class serve:
    """The site on a real HTTP server on 127.0.0.1, stopped on exit."""

    def __init__(self, site: Site):
        self.site = site
        st = site

        class Handler(HTMLHandler):
            def do_GET(self):
                path = self.path.split("?")[0]
                if path != "/robots.txt":
                    with st.lock:
                        st.served.add(path)
                links = st.links(path)
                self.reply(200 if links is not None else 404,
                           st.html(path, links) if links is not None else "<html><body>404</body></html>")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def _cfg(**kw) -> CrawlConfig:
    return CrawlConfig(**{"allow_networks": ("127.0.0.0/8",), "delay": 0.0, "concurrency_per_host": 4, "retries": 0,
                          "link_recheck_interval": 0.0, **kw})


def test_check_site_says_exactly_how_many_urls_a_capped_crawl_did_not_fetch(tmp_path, capsys):
    site = Site(lists=5, per_list=20)
    total = len(site.all_pages())  # 1 + 5 + 1 (missing) + 100 articles + 100 attachment pages
    with serve(site) as srv:
        code = cli_main(["check-site", srv.url, "--as-of", AS_OF, "--allow-network", "127.0.0.0/8", "--delay", "0",
                         "--max-pages", "40", "--no-content", "--no-links", "--quiet", "--out", str(tmp_path / "out.json")])
    assert code == 0
    out = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    cov = out["coverage"]
    assert len(site.served) == 40 == cov["urls_fetched"] == cov["max_pages"]  # the limit held
    assert cov["complete"] is False
    assert cov["not_fetched"] == site.not_fetched() == out["crawl"]["not_fetched"]  # exactly what was left
    assert 0 < cov["not_fetched"] < total - 40  # pages behind unfetched pages are not known, so not counted
    assert f"超过检查上限40页，另有{cov['not_fetched']}个页面未检查" in cov["note"]
    assert "link.dead" in cov["rules"] and "privacy.mobile" in cov["rules"]
    assert f"另有{cov['not_fetched']}个页面未检查" in capsys.readouterr().err  # said on the terminal too


def test_whole_site_rules_state_their_coverage_only_when_the_crawl_was_capped():
    site = Site(lists=5, per_list=20, phone=True)
    with serve(site) as srv:
        capped = inspect_site(srv.url, dt.date.fromisoformat(AS_OF),
                              _cfg(max_pages=40, reference_urls=(srv.url,)))
        site.served.clear()
        whole = inspect_site(srv.url, dt.date.fromisoformat(AS_OF), _cfg(reference_urls=(srv.url,)))
    assert site.served == site.all_pages()  # no limit given: the whole site (the 50,000 default is far above it)
    for rep, partial in ((capped, True), (whole, False)):
        by_rule = {f.rule: f for f in rep.findings}
        dead, phone = by_rule["link.dead"], by_rule["privacy.mobile"]  # both on pages inside the limit
        assert dead.url.endswith("/missing.html")
        if partial:
            for f in (dead, phone):
                assert "另有" in f.evidence.coverage and "只检查了已抓取的40个页面" in f.evidence.coverage
            assert not any(f.evidence.coverage for f in rep.findings if not f.rule.startswith(("link.", "privacy.")))
        else:
            assert not dead.evidence.coverage and not phone.evidence.coverage
            assert rep.to_dict()["coverage"] == {"complete": True, "max_pages": DEFAULT_MAX_PAGES,
                                                 "urls_fetched": len(site.all_pages()), "not_fetched": 0}


def test_the_default_crawls_a_site_larger_than_the_old_3000_page_cap():
    """The old default stopped at 3,000 pages without a word; the default is now a safety limit far above."""
    site = Site(lists=31, per_list=50)  # 1 + 31 + 1 + 1,550 articles + 1,550 attachment pages = 3,133 URLs
    with serve(site) as srv:
        crawl = crawl_site(srv.url, _cfg(check_links=False, concurrency_per_host=8))
    assert len(site.all_pages()) > 3000
    assert site.served == site.all_pages()
    assert crawl.stats["urls"] == len(site.all_pages()) and crawl.stats["not_fetched"] == 0


def test_resumed_capped_crawl_still_counts_what_it_left(tmp_path):
    """A crawl interrupted after it reached its limit and run again on its directory reports the same count."""
    site = Site(lists=5, per_list=20)
    with serve(site) as srv:
        first = crawl_site(srv.url, _cfg(max_pages=30, check_links=False), out_dir=tmp_path / "warc")
        served = set(site.served)
        again = crawl_site(srv.url, _cfg(max_pages=30, check_links=False), out_dir=tmp_path / "warc")
    assert site.served == served  # nothing fetched twice: the stored crawl was resumed
    assert again.stats["resumed"] == 30
    assert first.stats["not_fetched"] == again.stats["not_fetched"] == site.not_fetched() > 0


def test_bad_max_pages_is_a_chinese_error(capsys):
    with pytest.raises(SystemExit) as e:
        cli_main(["check-site", "http://127.0.0.1:1/", "--as-of", AS_OF, "--max-pages", "0"])
    assert e.value.code == 2
    assert "页面上限应为正整数" in capsys.readouterr().err


def test_round_registry_limit_wins_over_the_command_line_and_the_bulletin_says_what_was_not_checked(tmp_path):
    """Two sites in the registry, one with its own 抓取页面上限 (15), one without; `round --max-pages 25` applies
    to the second only. round.json says per site how many pages were not checked; so does the bulletin."""
    a, b = Site(lists=4, per_list=10), Site(lists=4, per_list=10)
    env = {**os.environ, "GOVINSPECT_DATA_DIR": str(tmp_path / "data"), "DJANGO_SETTINGS_MODULE": "govinspect.settings"}
    with serve(a) as sa, serve(b) as sb:
        registry = write_template(tmp_path / "名录.xlsx", {
            "单位": [["某县人民政府", "区县", ""], ["某县教育局", "部门", "某县人民政府"]],
            "网站": [["某县人民政府门户网站", sa.url, "", "某县人民政府", "是", "", 15],
                   ["某县教育局网站", sb.url, "", "某县教育局", "否", "", ""]],
        })
        r = subprocess.run([str(BIN), "registry", "import", str(registry)], env=env, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        r = subprocess.run([str(BIN), "round", "--name", "第四季度检查", "--as-of", AS_OF, "--allow-network", "127.0.0.0/8",
                            "--delay", "0", "--max-pages", "25", "--processes", "1", "--quiet", "--out", str(tmp_path / "out")],
                           env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert len(a.served) == 15 and len(b.served) == 25  # the registry's limit for a, the command line's for b
    data = json.loads((tmp_path / "out" / "round.json").read_text(encoding="utf-8"))
    cov = {s["name"]: s["coverage"] for s in data["sites"]}
    assert cov["某县人民政府门户网站"]["max_pages"] == 15 and cov["某县人民政府门户网站"]["not_fetched"] == a.not_fetched() > 0
    assert cov["某县教育局网站"]["max_pages"] == 25 and cov["某县教育局网站"]["not_fetched"] == b.not_fetched() > 0
    text = "\n".join(p.text for p in Document(str(tmp_path / "out" / "通报.docx")).paragraphs)
    assert f"某县人民政府门户网站页面超过检查上限15页，另有{a.not_fetched()}个页面未检查" in text
    assert f"某县教育局网站页面超过检查上限25页，另有{b.not_fetched()}个页面未检查" in text
