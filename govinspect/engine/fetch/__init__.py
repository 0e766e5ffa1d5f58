"""asyncio + aiohttp crawler: scope, politeness, robots.txt, limits, private-address guard, WARC."""

from .crawler import CrawlConfig, CrawlResult, FetchRecord, crawl_site
from .guard import AddressGuard, BlockedAddress

__all__ = ["CrawlConfig", "CrawlResult", "FetchRecord", "crawl_site", "AddressGuard", "BlockedAddress"]
