"""Product pictures: checked by decoding them, stripped of metadata, stored through Django's storage API."""

import io
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from PIL import Image, ImageOps, UnidentifiedImageError

from catalog.exceptions import ImageTooLarge, InvalidImage
from catalog.locks import product_lock
from catalog.models import ProductImage

FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
MAX_PIXELS = 40_000_000  # larger images are refused before decoding (decompression bombs)


def _pixels_only(image: Image.Image) -> Image.Image:
    """A copy holding nothing but the pixels (upright): no EXIF, GPS, text chunks or other metadata."""
    image = ImageOps.exif_transpose(image)
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    return Image.frombytes(image.mode, image.size, image.tobytes())


def _reencoded(upload: UploadedFile) -> tuple[bytes, str]:
    """The picture decoded and written again without its metadata, and its file extension."""
    if upload.size > settings.PRODUCT_IMAGE_MAX_BYTES:
        raise ImageTooLarge(
            f"Images may be at most {settings.PRODUCT_IMAGE_MAX_BYTES} bytes.",
            max_bytes=settings.PRODUCT_IMAGE_MAX_BYTES,
        )
    try:
        with Image.open(upload) as image:
            image_format = image.format
            if image_format not in FORMATS:
                raise InvalidImage("Only PNG, JPEG and WebP images are accepted.", reason="format")
            if image.width * image.height > MAX_PIXELS:
                raise InvalidImage(f"Images may have at most {MAX_PIXELS} pixels.", reason="dimensions")
            image.load()  # decodes every pixel: a truncated or corrupt file fails here
            clean = _pixels_only(image)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidImage("The file is not an image that can be read.", reason="decode") from exc
    buffer = io.BytesIO()
    clean.save(buffer, format=image_format, **({} if image_format == "PNG" else {"quality": 90}))
    return buffer.getvalue(), FORMATS[image_format]


@transaction.atomic
def product_image_add(
    *, product_id: int, upload: UploadedFile, alt: str = "", position: int | None = None
) -> ProductImage:
    """Add a picture to a product; without ``position`` it goes last."""
    content, extension = _reencoded(upload)
    product = product_lock(product_id=product_id)
    if position is None:
        last = ProductImage.objects.filter(product=product).aggregate(last=Max("position"))["last"]
        position = 0 if last is None else last + 1
    image = ProductImage(product=product, alt=alt, position=position)
    image.file.save(f"{product.pk}-{uuid.uuid4().hex}.{extension}", ContentFile(content), save=False)
    image.save()
    return image


@transaction.atomic
def product_image_delete(*, product_id: int, image_id: int) -> None:
    """Remove a picture; its file leaves the storage once the transaction commits."""
    product_lock(product_id=product_id)
    image = ProductImage.objects.get(pk=image_id, product_id=product_id)
    name, storage = image.file.name, image.file.storage
    image.delete()
    transaction.on_commit(lambda: storage.delete(name))
