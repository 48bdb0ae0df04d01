"""axe-core in the browser tests: inject the vendored copy into a page, run it, read the violations.

`tests/web/vendor/axe.min.js` (see the README beside it) is test-only: the app never serves it.
The app's Content-Security-Policy (`script-src` falls back to `default-src 'self'`) rightly
refuses an injected script, so the contexts that run axe are opened with Playwright's
`bypass_csp=True` — only there, for this test tool; every other browser test keeps the CSP.

A page fails on any violation of `serious` or `critical` impact, the level JIS X 8341-3 AA
(≈ WCAG 2.x AA) pages must not have; `minor` and `moderate` ones are returned, not failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
FAILING_IMPACTS = frozenset({"serious", "critical"})
# Every rule of WCAG 2.0–2.2 A and AA, and axe's best practices (landmarks, headings, skip links).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def new_context(browser: Any, **options: Any) -> Any:
    """A browser context that lets axe be injected despite the app's CSP (see the module docstring)."""
    options.setdefault("locale", "ja-JP")
    options.setdefault("viewport", {"width": 1280, "height": 900})
    context = browser.new_context(bypass_csp=True, **options)
    # In every page of the context before its own scripts: compiled once and cached by V8,
    # instead of a 650 KB script tag added (and parsed again) on each page checked.
    context.add_init_script(path=str(AXE_JS))
    return context


def violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now; every violation, whatever its impact."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    result: dict[str, Any] = page.evaluate(
        "async (tags) => await window.axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})",
        TAGS,
    )
    found: list[dict[str, Any]] = result["violations"]
    return found


def serious(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in found if v.get("impact") in FAILING_IMPACTS]


def describe(found: list[dict[str, Any]], where: str) -> str:
    """A readable list: rule id, impact, what it asks for, and the offending elements' selectors."""
    lines = [f"{where}: {len(found)} axe violation(s)"]
    for v in found:
        targets = [", ".join(str(t) for t in node["target"]) for node in v["nodes"]]
        shown = "; ".join(targets[:6]) + (f" … (+{len(targets) - 6})" if len(targets) > 6 else "")
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} — {shown}")
    return "\n".join(lines)


def assert_accessible(page: Any, where: str) -> list[dict[str, Any]]:
    """Fail on any serious or critical violation; return the milder ones (reported, not failed)."""
    found = violations(page)
    bad = serious(found)
    assert not bad, describe(bad, f"{where} ({page.url})")
    return found
