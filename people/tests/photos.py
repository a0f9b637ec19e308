"""Images made in the test, never downloaded."""

import io

from PIL import Image


def image_bytes(fmt="PNG", size=(400, 300), colour=(200, 40, 40), exif=False) -> bytes:
    image = Image.new("RGB", size, colour)
    out = io.BytesIO()
    kwargs = {}
    if exif:
        info = Image.Exif()
        info[0x010F] = "SpyCam Inc."  # Make
        info[0x0110] = "Model 7"  # Model
        kwargs["exif"] = info.tobytes()
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()
