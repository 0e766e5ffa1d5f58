"""The simulated county: websites in real-world CMS template families, planted problems, ground truth.

generate_county(seed, as_of, n_sites, pages_per_site) builds the model deterministically;
serve.SandboxServer serves it on 127.0.0.1; ground_truth() lists every planted problem.
"""

from .county import County, generate_county

__all__ = ["County", "generate_county"]

# Crawl settings for the sandbox: loopback allowed (the operator's explicit choice), fast politeness; the
# sandbox internet's www.gov.cn is the reference target that tells external links can be judged.
SANDBOX_CRAWL = {"allow_networks": ("127.0.0.0/8",), "delay": 0.01, "concurrency_per_host": 4, "timeout": 10.0,
                 "retries": 1, "retry_backoff": 0.05, "link_recheck_interval": 0.2, "reference_urls": ("http://www.gov.cn/",)}

