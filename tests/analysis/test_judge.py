"""The optional judge against a small local fake of an OpenAI-compatible chat-completions server
(never the network): it refines MAST modes, records its verdict, and never breaks analysis."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from analysis.engine import run_detectors
from analysis.judge import Judge
from analysis.model import Finding
from tests.analysis.tracekit import TraceSpec


class FakeLLM:
    """Answers every chat completion with ``self.answer`` (or an HTTP error) and records requests."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answer = (
            '```json\n{"modes": ["FM-1.3", "FM-9.9"], "confirmed": true, "rationale": "repeat"}\n```'
        )
        self.status = 200
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(
                    {"path": self.path, "auth": self.headers.get("Authorization"), "body": body}
                )
                payload = json.dumps(
                    {"choices": [{"message": {"role": "assistant", "content": fake.answer}}]}
                )
                data = payload.encode() if fake.status == 200 else b'{"error": "overloaded"}'
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    fake = FakeLLM()
    yield fake
    fake.httpd.shutdown()
    fake.httpd.server_close()


def _finding() -> Finding:
    return Finding(
        "duplicate_side_effect",
        "duplicate_side_effect",
        "a" * 32,
        "b" * 16,
        ("b" * 16,),
        ("x",),
        "high",
        ("FM-1.3",),
        "sent twice",
        {"tool": "send_email"},
        "1",
    )


def test_judge_refines_modes_and_records_its_verdict(llm: FakeLLM) -> None:
    f = Judge(llm.url, model="tiny", api_key="k").refine(_finding())
    assert f.mast == ("FM-1.3",)  # the unknown FM-9.9 is dropped
    assert f.evidence["judge"] == {
        "model": "tiny",
        "modes": ["FM-1.3"],
        "confirmed": True,
        "rationale": "repeat",
    }
    assert f.id == _finding().id  # the stable id does not depend on the judge
    [req] = llm.requests
    assert req["path"] == "/v1/chat/completions" and req["auth"] == "Bearer k"
    assert req["body"]["model"] == "tiny" and "FM-3.3" in req["body"]["messages"][0]["content"]
    assert "send_email" in req["body"]["messages"][1]["content"]


def test_a_failing_judge_leaves_findings_alone(llm: FakeLLM) -> None:
    llm.status = 503
    assert Judge(llm.url).refine(_finding()) == _finding()
    llm.status = 200
    llm.answer = "I think it is FM-1.3"
    assert Judge(llm.url).refine(_finding()) == _finding()
    assert Judge("http://127.0.0.1:9", timeout=1).refine(_finding()) == _finding()


def test_judge_as_engine_refiner(llm: FakeLLM) -> None:
    s = TraceSpec()
    root = s.agent("mailer", 0, 100)
    s.tool("send_email", 1, 2, root, {"to": "a@b.c"}, {"id": 1})
    s.tool("send_email", 3, 4, root, {"to": "a@b.c"}, {"id": 2})
    trace = s.trace()
    from analysis.detectors.duplicate_side_effect import DuplicateSideEffect

    found, _ = run_detectors(trace, [DuplicateSideEffect()])
    refined = Judge(llm.url, max_findings=1)(trace, found)
    assert refined[0].evidence["judge"]["confirmed"] is True and len(llm.requests) == 1
