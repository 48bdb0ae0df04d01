"""Draw a lifecycle as SVG, in Python, from its stages and transitions (no browser script).

The stages stand top to bottom in the lifecycle file's order (the order a case usually goes
through them). A move to the next stage is a straight arrow labelled beside it; an action that
keeps the stage (another 支援会議) is written inside the box (↻); a move that skips stages
forward runs in a lane on the right, a move back (差戻し, 再開, 同意の撤回) in a lane on the
left, one lane per action and destination however many stages it leaves from. Labels carry a
white halo, so a lane crossing them never hides them.

Drawn on the server: the page needs no script (the CSP stays as it is), prints like any other
page, and a test can read the picture as text.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from states.definition import Lifecycle

FONTS = '"Noto Sans CJK JP", "Noto Sans JP", "Hiragino Sans", "Yu Gothic", Meiryo, sans-serif'
BOX_W, BOX_H, GAP, LANE, TOP, MARGIN = 230, 58, 60, 18, 44, 16
PORT_STEP = 13
LABEL_SIZE = 13
INK, MUTED, LINE, ACCENT, PAPER, FINAL_WASH = "#1d2430", "#5b6577", "#8794a8", "#1f6fb2", "#ffffff", "#e6f4ec"


def text_width(text: str, size: int = LABEL_SIZE) -> int:
    """About how wide `text` is at `size` px: Japanese a full em, Latin letters about half."""
    return int(sum(size if ord(ch) > 0x2000 else size * 0.55 for ch in text))


@dataclass
class _Lane:
    dest: str
    label: str
    sources: list[str]
    side: str  # "left" or "right"
    x: float = 0.0


@dataclass
class _Ports:
    """The next free attachment height on each side of each box."""

    used: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))

    def take(self, stage: str, side: str) -> int:
        n = self.used[(stage, side)]
        self.used[(stage, side)] += 1
        return n


def lifecycle_svg(lifecycle: Lifecycle, *, current: str | None = None, id_prefix: str = "lc") -> str:
    """The lifecycle as an SVG document (text); `current` names the stage to highlight (a case's).

    `id_prefix` keeps the arrowhead's id unique when a page holds more than one drawing.
    """
    names = [s.name for s in lifecycle.stages]
    index = {name: i for i, name in enumerate(names)}
    loops: dict[str, list[str]] = defaultdict(list)
    direct: dict[str, list[str]] = defaultdict(list)
    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    for t in lifecycle.transitions:
        if t.dest is None or t.dest not in index:
            continue
        label = lifecycle.triggers[t.trigger].ja
        for source in t.sources:
            if source not in index:
                continue
            if source == t.dest:
                target = loops[source]
            elif index[t.dest] == index[source] + 1:
                target = direct[source]
            else:
                if source not in grouped[(t.dest, label)]:
                    grouped[(t.dest, label)].append(source)
                continue
            if label not in target:
                target.append(label)
    for (dest, label), sources in grouped.items():
        # An action taken from many stages (終結の承認) reads best as one lane from all of them,
        # the neighbour included, than as a lane plus a lone arrow with the same label.
        neighbour = names[index[dest] - 1] if index[dest] > 0 else None
        if len(sources) >= 2 and neighbour is not None and label in direct.get(neighbour, []):
            direct[neighbour].remove(label)
            if not direct[neighbour]:
                del direct[neighbour]
            sources.append(neighbour)
    lanes = []
    for (dest, label), sources in grouped.items():
        backward = all(index[s] > index[dest] for s in sources)
        lanes.append(
            _Lane(dest, label, sorted(sources, key=index.__getitem__), "left" if backward else "right")
        )

    def span(lane: _Lane) -> int:
        stops = [index[lane.dest], *(index[s] for s in lane.sources)]
        return max(stops) - min(stops)

    lanes.sort(key=lambda lane: (span(lane), index[lane.dest]))
    left_lanes = [lane for lane in lanes if lane.side == "left"]
    right_lanes = [lane for lane in lanes if lane.side == "right"]
    label_w = max((text_width(lane.label) for lane in lanes), default=0) + 12
    left_w = MARGIN + max(label_w, 24 + LANE * len(left_lanes))
    box_x = left_w
    box_r = box_x + BOX_W
    direct_w = max((text_width(" ／ ".join(v)) for v in direct.values()), default=0)
    right_w = max(label_w, 24 + LANE * len(right_lanes), direct_w - BOX_W // 2 + 12) + MARGIN
    width = box_r + right_w
    height = TOP + len(names) * (BOX_H + GAP) - GAP + MARGIN + 8
    for k, lane in enumerate(left_lanes):
        lane.x = box_x - 24 - LANE * k
    for k, lane in enumerate(right_lanes):
        lane.x = box_r + 24 + LANE * k

    def top(stage: str) -> int:
        return TOP + index[stage] * (BOX_H + GAP)

    marker = f"{id_prefix}-arrow"
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lifecycle-drawing" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{id_prefix}-title" font-family={quoteattr(FONTS)}>',
        f'<title id="{id_prefix}-title">{escape(_title(lifecycle, current))}</title>',
        f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
        f'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{LINE}"/>'
        "</marker></defs>",
        f'<rect width="100%" height="100%" fill="{PAPER}"/>',
    ]
    cx = box_x + BOX_W // 2
    first = top(lifecycle.initial) if lifecycle.initial in index else TOP
    out.append(f'<circle cx="{cx}" cy="{first - 30}" r="6" fill="{INK}"/>')
    out.append(_line(cx, first - 24, cx, first, marker))
    ports = _Ports()
    halo = f'paint-order="stroke" stroke="{PAPER}" stroke-width="4" stroke-linejoin="round"'
    for lane in lanes:
        edge = box_x if lane.side == "left" else box_r
        ys = []
        for source in lane.sources:
            y = top(source) + 14 + PORT_STEP * ports.take(source, lane.side)
            ys.append(y)
            out.append(f'<path d="M{edge},{y} H{lane.x}" fill="none" stroke="{LINE}" stroke-width="1.6"/>')
        y_dest = top(lane.dest) + 14 + PORT_STEP * ports.take(lane.dest, lane.side)
        ys.append(y_dest)
        out.append(
            f'<path d="M{lane.x},{min(ys)} V{max(ys)}" fill="none" stroke="{LINE}" stroke-width="1.6"/>'
        )
        out.append(_line(lane.x, y_dest, edge, y_dest, marker))
        anchor, tx = ("end", box_x - 14) if lane.side == "left" else ("start", box_r + 14)
        out.append(
            f'<text x="{tx}" y="{y_dest - 4}" font-size="{LABEL_SIZE}" fill="{INK}" text-anchor="{anchor}" '
            f"{halo}>{escape(lane.label)}</text>"
        )
    for stage in lifecycle.stages:
        y = top(stage.name)
        if stage.name in direct:
            nxt = y + BOX_H + GAP
            out.append(_line(cx, y + BOX_H, cx, nxt, marker))
            out.append(
                f'<text x="{cx + 8}" y="{y + BOX_H + GAP // 2 + 5}" font-size="{LABEL_SIZE}" fill="{INK}" '
                f"{halo}>{escape(' ／ '.join(direct[stage.name]))}</text>"
            )
        out.append(_box(stage.name, stage.ja, box_x, y, loops.get(stage.name, []), stage.final, current))
    out.append("</svg>")
    return "\n".join(out)


def _title(lifecycle: Lifecycle, current: str | None) -> str:
    stages = "→".join(s.ja for s in lifecycle.stages)
    here = f"。現在の段階: {lifecycle.stage_label(current)}" if current else ""
    return f"ライフサイクルの図（{lifecycle.name}）: {stages}{here}"


def _line(x1: float, y1: float, x2: float, y2: float, marker: str) -> str:
    return (
        f'<path d="M{x1},{y1} L{x2},{y2}" fill="none" stroke="{LINE}" stroke-width="1.6" '
        f'marker-end="url(#{marker})"/>'
    )


def _box(name: str, ja: str, x: int, y: int, loops: list[str], final: bool, current: str | None) -> str:
    here = name == current
    fill = ACCENT if here else (FINAL_WASH if final else PAPER)
    ink = PAPER if here else INK
    stroke = ACCENT if here else INK
    cx = x + BOX_W // 2
    parts = [
        f'<g class="stage{" current" if here else ""}" data-stage={quoteattr(name)}>',
        f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="10" fill="{fill}" stroke="{stroke}" '
        f'stroke-width="{3 if here or final else 1.5}"/>',
    ]
    label = f"{ja}（現在）" if here else ja
    name_y = y + (BOX_H // 2 - 4 if loops else BOX_H // 2 + 6)
    parts.append(
        f'<text x="{cx}" y="{name_y}" font-size="17" font-weight="bold" text-anchor="middle" '
        f'fill="{ink}">{escape(label)}</text>'
    )
    if loops:
        parts.append(
            f'<text x="{cx}" y="{y + BOX_H - 12}" font-size="12" text-anchor="middle" '
            f'fill="{PAPER if here else MUTED}">↻ {escape(" ／ ".join(loops))}</text>'
        )
    parts.append("</g>")
    return "".join(parts)
