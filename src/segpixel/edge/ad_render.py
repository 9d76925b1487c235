"""What an ad call answers (SPEC §5.3): the creative's HTML, the /ut JSON and the /ttj script.

The /ttj script writes nothing with document.write: it puts the creative in a sandboxed iframe
(`srcdoc`, no `allow-same-origin`) right after its own <script> tag, so the creative's HTML runs
in an opaque origin and cannot touch the publisher's page or cookies, then fires the impression
tracker as a hidden 1x1 image.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import orjson

from segpixel.domain.ads_view import CreativeView
from segpixel.edge.scripts import js_literal

CLICK_MACRO = "${CLICK_URL}"
NO_AD_SCRIPT = b"/* segpixel: no ad */\n"
FRAME_SANDBOX = (
    "allow-scripts allow-popups allow-popups-to-escape-sandbox "
    "allow-top-navigation-by-user-activation"
)
FRAME_DOCUMENT = (
    '<!doctype html><html><head><meta charset="utf-8"><base target="_top">'
    "<style>html,body{{margin:0;padding:0;overflow:hidden}}</style></head><body>{}</body></html>"
)
TTJ_TEMPLATE = (
    "(function(d){{var a={ad},s=d.currentScript,p=d.body||d.documentElement,"
    'f=d.createElement("iframe"),i=d.createElement("img");'
    'f.width=a.width;f.height=a.height;f.title="Advertisement";f.style.border="0";'
    'f.setAttribute("scrolling","no");f.setAttribute("frameborder","0");'
    'f.setAttribute("sandbox",{sandbox});f.setAttribute("data-segpixel-creative",a.creative_id);'
    "f.srcdoc=a.document;"
    "if(s&&s.parentNode){{s.parentNode.insertBefore(f,s.nextSibling);}}else{{p.appendChild(f);}}"
    'i.width=1;i.height=1;i.alt="";i.style.display="none";i.src=a.impression_url;'
    "p.appendChild(i);}})(document);\n"
)


@dataclass(slots=True)
class Ad:
    creative: CreativeView
    line_item_id: int
    impression_url: str
    click_url: str

    def content(self) -> str:
        """The creative's HTML; `${CLICK_URL}` in it becomes the click tracker."""
        c = self.creative
        if c.content:
            return c.content.replace(CLICK_MACRO, self.click_url)
        return (
            f'<a href="{html.escape(self.click_url)}" target="_blank" rel="noopener">'
            f'<img src="{html.escape(c.media_url or "")}" width="{c.width}" height="{c.height}" '
            'alt="" style="border:0;display:block"></a>'
        )

    def as_json(self) -> dict[str, object]:
        c = self.creative
        return {
            "creative_id": c.id,
            "line_item_id": self.line_item_id,
            "width": c.width,
            "height": c.height,
            "content": self.content(),
            "impression_url": self.impression_url,
            "click_url": self.click_url,
        }


def make_ad(public_url: str, creative: CreativeView, line_item_id: int) -> Ad:
    """Trackers are absolute: the page that runs them is on another host."""
    return Ad(
        creative,
        line_item_id,
        f"{public_url}/it?creative={creative.id}",
        f"{public_url}/ck?creative={creative.id}",
    )


def ut_body(placement_id: int | None, ad: Ad | None) -> bytes:
    return orjson.dumps({"placement_id": placement_id, "ad": ad.as_json() if ad else None})


def ttj_script(ad: Ad | None) -> bytes:
    if ad is None:
        return NO_AD_SCRIPT
    data = {**ad.as_json(), "document": FRAME_DOCUMENT.format(ad.content())}
    return TTJ_TEMPLATE.format(ad=js_literal(data), sandbox=js_literal(FRAME_SANDBOX)).encode()
