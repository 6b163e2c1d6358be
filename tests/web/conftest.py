"""Browser fixtures: one real uvicorn server and one headless Debian chromium for the whole session.

The server runs the real app on the small trained world (``tests.fixtures_world``) and a migrated SQLite
database of its own: the pages are what is under test here, the PostgreSQL paths are covered by the API
and e2e suites. Tests share the server, so each one scores shipments with ids of its own.

Chromium is Debian's ``/usr/bin/chromium`` (``make browser`` installs it), never Playwright's download.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from service.db import get_engine, migrate
from service.scored import ScoringEngine
from service.settings import Settings
from tests.fixtures_world import SmallWorld, serving_scorer, small_scorer, small_world
from tests.service.server import LiveServer, run_server

__all__ = ["SignIn", "browser", "serving_scorer", "sign_in", "small_scorer", "small_world", "web_server"]

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path("/tmp/web")
# Playwright's default waits are 30 s; a page of this app renders in milliseconds, so a wait that long
# only means a wrong selector. 15 s still leaves room for a machine shared by many test runs.
TIMEOUT_MS = 15_000

SignIn = Callable[[str], Page]


@pytest.fixture(scope="session")
def web_server(
    tmp_path_factory: pytest.TempPathFactory, small_world: SmallWorld, serving_scorer: ScoringEngine
) -> Iterator[LiveServer]:
    """The real app under uvicorn, with one API key per user of ``tests.service.server.USERS``."""
    url = f"sqlite:///{tmp_path_factory.mktemp('web-db') / 'catchall.db'}"
    migrate(url)
    settings = Settings(home=tmp_path_factory.mktemp("web-home"), database_url=url)
    with run_server(settings, serving_scorer) as server:
        yield server
    get_engine(url).dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian chromium driven by Playwright."""
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (installs Debian's chromium with apt)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


@pytest.fixture
def sign_in(browser: Browser, web_server: LiveServer) -> Iterator[SignIn]:
    """``sign_in(user)``: a page of a fresh browser context signed in through the login form as ``user``."""
    contexts: list[BrowserContext] = []

    def open_as(user: str) -> Page:
        context = browser.new_context(base_url=web_server.url, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.goto("/ui/login")
        page.get_by_label("API key").fill(web_server.keys[user])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/ui/cases")
        return page

    yield open_as
    for context in contexts:
        context.close()


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot to /tmp/web/NAME.png (for a human to look at; tests assert on text)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def score(server: LiveServer, body: dict[str, Any]) -> dict[str, Any]:
    """Score a shipment through the API as the scorer bot; the response body."""
    response = server.client("bot").post("/v1/score", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result
