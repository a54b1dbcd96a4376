"""Images for vision models: files, bytes, PIL images and matplotlib figures as ``image_url`` parts.

The gateway takes images inline, as ``data:`` URLs in the message's content parts. Each is
downscaled to about a megapixel first: a vision model sees no more detail than that
(Qwen2.5-VL spends one prompt token per 28×28 patch), and a phone photo would otherwise
cost ten thousand tokens and seconds of upload.

Pillow is needed only to read image files and bytes and to shrink them; it is imported
when first used (matplotlib, which draws figures, depends on it anyway).
"""
from __future__ import annotations

import base64
import io
import math
from pathlib import Path

from .. import errors

#: Largest image sent, in pixels (width × height); bigger ones are scaled down to it.
MAX_PIXELS = 1024 * 1024
_KEPT = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
_ORIENTATION = 0x0112  # the EXIF tag for how the camera was held
_WHAT = "a file path, bytes, a PIL image, a matplotlib Figure or Axes, or 'plt' for the current figure"


def image_part(image) -> dict:
    """An OpenAI ``image_url`` content part for ``image``, as a data URL of at most MAX_PIXELS.

    Example::

        fig, ax = plt.subplots(); ax.plot([1, 3, 2])
        image_part(fig)  # {'type': 'image_url', 'image_url': {'url': 'data:image/png;base64,...'}}
    """
    if isinstance(image, dict) and image.get("type") == "image_url":
        return image  # already a content part
    mime, raw = _encode(image)
    url = f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}"
    return {"type": "image_url", "image_url": {"url": url}}


def user_content(prompt: str, images) -> list[dict]:
    """The content parts of a user message: the prompt's text, then each image."""
    if not isinstance(images, (list, tuple)):
        images = [images]
    parts = [{"type": "text", "text": prompt}] if prompt else []
    return parts + [image_part(image) for image in images]


def resolve(name: str, namespace: dict):
    """What ``--image NAME`` means: a notebook variable, ``plt`` (the current figure), or a path."""
    if name in namespace and name != "plt":
        return namespace[name]
    if name == "plt":
        import matplotlib.pyplot as plt

        if not plt.get_fignums():
            raise errors.ConfigError("--image plt: there is no current matplotlib figure. Draw one in "
                                     "this cell's kernel first, or pass a Figure variable or a file path.")
        return plt.gcf()
    return Path(name)


def has_images(messages: list[dict]) -> bool:
    """True when any message carries an ``image_url`` part."""
    return any(isinstance(p, dict) and p.get("type") == "image_url"
               for m in messages if isinstance(m.get("content"), list) for p in m["content"])


def check_vision(messages: list[dict], info) -> None:
    """Refuse, before any request, to send images to a model the catalogue says cannot see."""
    if info.vision is False and has_images(messages):
        raise errors.CapabilityError(
            f"{info.name} cannot read images (no vision in the model catalogue). Use a vision model "
            f"(vision=True in %llm_models, e.g. a *-vl-* model), or send the question without images.")


def _encode(image) -> tuple[str, bytes]:
    kind = type(image).__module__.split(".")[0]
    if kind == "matplotlib" or _is_pyplot(image):
        return "image/png", _figure_png(image)
    if kind == "PIL":
        return _pil(image, image.format)
    if isinstance(image, (bytes, bytearray, memoryview)):
        return _from_bytes(bytes(image), "the image bytes")
    if isinstance(image, (str, Path)):
        path = Path(image).expanduser()
        if not path.is_file():
            raise errors.ConfigError(f"No image file at {str(image)!r}. Give {_WHAT}.")
        return _from_bytes(path.read_bytes(), str(image))
    raise errors.ConfigError(f"Cannot send a {type(image).__name__} as an image: give {_WHAT}.")


def _is_pyplot(value) -> bool:
    return getattr(value, "__name__", None) == "matplotlib.pyplot"


def _figure_png(image) -> bytes:
    if _is_pyplot(image):
        image = image.gcf()
    figure = getattr(image, "figure", None) if not hasattr(image, "savefig") else image
    if figure is None or not hasattr(figure, "savefig"):
        raise errors.ConfigError(f"Cannot send a {type(image).__name__} as an image: give {_WHAT}.")
    # Draw at the figure's own resolution unless that exceeds the pixel budget.
    width, height = figure.get_size_inches()
    dpi = min(figure.dpi, math.sqrt(MAX_PIXELS / (width * height)))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def _pillow():
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError("Reading image files and bytes needs Pillow: pip install pillow "
                          "(or pass a matplotlib figure).") from exc
    return Image


def _from_bytes(raw: bytes, what: str) -> tuple[str, bytes]:
    Image = _pillow()
    try:
        image = Image.open(io.BytesIO(raw))
        image.load()
    except Exception as exc:
        raise errors.ConfigError(f"Cannot read {what} as an image ({exc}): give a PNG, JPEG, GIF or "
                                 f"WebP file.") from exc
    rotated = image.getexif().get(_ORIENTATION, 1) != 1
    if image.width * image.height <= MAX_PIXELS and image.format in _KEPT and not rotated:
        return _KEPT[image.format], raw  # already small enough: sent exactly as given
    from PIL import ImageOps

    # A phone photo stores its rotation as a tag that models ignore: turn the pixels instead.
    return _pil(ImageOps.exif_transpose(image), image.format)


def _pil(image, original: str | None) -> tuple[str, bytes]:
    pixels = image.width * image.height
    if pixels > MAX_PIXELS:
        scale = math.sqrt(MAX_PIXELS / pixels)
        size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
        image = image.resize(size, _pillow().Resampling.LANCZOS)
    buffer = io.BytesIO()
    if original == "JPEG" and image.mode in ("RGB", "L"):
        image.save(buffer, format="JPEG", quality=90)
        return "image/jpeg", buffer.getvalue()
    if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        image = image.convert("RGBA")
    image.save(buffer, format="PNG")
    return "image/png", buffer.getvalue()
