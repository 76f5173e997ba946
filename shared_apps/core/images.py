"""Uploaded images as the pages show them: read by their content, upright, without metadata, made small."""

import io

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps

from shared_apps.core.exceptions import ValidationFailed

FORMATS = ("PNG", "JPEG", "WEBP")


def image_as_webp(upload: UploadedFile, *, side: int, max_pixels: int, field: str) -> ContentFile:
    """``upload`` (PNG, JPEG or WebP, read by content, never by its name or stated type) as a WebP at most
    ``side`` pixels a side, upright, without the camera's metadata, transparency kept. An image of more than
    ``max_pixels`` (a small PNG of one colour can hold 10000 x 10000 of them) or anything that isn't one of
    those images is refused on ``field``."""
    too_many_pixels = ValidationFailed(
        fields={field: [f"Use an image of at most {max_pixels // 1_000_000} megapixels."]}
    )
    try:
        with Image.open(upload, formats=list(FORMATS)) as image:
            # Open reads the header only: the size is known before a pixel is decoded.
            width, height = image.size
            if width * height > max_pixels:
                raise too_many_pixels
            # A JPEG decodes straight to a fraction of its size when the thumbnail needs no more.
            image.draft(None, (side, side))
            image = ImageOps.exif_transpose(image)
            image.thumbnail((side, side))
            out = io.BytesIO()
            image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB").save(out, "WEBP", quality=85)
    except Image.DecompressionBombError as error:
        raise too_many_pixels from error
    except (OSError, SyntaxError, ValueError) as error:  # not an image, a damaged one
        raise ValidationFailed(fields={field: ["Upload a PNG, JPEG or WebP image."]}) from error
    return ContentFile(out.getvalue())
