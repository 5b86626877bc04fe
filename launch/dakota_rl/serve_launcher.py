"""`transformers serve` with the terminal `data: [DONE]` event verifiers requires (transformers 5.23 omits
it), and bounded work per request:

- `max_tokens` / `max_completion_tokens` are capped at the model's context (`max_position_embeddings`);
- generation stops when the client goes away: an ASGI wrapper watches for `http.disconnect` and a stopping
  criterion ends `model.generate` at the next token (non-streaming requests; streaming ones already cancel
  their streamer), so one abandoned request cannot block every later one.

Run as `python -m dakota_rl.serve_launcher MODEL_DIR --host 127.0.0.1 --port P --device cpu` (the same flags
as `transformers serve`). The OpenAI SDK does not need the event; verifiers' interception proxy does.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import math
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

DONE = "data: [DONE]\n\n"
DEFAULT_CONTEXT = 32768
"""The cap when the served folder's config.json names no `max_position_embeddings`."""
CLIENT_GONE: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar(
    "client_gone", default=None
)
"""Set for each HTTP request: the event is set when its client disconnects."""


def with_done_event(streaming: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a handler's `_streaming` so the SSE body ends with `data: [DONE]`."""

    @functools.wraps(streaming)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        response = streaming(*args, **kwargs)
        body = getattr(response, "body_iterator", None)
        if body is None:
            return response

        async def body_with_done():
            async for chunk in body:
                yield chunk
            yield DONE

        response.body_iterator = body_with_done()
        return response

    return wrapper


def model_context(model_dir: str) -> int:
    """The served model's context length (`max_position_embeddings`, also under `text_config`)."""
    try:
        config = json.loads((Path(model_dir) / "config.json").read_text())
    except (OSError, ValueError):
        return DEFAULT_CONTEXT
    value = config.get("max_position_embeddings") or (config.get("text_config") or {}).get(
        "max_position_embeddings"
    )
    return int(value) if isinstance(value, int) and value > 0 else DEFAULT_CONTEXT


def request_problem(body: Any) -> str | None:
    """Why a chat request body cannot be served (None when it can): what used to be a 500 is a 400."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    messages = body.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        return "`messages` must be a list of message objects"
    for key in ("max_tokens", "max_completion_tokens"):
        value = body.get(key)
        number = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if value is not None and not (number and value >= 1):
            return f"`{key}` must be a number of at least 1"
    return None


def with_request_check(handle: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a chat handler's `handle_request`: a malformed body gets a 400 with the reason."""

    @functools.wraps(handle)
    async def wrapper(self: Any, body: Any, *args: Any, **kwargs: Any) -> Any:
        problem = request_problem(body)
        if problem is not None:
            from fastapi.responses import JSONResponse

            error = {"message": problem, "type": "invalid_request_error"}
            return JSONResponse({"error": error}, status_code=400)
        return await handle(self, body, *args, **kwargs)

    return wrapper


def with_token_cap(build: Callable[..., Any], context: int) -> Callable[..., Any]:
    """Wrap a handler's `_build_generation_config` so `max_new_tokens` never exceeds `context`."""

    @functools.wraps(build)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        config = build(*args, **kwargs)
        if config.max_new_tokens is None or config.max_new_tokens > context:
            config.max_new_tokens = context
        return config

    return wrapper


class WatchDisconnect:
    """ASGI wrapper: pumps the client's messages to the app and sets the request's CLIENT_GONE event on
    `http.disconnect` (the app still receives that message)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        gone, messages = threading.Event(), asyncio.Queue()

        async def pump() -> None:
            while True:
                message = await receive()
                await messages.put(message)
                if message["type"] == "http.disconnect":
                    gone.set()
                    return

        token = CLIENT_GONE.set(gone)
        watcher = asyncio.ensure_future(pump())
        try:
            await self.app(scope, messages.get, send)
        finally:
            watcher.cancel()
            CLIENT_GONE.reset(token)


def stop_when_gone(gone: threading.Event) -> Any:
    """A stopping criterion that ends generation once `gone` is set."""
    import torch
    from transformers import StoppingCriteria

    class ClientGone(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            return torch.full((input_ids.shape[0],), gone.is_set(), dtype=torch.bool, device=input_ids.device)

    return ClientGone()


def with_disconnect_stop(async_submit: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap `GenerateManager.async_submit`: a request's `generate` call stops when its client goes."""

    @functools.wraps(async_submit)
    def wrapper(self: Any, fn: Callable, *args: Any, **kwargs: Any) -> Any:
        gone = CLIENT_GONE.get()
        if gone is not None and "generation_config" in kwargs:
            from transformers import StoppingCriteriaList

            kwargs["stopping_criteria"] = StoppingCriteriaList([stop_when_gone(gone)])
        return async_submit(self, fn, *args, **kwargs)

    return wrapper


def patch_handlers(context: int = DEFAULT_CONTEXT) -> None:
    from transformers.cli.serving import server, utils
    from transformers.cli.serving.chat_completion import ChatCompletionHandler
    from transformers.cli.serving.completion import CompletionHandler

    for handler in (ChatCompletionHandler, CompletionHandler):
        handler._streaming = with_done_event(handler._streaming)
        handler._build_generation_config = with_token_cap(handler._build_generation_config, context)
    ChatCompletionHandler.handle_request = with_request_check(ChatCompletionHandler.handle_request)
    utils.GenerateManager.async_submit = with_disconnect_stop(utils.GenerateManager.async_submit)
    build = server.build_server
    server.build_server = functools.wraps(build)(lambda *a, **k: WatchDisconnect(build(*a, **k)))


def main() -> None:
    patch_handlers(model_context(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CONTEXT)
    from transformers.cli.transformers import app

    app(args=["serve", *sys.argv[1:]], prog_name="transformers")


if __name__ == "__main__":
    main()
