"""The admin process: the API, the web console and /docs in a process of their own.

`segpixel serve` starts it beside the pixel workers (SEGPIXEL_ADMIN_PROCESS); each worker answers
the pixel paths itself and passes every other request to it over a local socket (`forward`), so
that no tenant's admin work (ORM, templates, password hashes, uploads, downloads) holds the GIL or
the core a pixel is waiting for. `link` is what the two sides agree on; `process` is the child.
"""
