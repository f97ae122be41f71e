"""An item's HTML made Markdown (pure): hostile HTML from an old blog stays
inert once the site's Markdown renders it."""

from __future__ import annotations

import markdown
import pytest
from bs4 import BeautifulSoup

from causerie.importers.convert import body_markdown

HOSTILE = [
    "<script>alert(1)</script><p>texte</p>",
    "<p onclick='alert(1)' style='x'>texte</p>",
    '<a href="javascript:alert(1)">lien</a>',
    '<a href="jav&#x09;ascript:alert(1)">lien</a>',
    "<svg><script>alert(1)</script></svg><math><mi xlink:href='javascript:x'>m</mi></math>",
    '<img src="x" onerror="alert(1)">',
    "<iframe src='https://evil.example/'></iframe><object data='x'></object>",
    "<p>[clic](javascript:alert(1)) et {: onclick=alert(1) } et &lt;script&gt;alert(1)&lt;/script&gt;</p>",
    "<noscript><p title='</noscript><img src=x onerror=alert(1)>'></noscript>",
    "<style>body{}</style><form action='https://evil.example'><input></form>",
    "<p>`</p><pre>```\n<script>alert(1)</script>\n```</pre>",
]


def render(text: str) -> str:
    # The site's Markdown (pelicanconf.py's extensions, attr_list included).
    return markdown.markdown(
        text, extensions=["markdown.extensions.extra", "markdown.extensions.toc"]
    )


@pytest.mark.parametrize("html", HOSTILE)
def test_hostile_html_is_inert(html: str) -> None:
    text, images, _notes = body_markdown(
        html, "https://old.example", "images/imported", "x", lambda _u, _p: False
    )
    soup = BeautifulSoup(render(text), "html.parser")
    # Text may say "javascript:" or "onclick="; no element may do it.
    for el in soup.find_all(True):
        assert el.name not in (
            "script",
            "iframe",
            "svg",
            "math",
            "form",
            "style",
            "object",
            "img",
        ), el
        for name, value in el.attrs.items():
            assert not name.startswith("on"), el
            assert "javascript" not in str(value).lower(), el
    assert images == []


def test_images_are_placed_or_linked() -> None:
    html = (
        '<p><img src="/wp-content/uploads/2012/03/a-300x200.jpg" alt="A"></p>'
        '<p><a href="https://cdn.example/b-big.png"><img src="https://cdn.example/b.png"></a></p>'
        '<p><img src="data:image/png;base64,AAAA" alt="inline"></p>'
    )
    placed = {"https://old.example/wp-content/uploads/2012/03/a-300x200.jpg"}
    text, images, notes = body_markdown(
        html,
        "https://old.example",
        "images/imported",
        "post",
        lambda u, _p: u in placed,
    )
    assert [(i.url, i.path) for i in images] == [
        (
            "https://old.example/wp-content/uploads/2012/03/a-300x200.jpg",
            "images/imported/post/a.jpg",
        )
    ]
    assert "![A]({static}/images/imported/post/a.jpg)" in text
    # Not placed: its link stays, the page loads nothing from cdn.example.
    assert "[image](https://cdn.example/b-big.png)" in text
    assert "data:" not in text and "cdn.example/b.png" not in text
    assert len(notes) == 1 and "cdn.example/b.png not copied" in notes[0]
