"""POST /v1/theory/signal and its grid form over real HTTP (uvicorn): the closed forms of
ReLU, the phases either side of the critical line, and 422s that name the field."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from api.models.signal import (
    MAX_GRID_NODES,
    MAX_GRID_SIDE,
    PhaseDiagramCreate,
    axis_values,
    quadrature_nodes,
)
from tests.api.errors import detail, locs


@pytest.fixture(scope="module")
def http(api_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_url, timeout=60) as client:
        yield client


def point(http: httpx.Client, **body: object) -> dict[str, object]:
    response = http.post("/v1/theory/signal", json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(("s_w", "phase"), [(1.5, "ordered"), (2.0, "critical"), (2.5, "chaotic")])
def test_relu_without_bias_is_critical_at_weight_variance_2(http, s_w, phase):
    answer = point(http, activation="relu", weight_variance=s_w, bias_variance=0.0)
    assert answer["chi_1"] == pytest.approx(s_w / 2, rel=1e-9)  # chi_1 = s_w / 2 for relu
    assert answer["phase"] == phase
    # q* is 0 below the line and diverges on and above it: null, never NaN or Infinity
    assert answer["q_star"] == (0.0 if s_w < 2 else None)


def test_a_chaotic_tanh_point_has_finite_depth_scales_and_c_star_below_one(http):
    answer = point(http, activation="tanh", weight_variance=2.5, bias_variance=0.05)
    assert answer["phase"] == "chaotic" and answer["chi_1"] > 1
    assert 0 < answer["c_star"] < 1
    assert answer["xi_c"] > 0 and answer["xi_q"] > 0
    assert set(answer) >= {"q_star", "c_star", "chi_1", "xi_q", "xi_c", "phase"}


def test_the_grid_form_gives_the_phase_diagram_and_the_critical_line(http):
    body = {"activation": "relu", "weight_variances": {"start": 1.0, "stop": 3.0, "num": 5},
            "bias_variances": [0.0, 0.0]}  # fmt: skip
    response = http.post("/v1/theory/signal/diagram", json=body)
    assert response.status_code == 200, response.text
    diagram = response.json()
    assert diagram["weight_variances"] == [1.0, 1.5, 2.0, 2.5, 3.0]
    assert diagram["phase"] == [["ordered", "ordered", "critical", "chaotic", "chaotic"]] * 2
    assert diagram["chi_1"][0] == pytest.approx([0.5, 0.75, 1.0, 1.25, 1.5])
    assert diagram["critical_weight_variance"] == pytest.approx([2.0, 2.0])


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/v1/theory/signal", {"activation": "swish"}, ["body", "activation"]),
        ("/v1/theory/signal", {"weight_variance": -1}, ["body", "weight_variance"]),
        ("/v1/theory/signal", {"bias_variance": "lots"}, ["body", "bias_variance"]),
        ("/v1/theory/signal/diagram",
         {"activation": "swish", "weight_variances": [1], "bias_variances": [0]},
         ["body", "activation"]),
    ],
)  # fmt: skip
def test_bad_input_is_a_422_naming_the_field(http, path, body, loc):
    assert loc in locs(http.post(path, json=body))


@pytest.mark.parametrize(
    ("axis", "reason"),
    [
        ([1.0] * (MAX_GRID_SIDE + 1), "at most"),
        ({"start": 0, "stop": 1, "num": MAX_GRID_SIDE + 1}, "less than or equal"),
        ([], "at least 1"),
    ],
)
def test_a_bad_grid_is_a_422_naming_its_axis(http, axis, reason):
    body = {"activation": "tanh", "weight_variances": axis, "bias_variances": [0.0]}
    errors = detail(http.post("/v1/theory/signal/diagram", json=body))
    assert all(error["loc"][:2] == ["body", "weight_variances"] for error in errors)
    assert any(reason in error["msg"] for error in errors)


def test_a_falling_axis_answers_the_same_cells_in_its_order(http):
    def diagram(start: float, stop: float) -> dict:
        body = {"activation": "relu", "weight_variances": {"start": start, "stop": stop, "num": 5},
                "bias_variances": [0.0]}  # fmt: skip
        answer = http.post("/v1/theory/signal/diagram", json=body)
        assert answer.status_code == 200, answer.text
        return answer.json()

    rising, falling = diagram(1.0, 3.0), diagram(3.0, 1.0)
    assert falling["weight_variances"] == rising["weight_variances"][::-1]
    assert falling["chi_1"][0] == rising["chi_1"][0][::-1]
    assert falling["phase"][0] == ["chaotic", "chaotic", "critical", "ordered", "ordered"]


def test_a_sigmoid_grid_is_kept_small_and_named(http):
    body = {"activation": "sigmoid", "weight_variances": {"start": 1, "stop": 300, "num": 11},
            "bias_variances": {"start": 0, "stop": 0.3, "num": 10}}  # fmt: skip
    [error] = detail(http.post("/v1/theory/signal/diagram", json=body))
    assert error["loc"] == ["body", "bias_variances"] and "at most 100" in error["msg"]


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_a_grid_of_costly_cells_is_refused_before_any_quadrature(http, activation):
    """Cells at large s_w need 512 x 512 nodes each: 10 x 10 of them is over the budget
    (a 50 x 50 tanh grid there took 7 minutes), and said at once."""
    body = {"activation": activation, "weight_variances": {"start": 900, "stop": 1000, "num": 10},
            "bias_variances": [0.0] * 10}  # fmt: skip
    response = http.post("/v1/theory/signal/diagram", json=body, timeout=5)
    [error] = detail(response)
    assert error["loc"] == ["body", "bias_variances"] and "budget" in error["msg"], error
    svg = http.get("/v1/theory/signal/diagram.svg", params={"weight_variance_max": 1000}, timeout=5)
    assert ["query", "num"] in locs(svg)


def test_the_budget_admits_the_documented_grids() -> None:
    """The schema's 50 x 50 example, the page's 40 x 40 and the SVG's default grid fit."""
    [example] = PhaseDiagramCreate.model_json_schema()["examples"]
    page = {"weight_variances": {"start": 0.2, "stop": 4.5, "num": 40},
            "bias_variances": {"start": 0.0, "stop": 0.3, "num": 40}}  # fmt: skip
    for body in (example, page):
        grid = PhaseDiagramCreate.model_validate(body)
        nodes = quadrature_nodes(axis_values(grid.weight_variances),
                                 axis_values(grid.bias_variances))  # fmt: skip
        assert 0 < nodes <= MAX_GRID_NODES


def test_the_catalog_lists_mean_field_with_its_formula(http):
    catalog = http.get("/v1/catalog").json()
    [info] = [i for i in catalog["initializers"] if i["name"] == "mean_field"]
    assert "s_w / fan_in" in info["formula"]
    assert {p["name"] for p in info["parameters"]} == {
        "weight_variance", "bias_variance", "distribution"}  # fmt: skip


def test_the_phase_diagram_is_served_as_an_svg_with_its_critical_line(http):
    response = http.get("/v1/theory/signal/diagram.svg", params={"activation": "relu", "num": 12})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("image/svg+xml")
    svg = response.text
    assert svg.lstrip().startswith(("<?xml", "<svg")) and "critical line" in svg
    assert "relu" in svg and "xi_c" in svg


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"activation": "swish"}, "activation"),
        ({"num": MAX_GRID_SIDE + 1}, "num"),
        ({"activation": "sigmoid", "num": 40}, "num"),  # too many cells for sigmoid
    ],
)
def test_a_bad_svg_query_is_a_422_naming_the_parameter(http, params, field):
    assert ["query", field] in locs(http.get("/v1/theory/signal/diagram.svg", params=params))
