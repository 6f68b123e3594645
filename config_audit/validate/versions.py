"""The installed presidio-analyzer version, found without importing Presidio.

`importlib.metadata.version` scans every distribution (~50 ms here, paid by every hook run);
the `.dist-info` directory beside the package says the same in under a millisecond.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path


@functools.lru_cache(maxsize=1)
def presidio_version() -> str:
    spec = importlib.util.find_spec("presidio_analyzer")
    if spec is None or spec.origin is None:
        return ""
    site = Path(spec.origin).parent.parent
    found = sorted(site.glob("presidio_analyzer-*.dist-info"))
    if len(found) == 1:
        return found[0].name.removeprefix("presidio_analyzer-").removesuffix(".dist-info")
    from importlib import metadata  # ~25 ms to import: only on unusual layouts

    try:
        return metadata.version("presidio-analyzer")
    except metadata.PackageNotFoundError:
        return ""
