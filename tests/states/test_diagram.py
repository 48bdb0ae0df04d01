"""The Mermaid diagram shows every stage and every stage change, and nothing else."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from states import Lifecycle, load_lifecycle
from states.diagram import mermaid

SHIPPED = sorted(Path(str(resources.files("states").joinpath("lifecycles"))).glob("*.yaml"))
_EDGE = re.compile(r"^    (\w+) --> (\w+): (.+)$")


def _edges(diagram: str) -> dict[tuple[str, str], str]:
    return {(m[1], m[2]): m[3] for line in diagram.splitlines() if (m := _EDGE.match(line))}


@pytest.fixture(name="lifecycle", params=SHIPPED, ids=lambda p: p.name)
def lifecycle_fixture(request: pytest.FixtureRequest) -> Lifecycle:
    return load_lifecycle(request.param)


def test_mermaid_is_a_state_diagram_with_start_and_end(lifecycle: Lifecycle) -> None:
    diagram = mermaid(lifecycle)
    assert diagram.startswith("stateDiagram-v2\n")
    assert f"    [*] --> {lifecycle.initial}\n" in diagram
    for final in lifecycle.final_stages:
        assert f"    {final} --> [*]\n" in diagram


def test_mermaid_labels_every_stage_in_japanese(lifecycle: Lifecycle) -> None:
    diagram = mermaid(lifecycle)
    for stage in lifecycle.stages:
        assert f'    state "{stage.ja}<br/>{stage.name}" as {stage.name}\n' in diagram


def test_mermaid_draws_every_stage_change_with_its_trigger(lifecycle: Lifecycle) -> None:
    edges = _edges(mermaid(lifecycle))
    for t in lifecycle.transitions:
        if t.dest is None:
            continue
        for source in t.sources:
            if source == t.dest:
                continue
            label = edges.get((source, t.dest))
            assert label is not None, f"missing {source} --> {t.dest}"
            assert lifecycle.triggers[t.trigger].ja in label
            for guard in t.guards:
                assert guard in label


def test_mermaid_draws_no_edge_the_lifecycle_lacks(lifecycle: Lifecycle) -> None:
    declared = {(s, t.dest) for t in lifecycle.transitions if t.dest is not None for s in t.sources}
    drawn = set(_edges(mermaid(lifecycle)))
    assert drawn <= declared
    # Recorded-only actions (no dest) are not drawn: monitoring has no loop onto itself.
    assert ("monitoring", "monitoring") not in drawn
    assert "モニタリング記録" not in mermaid(lifecycle)


def test_mermaid_without_guards_has_plain_labels() -> None:
    lifecycle = load_lifecycle()
    edges = _edges(mermaid(lifecycle, show_guards=False))
    assert edges[("planning", "monitoring")] == "支援プラン承認"
    assert not any("[" in label for label in edges.values())


def test_mermaid_tsunagi_example_draws_watching_over_and_hand_over() -> None:
    lifecycle = load_lifecycle(next(p for p in SHIPPED if p.name == "tsunagi.yaml"))
    edges = _edges(mermaid(lifecycle))
    assert edges[("shien_jisshi", "mimamori")] == "見守りへ移る"
    assert edges[("mimamori", "tsunagi")] == "他機関へ引き継ぐ（つなぎ）"
    assert edges[("chudan", "kadai_seiri")] == "中断を解く"
    assert ("tsunagi", "shuryo") in edges
