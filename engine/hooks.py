"""Hooks by canonical name, attached only for the length of one `with` block.

Nothing is ever left on the model: every handle is removed in `finally`, also when the
forward raises (a test checks this). Only the names asked for are hooked, so a run that
captures nothing costs nothing extra."""

from __future__ import annotations

import re
from collections import defaultdict
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator, Mapping

import torch
from torch import nn

from .adapters import ArchitectureAdapter, HookSite
from .errors import EngineError

EditFn = Callable[[torch.Tensor], torch.Tensor]
"""Takes the activation at a hook point and returns the (possibly new) activation."""

_LAYERED = re.compile(r"^blocks\.(\d+)\.(.+)$")


def resolve_hook(adapter: ArchitectureAdapter, name: str, n_layers: int) -> tuple[str, HookSite]:
    """Canonical name -> (module path, site). Raises EngineError for an unknown name."""
    m = _LAYERED.match(name)
    template, layer = (f"blocks.{{l}}.{m.group(2)}", int(m.group(1))) if m else (name, None)
    site = adapter.sites.get(template)
    if site is None or (layer is not None and not 0 <= layer < n_layers):
        raise EngineError(f"unknown hook point '{name}' for {adapter.family}")
    return site.module.format(l=layer), site


def hook_names(adapter: ArchitectureAdapter, n_layers: int) -> list[str]:
    """Every canonical hook point this model has, in forward order within each layer."""
    names: list[str] = []
    for template in adapter.sites:
        if "{l}" in template:
            names.extend(template.format(l=l) for l in range(n_layers))
        else:
            names.append(template)
    return names


def _select(output: object, index: int | None) -> torch.Tensor:
    if isinstance(output, torch.Tensor):
        return output
    return output[0 if index is None else index]  # tuple outputs (attention modules)


def _replace(output: object, index: int | None, value: torch.Tensor) -> object:
    if isinstance(output, torch.Tensor):
        return value
    items = list(output)
    items[0 if index is None else index] = value
    return type(output)(items) if isinstance(output, tuple) else items


def _process(names: list[str], value: torch.Tensor, capture: set[str],
             edits: Mapping[str, list[EditFn]], store: dict[str, torch.Tensor]) -> torch.Tensor | None:
    """Apply the edits of every name at one site, capture what is asked. None = unchanged."""
    changed = False
    for name in names:
        for edit in edits.get(name, ()):
            value = edit(value)
            changed = True
        if name in capture:
            if value is None:
                raise EngineError(f"'{name}' is not available: load the model with eager attention")
            store[name] = value
    return value if changed else None


def _process_site(names: list[str], value: torch.Tensor, capture: set[str], edits: Mapping[str, list[EditFn]],
                  store: dict[str, torch.Tensor], seq_len: Callable[[], int] | None) -> torch.Tensor | None:
    """_process; at a flat site (OPT's MLP sees [batch*seq, d]) show [batch, seq, d] and hand back
    flat. The batch is inferred, not recorded: an edit upstream may have broadcast it."""
    if seq_len is None:
        return _process(names, value, capture, edits, store)
    new = _process(names, value.view(-1, seq_len(), value.shape[-1]), capture, edits, store)
    return None if new is None else new.reshape(-1, new.shape[-1])


@contextmanager
def hooks_attached(
    model: nn.Module,
    adapter: ArchitectureAdapter,
    n_layers: int,
    capture: Iterable[str] = (),
    edits: Mapping[str, list[EditFn]] | None = None,
) -> Iterator[dict[str, torch.Tensor]]:
    """Attach capture/edit hooks; yield the dict the captures land in; always detach."""
    capture = set(capture)
    edits = edits or {}
    groups: dict[tuple[str, str], list[tuple[str, int | None]]] = defaultdict(list)
    flat: set[str] = set()  # paths of sites whose module sees positions flattened
    for name in sorted(capture | set(edits)):
        path, site = resolve_hook(adapter, name, n_layers)
        groups[(path, site.io)].append((name, (site.index, site.third)))
        if site.flat:
            flat.add(path)

    store: dict[str, torch.Tensor] = {}
    seq_lens: dict[str, int] = {}  # enclosing block -> sequence length of its input, for flat sites
    handles: list[torch.utils.hooks.RemovableHandle] = []
    try:
        for block in sorted({path.rsplit(".", 1)[0] for path in flat}):
            handles.append(model.get_submodule(block).register_forward_pre_hook(
                _seq_len_hook(block, seq_lens), with_kwargs=True))
        for (path, io), entries in groups.items():
            module = model.get_submodule(path)
            seq_len = (lambda block=path.rsplit(".", 1)[0]: seq_lens[block]) if path in flat else None
            if io == "input":
                handles.append(module.register_forward_pre_hook(
                    _input_hook([n for n, _ in entries], capture, edits, store, seq_len), with_kwargs=True))
            else:
                handles.append(module.register_forward_hook(_output_hook(entries, capture, edits, store, seq_len)))
        yield store
    finally:
        for handle in handles:
            handle.remove()


def _seq_len_hook(block, seq_lens):
    def hook(module, args, kwargs):
        seq_lens[block] = (args[0] if args else kwargs["hidden_states"]).shape[-2]
    return hook


def _input_hook(names, capture, edits, store, seq_len=None):
    def hook(module, args, kwargs):
        if args:
            new = _process_site(names, args[0], capture, edits, store, seq_len)
            return None if new is None else ((new, *args[1:]), kwargs)
        new = _process_site(names, kwargs["hidden_states"], capture, edits, store, seq_len)
        return None if new is None else (args, {**kwargs, "hidden_states": new})
    return hook


def _output_hook(entries, capture, edits, store, seq_len=None):
    by_place: dict[tuple[int | None, int | None], list[str]] = defaultdict(list)
    for name, place in entries:
        by_place[place].append(name)

    def hook(module, args, output):
        for (index, third), names in by_place.items():
            value = _select(output, index)
            if third is None:
                new = _process_site(names, value, capture, edits, store, seq_len)
            else:  # one third of a fused q/k/v projection: edit that slice, keep the rest
                width = value.shape[-1] // 3
                part = _process(names, value[..., third * width:(third + 1) * width], capture, edits, store)
                new = None if part is None else torch.cat(
                    [value[..., :third * width], part, value[..., (third + 1) * width:]], dim=-1)
            if new is not None:
                output = _replace(output, index, new)
        return output
    return hook
