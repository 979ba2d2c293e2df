"""A per-turn waterfall as one self-contained HTML file (inline SVG, no scripts, no downloads)."""

from __future__ import annotations

import html
from pathlib import Path

from assistant.bench.corpus import BenchError
from assistant.bench.runner import TurnRecord

# stage → (from mark, to mark, colour); time zero is the last voiced frame.
BARS: dict[str, tuple[str, str, str]] = {
    "endpoint": ("last_voiced", "endpoint", "#9e9e9e"),
    "asr": ("endpoint", "asr_final", "#1f77b4"),
    "understand": ("asr_final", "route", "#2ca02c"),
    "reply text": ("route", "first_reply_text", "#bcbd22"),
    "llm first token": ("route", "llm_first_token", "#9467bd"),
    "tts first audio": ("first_reply_text", "first_audio_out", "#ff7f0e"),
}
THIN = {"llm first token"}  # drawn as a thin bar over "reply text", which it is part of
ROW = 22
LABEL_W = 340
CHART_W = 760
RIGHT_MARGIN = 90
TOP = 50


def waterfall_html(records: list[TurnRecord], title: str = "hearkend bench: voice to voice") -> str:
    """HTML with one row per turn: a bar per stage on a time axis from the last voiced frame."""
    # Each file's turns side by side (ours above the baseline), runs one after another.
    rows = sorted((r for r in records if r.marks_ms), key=lambda r: (r.file, r.run, r.pipeline != "ours"))
    span = max((max(r.marks_ms.values()) for r in rows), default=1000.0)
    span = max(span, 100.0)
    scale = CHART_W / span
    height = TOP + ROW * len(rows) + 60
    svg_width = LABEL_W + CHART_W + RIGHT_MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{svg_width}" height="{height}"'
        ' font-family="sans-serif" font-size="12">'
    ]
    step = _tick_step(span)
    tick = 0.0
    while tick <= span:
        x = LABEL_W + tick * scale
        parts.append(f'<line x1="{x:.1f}" y1="{TOP - 8}" x2="{x:.1f}" y2="{height - 50}" stroke="#eee"/>')
        parts.append(f'<text x="{x:.1f}" y="{TOP - 12}" text-anchor="middle">{tick:.0f} ms</text>')
        tick += step
    for i, record in enumerate(rows):
        y = TOP + i * ROW
        label = f"{record.pipeline} · {record.file} · run {record.run} · {record.route}"
        parts.append(f'<text x="4" y="{y + 14}">{html.escape(label)}</text>')
        for name, (start, end, colour) in BARS.items():
            if start in record.marks_ms and end in record.marks_ms:
                x0 = LABEL_W + record.marks_ms[start] * scale
                width = max(1.0, (record.marks_ms[end] - record.marks_ms[start]) * scale)
                tip = f"{name}: {record.marks_ms[end] - record.marks_ms[start]:.0f} ms"
                top, tall = (y + 8, ROW - 16) if name in THIN else (y + 3, ROW - 6)
                parts.append(
                    f'<rect x="{x0:.1f}" y="{top}" width="{width:.1f}" height="{tall}"'
                    f' fill="{colour}" opacity="0.85"><title>{html.escape(tip)}</title></rect>'
                )
        v2v = record.timings_ms.get("voice_to_voice")
        if v2v is not None:
            x = LABEL_W + record.marks_ms["first_audio_out"] * scale
            parts.append(f'<text x="{x + 4:.1f}" y="{y + 14}">{v2v:.0f} ms</text>')
    legend_y = height - 30
    x = LABEL_W
    for name, (_, _, colour) in BARS.items():
        parts.append(f'<rect x="{x}" y="{legend_y}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="{legend_y + 11}">{name}</text>')
        x += 16 + 8 * len(name) + 20
    parts.append("</svg>")
    body = "\n".join(parts)
    return (
        "<!doctype html>\n<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body>"
        f"<h2 style='font-family:sans-serif'>{html.escape(title)}</h2>"
        "<p style='font-family:sans-serif'>Time zero is the end of the last voiced frame; the number "
        "after each row is voice-to-voice (first reply audio out).</p>"
        f"{body}</body></html>\n"
    )


def _tick_step(span: float) -> float:
    for step in (50.0, 100.0, 200.0, 250.0, 500.0, 1000.0, 2000.0, 5000.0):
        if span / step <= 12:
            return step
    return 10_000.0


def write_plot(records: list[TurnRecord], path: Path) -> None:
    """Write the waterfall; a .png path is refused with a pointer to .html."""
    if path.suffix.lower() not in (".html", ".htm"):
        raise BenchError(f"{path}: the plot is written as HTML; give a file name ending in .html")
    path.write_text(waterfall_html(records), encoding="utf-8")
