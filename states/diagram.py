"""Render a lifecycle as a Mermaid state diagram.

transitions' own GraphMachine cannot label states (no Japanese names) and draws every
recorded-only action as a self-loop, so the diagram is written from the lifecycle data.
"""

from __future__ import annotations

from collections import defaultdict

from states.definition import Lifecycle


def mermaid(lifecycle: Lifecycle, *, show_guards: bool = True) -> str:
    """A `stateDiagram-v2` of stage changes, labelled in Japanese; guards in brackets."""
    lines = ["stateDiagram-v2", "    direction LR"]
    lines += [f'    state "{s.ja}<br/>{s.name}" as {s.name}' for s in lifecycle.stages]
    lines.append(f"    [*] --> {lifecycle.initial}")
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for t in lifecycle.transitions:
        if t.dest is None:
            continue
        label = lifecycle.triggers[t.trigger].ja
        if show_guards and t.guards:
            label += " [" + ", ".join(t.guards) + "]"
        for source in t.sources:
            if label not in edges[(source, t.dest)]:
                edges[(source, t.dest)].append(label)
    for (source, dest), labels in edges.items():
        lines.append(f"    {source} --> {dest}: {' / '.join(labels)}")
    for stage in lifecycle.final_stages:
        lines.append(f"    {stage} --> [*]")
    return "\n".join(lines) + "\n"
