"""Get Inventory Images: image files named by SKU (``SKU.jpg``, ``SKU_2.png``) stored as VariantImages in order.

Images come as loose files or inside a ZIP. A ZIP is checked before anything is stored: its file count, its
total uncompressed size and each entry's compression ratio are limited (no zip bombs), and sizes are enforced
while reading (a header can lie). Entries whose path would lead outside the archive, and files that are not
images, are refused one by one with a row note; the rest apply.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.files.base import ContentFile
from django.db import transaction

from flxhub.exceptions import ApplicationError

from ..feeds.common import FeedResult, RowNote
from ..models import InventoryVariant, VariantImage

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp")
_NAME = re.compile(r"^(?P<sku>.+?)(?:_(?P<position>\d{1,3}))?$")


class ImageArchiveRefused(ApplicationError):
    code = "image_archive_refused"


@dataclass(frozen=True)
class ZipLimits:
    """Limits of one ZIP of images; an integration's options may override them (``zip_max_files``…)."""

    max_files: int = 5_000
    max_total_bytes: int = 1024 * 1024 * 1024
    max_file_bytes: int = 25 * 1024 * 1024
    max_ratio: int = 100

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> ZipLimits:
        defaults = cls()
        return cls(
            max_files=int(options.get("zip_max_files", defaults.max_files)),
            max_total_bytes=int(options.get("zip_max_total_bytes", defaults.max_total_bytes)),
            max_file_bytes=int(options.get("zip_max_file_bytes", defaults.max_file_bytes)),
            max_ratio=int(options.get("zip_max_ratio", defaults.max_ratio)),
        )


@dataclass
class ImageFile:
    name: str
    data: bytes


@dataclass
class ImageBatch:
    """Images to apply, with the entries refused (errors) and ignored (not images) while reading them."""

    images: list[ImageFile] = field(default_factory=list)
    refused: list[RowNote] = field(default_factory=list)
    ignored: list[RowNote] = field(default_factory=list)


def is_image_name(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


def images_from_zip(stream: IO[bytes], *, limits: ZipLimits, label: str = "ZIP") -> ImageBatch:
    """Read the images of a ZIP within ``limits``; raise ImageArchiveRefused for a ZIP that breaks them."""
    try:
        archive = zipfile.ZipFile(stream)
    except zipfile.BadZipFile as exc:
        raise ImageArchiveRefused(f"{label} is not a readable ZIP file: {exc}") from None
    with archive:
        entries = [entry for entry in archive.infolist() if not entry.is_dir()]
        if len(entries) > limits.max_files:
            raise ImageArchiveRefused(
                f"{label} holds {len(entries)} files, more than the limit of {limits.max_files}; nothing was stored."
            )
        declared = sum(entry.file_size for entry in entries)
        if declared > limits.max_total_bytes:
            raise ImageArchiveRefused(
                f"{label} unpacks to {declared} bytes, more than the limit of {limits.max_total_bytes}; "
                "nothing was stored."
            )
        for entry in entries:
            if entry.file_size > 1024 * 1024 and entry.file_size > limits.max_ratio * max(entry.compress_size, 1):
                raise ImageArchiveRefused(
                    f"{label}: {entry.filename} is compressed more than {limits.max_ratio}:1 "
                    f"({entry.compress_size} → {entry.file_size} bytes), which looks like a zip bomb; "
                    "nothing was stored."
                )
        batch, total = ImageBatch(), 0
        for index, entry in enumerate(entries, start=1):
            name = entry.filename
            if not _safe_member(name):
                batch.refused.append(RowNote(index, None, "file", name, "refused: the path leads outside the archive"))
                continue
            if not is_image_name(name):
                batch.ignored.append(RowNote(index, None, "file", name, "skipped: not an image (jpg, png, gif, webp)"))
                continue
            with archive.open(entry) as member:
                data = member.read(limits.max_file_bytes + 1)
            if len(data) > limits.max_file_bytes:
                batch.refused.append(
                    RowNote(index, None, "file", name, f"refused: larger than {limits.max_file_bytes} bytes")
                )
                continue
            total += len(data)
            if total > limits.max_total_bytes:
                message = f"{label} unpacks to more than {limits.max_total_bytes} bytes; nothing was stored."
                raise ImageArchiveRefused(message)
            batch.images.append(ImageFile(posixpath.basename(name), data))
    return batch


def _safe_member(name: str) -> bool:
    if not name or "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return False
    return ".." not in name.split("/")


def images_digest(images: Iterable[ImageFile]) -> str:
    """A fingerprint of a set of images (names and bytes), to skip a set already applied."""
    digest = hashlib.sha256()
    for image in sorted(images, key=lambda image: image.name):
        digest.update(image.name.encode() + b"\x00" + hashlib.sha256(image.data).digest())
    return digest.hexdigest()


def _parse(name: str) -> Iterator[tuple[str, int]]:
    """Candidate (SKU, position) readings of a file name: the whole stem first, then ``SKU_N``."""
    stem = posixpath.splitext(posixpath.basename(name))[0].strip()
    yield stem, 1
    match = _NAME.match(stem)
    if match and match["position"]:
        yield match["sku"], int(match["position"])


def inventory_images_apply(*, source_id: int, images: list[ImageFile], result: FeedResult | None = None) -> FeedResult:
    """Store each image on the variant its name names, at its position; replace a different image there.

    Counts: read (images), created, updated, unchanged (same bytes already stored), skipped (no such SKU, noted).
    """
    result = result or FeedResult()
    candidates = {sku for image in images for sku, _ in _parse(image.name)}
    variants = {
        variant.sku: variant
        for variant in InventoryVariant.objects.filter(source_id=source_id, sku__in=candidates).only("id", "sku")
    }
    counts = result.counts
    with transaction.atomic():
        for row, image in enumerate(images, start=1):
            counts["read"] += 1
            target = next(((variants[sku], position) for sku, position in _parse(image.name) if sku in variants), None)
            if target is None:
                counts["skipped"] += 1
                message = "skipped: no variant of this source has the SKU this file is named after"
                result.note(RowNote(row, None, "file", image.name, message))
                continue
            variant, position = target
            _store(variant, position, image, counts)
    return result


def _store(variant: InventoryVariant, position: int, image: ImageFile, counts: dict[str, int]) -> None:
    extension = posixpath.splitext(image.name)[1].lower()
    current = VariantImage.objects.select_for_update().filter(variant=variant, position=position).first()
    if current is not None and current.file:
        try:
            with current.file.open("rb") as stored:
                if stored.read() == image.data:
                    counts["unchanged"] += 1
                    return
        except FileNotFoundError:
            pass
        current.file.delete(save=False)
    record = current or VariantImage(variant=variant, position=position)
    safe_sku = re.sub(r"[^\w.-]", "_", variant.sku)
    record.file.save(f"{variant.source_id}/{safe_sku}_{position}{extension}", ContentFile(image.data), save=False)
    record.save()
    counts["updated" if current is not None else "created"] += 1
