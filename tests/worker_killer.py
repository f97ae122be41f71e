"""A Markdown extension for tests/test_parallel_read.py: a worker process
that meets the marker dies on the spot (as the OOM killer would end it);
the build's own process refuses the file with an error instead."""

from __future__ import annotations

import os
from typing import Any

from markdown import Markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

MARKER = "KILL-THE-WORKER"
#: The process that imported this module: the build's (the workers are
#: forked after their Markdown objects, so after this import).
BUILD_PID = os.getpid()


class _Killer(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        if any(MARKER in line for line in lines):
            if os.getpid() != BUILD_PID:
                os._exit(70)
            raise ValueError(f"{MARKER} found")
        return lines


class KillerExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:
        md.preprocessors.register(_Killer(md), "worker_killer", 100)


def makeExtension(**kwargs: Any) -> KillerExtension:
    return KillerExtension(**kwargs)
