"""Rules are data: versioned files here ship the national defaults; operators override them."""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path

RULES_DIR = Path(__file__).resolve().parent


class RulesError(ValueError):
    pass


@lru_cache(maxsize=64)
def load_rules(name: str) -> dict:
    """Load a rules file by name (e.g. "freshness"). GOVINSPECT_RULES_DIR may hold overrides."""
    override = os.environ.get("GOVINSPECT_RULES_DIR")
    for d in ([Path(override)] if override else []) + [RULES_DIR]:
        p = d / f"{name}.toml"
        if p.exists():
            try:
                return tomllib.loads(p.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as e:
                raise RulesError(f"规则文件 {p} 格式错误：{e}") from e
    raise RulesError(f"找不到规则文件 {name}.toml")
