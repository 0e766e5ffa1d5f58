"""Helpers shared by the rectification tests (not a test module)."""


def crawl_log(rnd, k, pages) -> str:
    """A round's crawl log of a site (the pages it fetched): the next round closes a page's problem only where it
    fetched that page again."""
    import json

    from govinspect.storage import storage

    key = f"rounds/{rnd.pk}/{k}-crawl-log.jsonl"
    p = storage().path(key)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("".join(json.dumps({"url": u, "final_url": u, "status": 200, "error": None}) + "\n" for u in pages))
    return key
