"""Get Inventory Images: files named by SKU, from a folder or a ZIP, with ZIP limits and path checks."""

import io
import zipfile

import pytest

from inventory.models import VariantImage
from sources.models import Integration, IntegrationRun, RunRowError
from sources.services.runs import integration_trigger, run_execute
from tests.factories import SourceFactory, VariantFactory

from .helpers import upload_integration

Status = IntegrationRun.Status
IMAGES = Integration.Operation.GET_INVENTORY_IMAGES
PNG = b"\x89PNG\r\n\x1a\n" + b"pixels" * 50
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def make_zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def images_run(folder, source, integration=None, **options):
    integration = integration or upload_integration(folder, operation=IMAGES, source=source, options=options)
    return run_execute(run_id=integration_trigger(integration_id=integration.pk, enqueue=False).pk)


def test_images_from_a_zip_are_stored_in_order_and_bad_entries_are_refused(tmp_path, media):
    source = SourceFactory()
    shirt, cap = VariantFactory(source=source, sku="SHIRT-1"), VariantFactory(source=source, sku="CAP_2")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "images.zip").write_bytes(
        make_zip(
            {
                "SHIRT-1.jpg": b"jpeg-1",
                "photos/SHIRT-1_2.png": PNG,
                "CAP_2.jpg": b"cap",
                "UNKNOWN.jpg": b"x",
                "../../etc/evil.jpg": b"evil",
                "readme.txt": b"hello",
            }
        )
    )
    run = images_run(folder, source)
    assert run.status == Status.PARTIAL
    assert (run.read_count, run.created_count, run.skipped_count, run.error_count) == (4, 3, 2, 1)
    stored = {(image.variant.sku, image.position): image.file.read() for image in VariantImage.objects.all()}
    assert stored == {("SHIRT-1", 1): b"jpeg-1", ("SHIRT-1", 2): PNG, ("CAP_2", 1): b"cap"}
    assert all(media in (media / image.file.name).parents for image in VariantImage.objects.all())
    assert not (tmp_path / "etc").exists() and not (media.parent / "etc").exists()
    messages = set(RunRowError.objects.filter(run=run).values_list("message", flat=True))
    assert "refused: the path leads outside the archive" in messages
    assert shirt.image_files.count() == 2 and cap.image_files.count() == 1


def test_a_zip_bomb_is_refused_and_nothing_is_stored(tmp_path):
    source = SourceFactory()
    VariantFactory(source=source, sku="BOMB")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("BOMB.jpg", b"\0" * (20 * 1024 * 1024))
    (tmp_path / "bomb.zip").write_bytes(buffer.getvalue())
    run = images_run(tmp_path, source)
    assert run.status == Status.FAILED
    assert "zip bomb" in run.message
    assert not VariantImage.objects.exists()


def test_a_zip_with_too_many_files_is_refused(tmp_path):
    source = SourceFactory()
    (tmp_path / "many.zip").write_bytes(make_zip({f"S{n}.jpg": b"x" for n in range(5)}))
    run = images_run(tmp_path, source, zip_max_files=3)
    assert run.status == Status.FAILED and "holds 5 files, more than the limit of 3" in run.message


def test_loose_image_files_replace_a_changed_image_and_keep_an_unchanged_one(tmp_path):
    source = SourceFactory()
    VariantFactory(source=source, sku="A")
    (tmp_path / "A.jpg").write_bytes(b"one")
    (tmp_path / "A_2.jpg").write_bytes(b"two")
    integration = upload_integration(tmp_path, operation=IMAGES, source=source)
    assert images_run(tmp_path, source, integration).created_count == 2
    (tmp_path / "A_2.jpg").write_bytes(b"two, retaken")
    again = images_run(tmp_path, source, integration)
    assert (again.updated_count, again.unchanged_count) == (1, 1)
    assert VariantImage.objects.get(position=2).file.read() == b"two, retaken"
