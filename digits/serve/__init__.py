"""``python -m digits.serve``: the draw-a-digit page and its JSON API.

- ``cli``: the command: options, models loaded once, the uvicorn server
- ``webapp``: the Starlette app; ``answering``: one image's answer; ``batching``: one model call for many requests
- ``uploads``, ``formfield``: a request's image read with a cap
- ``connections``, ``admission``, ``shares``, ``guards``: the limits against clients that stall, flood or lie
"""
