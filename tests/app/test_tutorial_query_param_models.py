"""FastAPI tutorial, "Query Parameter Models" (docs_src/query_param_models/tutorial001 and
tutorial002, with and without Annotated), on microready, with the answers FastAPI's own
tests expect (tests/test_tutorial/test_query_param_models/), the OpenAPI schema aside."""

from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field

from microready import MicroReady, Query

from .helpers import client_for

# -- tutorial001 -------------------------------------------------------------------------


class FilterParams(BaseModel):
    limit: int = Field(100, gt=0, le=100)
    offset: int = Field(0, ge=0)
    order_by: Literal["created_at", "updated_at"] = "created_at"
    tags: list[str] = []


app001_an = MicroReady()


@app001_an.get("/items/")
async def read_items001_an(filter_query: Annotated[FilterParams, Query()]) -> FilterParams:
    return filter_query


app001 = MicroReady()


@app001.get("/items/")
async def read_items001(filter_query: FilterParams = Query()) -> FilterParams:  # noqa: B008
    return filter_query


# -- tutorial002: extra query parameters forbidden ---------------------------------------------


class StrictFilterParams(BaseModel):  # the page names it FilterParams too
    model_config = {"extra": "forbid"}

    limit: int = Field(100, gt=0, le=100)
    offset: int = Field(0, ge=0)
    order_by: Literal["created_at", "updated_at"] = "created_at"
    tags: list[str] = []


app002_an = MicroReady()


@app002_an.get("/items/")
async def read_items002_an(
    filter_query: Annotated[StrictFilterParams, Query()],
) -> StrictFilterParams:
    return filter_query


app002 = MicroReady()


@app002.get("/items/")
async def read_items002(
    filter_query: StrictFilterParams = Query(),  # noqa: B008
) -> StrictFilterParams:
    return filter_query


ALL = pytest.mark.parametrize(
    "app", [app001_an, app001, app002_an, app002],
    ids=["001-annotated", "001-default", "002-annotated", "002-default"],
)
PARAMS = {"limit": 10, "offset": 5, "order_by": "updated_at", "tags": ["tag1", "tag2"]}


@ALL
def test_query_param_model(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get("/items/", params=PARAMS)
    assert response.status_code == 200
    assert response.json() == PARAMS


@ALL
def test_query_param_model_defaults(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get("/items/")
    assert response.status_code == 200
    assert response.json() == {
        "limit": 100,
        "offset": 0,
        "order_by": "created_at",
        "tags": [],
    }


@ALL
def test_query_param_model_invalid(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get(
        "/items/", params={"limit": 150, "offset": -1, "order_by": "invalid"}
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "less_than_equal",
                "loc": ["query", "limit"],
                "msg": "Input should be less than or equal to 100",
                "input": "150",
                "ctx": {"le": 100},
            },
            {
                "type": "greater_than_equal",
                "loc": ["query", "offset"],
                "msg": "Input should be greater than or equal to 0",
                "input": "-1",
                "ctx": {"ge": 0},
            },
            {
                "type": "literal_error",
                "loc": ["query", "order_by"],
                "msg": "Input should be 'created_at' or 'updated_at'",
                "input": "invalid",
                "ctx": {"expected": "'created_at' or 'updated_at'"},
            },
        ]
    }


@pytest.mark.parametrize("app", [app001_an, app001], ids=["annotated", "default"])
def test_query_param_model_extra_is_ignored(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get(
        "/items/", params={**PARAMS, "tool": "plumbus"}
    )
    assert response.status_code == 200
    assert response.json() == PARAMS


@pytest.mark.parametrize("app", [app002_an, app002], ids=["annotated", "default"])
def test_query_param_model_extra_is_forbidden(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get(
        "/items/", params={**PARAMS, "tool": "plumbus"}
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "extra_forbidden",
                "loc": ["query", "tool"],
                "msg": "Extra inputs are not permitted",
                "input": "plumbus",
            }
        ]
    }
