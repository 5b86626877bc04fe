"""`transformers serve` with the terminal `data: [DONE]` event verifiers requires (transformers 5.23 omits
it).

Run as `python -m dakota_rl.serve_launcher MODEL_DIR --host 127.0.0.1 --port P --device cpu` (the same flags
as `transformers serve`). The OpenAI SDK does not need the event; verifiers' interception proxy does.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

DONE = "data: [DONE]\n\n"


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


def patch_handlers() -> None:
    from transformers.cli.serving.chat_completion import ChatCompletionHandler
    from transformers.cli.serving.completion import CompletionHandler

    for handler in (ChatCompletionHandler, CompletionHandler):
        handler._streaming = with_done_event(handler._streaming)


def main() -> None:
    patch_handlers()
    from transformers.cli.transformers import app

    app(args=["serve", *sys.argv[1:]], prog_name="transformers")


if __name__ == "__main__":
    main()
