"""Validation for uploaded recipe images, without needing Pillow."""
import os

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator
from django.template.defaultfilters import filesizeformat

IMAGE_EXTENSIONS = ["jpg", "jpeg", "png", "gif", "webp"]

validate_image_extension = FileExtensionValidator(IMAGE_EXTENSIONS)

# The first bytes of each accepted format, keyed by file extension.
_SIGNATURES = {
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "gif": (b"GIF87a", b"GIF89a"),
    "webp": (b"RIFF",),
}


def _looks_like(extension, head):
    if not head.startswith(_SIGNATURES.get(extension, ())):
        return False
    return extension != "webp" or head[8:12] == b"WEBP"


def validate_image_file(file):
    """Check the size, the declared content type and the file's own signature."""
    if getattr(file, "_committed", False):
        return  # Already in storage: it was checked when it was uploaded.
    max_bytes = settings.RECIPE_IMAGE_MAX_BYTES
    if file.size is not None and file.size > max_bytes:
        raise ValidationError(
            "The image is too large (%(size)s); the limit is %(limit)s.",
            code="file_too_large",
            params={"size": filesizeformat(file.size), "limit": filesizeformat(max_bytes)},
        )
    # A model's FieldFile wraps the UploadedFile that knows the declared type.
    upload = file if hasattr(file, "content_type") else getattr(file, "file", None)
    content_type = getattr(upload, "content_type", None)
    if content_type and not content_type.startswith("image/"):
        raise ValidationError("Upload an image (JPEG, PNG, GIF or WebP).", code="invalid_content_type")
    extension = os.path.splitext(file.name)[1].lower().lstrip(".")
    position = file.tell() if hasattr(file, "tell") else 0
    file.seek(0)
    head = file.read(16)
    file.seek(position)
    if extension in _SIGNATURES and not _looks_like(extension, head):
        raise ValidationError("The file is not a valid %(format)s image.", code="invalid_image",
                              params={"format": extension.upper()})
