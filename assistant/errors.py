"""Errors with stable codes, one class per area, each naming what went wrong."""

from __future__ import annotations


class AssistantError(Exception):
    """Base of every error the assistant reports to a person; carries a stable code."""

    code = "error"
    exit_code = 1


class ConfigError(AssistantError):
    """The configuration file or a command-line value is invalid."""

    code = "config"
    exit_code = 2


class ModelError(AssistantError):
    """A model file is missing, corrupt or cannot be loaded."""

    code = "model"


class AudioFileError(AssistantError):
    """An audio file cannot be read or is in an unsupported format."""

    code = "audio-file"


class AudioDeviceError(AssistantError):
    """A sound device is absent or cannot be opened."""

    code = "audio-device"


class StageError(AssistantError):
    """A pipeline stage failed while handling a turn."""

    code = "stage"

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(f"{stage}: {message}")
        self.stage = stage
