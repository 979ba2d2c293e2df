"""hearkend: a local, private, always-on voice assistant."""

from __future__ import annotations

__version__ = "0.1.0"
