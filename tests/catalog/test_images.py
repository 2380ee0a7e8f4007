"""Product images: real pictures made with Pillow, checked by decoding, stored without metadata, served back."""

import io
import random
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from PIL import ExifTags, Image, PngImagePlugin

from catalog.models import IMAGE_POSITION_MAX, Product, ProductImage
from catalog.services.images import product_image_add
from tests.assertions import error_of, field_errors
from tests.locking import assert_database_busy, held_in_another_transaction

pytestmark = pytest.mark.django_db

IMAGE_FIELDS = {"id", "url", "alt", "position"}
SECRET = "52 31 12 N, the owner's back garden"


# --- pictures made in memory


def picture(image_format: str = "PNG", size: tuple[int, int] = (40, 20), mode: str = "RGB", **save) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, "red" if mode != "P" else 1).save(buffer, format=image_format, **save)
    return buffer.getvalue()


def exif_with_gps(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SpyCam"
    exif[ExifTags.Base.ImageDescription] = SECRET
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 31.0, 12.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (13.0, 24.0, 36.0)
    return exif


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SECRET)
    info.add_itxt("Author", SECRET)
    return picture("PNG", pnginfo=info, exif=exif_with_gps())


def noise_png(side: int) -> bytes:
    """A PNG that does not compress: about 3 * side * side bytes."""
    buffer = io.BytesIO()
    pixels = random.Random(side).randbytes(side * side * 3)
    Image.frombytes("RGB", (side, side), pixels).save(buffer, "PNG")
    return buffer.getvalue()


def upload(content: bytes, name: str = "picture.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


# --- fixtures


@pytest.fixture
def media_root(settings, tmp_path) -> Path:
    """Uploads go to a temporary MEDIA_ROOT, and the local media route serves from it."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


@pytest.fixture
def product(product_factory):
    return product_factory()


def post_image(client, product_id: int, content: bytes, name: str = "picture.png", **fields):
    body = {"file": upload(content, name), **fields}
    return client.post(f"/products/{product_id}/images", body, format="multipart")


def stored_image(image_id: int) -> Image.Image:
    image = ProductImage.objects.get(pk=image_id)
    return Image.open(Path(image.file.path))


# --- adding


@pytest.mark.parametrize(
    ("content", "name", "image_format", "extension"),
    [
        (picture("PNG"), "a.png", "PNG", ".png"),
        (picture("PNG", mode="RGBA"), "a.png", "PNG", ".png"),
        (picture("PNG", mode="P", transparency=0), "a.png", "PNG", ".png"),
        (picture("PNG", mode="L"), "a.png", "PNG", ".png"),
        (picture("JPEG"), "a.jpg", "JPEG", ".jpg"),
        (picture("JPEG", mode="L"), "a.jpeg", "JPEG", ".jpg"),
        (picture("WEBP"), "a.webp", "WEBP", ".webp"),
        (picture("WEBP", mode="RGBA", lossless=True), "a.webp", "WEBP", ".webp"),
        (picture("PNG"), "named-wrongly.jpg", "PNG", ".png"),  # the content decides, not the name
    ],
    ids=["png", "png-rgba", "png-palette", "png-grey", "jpeg", "jpeg-grey", "webp", "webp-lossless", "png-as-jpg"],
)
def test_image_add_accepts_png_jpeg_and_webp(media_root, admin_client, product, content, name, image_format, extension):
    response = post_image(admin_client, product.pk, content, name, alt=" Front view ")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == IMAGE_FIELDS
    assert (body["alt"], body["position"]) == ("Front view", 0)
    image = ProductImage.objects.get(pk=body["id"])
    assert (image.product_id, image.width, image.height) == (product.pk, 40, 20)
    path = Path(image.file.path)
    assert path.is_relative_to(media_root / "products")
    assert path.suffix == extension
    assert path.name.startswith(f"{product.pk}-")
    assert urlparse(body["url"]).path == f"/media/{image.file.name}"
    with Image.open(path) as stored:
        assert (stored.format, stored.size) == (image_format, (40, 20))
        stored.load()


def test_image_add_as_inventory_manager(media_root, manager_client, product):
    response = post_image(manager_client, product.pk, picture())

    assert response.status_code == 201
    assert ProductImage.objects.filter(product=product).count() == 1


def test_image_add_to_a_draft_product(media_root, admin_client, draft_product_factory):
    product = draft_product_factory()

    assert post_image(admin_client, product.pk, picture()).status_code == 201


def test_image_add_strips_exif_and_gps_from_a_jpeg(media_root, admin_client, product):
    content = picture("JPEG", exif=exif_with_gps(), comment=SECRET.encode())
    with Image.open(io.BytesIO(content)) as original:  # the upload does carry them
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert original.getexif()[ExifTags.Base.Make] == "SpyCam"

    response = post_image(admin_client, product.pk, content, "photo.jpg")

    assert response.status_code == 201
    with stored_image(response.json()["id"]) as stored:
        assert stored.format == "JPEG"
        assert dict(stored.getexif()) == {}
        assert stored.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
        assert not {"exif", "comment", "xmp"} & set(stored.info)
    raw = Path(ProductImage.objects.get(pk=response.json()["id"]).file.path).read_bytes()
    assert b"Exif" not in raw
    assert b"SpyCam" not in raw
    assert SECRET.encode() not in raw


def test_image_add_strips_text_chunks_and_exif_from_a_png(media_root, admin_client, product):
    content = png_with_text()
    with Image.open(io.BytesIO(content)) as original:
        assert original.text == {"Comment": SECRET, "Author": SECRET}

    response = post_image(admin_client, product.pk, content)

    assert response.status_code == 201
    with stored_image(response.json()["id"]) as stored:
        assert stored.format == "PNG"
        assert stored.text == {}
        assert dict(stored.getexif()) == {}
    raw = Path(ProductImage.objects.get(pk=response.json()["id"]).file.path).read_bytes()
    for chunk in (b"tEXt", b"iTXt", b"zTXt", b"eXIf"):
        assert chunk not in raw
    assert SECRET.encode() not in raw


def test_image_add_turns_a_picture_upright_by_its_exif_orientation(media_root, admin_client, product):
    content = picture("JPEG", size=(40, 20), exif=exif_with_gps(orientation=6))  # "rotate 90° clockwise to view"

    response = post_image(admin_client, product.pk, content, "photo.jpg")

    assert response.status_code == 201
    image = ProductImage.objects.get(pk=response.json()["id"])
    assert (image.width, image.height) == (20, 40)
    with stored_image(image.pk) as stored:
        assert stored.size == (20, 40)
        assert dict(stored.getexif()) == {}


def test_image_add_keeps_the_colour_profile(media_root, admin_client, product):
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()

    response = post_image(admin_client, product.pk, picture("JPEG", icc_profile=icc), "photo.jpg")

    assert response.status_code == 201
    with stored_image(response.json()["id"]) as stored:
        assert stored.info.get("icc_profile") == icc


@pytest.mark.parametrize(
    ("content", "name", "reason"),
    [
        (b"just some text, not a picture\n" * 10, "notes.png", "decode"),
        (picture("PNG", size=(64, 64))[:-40], "truncated.png", "decode"),
        (noise_png(64)[:6000], "cut-short.png", "decode"),
        (picture("JPEG", size=(64, 64))[:300], "truncated.jpg", "decode"),
        (picture("GIF"), "anim.gif", "format"),
        (picture("BMP"), "old.bmp", "format"),
        (picture("TIFF"), "scan.png", "format"),
        (picture("PNG", size=(10_000, 5_000), mode="1"), "bomb.png", "dimensions"),
    ],
    ids=["text", "truncated-png-end", "truncated-png-data", "truncated-jpeg", "gif", "bmp", "tiff", "huge"],
)
def test_image_add_refuses_what_is_not_a_png_jpeg_or_webp(media_root, admin_client, product, content, name, reason):
    response = post_image(admin_client, product.pk, content, name)

    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["details"]) == ("invalid_image", {"reason": reason})
    assert not ProductImage.objects.exists()
    assert stored_files(media_root) == []


def test_image_add_over_the_size_limit_is_413(settings, media_root, admin_client, product):
    content = noise_png(40)
    settings.PRODUCT_IMAGE_MAX_BYTES = len(content) - 1

    response = post_image(admin_client, product.pk, content)

    assert response.status_code == 413
    error = error_of(response)
    assert (error["code"], error["details"]) == ("image_too_large", {"max_bytes": len(content) - 1})
    assert not ProductImage.objects.exists()
    assert stored_files(media_root) == []


def test_image_add_at_the_size_limit_is_accepted(settings, media_root, admin_client, product):
    content = noise_png(40)
    settings.PRODUCT_IMAGE_MAX_BYTES = len(content)

    assert post_image(admin_client, product.pk, content).status_code == 201


def test_image_add_over_the_default_5_mb_is_413(media_root, admin_client, product):
    content = picture("PNG") + b"\0" * (5 * 1024 * 1024)

    response = post_image(admin_client, product.pk, content)

    assert response.status_code == 413
    assert error_of(response)["details"] == {"max_bytes": 5 * 1024 * 1024}
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"alt": "a"}, "file"),
        ({"file": "not a file"}, "file"),
        ({"file": upload(b"", "empty.png")}, "file"),
        ({"file": upload(picture()), "position": -1}, "position"),
        ({"file": upload(picture()), "position": "first"}, "position"),
        ({"file": upload(picture()), "alt": "x" * 256}, "alt"),
    ],
    ids=["missing", "text", "empty", "negative-position", "text-position", "long-alt"],
)
def test_image_add_bad_body_is_400(media_root, admin_client, product, fields, field):
    response = admin_client.post(f"/products/{product.pk}/images", fields, format="multipart")

    assert list(field_errors(response)) == [field]
    assert stored_files(media_root) == []


def test_image_add_json_body_is_415(media_root, admin_client, product):
    response = admin_client.post(f"/products/{product.pk}/images", {"alt": "x"}, format="json")

    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


def test_image_add_to_an_unknown_product_is_404(media_root, admin_client):
    response = post_image(admin_client, 999_999, picture())

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert stored_files(media_root) == []


def test_image_add_without_position_goes_last(media_root, admin_client, product, client_for, customer):
    def add(alt, **fields):
        response = post_image(admin_client, product.pk, picture(), alt=alt, **fields)
        assert response.status_code == 201
        return response.json()

    first = add("first")
    fifth = add("fifth", position=5)
    last = add("last")
    second = add("second", position=1)

    assert [first["position"], fifth["position"], last["position"], second["position"]] == [0, 5, 6, 1]
    for client in (admin_client, client_for(customer)):
        images = client.get(f"/products/{product.pk}").json()["images"]
        assert [image["alt"] for image in images] == ["first", "second", "fifth", "last"]
        assert all(set(image) == IMAGE_FIELDS for image in images)
        assert images[0] == first


def test_image_positions_stop_at_their_limit(media_root, admin_client, product):
    at_limit = post_image(admin_client, product.pk, picture(), position=IMAGE_POSITION_MAX)
    after_it = post_image(admin_client, product.pk, picture())
    beyond = post_image(admin_client, product.pk, picture(), position=IMAGE_POSITION_MAX + 1)

    assert (at_limit.status_code, after_it.status_code) == (201, 201)
    assert after_it.json()["position"] == IMAGE_POSITION_MAX
    assert field_errors(beyond) == {"position": [f"Ensure this value is less than or equal to {IMAGE_POSITION_MAX}."]}
    assert len(stored_files(media_root)) == 2


def test_image_add_service_removes_the_file_when_the_row_cannot_be_written(media_root, product):
    with pytest.raises(IntegrityError):
        product_image_add(product_id=product.pk, upload=upload(picture()), position=-1)

    assert stored_files(media_root) == []


def test_image_url_serves_the_stored_picture(media_root, admin_client, client_for, customer, product):
    response = post_image(admin_client, product.pk, png_with_text())
    url = response.json()["url"]
    stored = Path(ProductImage.objects.get(pk=response.json()["id"]).file.path).read_bytes()

    served = client_for(customer).get(urlparse(url).path)

    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == stored


# --- deleting


def test_image_delete_removes_the_row_and_the_file_after_commit(
    media_root, admin_client, product, django_capture_on_commit_callbacks
):
    kept = post_image(admin_client, product.pk, picture(), alt="kept").json()
    doomed = post_image(admin_client, product.pk, picture(), alt="doomed").json()
    path = Path(ProductImage.objects.get(pk=doomed["id"]).file.path)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.delete(f"/products/{product.pk}/images/{doomed['id']}")
        assert path.exists()  # not before the deletion commits

    assert response.status_code == 204
    assert len(callbacks) == 1
    assert not path.exists()
    assert list(ProductImage.objects.values_list("pk", flat=True)) == [kept["id"]]
    assert len(stored_files(media_root)) == 1
    assert [image["alt"] for image in admin_client.get(f"/products/{product.pk}").json()["images"]] == ["kept"]


def test_image_delete_as_inventory_manager(media_root, admin_client, manager_client, product):
    image = post_image(admin_client, product.pk, picture()).json()

    assert manager_client.delete(f"/products/{product.pk}/images/{image['id']}/").status_code == 204
    assert not ProductImage.objects.exists()


@pytest.mark.parametrize("case", ["other_product", "unknown_image", "unknown_product"])
def test_image_delete_of_what_is_not_there_is_404(media_root, admin_client, product_factory, case):
    product, other = product_factory(), product_factory()
    image = post_image(admin_client, other.pk, picture()).json()
    path = {
        "other_product": f"/products/{product.pk}/images/{image['id']}",
        "unknown_image": f"/products/{product.pk}/images/999999",
        "unknown_product": f"/products/999999/images/{image['id']}",
    }[case]

    response = admin_client.delete(path)

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert list(ProductImage.objects.values_list("pk", "product_id")) == [(image["id"], other.pk)]
    assert len(stored_files(media_root)) == 1


@pytest.mark.parametrize("method", ["post", "delete"])
def test_image_writes_by_customers_are_403(media_root, admin_client, customer_client, product, method):
    image = post_image(admin_client, product.pk, picture()).json()

    if method == "post":
        response = post_image(customer_client, product.pk, picture())
    else:
        response = customer_client.delete(f"/products/{product.pk}/images/{image['id']}")

    assert response.status_code == 403
    assert error_of(response)["code"] == "staff_required"
    assert list(ProductImage.objects.values_list("pk", flat=True)) == [image["id"]]
    assert len(stored_files(media_root)) == 1


# --- a product lock held elsewhere answers 503 and leaves nothing behind


@pytest.mark.django_db(transaction=True)
def test_image_add_to_a_locked_product_is_503_and_stores_nothing(settings, media_root, admin_client, product):
    settings.STOCK_LOCK_TIMEOUT_MS = 200

    with held_in_another_transaction(lambda: Product.objects.select_for_update().get(pk=product.pk)):
        response = post_image(admin_client, product.pk, picture())

    assert_database_busy(response)
    assert not ProductImage.objects.exists()
    assert stored_files(media_root) == []


@pytest.mark.django_db(transaction=True)
def test_image_delete_on_a_locked_product_is_503_and_keeps_the_file(settings, media_root, admin_client, product):
    image = post_image(admin_client, product.pk, picture()).json()
    settings.STOCK_LOCK_TIMEOUT_MS = 200

    with held_in_another_transaction(lambda: Product.objects.select_for_update().get(pk=product.pk)):
        response = admin_client.delete(f"/products/{product.pk}/images/{image['id']}")

    assert_database_busy(response)
    assert list(ProductImage.objects.values_list("pk", flat=True)) == [image["id"]]
    assert len(stored_files(media_root)) == 1
