"""schemathesis over the OpenAPI schema a running `edepot serve` serves, as an administrator for every organisation:
no operation answers a 500, and every answer fits the schema (its status documented, its body the documented
shape). Bounded and deterministic: a few examples per operation, the same ones every run, on a data directory of
its own (the examples register people and organisations)."""
from __future__ import annotations

import itertools
from typing import Any, Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode, checks

from tests.web_server import People, WebServer, register_admin, served

EXAMPLES = 4  # per operation and mode: requests that fit the schema, and requests that do not
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WebServer, People]]:
    data_dir = tmp_path_factory.mktemp("schemathesis") / "data"
    people = register_admin(data_dir)
    with served(data_dir) as server:
        yield server, people


def test_no_operation_fails_or_breaks_its_schema(site: tuple[WebServer, People]) -> None:
    server, people = site
    loaded = schemathesis.openapi.from_url(f"{server.url}/api/v1/schema/",
                                           headers={"Accept": "application/vnd.oai.openapi+json"})
    operations = [result.ok() for result in loaded.get_all_operations()]
    assert len(operations) >= 9
    for operation, mode in itertools.product(operations, MODES):
        if mode is GenerationMode.NEGATIVE and not len(operation.body):
            continue  # only a body can be made not to fit (a path's name is any text)
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        def answers_within_its_schema(case: Any) -> None:
            case.call_and_validate(base_url=server.url, headers={"Authorization": f"Token {people.admin_token}"},
                                   checks=CHECKS)

        answers_within_its_schema()
