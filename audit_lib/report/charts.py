"""Charts as inline SVG: labels stay text that the reader's browser draws, so Chinese renders with no font on
the machine that builds the report, and nothing is fetched when it is opened. Every label is escaped."""
from __future__ import annotations

from html import escape

PALETTE = ["#1f5f99", "#c0392b", "#27864a", "#d68910", "#6c3483", "#5d6d7e"]


def _fmt(v: float) -> str:
    if abs(v) >= 1e8:
        return f"{v / 1e8:.1f}亿"
    if abs(v) >= 1e4:
        return f"{v / 1e4:.1f}万"
    return f"{v:,.0f}" if abs(v) >= 10 else f"{v:.2f}"


def bars(labels: list[str], values: list[float], title: str = "", unit: str = "", width: int = 720,
         target: float | None = None, target_label: str = "") -> str:
    """Horizontal bars, one per label."""
    n = max(len(labels), 1)
    row = 22
    longest = max([len(str(x)) for x in labels] + [4])
    left = min(40 + 13 * longest, width // 2)
    height = 40 + n * row + 20
    vmax = max([abs(v) for v in values] + [target or 0, 1e-9])
    scale = (width - left - 90) / vmax
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
           f'<text x="8" y="20" class="chart-title">{escape(title)}</text>']
    for i, (lab, v) in enumerate(zip(labels, values)):
        y = 34 + i * row
        w = max(abs(v) * scale, 0.5)
        out.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end" class="chart-label">{escape(str(lab))}</text>')
        out.append(f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 7}" fill="{PALETTE[0]}"/>')
        out.append(f'<text x="{left + w + 4:.1f}" y="{y + 14}" class="chart-value">{escape(_fmt(v))}{escape(unit)}</text>')
    if target is not None:
        x = left + target * scale
        out.append(f'<line x1="{x:.1f}" y1="30" x2="{x:.1f}" y2="{height - 14}" stroke="{PALETTE[1]}" '
                   f'stroke-dasharray="4 3"/>')
        out.append(f'<text x="{x:.1f}" y="{height - 2}" text-anchor="middle" class="chart-value" '
                   f'fill="{PALETTE[1]}">{escape(target_label)}</text>')
    out.append("</svg>")
    return "".join(out)


def lines(x_labels: list[str], series: dict[str, list[float]], title: str = "", unit: str = "",
          width: int = 720, height: int = 260, highlight: set | None = None) -> str:
    """One line per series over the x labels (periods); highlighted x labels get a red marker."""
    left, right, top, bottom = 70, 20, 34, 40
    allv = [v for s in series.values() for v in s] or [0]
    vmax = max(max(allv), 1e-9)
    n = max(len(x_labels), 2)
    dx = (width - left - right) / (n - 1)
    sy = (height - top - bottom) / vmax
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
           f'<text x="8" y="20" class="chart-title">{escape(title)}</text>',
           f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="#999"/>',
           f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" class="chart-value">{escape(_fmt(vmax))}{escape(unit)}</text>',
           f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end" class="chart-value">0</text>']
    for i, lab in enumerate(x_labels):
        x = left + i * dx
        out.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle" class="chart-label">'
                   f'{escape(str(lab)[-5:])}</text>')
    for k, (name, vals) in enumerate(series.items()):
        pts = " ".join(f"{left + i * dx:.1f},{height - bottom - v * sy:.1f}" for i, v in enumerate(vals))
        color = PALETTE[k % len(PALETTE)]
        out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{pts}"/>')
        out.append(f'<text x="{width - right}" y="{top + 14 * k}" text-anchor="end" class="chart-label" '
                   f'fill="{color}">{escape(name)}</text>')
        for i, v in enumerate(vals):
            if highlight and x_labels[i] in highlight:
                out.append(f'<circle cx="{left + i * dx:.1f}" cy="{height - bottom - v * sy:.1f}" r="5" '
                           f'fill="{PALETTE[1]}"/>')
    out.append("</svg>")
    return "".join(out)


CSS = """
.chart { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; background: #fff; }
.chart-title { font-size: 14px; font-weight: bold; }
.chart-label { font-size: 12px; }
.chart-value { font-size: 11px; fill: #333; }
"""
