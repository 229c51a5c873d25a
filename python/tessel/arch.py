"""Architectures from files or dicts, with parameters changed by dotted keys."""

import copy
import os
import tempfile

import yaml

import _tessel

# Dict architectures are written here, one subdirectory each, all removed at exit.
_SCRATCH = tempfile.TemporaryDirectory(prefix="tessel_arch_")


class Arch:
    """An architecture: a tessel YAML or SCALE-Sim .cfg file, or a dict in the YAML schema.

    Dict architectures are validated by the simulator when they run (or on `figures()`),
    with the same messages as files; the file they are written to is named after `name`.
    """

    def __init__(self, path=None, spec=None):
        if (path is None) == (spec is None):
            raise ValueError("Arch: give exactly one of path and spec")
        self._path = None if path is None else os.path.abspath(path)
        self._spec = None if spec is None else copy.deepcopy(spec)
        self._written = None

    @classmethod
    def load(cls, path):
        """The architecture in `path` (.yaml/.yml or a SCALE-Sim .cfg)."""
        return cls(path=path)

    @classmethod
    def from_dict(cls, spec):
        """An architecture from a dict with the keys of configs/arch/*.yaml."""
        return cls(spec=spec)

    def to_dict(self):
        """The YAML schema as a dict (a copy); SCALE-Sim .cfg files have none."""
        if self._spec is not None:
            return copy.deepcopy(self._spec)
        if not self._path.endswith((".yaml", ".yml")):
            raise ValueError(f"{self._path}: only YAML architectures convert to a dict")
        with open(self._path, encoding="utf-8") as file:
            return yaml.safe_load(file)

    def with_changes(self, **changes):
        """A copy with values replaced by dotted keys, e.g.
        arch.with_changes(**{"array.rows": 64, "buffers.0.capacity_kib": 512}).
        A list is indexed by position."""
        spec = self.to_dict()
        for dotted, value in changes.items():
            parts = dotted.split(".")
            node = spec
            for part in parts[:-1]:
                node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
            last = parts[-1]
            if isinstance(node, list):
                node[int(last)] = value
            else:
                node[last] = value
        return Arch.from_dict(spec)

    @property
    def name(self):
        return self._spec.get("name", "arch") if self._spec is not None else os.path.basename(self._path)

    def path(self):
        """A file the simulator can read: the original, or the dict written as YAML."""
        if self._path is not None:
            return self._path
        if self._written is None:
            directory = tempfile.mkdtemp(dir=_SCRATCH.name)
            self._written = os.path.join(directory, f"{self.name}.yaml")
            with open(self._written, "w", encoding="utf-8") as file:
                yaml.safe_dump(self._spec, file, sort_keys=False)
        return self._written

    def figures(self):
        """Clock, peak MACs a cycle per format and DRAM bytes a cycle (None: unlimited)."""
        return _tessel.arch_figures(self.path())

    def __getstate__(self):
        # The file a dict was written to is this process's: another (a Dask worker) writes its own.
        state = self.__dict__.copy()
        state["_written"] = None
        return state

    def __repr__(self):
        return f"Arch({self._path or self.name!r})"
