"""The service's settings (one class, shared with the worker, which may not import api/)."""

from worker.config import Settings, get_settings

__all__ = ["Settings", "get_settings"]
