"""Models for `assistant models list|pull`: the manifest, cheap model-file checks, and downloads.

- manifest: which models exist, where each comes from, and where it is on this machine.
- checks: header-only validity checks of model files, with errors that say what to do.
- download: `pull` into <data_dir>/models with sha256 verification and a progress bar.
"""

from __future__ import annotations

from assistant.models.checks import (
    check_ct2_dir,
    check_gguf,
    check_model,
    check_onnx,
    check_piper_voice,
    check_tflite,
)
from assistant.models.download import Progress, ProgressBar, progress_bar, pull, suggested_config
from assistant.models.manifest import (
    CONFIG_KEYS,
    KINDS,
    ModelEntry,
    find_entry,
    list_models,
    load_manifest,
    locate,
    models_dir,
    package_dir,
    parse_manifest,
    resolve_model,
)

__all__ = [
    "CONFIG_KEYS",
    "KINDS",
    "ModelEntry",
    "Progress",
    "ProgressBar",
    "check_ct2_dir",
    "check_gguf",
    "check_model",
    "check_onnx",
    "check_piper_voice",
    "check_tflite",
    "find_entry",
    "list_models",
    "load_manifest",
    "locate",
    "models_dir",
    "package_dir",
    "parse_manifest",
    "progress_bar",
    "pull",
    "resolve_model",
    "suggested_config",
]
