"""Fetch the given URL list with a plain Scrapy spider (no politeness delay); print JSON stats."""

import json
import sys
import time

import scrapy
from scrapy.crawler import CrawlerProcess


class Plain(scrapy.Spider):
    name = "plain"
    pages = 0

    def __init__(self, urls, **kw):
        super().__init__(**kw)
        self.start_urls = urls

    def parse(self, response):
        Plain.pages += 1


def main(conc: int, sites: int, urls_file: str) -> None:
    urls = open(urls_file, encoding="utf-8").read().split()
    proc = CrawlerProcess(settings={
        "LOG_LEVEL": "ERROR", "ROBOTSTXT_OBEY": False, "DOWNLOAD_DELAY": 0, "COOKIES_ENABLED": False,
        # Scrapy keys its slots by host name; all sandbox sites share 127.0.0.1, so allow the same total
        "CONCURRENT_REQUESTS": conc * sites, "CONCURRENT_REQUESTS_PER_DOMAIN": conc * sites,
        "HTTPERROR_ALLOW_ALL": True, "TELNETCONSOLE_ENABLED": False, "RETRY_ENABLED": False,
    })
    proc.crawl(Plain, urls=urls)
    t = time.perf_counter()
    proc.start()
    print(json.dumps({"pages": Plain.pages, "seconds": time.perf_counter() - t}))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
