"""Images for vision models: every accepted kind becomes a data URL of about a megapixel at most."""
from __future__ import annotations

import base64
import io

import matplotlib
import pytest
from PIL import Image

import jupyter_llm
from jupyter_llm import errors
from jupyter_llm.core.images import MAX_PIXELS, image_part, resolve, user_content

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def decoded(part: dict) -> Image.Image:
    url = part["image_url"]["url"]
    header, data = url.split(",", 1)
    assert part["type"] == "image_url" and header.endswith(";base64")
    return Image.open(io.BytesIO(base64.b64decode(data)))


def png_bytes(width: int, height: int, mode: str = "RGB", fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), "teal").save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture
def figure():
    fig, ax = plt.subplots(figsize=(20, 10), dpi=100)
    ax.plot([1, 3, 2])
    yield fig
    plt.close("all")


def test_a_small_file_is_sent_as_it_is(tmp_path):
    raw = png_bytes(64, 48)
    (tmp_path / "dot.png").write_bytes(raw)
    for given in (tmp_path / "dot.png", str(tmp_path / "dot.png"), raw, bytearray(raw)):
        part = image_part(given)
        assert part["image_url"]["url"] == "data:image/png;base64," + base64.b64encode(raw).decode()


def test_big_images_are_scaled_to_about_a_megapixel():
    photo = image_part(png_bytes(4000, 3000, fmt="JPEG"))
    image = decoded(photo)
    assert photo["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert image.width * image.height <= MAX_PIXELS and image.width * image.height > 0.95 * MAX_PIXELS
    assert abs(image.width / image.height - 4 / 3) < 0.01
    pil = decoded(image_part(Image.new("RGBA", (3000, 3000))))
    assert pil.format == "PNG" and pil.size == (1024, 1024)


def test_figures_axes_and_pyplot_are_drawn_within_the_budget(figure):
    for given in (figure, figure.axes[0], plt):
        image = decoded(image_part(given))
        assert image.format == "PNG" and image.size == (1448, 724)
    small, _ = plt.subplots(figsize=(4, 3), dpi=100)
    assert decoded(image_part(small)).size == (400, 300), "a small figure keeps its own resolution"


def test_bad_images_say_what_to_give(tmp_path):
    with pytest.raises(errors.ConfigError, match="No image file at 'nope.png'"):
        image_part("nope.png")
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(errors.ConfigError, match="Cannot read .* as an image"):
        image_part(tmp_path / "notes.txt")
    with pytest.raises(errors.ConfigError, match="Cannot send a int as an image"):
        image_part(3)


def test_resolve_names_variables_the_current_figure_and_paths(figure):
    assert resolve("fig", {"fig": figure}) is figure
    assert resolve("plt", {"plt": plt}) is figure
    assert str(resolve("data/cat.png", {})) == "data/cat.png"
    plt.close("all")
    with pytest.raises(errors.ConfigError, match="no current matplotlib figure"):
        resolve("plt", {})


def test_user_content_puts_the_text_first():
    parts = user_content("What is this?", png_bytes(8, 8))
    assert [p["type"] for p in parts] == ["text", "image_url"] and parts[0]["text"] == "What is this?"


def test_ask_sends_images_to_a_vision_model(llm, emulator, figure):
    reply = jupyter_llm.ask("What does this plot show?", model="qwen25-vl-7b", images=[figure, png_bytes(64, 48)],
                            display=False)
    assert reply.content.startswith("I see 2 images: 1448×724 PNG (")
    assert ", 64×48 PNG (" in reply.content
    parts = emulator.requests[-1]["body"]["messages"][-1]["content"]
    assert [p["type"] for p in parts] == ["text", "image_url", "image_url"]


def test_a_model_without_vision_is_refused_before_any_request(llm, emulator, figure):
    with pytest.raises(errors.CapabilityError, match="qwen3-32b cannot read images"):
        jupyter_llm.ask("What does this plot show?", model="qwen3-32b", images=[figure], display=False)
    assert not [r for r in emulator.requests if r["path"].endswith("/chat/completions")]


def test_a_conversation_keeps_its_images_for_follow_up_questions(llm, emulator, figure):
    chat = jupyter_llm.Conversation(model="qwen25-vl-7b")
    chat.ask("What does this plot show?", images=[figure], display=False)
    reply = chat.ask("Which point is highest?", display=False)
    sent = emulator.requests[-1]["body"]["messages"]
    assert [p["type"] for p in sent[0]["content"]] == ["text", "image_url"]
    assert reply.content.startswith("I see 1 image: 1448×724 PNG")


def test_without_pillow_files_need_a_clear_install_hint(tmp_path):
    import subprocess
    import sys

    code = ("import sys; sys.modules['PIL'] = None\n"
            "from jupyter_llm.core.images import image_part\n"
            "try:\n    image_part(b'\\x89PNG')\nexcept ImportError as exc:\n    print(exc)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "needs Pillow: pip install pillow" in out.stdout, out.stderr


def test_a_photo_taken_sideways_is_turned_upright():
    image = Image.new("RGB", (60, 40), "teal")
    exif = image.getexif()
    exif[0x0112] = 6  # rotated 90° clockwise when shot
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    assert decoded(image_part(buffer.getvalue())).size == (40, 60)
