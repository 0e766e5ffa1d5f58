"""The crawler against the real sandbox servers on 127.0.0.1: guard, robots, limits, faults, WARC."""

import gzip
import json

import pytest
from warcio.archiveiterator import ArchiveIterator

from govinspect.engine.fetch import AddressGuard, BlockedAddress, crawl_site
from govinspect.engine.inspect import inspect_site
from govinspect.sandbox import generate_county
from govinspect.sandbox.serve import SandboxServer



@pytest.mark.parametrize("ip", ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "::1", "0.0.0.0", "::ffff:127.0.0.1"])
def test_guard_refuses_private_addresses(ip):
    with pytest.raises(BlockedAddress):
        AddressGuard().check_ip(ip)


def test_guard_allows_public_and_configured_ranges():
    AddressGuard().check_ip("8.8.8.8")
    AddressGuard(allow=["127.0.0.0/8"]).check_ip("127.0.0.1")
    AddressGuard(allow=["10.0.0.0/8"]).check_ip("10.0.0.1")
    for other in ("10.0.0.1", "169.254.169.254", "0.0.0.0", "::1"):  # opening loopback opens nothing else
        with pytest.raises(BlockedAddress):
            AddressGuard(allow=["127.0.0.0/8"]).check_ip(other)


def test_crawler_refuses_loopback_unless_allowed(sandbox, county):
    url = sandbox.urls["portal"]
    blocked = crawl_site(url, sandbox.crawl_config(allow_networks=(), max_pages=5))
    rec = blocked.get(url)
    assert rec.error.startswith("blocked") and blocked.stats["requests"] == 0
    rep = inspect_site(url, county.as_of, sandbox.crawl_config(allow_networks=(), max_pages=5))
    assert rep.status == "could_not_check" and rep.verdict == "unknown" and not rep.findings
    allowed = crawl_site(url, sandbox.crawl_config(max_pages=5))
    assert allowed.get(url).ok


def test_robots_disallow_is_obeyed_and_column_is_unknown(sandbox, county):
    site = county.site("portal")
    rs = site.column("rsxx")
    crawl = crawl_site(sandbox.urls["portal"], sandbox.crawl_config(), seeds=[sandbox.url("portal", rs.path)])
    rec = crawl.get(sandbox.url("portal", rs.path))
    assert rec.error == "robots.txt disallow" and rec.status is None
    served = sandbox.apps["portal"].counts
    assert all(not k.startswith(rs.path.rsplit("/", 1)[0] + "/") for k in served)  # never requested


def test_redirect_loop_and_dead_link_are_contained(sandbox):
    crawl = crawl_site(sandbox.urls["jyj"], sandbox.crawl_config())
    loop = crawl.get(sandbox.url("jyj", "/loop/a.html"))
    assert loop.error.startswith("redirect loop")
    dead = crawl.get(sandbox.url("jyj", "/xwzx/202401/t20240110_99999.html"))
    assert dead.status == 404 and not dead.ok
    assert crawl.pages_fetched > 100  # the rest of the site was crawled


def test_oversize_page_is_cut_and_logged(sandbox, tmp_path):
    crawl = crawl_site(sandbox.urls["zrzyj"], sandbox.crawl_config(max_bytes=2 * 1024 * 1024), out_dir=tmp_path)
    big = crawl.get(sandbox.url("zrzyj", "/download/big.html"))
    assert big.error.startswith("oversize") and big.page is None
    assert crawl.stats["oversize"] == 1 and crawl.pages_fetched > 100
    records = {r.rec_headers.get_header("WARC-Target-URI"): r for r in ArchiveIterator(open(crawl.warc_path, "rb")) if r.rec_type == "response"}
    assert records[big.final_url].rec_headers.get_header("WARC-Truncated") == "length"


def test_page_and_depth_limits(sandbox):
    crawl = crawl_site(sandbox.urls["wjw"], sandbox.crawl_config(max_pages=12))
    assert len(crawl.records) <= 12
    shallow = crawl_site(sandbox.urls["wjw"], sandbox.crawl_config(max_depth=0))
    assert list(shallow.records) == [sandbox.urls["wjw"]]


def test_warc_and_crawl_log_are_written_and_readable(sandbox, tmp_path):
    crawl = crawl_site(sandbox.urls["bmz"], sandbox.crawl_config(), out_dir=tmp_path)
    uris, bodies = [], {}
    with open(crawl.warc_path, "rb") as fh:
        for rec in ArchiveIterator(fh):
            if rec.rec_type == "response":
                uri = rec.rec_headers.get_header("WARC-Target-URI")
                uris.append(uri)
                bodies[uri] = rec.content_stream().read()
    assert sandbox.urls["bmz"] in uris
    assert len(uris) >= crawl.pages_fetched
    assert "白马镇".encode() in bodies[sandbox.urls["bmz"]]
    log = [json.loads(l) for l in open(crawl.log_path, encoding="utf-8")]
    assert len(log) == len(crawl.records)
    assert {"url", "status", "time_ms", "bytes", "parent", "error"} <= set(log[0])
    child = next(e for e in log if e["parent"])
    assert child["parent"] in crawl.records
    with gzip.open(crawl.warc_path) as fh:  # a standard gzip WARC
        assert fh.read(8) == b"WARC/1.1"


def test_gbk_legacy_site_decoded(sandbox, county):
    site = county.site("rsj")
    crawl = crawl_site(sandbox.urls["rsj"], sandbox.crawl_config())
    home = crawl.get(sandbox.urls["rsj"])
    assert home.redirects == [sandbox.urls["rsj"]]  # "/" -> /index.asp
    assert home.encoding == "gb18030"
    art = site.columns[0].articles[0]
    rec = crawl.get(sandbox.url("rsj", art.path))
    assert rec.page.title == art.title and rec.page.publish_date == art.date
    nometa = crawl_site(sandbox.urls["nyj"], sandbox.crawl_config(max_pages=3))
    assert county.site("nyj").name in nometa.get(sandbox.urls["nyj"]).page.text


def test_per_host_concurrency_and_delay_are_respected():
    county = generate_county(n_sites=1, pages_per_site=40, no_default_faults=True)
    with SandboxServer(county) as srv:
        crawl_site(srv.urls["portal"], srv.crawl_config(concurrency_per_host=2, delay=0.05))
        app = srv.apps["portal"]
        assert app.max_inflight <= 2
        gaps = sorted(b - a for a, b in zip(app.arrivals, app.arrivals[1:]))
        # spacing as seen by the server; loopback jitter may bunch two arrivals a little
        assert gaps[0] >= 0.02 and gaps[len(gaps) // 2] >= 0.045
        srv.apps["portal"].max_inflight = 0
        crawl_site(srv.urls["portal"], srv.crawl_config(concurrency_per_host=1, delay=0))
        assert app.max_inflight == 1


def test_slow_server_times_out_as_unknown():
    county = generate_county(n_sites=1, pages_per_site=5, faults={"portal": {"slow": 2.0}}, no_default_faults=True)
    with SandboxServer(county) as srv:
        rep = inspect_site(srv.urls["portal"], county.as_of, srv.crawl_config(timeout=0.5, retries=0))
    assert rep.status == "could_not_check" and "timeout" in rep.reason and not rep.findings


def test_content_type_filter_skips_non_documents():
    county = generate_county(n_sites=1, pages_per_site=5, no_default_faults=True)
    site = county.sites[0]
    site.extra_routes["/media/logo"] = ("raw", (b"\x89PNG\r\n\x1a\n" + b"0" * 5000, "image/png"))
    site.extra_routes["/media/intro"] = ("raw", ("<html><body><p>简介</p></body></html>".encode(), "text/html; charset=utf-8"))
    site.home_extra_html += '<a href="/media/logo">网站标志图片</a><a href="/media/intro">本站简介页面</a><a href="/media/photo.jpg">照片</a>'
    with SandboxServer(county) as srv:
        crawl = crawl_site(srv.urls["portal"], srv.crawl_config())
        served = srv.apps["portal"].counts
    logo = crawl.get(srv.url("portal", "/media/logo"))
    assert logo.error == "skipped content-type image/png" and logo.bytes == 0
    assert crawl.get(srv.url("portal", "/media/intro")).ok
    assert "/media/photo.jpg" not in served  # skipped by extension, never requested


def test_calendar_and_session_id_traps_are_contained(sandbox):
    crawl = crawl_site(sandbox.urls["wjw"], sandbox.crawl_config(check_links=False))
    cal = [u for u in crawl.records if "/calendar.html" in u]
    assert 0 < len(cal) <= 20  # the depth limit stops an endless calendar
    deep = crawl_site(sandbox.urls["wjw"], sandbox.crawl_config(check_links=False, max_depth=10_000, max_query_variants=100))
    cal = [u for u in deep.records if "/calendar.html" in u]
    assert len(cal) <= 101 and deep.stats["trap_pruned"] > 0  # and without it, the self-linking query cap
    sessions = [u for u in crawl.records if "hall.jsp" in u]
    assert len(sessions) == 1 and "jsessionid" not in sessions[0]  # session ids are not part of a URL's identity
    assert crawl.pages_fetched < 400


def test_many_articles_behind_one_script_are_not_a_trap(sandbox, county):
    # legacy sites serve every article as show.asp?id=N: all of them must be crawled
    crawl = crawl_site(sandbox.urls["nyj"], sandbox.crawl_config(check_links=False, max_query_variants=20))
    site = county.site("nyj")
    articles = [sandbox.url("nyj", a.path) for c in site.columns for a in c.articles]
    assert len(articles) > 100
    assert all(crawl.get(u) is not None and crawl.get(u).ok for u in articles)


def test_normalise_url():
    from govinspect.engine.fetch.crawler import normalise_url

    assert normalise_url("HTTP://Www.X.gov.cn:80/a/b.html#top") == "http://www.x.gov.cn/a/b.html"
    assert normalise_url("http://x.gov.cn/hall.jsp;jsessionid=ABC?x=1") == "http://x.gov.cn/hall.jsp?x=1"
    assert normalise_url("http://x.gov.cn/s.php?PHPSESSID=1&id=5") == "http://x.gov.cn/s.php?id=5"
    assert normalise_url("http://x.gov.cn/list.asp?classid=5&page=2") == "http://x.gov.cn/list.asp?classid=5&page=2"
