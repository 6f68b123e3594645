"""Bounded, line-aware safe YAML loading.

Hostile input is rejected before it costs anything: size is capped before parsing, the node
graph is measured with aliases counted as expanded (a billion-laughs file is rejected in
milliseconds, never expanded), nesting depth is capped, and duplicate keys are reported
(PyYAML silently keeps the last one, so an edit could hide behind an earlier key).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

try:  # libyaml's parser is ~10x faster; the constructor stays Python so lines are kept
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - pure-Python fallback
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

MAX_BYTES = 2 * 1024 * 1024
MAX_NODES = 200_000
MAX_DEPTH = 64


class YamlLoadError(Exception):
    """The bytes are not a YAML document we are willing to load."""

    def __init__(self, message: str, *, line: int | None = None, code: str = "CA001") -> None:
        super().__init__(message)
        self.line = line
        self.code = code


class LineDict(dict[Any, Any]):
    """A mapping that remembers the line of each key and of itself (1-based)."""

    line: int = 0
    key_lines: dict[Any, int]
    duplicate_keys: list[tuple[Any, int]]


class LineList(list[Any]):
    """A sequence that remembers the line of each item and of itself (1-based)."""

    line: int = 0
    item_lines: list[int]


class _LineLoader(_BaseLoader):
    pass


def _is_merge(key_node: yaml.Node) -> bool:
    return key_node.tag == "tag:yaml.org,2002:merge"


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    # A merge key (`<<: *base`) brings in the base's pairs, which flatten_mapping puts first; a key
    # the mapping then writes itself overrides the merged one (YAML's merge semantics), which is
    # not a duplicate. Only two keys written in this mapping itself are.
    own = {id(k) for k, _ in node.value if not _is_merge(k)}
    loader.flatten_mapping(node)
    written: set[Any] = set()
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    result.duplicate_keys = []
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise YamlLoadError(
                "a mapping key is itself a mapping or list", line=key_node.start_mark.line + 1
            ) from None
        line = key_node.start_mark.line + 1
        if id(key_node) in own:
            if key in written:
                result.duplicate_keys.append((key, line))
            written.add(key)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


@dataclass(frozen=True)
class Limits:
    max_bytes: int = MAX_BYTES
    max_nodes: int = MAX_NODES
    max_depth: int = MAX_DEPTH


def _measure(root: yaml.Node, limits: Limits) -> None:
    """Count nodes as if aliases were expanded, memoized so the count itself is cheap."""
    expanded: dict[int, int] = {}
    depth_of: dict[int, int] = {}

    def size(node: yaml.Node, depth: int) -> int:
        if depth > limits.max_depth:
            raise YamlLoadError(
                f"nesting deeper than {limits.max_depth} levels",
                line=node.start_mark.line + 1,
                code="CA003",
            )
        key = id(node)
        if key in expanded and depth_of[key] >= depth:
            return expanded[key]
        total = 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                total += size(k, depth + 1) + size(v, depth + 1)
        elif isinstance(node, yaml.SequenceNode):
            for child in node.value:
                total += size(child, depth + 1)
        if total > limits.max_nodes:
            raise YamlLoadError(
                f"document expands to more than {limits.max_nodes} nodes (alias bomb?)",
                line=node.start_mark.line + 1,
                code="CA003",
            )
        expanded[key], depth_of[key] = total, depth
        return total

    size(root, 0)


def decode_utf8(data: bytes) -> str:
    """Strict UTF-8 (Presidio reads with the locale encoding; we demand one encoding)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise YamlLoadError(
            f"invalid UTF-8 at byte {exc.start} (0x{data[exc.start]:02x})", line=line, code="CA002"
        ) from None


def load_yaml(data: bytes, *, limits: Limits = Limits()) -> Any:
    """Parse one YAML document into LineDict/LineList/scalars, within `limits`."""
    if len(data) > limits.max_bytes:
        raise YamlLoadError(
            f"file is {len(data)} bytes, over the {limits.max_bytes}-byte limit", code="CA003"
        )
    text = decode_utf8(data)
    if text.startswith("\ufeff"):
        text = text[1:]
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "&" in text:  # without anchors there are no aliases: size is bounded by max_bytes
            _measure(node, limits)
        return loader.construct_document(node)
    except YamlLoadError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise YamlLoadError(f"YAML syntax error: {exc.problem or exc}", line=line) from None
    except yaml.YAMLError as exc:
        raise YamlLoadError(f"YAML error: {exc}") from None
    except RecursionError:
        raise YamlLoadError("nesting too deep to parse", code="CA003") from None
    finally:
        loader.dispose()


def line_of(container: Any, key: Any = None) -> int | None:
    """Line of `container[key]` (or of the container) when known."""
    if isinstance(container, LineDict):
        return container.key_lines.get(key, container.line) if key is not None else container.line
    if isinstance(container, LineList):
        if isinstance(key, int) and 0 <= key < len(container.item_lines):
            return container.item_lines[key]
        return container.line
    return None
