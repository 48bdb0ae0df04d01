"""Request bodies over the limit (1 MiB by default) are refused with 413 before being read whole."""

from __future__ import annotations

import socket

from tests.web.browser import serving
from tests.web.conftest import Web, csrf_of
from tests.web.helpers import intake
from yorisoi.web.sessions import COOKIE

MIB = 1024 * 1024


def test_large_json_body_is_413_in_the_error_shape(web: Web) -> None:
    client = web.api_as(web.world.coordinator)
    number = intake(client, web.world)
    note = "あ" * MIB  # 3 MiB of UTF-8
    answer = client.post(f"/api/cases/{number}/actions/start_assessment", json={"data": {"note": note}})
    assert answer.status_code == 413
    assert set(answer.json()) == {"code", "message_ja", "message_en"}
    assert answer.json()["code"] == "request_too_large" and "大きすぎます" in answer.json()["message_ja"]
    assert client.get(f"/api/cases/{number}").json()["case"]["stage"] == "intake"  # nothing changed


def _answer_to_partial_body(base: str, path: str, cookie: str, csrf: str, *, chunked: bool) -> bytes:
    """Send headers and part of a body (2 MiB of a declared 40 MiB, or 2 MiB of chunks without an
    end), then read what the server says: it must answer without waiting for the rest."""
    host, port = base.removeprefix("http://").split(":")
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {40 * MIB}"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Cookie: {COOKIE}={cookie}\r\nX-CSRF-Token: {csrf}\r\n{framing}\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(head.encode())
        piece = b"x" * (64 * 1024)
        try:
            for _ in range(32):
                conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        except OSError:  # the server may close as soon as it has answered
            pass
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = conn.recv(65536)
            if not data:
                break
            answer += data
        return answer


def test_body_is_refused_before_it_is_read_whole_by_the_real_server(web: Web) -> None:
    client = web.api_as(web.world.coordinator)
    number = intake(client, web.world)
    path = f"/api/cases/{number}/actions/start_assessment"
    with serving(web.app) as base:
        for chunked in (False, True):
            answer = _answer_to_partial_body(
                base, path, client.cookies[COOKIE], client.headers["X-CSRF-Token"], chunked=chunked
            )
            assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert client.get(f"/api/cases/{number}").json()["case"]["stage"] == "intake"


def test_large_page_form_is_413_page(web: Web) -> None:
    number = intake(web.api_as(web.world.coordinator), web.world)
    page = web.page_as(web.world.coordinator)
    token = csrf_of(page.get(f"/cases/{number}/do/start_assessment").text)
    answer = page.post(
        f"/cases/{number}/do/start_assessment", data={"csrf_token": token, "note": "x" * (2 * MIB)}
    )
    assert answer.status_code == 413 and "送信されたデータが大きすぎます" in answer.text
    assert "<html" in answer.text
    small = page.post(f"/cases/{number}/do/start_assessment", data={"csrf_token": token, "note": "面談"})
    assert small.status_code == 303
