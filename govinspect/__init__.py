"""govinspect: 政务公开智能检查平台."""

__version__ = "0.1.0"
