"""A route keyword microready does not act on is refused, never silently ignored."""

from typing import Any

import pytest

from microready import MicroReady, Router


async def endpoint() -> list[str]:
    return []


@pytest.mark.parametrize("keyword", ["response_modle", "summry", "callback"])
def test_an_unknown_route_keyword_is_refused_naming_it(keyword: str) -> None:
    app = MicroReady()
    options: dict[str, Any] = {keyword: dict}
    with pytest.raises(TypeError, match=rf"route '/items' on app got .*: {keyword}; it takes"):
        app.get("/items", **options)(endpoint)
    assert app.routes == []


def test_router_and_api_route_refuse_unknown_keywords_too() -> None:
    router = Router()
    options: dict[str, Any] = {"response_modle": dict}
    with pytest.raises(TypeError, match="response_modle"):
        router.api_route("/x", methods=["GET"], **options)(endpoint)
    with pytest.raises(TypeError, match="response_modle"):
        router.add_api_route("/x", endpoint, **options)
    assert router.routes == []


def test_documentation_keywords_are_still_accepted() -> None:
    app = MicroReady()
    app.get("/items", tags=["items"], summary="List", description="d", deprecated=True,
            operation_id="list_items", include_in_schema=False, responses={404: {}},
            response_description="ok")(endpoint)
    assert app.routes[-1].metadata["summary"] == "List"
