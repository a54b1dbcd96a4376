"""Rendering replies in a Jupyter front end: streaming Markdown, reasoning, tool calls, usage.

``renderer.ReplyRenderer`` is the entry point. The widget and IPython modules load only
when something is rendered, so importing this package costs nothing.
"""
