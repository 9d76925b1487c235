"""The `t=1` answer: a script inserting the chained pixels, without document.write (SPEC §3.3)."""

from __future__ import annotations

import json

from segpixel.domain.pixel_plan import Chained

EMPTY = b"/* segpixel: nothing to chain */\n"

# Images are inserted as hidden 1x1 <img> (kept in the DOM so the request is not dropped);
# scripts as <script async>. Nothing else happens on the page.
TEMPLATE = (
    "(function(d){{var i={imgs},s={scripts},k,e,p=d.body||d.documentElement;"
    'for(k=0;k<i.length;k++){{e=d.createElement("img");e.width=1;e.height=1;e.alt="";'
    'e.style.display="none";e.src=i[k];p.appendChild(e);}}'
    'for(k=0;k<s.length;k++){{e=d.createElement("script");e.async=true;e.src=s[k];'
    "(d.head||p).appendChild(e);}}}})(document);\n"
)


def chain_script(fired: list[Chained]) -> bytes:
    if not fired:
        return EMPTY
    imgs = [c.url for c in fired if c.pixel_type == "img"]
    scripts = [c.url for c in fired if c.pixel_type == "js"]
    return TEMPLATE.format(imgs=js_literal(imgs), scripts=js_literal(scripts)).encode()


def js_literal(value: object) -> str:
    """A JSON value as a JavaScript literal that is safe inside a script."""
    # JSON is valid JavaScript; escape what could end a <script> block or a JS string early.
    return (
        json.dumps(value)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
