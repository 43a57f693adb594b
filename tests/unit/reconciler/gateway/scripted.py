"""A stand-in for CloudSession that answers Glance and Keystone requests from a script and
records them: for the gateway modules' tests that need no server."""

from __future__ import annotations

import json as jsonlib
from dataclasses import dataclass, field
from typing import Any

import requests

from reconciler.errors import CloudError
from reconciler.gateway.features import GlanceApi


def answer(status: int, body: Any = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = b"" if body is None else jsonlib.dumps(body).encode()
    return response


@dataclass
class ScriptedSession:
    """Each request takes the next answer of ``answers``; ``asked`` records (method, url,
    keyword arguments) of each."""

    answers: list[requests.Response]
    glance_endpoint: str = "http://127.0.0.1:9292/v2"
    version: tuple[int, int] = (2, 16)
    asked: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def api(self) -> GlanceApi:
        return GlanceApi(self.version)

    def glance(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        self.asked.append((method, url, kwargs))
        return self.answers.pop(0)

    def keystone(self, url: str, what: str, **kwargs: Any) -> requests.Response:
        self.asked.append(("GET", url, kwargs))
        return self.answers.pop(0)

    def json(self, response: requests.Response, what: str) -> Any:
        return response.json()

    def http_error(self, what: str, response: requests.Response) -> CloudError:
        return CloudError(f"{what}: Glance answered HTTP {response.status_code}")
