"""The hot paths as raw ASGI handlers: /seg and its siblings (DESIGN.md "The shape")."""
