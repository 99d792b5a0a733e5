"""Fixtures of the reporting app's own tests: a local HTTP server standing in for the WeChat
Work / DingTalk group robots, and figures for the briefs (pushed with the root `push`)."""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class RecordedRequest:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict


@dataclass
class RobotServer:
    """A group robot on loopback: records every request; answers with the next queued reply
    (status, JSON body), or `{"errcode": 0, "errmsg": "ok"}` when none is queued."""

    url: str
    requests: list[RecordedRequest] = field(default_factory=list)
    replies: list[tuple[int, dict | str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reply_with(self, *replies: tuple[int, dict | str]) -> None:
        with self.lock:
            self.replies.extend(replies)


@pytest.fixture
def robot_server():
    state: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            server: RobotServer = state["server"]
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length)
            parsed = urllib.parse.urlsplit(self.path)
            with server.lock:
                server.requests.append(
                    RecordedRequest(
                        path=parsed.path,
                        query=dict(urllib.parse.parse_qsl(parsed.query)),
                        headers={key.lower(): value for key, value in self.headers.items()},
                        body=json.loads(raw.decode("utf-8")),
                    )
                )
                status, reply = (
                    server.replies.pop(0)
                    if server.replies
                    else (200, {"errcode": 0, "errmsg": "ok"})
                )
            payload = reply if isinstance(reply, str) else json.dumps(reply)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(payload.encode("utf-8"))

        def log_message(self, *args):  # keep the test output quiet
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    host, port = httpd.server_address[:2]
    state["server"] = RobotServer(url=f"http://{host}:{port}")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["server"]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


# --- a store with a week of figures around 2026-09-10 ------------------------------------------

BRIEF_DAY = "2026-09-10"


@pytest.fixture
def brief_data(push, store_a):
    """Figures for Brand A's store built so that a mean of daily ratios differs from the ratio
    of summed parts. The brief's day is 2026-09-10; the 7 days before (3rd to 9th) have data on
    the 3rd, 4th and 9th only:

        day   visitors buyers  gmv     conversion  aov
        3rd   100      10      1000    10 %        100
        4th   900      9       1800    1 %         200
        9th   400      8       1200    2 %         150
        10th  500      20      3000    4 %         150

    Ads on the 3rd and the 10th; traffic sources on the 9th and 10th.
    """
    push(
        store_a,
        "store_day",
        [
            {"date": "2026-09-03", "visitors": 100, "paying_buyers": 10, "gmv": "1000.00"},
            {"date": "2026-09-04", "visitors": 900, "paying_buyers": 9, "gmv": "1800.00"},
            {"date": "2026-09-09", "visitors": 400, "paying_buyers": 8, "gmv": "1200.00"},
            {
                "date": BRIEF_DAY,
                "visitors": 500,
                "paying_buyers": 20,
                "gmv": "3000.00",
                "new_buyers": 12,
                "refund_amount": "150.00",
                "cs_first_reply_seconds_sum": 1500,
                "cs_sessions": 30,
            },
        ],
    )
    push(
        store_a,
        "store_day_ad",
        [
            {
                "date": "2026-09-03",
                "ad_tool": "zhitongche",
                "campaign": "Plan A",
                "impressions": 1000,
                "clicks": 40,
                "ad_spend": "60.00",
                "ad_gmv": "300.00",
                "ad_orders": 3,
            },
            {
                "date": BRIEF_DAY,
                "ad_tool": "zhitongche",
                "campaign": "Plan A",
                "impressions": 2000,
                "clicks": 50,
                "ad_spend": "100.00",
                "ad_gmv": "250.00",
                "ad_orders": 2,
            },
        ],
    )
    push(
        store_a,
        "store_day_source",
        [
            {"date": "2026-09-09", "source": "手淘搜索", "visitors": 250, "paying_buyers": 5},
            {"date": "2026-09-09", "source": "直通车", "visitors": 150, "paying_buyers": 3},
            {
                "date": BRIEF_DAY,
                "source": "手淘搜索",
                "visitors": 300,
                "paying_buyers": 12,
                "gmv": "1800.00",
            },
            {
                "date": BRIEF_DAY,
                "source": "直通车",
                "visitors": 200,
                "paying_buyers": 8,
                "gmv": "1200.00",
            },
        ],
    )
    return store_a
