"""A streaming chat box for notebooks (Jupyter, JupyterLab, Colab, VS Code).

``chat_box(model=..., tokenizer=...)`` chats with a model loaded in this kernel;
``chat_box(endpoint=...)`` chats with any OpenAI-compatible endpoint. Replies stream
token by token into the box; the conversation (``box.messages``) is kept, so every turn
sees the ones before it.
"""
from __future__ import annotations

import html
from threading import Thread
from typing import Iterator


def stream_local(model, tokenizer, messages, max_new_tokens: int = 256, **generate_kwargs) -> Iterator[str]:
    """Yield the reply to `messages` piece by piece from a transformers model."""
    from transformers import TextIteratorStreamer

    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                           return_dict=True, **generate_kwargs.pop("template_kwargs", {}))
    inputs = inputs.to(model.device)
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    kwargs = dict(inputs, streamer=streamer, max_new_tokens=max_new_tokens, **generate_kwargs)
    thread = Thread(target=model.generate, kwargs=kwargs, daemon=True)
    thread.start()
    yield from streamer
    thread.join()


def stream_endpoint(ep, messages, max_tokens: int = 256, **kwargs) -> Iterator[str]:
    """Yield the reply to `messages` piece by piece from an OpenAI-compatible endpoint."""
    from .api import client

    stream = client(ep).chat.completions.create(model=ep.model, messages=messages, stream=True,
                                                max_tokens=max_tokens, **kwargs)
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            yield chunk.choices[0].delta.content


class ChatBox:
    """The widget and the conversation behind it."""

    def __init__(self, reply_stream, system: str | None = None, title: str = "Chat"):
        import ipywidgets as w

        self._reply_stream = reply_stream
        self.messages: list[dict] = [{"role": "system", "content": system}] if system else []
        self.log = w.HTML(value="", layout=w.Layout(border="1px solid #ccc", padding="6px",
                                                     min_height="120px", max_height="360px", overflow_y="auto"))
        self.prompt = w.Textarea(placeholder="Type a message, then Send (or Shift+Enter in the box)",
                                 layout=w.Layout(width="100%", height="60px"))
        self.send_button = w.Button(description="Send", button_style="primary", icon="paper-plane")
        self.clear_button = w.Button(description="Clear", icon="eraser")
        self.send_button.on_click(lambda _: self.send(self.prompt.value))
        self.clear_button.on_click(lambda _: self.clear())
        self.widget = w.VBox([w.HTML(f"<b>{html.escape(title)}</b>"), self.log, self.prompt,
                              w.HBox([self.send_button, self.clear_button])])

    def _render(self, partial: str | None = None) -> None:
        rows = []
        for m in self.messages:
            if m["role"] == "system":
                continue
            who = "You" if m["role"] == "user" else "Model"
            rows.append(f"<p><b>{who}:</b> {html.escape(m['content'])}</p>")
        if partial is not None:
            rows.append(f"<p><b>Model:</b> {html.escape(partial)}▌</p>")
        self.log.value = "".join(rows)

    def send(self, text: str) -> str:
        """Send one user message; returns the full reply (also usable without a front end)."""
        text = (text or "").strip()
        if not text:
            return ""
        self.prompt.value = ""
        self.send_button.disabled = True
        self.messages.append({"role": "user", "content": text})
        reply = ""
        try:
            for piece in self._reply_stream(self.messages):
                reply += piece
                self._render(reply)
        finally:
            self.messages.append({"role": "assistant", "content": reply})
            self.send_button.disabled = False
            self._render()
        return reply

    def clear(self) -> None:
        self.messages = [m for m in self.messages if m["role"] == "system"]
        self._render()

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def chat_box(model=None, tokenizer=None, endpoint=None, system: str | None = None,
             max_new_tokens: int = 256, title: str | None = None, **generate_kwargs) -> ChatBox:
    """A chat widget over a local (model, tokenizer) pair or an OpenAI-compatible endpoint."""
    if endpoint is not None:
        def reply(messages):
            return stream_endpoint(endpoint, messages, max_tokens=max_new_tokens, **generate_kwargs)
        return ChatBox(reply, system, title or "Chat (API)")
    if model is None or tokenizer is None:
        from .errors import FriendlyError

        raise FriendlyError("chat_box needs either model= and tokenizer=, or endpoint=.")

    def reply(messages):
        return stream_local(model, tokenizer, messages, max_new_tokens=max_new_tokens, **dict(generate_kwargs))
    return ChatBox(reply, system, title or "Chat (local model)")
