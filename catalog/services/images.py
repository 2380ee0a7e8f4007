"""Product pictures: checked by decoding them, stripped of metadata, stored through Django's storage API.

No storage call happens while the product row is locked: a new file is written before the row's
transaction (and removed again if that transaction fails); a deleted picture's file leaves the
storage once the deletion has committed.
"""

import io
import struct
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from PIL import Image, ImageOps, UnidentifiedImageError

from catalog.exceptions import ImageTooLarge, InvalidImage, ProductImageNotFound, ProductNotFound
from catalog.locks import product_lock
from catalog.models import IMAGE_POSITION_MAX, Product, ProductImage
from config.db import retry_on_conflict

FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
MAX_PIXELS = 40_000_000  # larger images are refused before decoding (decompression bombs)
# What Pillow raises on a file it cannot read, depending on the format and where the damage is.
DECODE_ERRORS = (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, struct.error)


@dataclass(frozen=True)
class _Picture:
    content: bytes
    extension: str
    width: int
    height: int


def _pixels_only(image: Image.Image) -> Image.Image:
    """A copy holding nothing but the pixels (upright): no EXIF, GPS, XMP, text chunks or comments."""
    image = ImageOps.exif_transpose(image)
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    return Image.frombytes(image.mode, image.size, image.tobytes())


def _reencoded(upload: File) -> _Picture:
    """The picture decoded and written again with its pixels and colour profile only."""
    max_bytes = settings.PRODUCT_IMAGE_MAX_BYTES
    if upload.size > max_bytes:
        raise ImageTooLarge(f"Images may be at most {max_bytes} bytes.", max_bytes=max_bytes)
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            image_format = image.format
            if image_format not in FORMATS:
                raise InvalidImage("Only PNG, JPEG and WebP images are accepted.", reason="format")
            if image.width * image.height > MAX_PIXELS:
                raise InvalidImage(f"Images may have at most {MAX_PIXELS} pixels.", reason="dimensions")
            image.load()  # decodes every pixel: a truncated or corrupt file fails here
            icc_profile = image.info.get("icc_profile")  # colours, not metadata about the picture
            clean = _pixels_only(image)
    except (*DECODE_ERRORS, Image.DecompressionBombError) as exc:
        raise InvalidImage("The file is not an image that can be read.", reason="decode") from exc
    options = {} if image_format == "PNG" else {"quality": 90}
    if icc_profile:
        options["icc_profile"] = icc_profile
    buffer = io.BytesIO()
    clean.save(buffer, format=image_format, **options)
    return _Picture(buffer.getvalue(), FORMATS[image_format], clean.width, clean.height)


def product_image_add(*, product_id: int, upload: File, alt: str = "", position: int | None = None) -> ProductImage:
    """Add a picture to a product; without ``position`` it goes last. Call it outside any transaction.

    Refused with ``ImageTooLarge`` over ``PRODUCT_IMAGE_MAX_BYTES`` and ``InvalidImage`` unless
    Pillow decodes it as PNG, JPEG or WebP. What is stored is the picture encoded afresh.
    """
    picture = _reencoded(upload)
    if not Product.objects.filter(pk=product_id).exists():
        raise ProductNotFound("Product not found.", product_id=product_id)
    field = ProductImage._meta.get_field("file")
    filename = field.generate_filename(None, f"{product_id}-{uuid.uuid4().hex}.{picture.extension}")
    name = field.storage.save(filename, ContentFile(picture.content))
    try:
        return _image_insert(product_id=product_id, name=name, picture=picture, alt=alt, position=position)
    except BaseException:
        field.storage.delete(name)
        raise


@retry_on_conflict
@transaction.atomic(durable=True)
def _image_insert(*, product_id: int, name: str, picture: _Picture, alt: str, position: int | None) -> ProductImage:
    product = product_lock(product_id=product_id)  # one picture at a time per product: "last" stays last
    if position is None:
        last = ProductImage.objects.filter(product=product).aggregate(last=Max("position"))["last"]
        position = 0 if last is None else min(last + 1, IMAGE_POSITION_MAX)
    return ProductImage.objects.create(
        product=product, file=name, width=picture.width, height=picture.height, alt=alt, position=position
    )


@retry_on_conflict
@transaction.atomic(durable=True)
def product_image_delete(*, product_id: int, image_id: int) -> None:
    """Remove a picture of a product; its file leaves the storage once the transaction commits."""
    product_lock(product_id=product_id)
    image = ProductImage.objects.filter(pk=image_id, product_id=product_id).first()
    if image is None:
        raise ProductImageNotFound("Image not found.", product_id=product_id, image_id=image_id)
    name, storage = image.file.name, image.file.storage
    image.delete()
    transaction.on_commit(lambda: storage.delete(name), robust=True)
