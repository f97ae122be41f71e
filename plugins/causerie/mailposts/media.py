"""Images and documents from a message (pure: bytes in, bytes out).

An attachment is judged by its content, never by its name or declared type:

- :func:`process_image` decodes a photo (JPEG, PNG, GIF, WebP, HEIC/HEIF and
  nothing else: Pillow's other decoders, EPS through Ghostscript above all,
  are never reached), applies its EXIF orientation, converts it to sRGB,
  shrinks it to ``max_px`` and makes a thumbnail, then re-encodes both from
  their pixels alone: no EXIF (GPS!), XMP, ICC profile or comment survives.
  Output is JPEG, or PNG when the image really has transparency. Animated
  GIF/WebP keep their first frame.
- :func:`sniff_document` tells an allowed document (PDF, OOXML and ODF office
  files, legacy Office, CSV and plain text) from anything else, such as an
  .exe renamed .pdf.

Problems come back as a :class:`Problem` (a code and the attachment's name),
which :mod:`.messages` words for the author.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

import pillow_heif
from PIL import Image, ImageCms, ImageOps

# HEIC/HEIF (iPhone photos) through libheif; registering twice is harmless.
pillow_heif.register_heif_opener()

#: The only Pillow decoders an attachment may reach.
IMAGE_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "HEIF")
JPEG_QUALITY = 85

#: Problem codes (see :mod:`.messages`).
NOT_AN_IMAGE = "not-an-image"
IMAGE_TOO_LARGE = "image-too-large"
NOT_ALLOWED = "not-allowed"
MACROS = "macros"
#: Outlook's "Rich Text" envelope (winmail.dat): added by the mail app, not
#: chosen by the author, so the advice is about the app's settings.
TNEF = "tnef"
VIDEO = "video"

#: ISO BMFF brands of HEIF stills (ISO/IEC 23008-12 Annex B): iPhones write
#: "heic"; "mif1"/"msf1" are the generic image and sequence brands.
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODF = {
    b"application/vnd.oasis.opendocument.text": ("odt", "text"),
    b"application/vnd.oasis.opendocument.spreadsheet": ("ods", "spreadsheet"),
    b"application/vnd.oasis.opendocument.presentation": ("odp", "presentation"),
}
#: OOXML (ECMA-376 part 2): the main part that makes a package a docx/xlsx/pptx.
_OOXML = {
    "word/document.xml": (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "xl/workbook.xml": (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "ppt/presentation.xml": (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
}
#: Legacy Office files are OLE2 compound files, like .msi installers: tell
#: them apart by the name of their main stream (UTF-16LE in the directory).
_OLE2_STREAMS = (
    ("WordDocument", "doc", "application/msword"),
    ("Workbook", "xls", "application/vnd.ms-excel"),
    ("Book", "xls", "application/vnd.ms-excel"),
    ("PowerPoint Document", "ppt", "application/vnd.ms-powerpoint"),
)
_OLE2_MACROS = ("_VBA_PROJECT", "Macros")
#: A zip member we read (only the small manifests) may be at most this big.
_MANIFEST_MAX = 1_000_000


@dataclass(frozen=True)
class Problem:
    """Why an attachment is not published: a code, and its name for the author."""

    code: str  # NOT_AN_IMAGE | IMAGE_TOO_LARGE | NOT_ALLOWED | MACROS | TNEF | VIDEO
    name: str


@dataclass(frozen=True)
class Picture:
    """A re-encoded image (no metadata) and its thumbnail."""

    data: bytes
    thumbnail: bytes
    media_type: str  # "image/jpeg" | "image/png"
    extension: str  # "jpg" | "png"
    size: tuple[int, int]
    thumbnail_size: tuple[int, int]


@dataclass(frozen=True)
class DocumentType:
    """What a document's content says it is, and the extension we give it."""

    media_type: str
    extension: str


def sniff_image(data: bytes) -> str | None:
    """The format of image ``data`` by its magic bytes ("JPEG", "HEIF"…), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "HEIF"
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """The width and height that image ``data``'s header declares, or None.
    Only the header is read (``Image.open`` is lazy): no pixel is decoded."""
    kind = sniff_image(data)
    if kind is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[kind]) as opened:
                width, height = opened.size
    except Exception:  # hostile headers fail in many ways: no size known
        return None
    return int(width), int(height)


#: An inline image under this many pixels (a 64×64 square) is a logo, an
#: icon or a tracking pixel of a signature, never a photo.
TINY_PIXELS = 64 * 64


def is_tiny(data: bytes) -> bool:
    """Whether image ``data`` is too small to be a photo (:data:`TINY_PIXELS`)."""
    size = image_size(data)
    return size is not None and size[0] * size[1] < TINY_PIXELS


#: The most pixels an image may have (50 megapixels: a 48 MP phone photo
#: passes, a 9000×9000 bomb does not). Checked from the header, before any
#: pixel is decoded; Pillow's own MAX_IMAGE_PIXELS (89 MP by default, and a
#: mere warning below twice that) stays as a second lock, the lower of the
#: two wins. Decoding 50 MP takes at most ~150 MB (RGB, 3 bytes a pixel);
#: everything after works on the image shrunk to ``max_px``.
MAX_PIXELS = 50_000_000
#: Lower limits where Pillow's decoder holds several full copies (measured
#: peak of one image, the process included: a 49 MP WebP took 774 MB, a
#: 49 MP GIF 327 MB). Phones send photos as JPEG or HEIC, never this big as
#: WebP or GIF.
MAX_PIXELS_BY_FORMAT = {"WEBP": 12_000_000, "GIF": 25_000_000}


def process_image(
    data: bytes, name: str, *, max_px: int, thumb_px: int
) -> Picture | Problem:
    """``data`` decoded, oriented, stripped, resized and re-encoded, or a Problem.

    Pillow only *warns* (DecompressionBombWarning) between MAX_IMAGE_PIXELS
    and twice that; here the warning is an error too, and the size is checked
    from the header (``Image.open`` is lazy) before any pixel is decoded.
    The image is shrunk to ``max_px`` as it is decoded (a JPEG's DCT scaling,
    then a reduce) so that one full-size copy at most is ever in memory.
    """
    kind = sniff_image(data)
    if kind is None:
        return Problem(NOT_AN_IMAGE, name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[kind]) as opened:
                width, height = opened.size
                limit = min(
                    MAX_PIXELS,
                    MAX_PIXELS_BY_FORMAT.get(kind, MAX_PIXELS),
                    Image.MAX_IMAGE_PIXELS or MAX_PIXELS,
                )
                if width * height > limit:
                    return Problem(IMAGE_TOO_LARGE, name)
                opened.seek(0)  # the first frame of an animation
                banded = _heif_banded(data, max_px) if kind == "HEIF" else None
                image = banded if banded is not None else _shrunk(opened, max_px)
                image = _srgb(ImageOps.exif_transpose(image))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return Problem(IMAGE_TOO_LARGE, name)
    # Decoders fail on hostile bytes in many ways (OSError, SyntaxError,
    # ValueError, struct.error, EOFError…): every one means "not readable".
    except Exception:
        return Problem(NOT_AN_IMAGE, name)
    transparent = _has_transparency(image)
    image = image.convert("RGBA" if transparent else "RGB")
    full = _fit(image, max_px)
    thumb = _fit(image, thumb_px)
    fmt = "PNG" if transparent else "JPEG"
    return Picture(
        data=_encode(full, fmt),
        thumbnail=_encode(thumb, fmt),
        media_type="image/png" if transparent else "image/jpeg",
        extension="png" if transparent else "jpg",
        size=full.size,
        thumbnail_size=thumb.size,
    )


def _shrunk(opened: Image.Image, max_px: int) -> Image.Image:
    """``opened`` decoded within ``max_px``×``max_px``, its ``info`` (EXIF
    orientation, ICC profile) kept for what follows. Palette and 1-bit images
    are converted first, as Pillow resizes those with nearest-neighbour only."""
    if opened.mode in ("1", "P"):
        opened.load()
        if opened.mode == "1":
            image = opened.convert("L")
        else:
            alpha = "transparency" in opened.info
            image = opened.convert("RGBA" if alpha else "RGB")
    else:
        image = opened
    # In place: a JPEG is decoded at 1/2, 1/4 or 1/8 scale (draft), the
    # others reduced by whole factors, then resampled.
    image.thumbnail((max_px, max_px), Image.Resampling.LANCZOS)
    image.load()
    return image


#: HEIF images this big are shrunk band by band (:func:`_heif_banded`).
_HEIF_BANDED_PIXELS = 12_000_000


def _heif_banded(data: bytes, max_px: int) -> Image.Image | None:
    """A large HEIF decoded, then shrunk by a whole factor band by band.

    pillow-heif's own load() holds libheif's decoded buffer and Pillow's copy
    of it at once (Pillow keeps RGB in 4 bytes a pixel): 340 MB for a 48 MP
    iPhone photo. Here only libheif's buffer is whole; each band of rows is
    made a small Pillow image, reduced, and pasted. None for a small or an
    unusual image (another mode): the ordinary path takes it.
    """
    heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
    width, height = heif.size
    if width * height < _HEIF_BANDED_PIXELS or heif.mode not in ("RGB", "RGBA"):
        return None
    factor = max(1, max(width, height) // max_px)  # the result stays ≥ max_px
    out = Image.new(heif.mode, (-(-width // factor), -(-height // factor)))
    buffer, stride, rows = memoryview(heif.data), heif.stride, factor * 64
    for top in range(0, height, rows):
        count = min(rows, height - top)
        band = Image.frombytes(
            heif.mode,
            (width, count),
            bytes(buffer[top * stride : (top + count) * stride]),
            "raw",
            heif.mode,
            stride,
        )
        out.paste(band.reduce(factor), (0, top // factor))
    # No EXIF: in HEIF the container's irot/imir rule, and libheif has
    # applied them; an EXIF orientation tag is to be ignored (pillow-heif's
    # plugin resets it to 1 for the same reason: ISO/IEC 23008-12, whose
    # transformative properties are the only orientation of an image item).
    if heif.info.get("icc_profile"):
        out.info["icc_profile"] = heif.info["icc_profile"]
    return out


def _srgb(image: Image.Image) -> Image.Image:
    """``image`` in sRGB if it carries another ICC profile (an iPhone's Display
    P3): dropping the profile without converting would dull its colours."""
    icc = image.info.get("icc_profile")
    if not icc:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        mode = "RGBA" if "A" in image.getbands() else "RGB"
        converted = ImageCms.profileToProfile(
            image, source, ImageCms.createProfile("sRGB"), outputMode=mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # a broken profile: keep the pixels as they are
    return converted if converted is not None else image


def _has_transparency(image: Image.Image) -> bool:
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if "A" not in image.getbands():
        return False
    extrema = image.getchannel("A").getextrema()
    return isinstance(extrema[0], int | float) and extrema[0] < 255


def _fit(image: Image.Image, px: int) -> Image.Image:
    """A copy of ``image`` within ``px``×``px``, rebuilt from its pixels only,
    so that no ``info`` (exif, xmp, icc_profile, comment…) follows it."""
    copy = image.copy()
    copy.thumbnail((px, px), Image.Resampling.LANCZOS)
    return Image.frombytes(copy.mode, copy.size, copy.tobytes())


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    else:
        image.save(out, "PNG", optimize=True)
    return out.getvalue()


def sniff_document(
    data: bytes, name: str, declared_type: str = ""
) -> DocumentType | Problem:
    """The type of document ``data`` by its content, or a Problem.

    ``name`` (the sender's file name) and ``declared_type`` (its
    Content-Type) only decide between CSV and plain text, which have no magic
    bytes; they never make a document allowed.
    """
    if data.lstrip(b"\t\n\r ").startswith(b"%PDF-"):
        return DocumentType("application/pdf", "pdf")
    if data.startswith(b"PK\x03\x04"):
        return _zip_document(data, name)
    if data.startswith(_OLE2):
        return _ole2_document(data, name)
    found = _text_document(data, name, declared_type)
    if isinstance(found, Problem):
        return Problem(_refused_kind(data, name, declared_type), name)
    return found


#: MS-OXTNEF §2.1.3.1: a TNEF stream starts with TNEF_SIGNATURE 0x223E9F78,
#: little-endian.
_TNEF_SIGNATURE = b"\x78\x9f\x3e\x22"
#: ISO BMFF brands of videos (MP4, QuickTime, 3GPP): a ftyp box at offset 4.
_VIDEO_BRANDS = (b"qt  ", b"isom", b"iso2", b"mp41", b"mp42", b"M4V ", b"3gp", b"avc1")
_VIDEO_NAMES = (".mov", ".mp4", ".m4v", ".avi", ".mkv", ".webm", ".3gp", ".wmv", ".mpg")


def _refused_kind(data: bytes, name: str, declared_type: str) -> str:
    """Which refusal fits an attachment that is no allowed document: the
    advice differs (Outlook's settings, a video link, a PDF). The name and
    declared type only choose the words here; they never allow anything."""
    lower, declared = name.lower(), declared_type.lower()
    if (
        data.startswith(_TNEF_SIGNATURE)
        or declared in ("application/ms-tnef", "application/vnd.ms-tnef")
        or PurePosixPath(lower.replace("\\", "/")).name == "winmail.dat"
    ):
        return TNEF
    if (
        (data[4:8] == b"ftyp" and data[8:12].startswith(_VIDEO_BRANDS))
        or data.startswith(b"\x1a\x45\xdf\xa3")  # Matroska / WebM (EBML)
        or (data[:4] == b"RIFF" and data[8:12] == b"AVI ")
        or declared.startswith("video/")
        or lower.endswith(_VIDEO_NAMES)
    ):
        return VIDEO
    return NOT_ALLOWED


def _zip_document(data: bytes, name: str) -> DocumentType | Problem:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            names = {info.filename for info in infos}
            # ODF 1.2 §3.3: "mimetype" is the first entry, stored, uncompressed.
            first = infos[0] if infos else None
            if (
                first is not None
                and first.filename == "mimetype"
                and first.compress_type == zipfile.ZIP_STORED
                and first.file_size <= 200
            ):
                found = _ODF.get(archive.read(first).strip())
                if found:
                    if any(n.lower().startswith("basic/") for n in names):
                        return Problem(MACROS, name)
                    ext, _ = found
                    return DocumentType(
                        archive.read(first).strip().decode("ascii"), ext
                    )
            if "[Content_Types].xml" in names:
                info = archive.getinfo("[Content_Types].xml")
                if info.file_size > _MANIFEST_MAX:
                    return Problem(NOT_ALLOWED, name)
                types = archive.read(info)
                for part, (ext, media_type) in _OOXML.items():
                    if part in names:
                        # Macro-enabled packages (.docm, .xlsm…) carry a
                        # vbaProject.bin and say so in their content types.
                        if b"macroEnabled" in types or any(
                            n.lower().endswith("vbaproject.bin") for n in names
                        ):
                            return Problem(MACROS, name)
                        return DocumentType(media_type, ext)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, KeyError):
        pass
    return Problem(NOT_ALLOWED, name)


def _ole2_document(data: bytes, name: str) -> DocumentType | Problem:
    if any(m.encode("utf-16-le") in data for m in _OLE2_MACROS):
        return Problem(MACROS, name)
    for stream, ext, media_type in _OLE2_STREAMS:
        # The directory entry holds the name followed by its UTF-16 NUL.
        if (stream + "\0").encode("utf-16-le") in data:
            return DocumentType(media_type, ext)
    return Problem(NOT_ALLOWED, name)


def _text_document(
    data: bytes, name: str, declared_type: str
) -> DocumentType | Problem:
    lower, declared = name.lower(), declared_type.lower()
    if lower.endswith(".csv") or declared in ("text/csv", "application/csv"):
        document = DocumentType("text/csv", "csv")
    elif lower.endswith(".txt") or declared == "text/plain":
        document = DocumentType("text/plain", "txt")
    else:
        return Problem(NOT_ALLOWED, name)
    if b"\0" in data or not _is_text(data):
        return Problem(NOT_ALLOWED, name)
    return document


def _is_text(data: bytes) -> bool:
    """UTF-8, or a single-byte text (Windows-1252: Excel's CSV) with no
    control character other than tab, CR, LF and form feed."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            return False
    return not any(ord(c) < 32 and c not in "\t\r\n\f" for c in text)
