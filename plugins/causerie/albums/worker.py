"""The process that decodes one image or renders one PDF page.

Run by :mod:`.images` as ``python -m causerie.albums.worker`` with a JSON
job on stdin; it first limits its own memory and CPU time
(``resource.setrlimit``: ``RLIMIT_AS``, ``RLIMIT_CPU``), so that a hostile file (a decompression bomb,
a PDF that loops) can only kill this process, never the build. It answers
one JSON line on stdout: what it wrote, or why it refused the file, and its
own peak memory (``ru_maxrss``).

Every decoded image is checked before its pixels are decoded: its format
must be one we publish, its sides and pixel count under the limits. An
animated image keeps its first frame only (a photo gallery shows stills);
the other frames are never decoded.
"""

from __future__ import annotations

import json
import math
import os
import resource
import sys
import warnings
from pathlib import Path
from typing import Any

from .plan import plan_sizes

#: What Pillow may open for a gallery: photos, never vector or exotic formats.
FORMATS = {"JPEG", "MPO", "PNG", "WEBP", "GIF", "HEIF", "AVIF", "TIFF", "BMP"}


class Refused(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _sniff_svg(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return (
        text.startswith((b"<svg", b"<?xml", b"<!doctype svg"))
        and b"<svg" in head.lower()
    )


def process_image(job: dict[str, Any]) -> dict[str, Any]:
    from PIL import Image, ImageOps

    source = Path(job["source"])
    out = Path(job["out"])
    head = source.read_bytes()[:4096]
    if _sniff_svg(head):
        raise Refused(
            "svg",
            "an SVG can hold scripts and is not published in a gallery: "
            "export it as PNG or JPEG",
        )
    Image.MAX_IMAGE_PIXELS = int(job["max_pixels"])
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except ImportError:  # HEIC photos are then refused as unknown
        pass
    with warnings.catch_warnings():
        # A DecompressionBombWarning (between the limit and twice it) is a
        # refusal too, not a line on stderr.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(source)
        except Image.DecompressionBombError as exc:
            raise Refused("too-large", str(exc)) from None
        except Image.DecompressionBombWarning as exc:
            raise Refused("too-large", str(exc)) from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise Refused(
                "not-an-image", f"it is not an image Pillow can read ({exc})"
            ) from None
        with image:
            if image.format not in FORMATS:
                raise Refused("format", f"{image.format} images are not published: "
                              "export it as JPEG or PNG")  # fmt: skip
            width, height = image.size
            if (
                max(width, height) > job["max_side"]
                or width * height > job["max_pixels"]
            ):
                raise Refused(
                    "too-large",
                    f"it is {width}×{height} px; the limit is {job['max_side']} px a side "
                    f"and {job['max_pixels']:,} pixels: resize it first",
                )
            # An animation is shown by its first frame, but a file of many
            # large frames (an "animation bomb") is refused: another program
            # that plays it would decode them all.
            frames = int(getattr(image, "n_frames", 1) or 1)
            if frames > 1 and frames * width * height > job["max_pixels"]:
                raise Refused(
                    "too-large",
                    f"it is an animation of {frames} frames of {width}×{height} px "
                    f"(over {job['max_pixels']:,} pixels in all): send a still photo",
                )
            orientation = image.getexif().get(0x0112, 1)
            turned = orientation in (5, 6, 7, 8)
            shown_w, shown_h = (height, width) if turned else (width, height)
            sizes = plan_sizes(shown_w, shown_h, tuple(job["widths"]))
            # JPEG decodes at 1/2, 1/4 or 1/8 scale for free (DCT scaling):
            # ask for the smallest that still covers the largest size.
            scale = sizes[-1].width / shown_w
            if image.format in ("JPEG", "MPO") and scale < 1:
                image.draft(
                    "RGB", (math.ceil(width * scale), math.ceil(height * scale))
                )
            try:
                image.seek(0)
                image.load()
            except Image.DecompressionBombError as exc:
                raise Refused("too-large", str(exc)) from None
            except (OSError, SyntaxError, ValueError, EOFError) as exc:
                raise Refused(
                    "corrupt", f"the image is damaged or cut short ({exc})"
                ) from None
            frame = ImageOps.exif_transpose(image)
        alpha = frame.mode in ("RGBA", "LA", "PA") or (
            frame.mode == "P" and "transparency" in frame.info
        )
        frame = frame.convert("RGBA" if alpha else "RGB")
        icc = frame.info.get("icc_profile")
        fallback = ("png", "image/png") if alpha else ("jpg", "image/jpeg")
        written: list[dict[str, Any]] = []
        out.mkdir(parents=True, exist_ok=True)
        current = frame
        for size in reversed(sizes):  # largest first, each from the one before
            if current.size != (size.width, size.height):
                current = current.resize(
                    (size.width, size.height),
                    Image.Resampling.LANCZOS,
                    reducing_gap=3.0,
                )
            formats = [fallback] + ([("webp", "image/webp")] if job["webp"] else [])
            for ext, media_type in formats:
                name = f"{size.width}.{ext}"
                temp = out / f".{name}.{os.getpid()}"
                options: dict[str, Any] = {}
                if icc:
                    options["icc_profile"] = icc
                if ext == "jpg":
                    options.update(quality=job["jpeg_quality"], progressive=True)
                elif ext == "webp":
                    options.update(quality=job["webp_quality"], method=4)
                else:
                    options.update(optimize=False)
                # No exif= and no XMP: GPS positions and serial numbers stay out.
                current.save(temp, format={"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}[ext],
                             **options)  # fmt: skip
                os.replace(temp, out / name)
                written.append({"file": name, "width": size.width,
                                "height": size.height, "type": media_type})  # fmt: skip
        return {"width": shown_w, "height": shown_h, "variants": written}


def render_pdf(job: dict[str, Any]) -> dict[str, Any]:
    import pypdfium2 as pdfium

    source = Path(job["source"])
    out = Path(job["out"])
    try:
        pdf = pdfium.PdfDocument(str(source))
    except pdfium.PdfiumError as exc:
        raise Refused("corrupt-pdf", f"the PDF cannot be read ({exc})") from None
    try:
        if len(pdf) < 1:
            raise Refused("corrupt-pdf", "the PDF has no page")
        page = pdf[0]
        width_pt, height_pt = page.get_size()
        if width_pt <= 0 or height_pt <= 0:
            raise Refused("corrupt-pdf", "its first page has no size")
        target = int(job["thumb_px"])
        scale = min(target / width_pt, 4000 / max(width_pt, height_pt))
        bitmap = page.render(scale=scale)
        image = bitmap.to_pil().convert("RGB")
        out.mkdir(parents=True, exist_ok=True)
        temp = out / f".thumb.png.{os.getpid()}"
        image.save(temp, format="PNG", optimize=True)
        os.replace(temp, out / "thumb.png")
        return {"variants": [{"file": "thumb.png", "width": image.width,
                              "height": image.height, "type": "image/png"}]}  # fmt: skip
    finally:
        pdf.close()


def peak_kb() -> int:
    """This process's peak resident memory, in KiB: VmHWM, the high-water
    mark of its own address space. Not ``ru_maxrss``: Linux carries that
    over an exec from the forked parent (the build), which it would measure."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def limit(memory_mb: int, cpu_seconds: int) -> None:
    """This process's address space and CPU time, set before any file is
    read: past them the kernel refuses memory (MemoryError) or ends it."""
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))


def main() -> int:
    job = json.loads(sys.stdin.read())
    limit(int(job.get("memory_mb", 1024)), int(job.get("cpu_seconds", 60)))
    try:
        answer = process_image(job) if job["op"] == "image" else render_pdf(job)
        answer["ok"] = True
    except Refused as exc:
        answer = {"ok": False, "code": exc.code, "detail": exc.detail}
    except MemoryError:
        answer = {
            "ok": False,
            "code": "memory",
            "detail": f"it needs more than the {job.get('memory_mb')} MB allowed "
            "(ALBUMS['worker_memory_mb'])",
        }
    except Exception as exc:  # a codec that fails, for lack of memory or else
        answer = {
            "ok": False,
            "code": "failed",
            "detail": f"it could not be processed ({type(exc).__name__}: {exc}); "
            "for a very large image, ALBUMS['worker_memory_mb'] may be too low",
        }
    answer["maxrss_kb"] = peak_kb()
    sys.stdout.write(json.dumps(answer) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
