"""Editing `.config-audit.yaml` in place: `config-audit baseline` appends `accept:` entries.

Text-level, so the file's comments, order and quoting survive: the entries go after the last
item of the top-level `accept:` list (found with the YAML composer's marks), or at the end of
the file in a new `accept:` when there is none. The result is parsed again and must equal the
old settings plus the new entries, else nothing is written (fail closed, never a lost key).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from config_audit.errors import UsageError


def acceptance_block(entries: Sequence[Mapping[str, Any]], *, indent: int, comment: str) -> str:
    """The YAML of block-sequence items, every string JSON-quoted (valid YAML, any text)."""
    pad = " " * indent
    lines = [f"{pad}# {comment}"] if comment else []
    for entry in entries:
        first = True
        for key, value in entry.items():
            if value is None:
                continue
            text = value if key in ("code", "expires") else json.dumps(str(value))
            lines.append(f"{pad}{'- ' if first else '  '}{key}: {text}")
            first = False
    return "\n".join(lines) + "\n"


def add_acceptances(text: str, entries: Sequence[Mapping[str, Any]], *, comment: str) -> str:
    """`text` with `entries` appended to its top-level `accept:` list; UsageError (advice: add
    them by hand) when the list cannot be extended in place without changing anything else."""
    try:
        old = yaml.safe_load(text) if text.strip() else {}
        root = yaml.compose(text, Loader=yaml.SafeLoader) if text.strip() else None
    except yaml.YAMLError as exc:
        raise UsageError(f"the settings file is not valid YAML: {exc}") from None
    if old is None:
        old, root = {}, None
    if not isinstance(old, dict):
        raise UsageError("the settings file is not a mapping: cannot add 'accept:' to it")
    value = _accept_node(root)
    if value is None:
        body = text if not text or text.endswith("\n") else text + "\n"
        new = body + "accept:\n" + acceptance_block(entries, indent=2, comment=comment)
    elif isinstance(value, yaml.SequenceNode) and value.value and not value.flow_style:
        new = _after_last_item(text, value, entries, comment)
    elif _is_empty(value):
        end = text.find("\n", value.end_mark.index)
        end = len(text) if end < 0 else end
        head, tail = text[: value.start_mark.index].rstrip(" "), text[end:]
        block = acceptance_block(entries, indent=2, comment=comment)
        new = head + _trailing(text[value.end_mark.index : end]) + "\n" + block + tail.lstrip("\n")
    else:
        raise UsageError(
            "the settings file's 'accept:' is not a block list: cannot add to it in place",
            advice="add these entries by hand:\n"
            + acceptance_block(entries, indent=2, comment=comment),
        )
    _verify(old, new, entries)
    return new


def _accept_node(root: yaml.Node | None) -> yaml.Node | None:
    if not isinstance(root, yaml.MappingNode):
        return None
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "accept":
            node: yaml.Node = value
            return node
    return None


def _is_empty(node: yaml.Node) -> bool:
    if isinstance(node, yaml.ScalarNode):
        return node.tag.endswith(":null")
    return isinstance(node, yaml.SequenceNode) and not node.value


def _trailing(rest: str) -> str:
    """A comment left on the `accept:` line after an emptied value (`accept: []  # none`)."""
    rest = rest.strip()
    return f"  {rest}" if rest.startswith("#") else ""


def _after_last_item(
    text: str, sequence: yaml.SequenceNode, entries: Sequence[Mapping[str, Any]], comment: str
) -> str:
    last = max(_end_indexes(sequence.value[-1]))
    cut = text.find("\n", last)
    cut = len(text) if cut < 0 else cut + 1
    head = text[:cut] if text[:cut].endswith("\n") else text[:cut] + "\n"
    block = acceptance_block(entries, indent=sequence.start_mark.column, comment=comment)
    return head + block + text[cut:]


def _end_indexes(node: yaml.Node) -> list[int]:
    """Where the scalars of a node end (a collection's own end mark can sit on the next line)."""
    if isinstance(node, yaml.ScalarNode):
        return [node.end_mark.index]
    children: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    return [i for child in children for i in _end_indexes(child)] or [node.end_mark.index]


def _verify(old: dict[Any, Any], new_text: str, entries: Sequence[Mapping[str, Any]]) -> None:
    written = [{k: v for k, v in e.items() if v is not None} for e in entries]
    expected = {**old, "accept": _plain([*(old.get("accept") or []), *written])}
    try:
        got = yaml.safe_load(new_text)
    except yaml.YAMLError:
        got = None
    if isinstance(got, dict) and isinstance(got.get("accept"), list):
        got["accept"] = _plain(got["accept"])
    if got != expected:
        raise UsageError(
            "the settings file could not be edited in place without changing something else; "
            "nothing was written",
            advice="add these entries to 'accept:' by hand:\n"
            + acceptance_block(entries, indent=2, comment=""),
        )


def _plain(items: list[Any]) -> list[Any]:
    """Acceptances with dates as ISO text: the writer puts `expires: 2027-01-31`, YAML reads
    it back as a date."""
    return [
        {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in item.items()}
        if isinstance(item, dict)
        else item
        for item in items
    ]
