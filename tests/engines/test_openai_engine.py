"""The openai engine's HTTP behaviour: retries on 5xx and connection errors only (fast).

A minimal HTTP server on 127.0.0.1 answers with scripted status codes; the engine against real
`vllm serve` is tested in test_vllm.py.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from codeinstruct.core.errors import InvalidInput, Unavailable
from codeinstruct.engines import EngineConfig, SamplingParams, load_engine


@pytest.fixture
def server():
    statuses: list[int] = []
    bodies: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            status = statuses.pop(0) if statuses else 200
            payload = {"choices": [{"index": 0, "text": "ok"}]} if status == 200 else {"error": "busy"}
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", statuses, bodies
    httpd.shutdown()
    httpd.server_close()


def engine_for(url, retries=2):
    return load_engine(EngineConfig(engine="openai", base_url=url, model="served-model", max_retries=retries,
                                    request_timeout_s=5))


def test_5xx_is_retried_and_sampling_is_sent(server):
    url, statuses, bodies = server
    statuses.extend([503, 502])
    engine = engine_for(url)
    out = engine.generate(["x"], SamplingParams(max_tokens=3, seed=9, stop=("\n",), repetition_penalty=1.1))
    assert out == [["ok"]]
    assert len(bodies) == 3
    assert bodies[-1] == {"model": "served-model", "prompt": "x", "n": 1, "temperature": 0.0, "top_p": 1.0,
                          "max_tokens": 3, "stop": ["\n"], "seed": 9, "repetition_penalty": 1.1}
    engine.close()


def test_4xx_is_not_retried(server):
    url, statuses, bodies = server
    statuses.append(400)
    engine = engine_for(url)
    with pytest.raises(InvalidInput, match="400"):
        engine.generate(["x"], SamplingParams())
    assert len(bodies) == 1
    engine.close()


def test_connection_errors_end_as_unavailable(server):
    url, statuses, _ = server
    statuses.extend([500, 500, 500])
    engine = engine_for(url, retries=1)
    with pytest.raises(Unavailable, match="2 attempt"):
        engine.generate(["x"], SamplingParams())
    engine.close()
    closed = engine_for("http://127.0.0.1:9/v1", retries=0)  # nothing listens on the discard port
    with pytest.raises(Unavailable, match="1 attempt"):
        closed.generate(["x"], SamplingParams())
    closed.close()
