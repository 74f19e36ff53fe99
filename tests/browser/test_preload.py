"""The page names every ES module it will import up front (`<link rel="modulepreload">`,
app/templating.py `module_urls`), so the browser fetches them at once instead of one import
level at a time (bench/bench_first_paint.py). A module missing from the list, or listed
under another URL than the one its importer asks for, would be found late or fetched twice."""

from collections import Counter
from urllib.parse import urlsplit

from tests.browser.conftest import load, open_page


def test_every_module_the_page_imports_is_preloaded_and_fetched_once(browser, server):
    page = open_page(browser)
    fetched = []
    page.on("request", lambda r: fetched.append(urlsplit(r.url).path)
            if r.url.endswith(".js") and "/static/js/" in r.url else None)
    try:
        load(page, server)
        preloaded = page.eval_on_selector_all(
            'link[rel="modulepreload"]', "links => links.map(l => new URL(l.href).pathname)")
    finally:
        errors = list(page.errors)
        page.context.close()
    assert not errors
    imported = set(fetched) - {"/static/js/main.js"}
    assert imported, fetched
    assert imported == set(preloaded)
    twice = [url for url, n in Counter(fetched).items() if n > 1]
    assert twice == []
