"""Control phrases the core answers itself: "stop" silences whatever is ringing or playing."""

from __future__ import annotations

import re

_STOP = re.compile(
    r"^(?:(?:ok|okay|hey)\s+)?(?:please\s+)?"
    r"(?:stop|stop it|stop that|stop the (?:alarm|timer|music|noise|ringing)|cancel|enough|quiet|"
    r"be quiet|silence|shut up|turn it off|turn that off|dismiss|that's enough|thats enough|ok stop)"
    r"(?:\s+please)?$"
)


def is_stop_phrase(normalized: str) -> bool:
    """True for a bare stop command ("stop", "stop the alarm", "be quiet please")."""
    return bool(_STOP.match(normalized))
