"""The lifecycle drawn as SVG: well-formed, every stage change on it, the current stage (and
only it) highlighted, names from the lifecycle file escaped."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

from states.definition import load_lifecycle
from states.drawing import lifecycle_svg

SVG = "{http://www.w3.org/2000/svg}"


def _texts(svg: ET.Element) -> str:
    return "\n".join(t.text or "" for t in svg.iter(f"{SVG}text"))


def test_every_stage_and_stage_change_is_drawn() -> None:
    lifecycle = load_lifecycle()
    svg = ET.fromstring(lifecycle_svg(lifecycle))
    stages = [g.get("data-stage") for g in svg.iter(f"{SVG}g")]
    assert stages == [s.name for s in lifecycle.stages]
    texts = _texts(svg)
    for t in lifecycle.transitions:
        if t.dest is not None:
            assert lifecycle.triggers[t.trigger].ja in texts, t.trigger
    assert "↻" in texts  # 支援会議 held again keeps the stage
    assert not [g for g in svg.iter(f"{SVG}g") if "current" in (g.get("class") or "")]
    assert svg.get("role") == "img" and svg.find(f"{SVG}title") is not None


def test_current_stage_highlighted_alone() -> None:
    lifecycle = load_lifecycle()
    svg = ET.fromstring(lifecycle_svg(lifecycle, current="monitoring", id_prefix="x"))
    current = [g for g in svg.iter(f"{SVG}g") if "current" in (g.get("class") or "").split()]
    assert [g.get("data-stage") for g in current] == ["monitoring"]
    assert "支援・モニタリング（現在）" in _texts(svg)
    title = svg.find(f"{SVG}title")
    assert title is not None and (title.text or "").endswith("現在の段階: 支援・モニタリング")
    assert svg.find(f"{SVG}defs/{SVG}marker").get("id") == "x-arrow"  # type: ignore[union-attr]


def test_names_from_the_file_are_escaped() -> None:
    lifecycle = load_lifecycle()
    odd = tuple(
        dataclasses.replace(s, ja='受付 <b>"&') if s.name == lifecycle.initial else s
        for s in lifecycle.stages
    )
    svg = ET.fromstring(lifecycle_svg(dataclasses.replace(lifecycle, stages=odd), current=lifecycle.initial))
    assert '受付 <b>"&（現在）' in _texts(svg)
    assert not list(svg.iter(f"{SVG}b"))
