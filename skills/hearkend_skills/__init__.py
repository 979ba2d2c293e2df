"""hearkend's built-in skills, written only against the public ``assistant.skill`` API."""
