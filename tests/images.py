import io

from PIL import Image


def png_bytes(colour: str = "#c81623", size: tuple[int, int] = (8, 8)) -> bytes:
    """A small real PNG for upload tests."""
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()
