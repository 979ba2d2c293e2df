"""The music skill: a local music library, played through the mixer with speech ducking it."""

from __future__ import annotations

from .skill import skill

__all__ = ["skill"]
