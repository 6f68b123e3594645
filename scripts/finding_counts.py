"""Count findings in `config-audit validate --format json` output: invalid files and codes by
severity (info left out). Used to compare calibrations (issue 12):

    config-audit validate --format json FILES... | python scripts/finding_counts.py
"""

from __future__ import annotations

import collections
import json
import sys

data = json.load(sys.stdin)
files = data["files"]
counts = collections.Counter(
    f"{x['severity']}:{x['code']}" for f in files for x in f["findings"] if x["severity"] != "info"
)
invalid = sum(not f["valid"] for f in files)
print(f"files {len(files)} invalid {invalid}", dict(sorted(counts.items())))
