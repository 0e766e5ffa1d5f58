"""The simulated county: websites in real-world CMS template families, planted problems, ground truth.

generate_county(seed, as_of, n_sites, pages_per_site) builds the model deterministically;
serve.SandboxServer serves it on 127.0.0.1; ground_truth() lists every planted problem.
"""

from .county import County, generate_county

__all__ = ["County", "generate_county"]
